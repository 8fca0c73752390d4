// The editor's meaning, all from the server's checker and language server
// code (POST /check, /complete, /hover), so the editor can never disagree
// with `wfc check`, `wfc lsp` or what the server will serve.
import { linter } from "@codemirror/lint";
import { autocompletion } from "@codemirror/autocomplete";
import { hoverTooltip } from "@codemirror/view";
import { call } from "./api.js";
import { renderMarkdown } from "./markdown.js";

/** A language server position (line, UTF-16 unit) as an offset in `doc`. */
export function offsetOf(doc, position) {
  if (position.line + 1 > doc.lines) return doc.length;
  const line = doc.line(position.line + 1);
  return Math.min(line.from + position.character, line.to);
}

/** An offset in `doc` as a language server position. */
export function positionOf(doc, offset) {
  const line = doc.lineAt(offset);
  return { line: line.number - 1, character: offset - line.from };
}

const severities = { error: "error", warning: "warning", advice: "info" };

/**
 * Diagnostics as you type. `file()` is the path being edited; `report(list)`
 * hears every diagnostic found (those in other files too) for the list below
 * the editor.
 */
export function checking(file, report) {
  return linter(async (view) => {
    const text = view.state.doc.toString();
    let answer;
    try {
      answer = await call("/check", "POST", { path: file(), text });
    } catch (error) {
      report(null, error);
      return [];
    }
    // A newer text is checked after this one: its marks come from that check.
    if (view.state.doc.toString() !== text) return [];
    report(answer.diagnostics);
    return answer.diagnostics
      .filter((d) => d.file === file() && d.range)
      .map((d) => {
        const from = offsetOf(view.state.doc, d.range.start);
        const to = Math.max(from, offsetOf(view.state.doc, d.range.end));
        return {
          from, to,
          severity: severities[d.severity] || "info",
          source: d.code,
          message: d.help ? `${d.message}\n${d.help}` : d.message,
        };
      });
  }, { delay: 400 });
}

// Language server completion kinds (lsp-types) as CodeMirror's option types.
const kinds = { 3: "function", 5: "property", 6: "variable", 7: "class", 9: "namespace", 14: "keyword", 20: "enum", 21: "constant", 22: "type" };

export function completing(file) {
  return autocompletion({
    override: [async (context) => {
      const word = context.matchBefore(/[A-Za-z_][A-Za-z0-9_]*/);
      const afterDot = context.state.sliceDoc(Math.max(0, context.pos - 1), context.pos) === ".";
      if (!word && !afterDot && !context.explicit) return null;
      const at = positionOf(context.state.doc, context.pos);
      let answer;
      try {
        answer = await call("/complete", "POST", { path: file(), text: context.state.doc.toString(), ...at });
      } catch {
        return null;
      }
      if (context.aborted || !answer.items.length) return null;
      return {
        from: word ? word.from : context.pos,
        options: answer.items.map((item) => ({
          label: item.label,
          type: kinds[item.kind] || "text",
          detail: item.detail || undefined,
        })),
        validFor: /^[A-Za-z0-9_]*$/,
      };
    }],
  });
}

export function hovering(file) {
  return hoverTooltip(async (view, pos) => {
    let answer;
    try {
      answer = await call("/hover", "POST", { path: file(), text: view.state.doc.toString(), ...positionOf(view.state.doc, pos) });
    } catch {
      return null;
    }
    const hover = answer.hover;
    if (!hover || !hover.contents) return null;
    const word = view.state.wordAt(pos);
    const from = hover.range ? offsetOf(view.state.doc, hover.range.start) : word ? word.from : pos;
    const to = hover.range ? offsetOf(view.state.doc, hover.range.end) : word ? word.to : pos;
    return { pos: from, end: to, above: true, create: () => ({ dom: renderMarkdown(hover.contents.value) }) };
  }, { hoverTime: 350 });
}
