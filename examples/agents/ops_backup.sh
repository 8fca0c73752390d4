#!/bin/sh
# Pretends to back up and reports the size written.
cat >/dev/null
printf '{"ok": true, "bytes": 1048576}\n'
