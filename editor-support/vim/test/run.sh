#!/usr/bin/env bash
# Checks the Vim syntax headless: filetype detection through ftdetect, then the
# highlight group at chosen positions of test/sample.wf.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
result="$(mktemp)"
WF_VIM_RESULT="$result" vim -Nu NONE -Es -i NONE \
  --cmd "set rtp^=$here/.." --cmd 'filetype on' --cmd 'syntax on' \
  -S "$here/check.vim" "$here/sample.wf" || true
if [ "$(cat "$result")" = "ok" ]; then
  echo "vim syntax: all highlight assertions hold"
else
  echo "vim syntax: failures:"; cat "$result"; exit 1
fi

# Indentation: `gg=G` on every example gives back `wfc fmt`'s layout, and typing
# after `{` indents.
root="$(cd "$here/../../.." && pwd)"
failures="$(mktemp)"
for file in "$root"/examples/*.wf "$root"/examples/lib/*.wf "$root"/examples/library/*.wf; do
  WF_VIM_RESULT="$failures" vim -Nu NONE -Es -i NONE --cmd "set rtp^=$here/.." \
    --cmd 'filetype on' -S "$here/indent.vim" "$file" </dev/null || true
done
if [ -s "$failures" ]; then
  echo "vim indent: failures:"; cat "$failures"; exit 1
fi
echo "vim indent: every example indents as wfc fmt lays it out"
