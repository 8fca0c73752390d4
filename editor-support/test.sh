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

echo "== helix and zed: manifests parse and point at what exists"
python3 - "$root" <<'PY'
import pathlib, sys, tomllib
root = pathlib.Path(sys.argv[1])
helix = tomllib.loads((root / "editor-support/helix/languages.toml").read_text())
[language] = helix["language"]
assert language["file-types"] == ["wf"] and language["language-servers"] == ["wfc"], language
assert helix["language-server"]["wfc"] == {"command": "wfc", "args": ["lsp"]}, helix
assert (root / helix["grammar"][0]["source"]["path"] / "src/parser.c").is_file()
zed = root / "editor-support/zed"
manifest = tomllib.loads((zed / "extension.toml").read_text())
assert (root / manifest["grammars"]["wf"]["path"] / "src/parser.c").is_file()
config = tomllib.loads((zed / "languages/wf/config.toml").read_text())
assert config["grammar"] == "wf" and config["path_suffixes"] == ["wf"], config
assert (zed / "languages/wf/highlights.scm").resolve().is_file()
print("helix and zed: manifests hold")
PY

echo "== tree-sitter: generated parser up to date, corpus and highlight tests, examples parse"
(
  cd "$here/tree-sitter-wf"
  before="$(mktemp -d)"
  cp -r src "$before/"
  # ABI 14: the newest Debian's Neovim (0.7.2) loads.
  tree-sitter generate --abi 14
  diff -r "$before/src" src || { echo "src/ is stale: run tree-sitter generate and commit it"; exit 1; }
  tree-sitter test
  tree-sitter parse -q "$root"/examples/*.wf "$root"/examples/lib/*.wf "$root"/examples/library/*.wf
  # Every highlight capture a standard name (checked alone: the CLI counts the
  # locals query's captures as highlights, and only warns).
  check="$(mktemp -d)"
  cp -r grammar.js tree-sitter.json src "$check/"
  mkdir "$check/queries"
  cp queries/highlights.scm "$check/queries/"
  if (cd "$check" && tree-sitter highlight --check "$root/examples/hello.wf" 2>&1 >/dev/null) | grep -A20 "Non-standard"; then
    echo "tree-sitter: highlights.scm uses captures that are not standard"; exit 1
  fi
  echo "tree-sitter: every example parses without ERROR nodes"
)
