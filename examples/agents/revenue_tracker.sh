#!/bin/sh
# Values a scored lead: a score of 10 is worth $20,000 at 80% probability.
. "$(dirname "$0")/lib.sh"
score=$(json_number score)
awk -v s="$score" 'BEGIN {
  amount = s * 2000
  p = s / 12.5; if (p > 1) p = 1
  printf "{\"amount\": %s, \"probability\": %.2f}\n", amount, p
}'
