#!/usr/bin/env bash
# Tests every editor integration with the tools those editors use. Needs node/npm,
# vim, nvim, cc, tree-sitter-cli and a built wfc (.ci/run installs and builds them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

echo "== vscode: grammar scope tests, tokenizing every example, packaging"
(
  cd "$here/vscode"
  npm ci --no-audit --no-fund --loglevel=error
  npm test
  out="$(mktemp -d)"
  npx vsce package -o "$out/wf.vsix"
  # The language client ships inside the package.
  python3 -c 'import sys, zipfile; names = zipfile.ZipFile(sys.argv[1]).namelist(); sys.exit(not any(n.endswith("node_modules/vscode-languageclient/package.json") for n in names))' "$out/wf.vsix"
)

echo "== vim: headless highlight assertions"
"$here/vim/test/run.sh"

echo "== neovim: Debian's Neovim loads the parser and queries and drives wfc lsp"
"$here/neovim/test/run.sh"

echo "== tree-sitter: generated parser up to date, corpus and highlight tests, examples parse"
(
  cd "$here/tree-sitter-wf"
  before="$(mktemp -d)"
  cp -r src "$before/"
  # ABI 14: the newest Debian's Neovim (0.7.2) loads.
  tree-sitter generate --abi 14
  diff -r "$before/src" src || { echo "src/ is stale: run tree-sitter generate and commit it"; exit 1; }
  tree-sitter test
  tree-sitter parse -q "$root"/examples/*.wf "$root"/examples/lib/*.wf
  echo "tree-sitter: every example parses without ERROR nodes"
)
