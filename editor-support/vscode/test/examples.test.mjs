// Tokenizes every example with the real VS Code tokenizer (vscode-textmate +
// vscode-oniguruma) and fails on any character outside whitespace that gets no
// scope beyond `source.wf`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import vsctm from "vscode-textmate";
import oniguruma from "vscode-oniguruma";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const wasm = readFileSync(join(dirname(require.resolve("vscode-oniguruma")), "onig.wasm"));
await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));

const registry = new vsctm.Registry({
  onigLib: Promise.resolve({
    createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
    createOnigString: (text) => new oniguruma.OnigString(text),
  }),
  loadGrammar: async () =>
    vsctm.parseRawGrammar(
      readFileSync(join(here, "..", "syntaxes", "wf.tmLanguage.json"), "utf8"),
      "wf.tmLanguage.json",
    ),
});
const grammar = await registry.loadGrammar("source.wf");

function wfFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return wfFiles(path);
    return name.endsWith(".wf") ? [path] : [];
  });
}

const root = join(here, "..", "..", "..");
const files = [...wfFiles(join(root, "examples")), ...wfFiles(join(root, "tests", "cases"))];

test("there are examples to tokenize", () => {
  assert.ok(files.length > 10, `only ${files.length} files`);
});

for (const file of files) {
  test(`every token of ${file.slice(root.length + 1)} has a scope`, () => {
    let state = vsctm.INITIAL;
    const lines = readFileSync(file, "utf8").split("\n");
    lines.forEach((line, number) => {
      const result = grammar.tokenizeLine(line, state);
      for (const token of result.tokens) {
        const text = line.slice(token.startIndex, token.endIndex);
        if (text.trim() === "") continue;
        assert.ok(
          token.scopes.length > 1,
          `${file}:${number + 1}:${token.startIndex + 1}: "${text}" has only ${token.scopes.join(" ")}`,
        );
      }
      state = result.ruleStack;
    });
  });
}
