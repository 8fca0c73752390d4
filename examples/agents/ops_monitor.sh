#!/bin/sh
# Reports service health. Set OPS_UNHEALTHY=1 to simulate an outage.
cat >/dev/null
if [ "${OPS_UNHEALTHY:-0}" = 1 ]; then healthy=false; else healthy=true; fi
printf '{"healthy": %s, "services": 12}\n' "$healthy"
