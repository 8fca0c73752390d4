#!/bin/sh
# Computes margin and growth for a period's revenue (`value`): a fixed 35% cost
# base, growth against a $4,167 monthly plan.
. "$(dirname "$0")/lib.sh"
revenue=$(json_number value)
awk -v r="$revenue" 'BEGIN {
  margin = (r > 0) ? (r - r * 0.35) / r : 0
  growth = (r - 4167) / 4167
  printf "{\"revenue\": %s, \"margin\": %.4f, \"growth\": %.4f}\n", r, margin, growth
}'
