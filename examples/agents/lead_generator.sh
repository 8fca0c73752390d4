#!/bin/sh
# Scores a lead by its source: referrals score highest.
. "$(dirname "$0")/lib.sh"
name=$(json_string name)
source=$(json_string source)
case "$source" in
  referral) score=9 ;;
  event) score=7 ;;
  web) score=4 ;;
  *) score=2 ;;
esac
printf '{"name": "%s", "score": %s}\n' "$name" "$score"
