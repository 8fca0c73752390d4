// The extension's server, started the way vscode-languageclient starts it
// (`wfc lsp` over stdio, spoken to with vscode-languageserver-protocol), on an
// example with an error: the diagnostic is wfc check's. And the problem matcher
// for `wfc check` tasks reads wfc check's real output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import rpc from "vscode-languageserver-protocol/node.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..", "..");
const wfc = resolve(process.env.WFC_BIN || join(root, "target", "debug", "wfc"));
const manifest = JSON.parse(readFileSync(join(here, "..", "package.json"), "utf8"));

function withTypo() {
  const dir = mkdtempSync(join(tmpdir(), "wfc-vscode-"));
  cpSync(join(root, "examples"), dir, { recursive: true });
  const file = join(dir, "enterprise.wf");
  const text = readFileSync(file, "utf8").replace(
    "-> strategy_strategic_planner\n", "-> strategy_strategic_planer\n");
  writeFileSync(file, text);
  return { dir, file, text };
}

test("the language server reports wfc check's diagnostic for a typo", async () => {
  const { dir, file, text } = withTypo();
  const server = spawn(wfc, ["lsp"], { cwd: dir, stdio: ["pipe", "pipe", "inherit"] });
  const connection = rpc.createProtocolConnection(
    new rpc.StreamMessageReader(server.stdout), new rpc.StreamMessageWriter(server.stdin));
  const published = new Promise((resolve) => {
    connection.onNotification(rpc.PublishDiagnosticsNotification.type, (params) => {
      if (params.diagnostics.length) resolve(params);
    });
  });
  connection.listen();
  const init = await connection.sendRequest(rpc.InitializeRequest.type, {
    processId: process.pid, rootUri: pathToFileURL(dir).href, capabilities: {},
  });
  assert.equal(init.capabilities.hoverProvider, true);
  await connection.sendNotification(rpc.InitializedNotification.type, {});
  const uri = pathToFileURL(file).href;
  await connection.sendNotification(rpc.DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: "wf", version: 1, text },
  });
  const { diagnostics } = await published;
  assert.equal(diagnostics.length, 1);
  assert.equal(diagnostics[0].code, "wf::unknown_agent");
  assert.match(diagnostics[0].message, /did you mean `strategy_strategic_planner`/);
  const line = text.split("\n").findIndex((l) => l.includes("strategy_strategic_planer"));
  assert.equal(diagnostics[0].range.start.line, line);
  await connection.sendRequest(rpc.ShutdownRequest.type);
  await connection.sendNotification(rpc.ExitNotification.type);
  const code = await new Promise((resolve) => server.on("exit", resolve));
  assert.equal(code, 0);
  connection.dispose();
});

test("the problem matchers read wfc check's report", () => {
  const { dir } = withTypo();
  const run = spawnSync(wfc, ["check", "enterprise.wf"], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  assert.equal(run.status, 1);
  const lines = run.stderr.split("\n");
  const [matcher] = manifest.contributes.problemMatchers.filter((m) => m.name === "wfc");
  // The patterns match consecutive lines, as VS Code applies a multi-line matcher.
  const found = [];
  for (let i = 0; i + matcher.pattern.length <= lines.length; i++) {
    const groups = matcher.pattern.map((p, k) => lines[i + k].match(new RegExp(p.regexp)));
    if (groups.every(Boolean)) {
      found.push({
        code: groups[0][1], message: groups[2][1], file: groups[3][1], line: Number(groups[3][2]),
      });
    }
  }
  assert.equal(found.length, 1, run.stderr);
  assert.equal(found[0].code, "wf::unknown_agent");
  assert.equal(found[0].message, "unknown agent `strategy_strategic_planer`");
  assert.equal(found[0].file, "enterprise.wf");
  const text = readFileSync(join(dir, "enterprise.wf"), "utf8").split("\n");
  assert.equal(found[0].line, text.findIndex((l) => l.includes("strategy_strategic_planer")) + 1);
});

test("every snippet is a declaration that wfc fmt can read once filled in", () => {
  const snippets = JSON.parse(readFileSync(join(here, "..", "snippets", "wf.json"), "utf8"));
  assert.ok(Object.keys(snippets).length >= 10);
  for (const [name, snippet] of Object.entries(snippets)) {
    // Placeholders as their defaults (the first choice of a choice).
    const body = snippet.body.join("\n")
      .replace(/\$\{\d+\|([^,|]+)[^}]*\}/g, "$1")
      .replace(/\$\{\d+:([^}]*)\}/g, "$1")
      .replace(/\$\{?\d+\}?/g, "");
    const run = spawnSync(wfc, ["fmt", "-"], { input: body, encoding: "utf8" });
    assert.equal(run.status, 0, `${name}: ${run.stderr}\n${body}`);
  }
});
