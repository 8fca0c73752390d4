// Highlighting for .wf: a stream tokenizer over the words the grammar spells
// out, which the server reads from the grammar itself (GET /language). The
// meaning (diagnostics, completion, hover) comes from the server's checker.
import { StreamLanguage } from "@codemirror/language";

const declares = new Set(["agent", "workflow", "trigger", "template", "metric", "goal", "alert"]);
const types = new Set(["string", "number", "bool", "duration", "any"]);

export function wfLanguage(keywords) {
  const words = new Set(keywords);
  return StreamLanguage.define({
    name: "wf",
    startState: () => ({ block: null, named: false }),
    token(stream, state) {
      if (state.block === "comment") {
        if (stream.skipTo("*/")) { stream.next(); stream.next(); state.block = null; } else stream.skipToEnd();
        return "comment";
      }
      if (state.block === "text") {
        if (stream.skipTo('"""')) { stream.match('"""'); state.block = null; } else stream.skipToEnd();
        return "string";
      }
      if (stream.eatSpace()) return null;
      if (stream.match("//")) { stream.skipToEnd(); return "comment"; }
      if (stream.match("/*")) { state.block = "comment"; return "comment"; }
      if (stream.match('"""')) { state.block = "text"; return "string"; }
      if (stream.peek() === '"') {
        stream.next();
        let escaped = false;
        for (let c = stream.next(); c != null; c = stream.next()) {
          if (c === '"' && !escaped) break;
          escaped = !escaped && c === "\\";
        }
        return "string";
      }
      // A number with its unit, if any (`2d`, `1.5h`, `300ms`).
      if (stream.match(/^\d+(\.\d+)?([a-z]+)?/)) return "number";
      const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/);
      if (word) {
        const name = word[0];
        if (state.named) { state.named = false; return "def"; }
        // A field's name (`by: string`, `n: 1`), whatever word it is.
        if (stream.match(/^\s*:(?!:)/, false)) return "propertyName";
        if (declares.has(name)) { state.named = true; return "keyword"; }
        if (types.has(name)) return "typeName";
        if (words.has(name)) return "keyword";
        return "variableName";
      }
      // `agent {` is a shape, not a declaration's name.
      state.named = false;
      stream.next();
      return /[-+*/%=<>!|&]/.test(stream.current()) ? "operator" : "punctuation";
    },
    languageData: { commentTokens: { line: "//", block: { open: "/*", close: "*/" } } },
  });
}
