#!/usr/bin/env bash
# Neovim as a real client, headless: Debian's Neovim (0.7.2) loads the
# tree-sitter parser (ABI 14) and the queries, highlights examples/enterprise.wf,
# and runs `wfc lsp` on it: a diagnostic for a typo, hover and go to definition
# across the import, completion and a rename. Needs nvim, cc and a built wfc
# (WFC_BIN, default target/debug/wfc).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
grammar="$root/editor-support/tree-sitter-wf"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A runtimepath as nvim-treesitter lays it out: parser/wf.so and queries/wf/.
mkdir -p "$work/rtp/parser" "$work/rtp/queries/wf"
cc -shared -fPIC -O1 -I "$grammar/src" "$grammar/src/parser.c" -o "$work/rtp/parser/wf.so"
cp "$grammar"/queries/*.scm "$work/rtp/queries/wf/"

# The enterprise example with a typo in a chain.
cp -r "$root/examples" "$work/examples"
sed -i 's/-> strategy_strategic_planner$/-> strategy_strategic_planer/' "$work/examples/enterprise.wf"
grep -q strategy_strategic_planer "$work/examples/enterprise.wf"

export WFC_BIN="${WFC_BIN:-$root/target/debug/wfc}"
export WFC_RTP="$work/rtp"
export WFC_EXAMPLE="$work/examples/enterprise.wf"
out="$work/out.txt"
if ! timeout 60 nvim --headless -u NONE -i NONE -n -c "luafile $here/check.lua" >"$out" 2>&1; then
  cat "$out"
  echo "neovim: the checks failed"
  exit 1
fi
cat "$out"
grep -q "^neovim: all checks hold" "$out"
