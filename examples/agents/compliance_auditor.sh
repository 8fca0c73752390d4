#!/bin/sh
# Audits an operations report: a red status is a high-severity finding.
. "$(dirname "$0")/lib.sh"
status=$(json_string status)
if [ "$status" = "green" ]; then
  printf '{"findings": 0, "severity": "low"}\n'
else
  printf '{"findings": 1, "severity": "high"}\n'
fi
