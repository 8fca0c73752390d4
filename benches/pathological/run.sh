#!/usr/bin/env bash
# The "pathological inputs" table of BENCHMARKS.md: each input checked (and the
# 2 MB file's outline asked of `wfc lsp`) by each wfc binary given, with its wall
# time and peak memory from /usr/bin/time. A run killed by a limit or a signal
# shows its exit status.
#   benches/pathological/run.sh target/release/wfc [OTHER_WFC...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
inputs="$(mktemp -d)"
trap 'rm -rf "$inputs"' EXIT
python3 "$here/inputs.py" "$inputs"
measure() { # binary label command...
  local bin="$1" label="$2"; shift 2
  local status=0
  /usr/bin/time -o "$inputs/time" -f '%e s, %M KiB' timeout 120 "$@" >/dev/null 2>&1 || status=$?
  printf '%-28s %-24s %s (exit %s)\n' "$label" "$(basename "$bin")" "$(tail -1 "$inputs/time")" "$status"
}
for bin in "$@"; do
  bin="$(realpath "$bin")"
  for input in chain-3000 chain-10000 unknown-2000 deep-hole; do
    measure "$bin" "check $input" "$bin" check "$inputs/$input.wf"
  done
  measure "$bin" "fmt deep-hole" "$bin" fmt "$inputs/deep-hole.wf"
  printf '%-28s %-24s %s\n' "lsp agents-25000 (2 MB)" "$(basename "$bin")" \
    "$( { /usr/bin/time -f '%e s, %M KiB' python3 "$here/outline.py" "$inputs/agents-25000.wf" "$bin"; } 2>&1 | tr '\n' ' ')"
done
