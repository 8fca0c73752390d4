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
