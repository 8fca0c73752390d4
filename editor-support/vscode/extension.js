// Starts `wfc lsp` for .wf files: diagnostics, hover, definition, references,
// rename, completion, quick fixes and formatting come from the language server.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

async function activate(context) {
  const command = vscode.workspace.getConfiguration("wfc").get("path") || "wfc";
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "wfc",
    "wfc language server",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "wf" }] },
  );
  context.subscriptions.push(client);
  try {
    await client.start();
  } catch (error) {
    vscode.window.showErrorMessage(
      `wfc: cannot start \`${command} lsp\` (${error.message}); set wfc.path to the wfc binary.`,
    );
  }
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
