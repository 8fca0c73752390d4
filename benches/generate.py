#!/usr/bin/env python3
"""Writes a large .wf file for measuring `wfc check`: N renamed copies of the
enterprise organisation (examples/enterprise.wf plus its policies), one namespace.

    python3 benches/generate.py 800 > /tmp/big.wf && time wfc check /tmp/big.wf
"""
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent / "examples"
policies = (root / "lib" / "policies.wf").read_text()
body = (root / "enterprise.wf").read_text()
body = re.sub(r'^import .*$|^timezone .*$', "", body, flags=re.M)
# Names declared in the example (and skills), renamed per copy so copies do not clash.
names = set(re.findall(r'^\s*(?:agent|trigger|workflow|goal|retry|breaker)\s+(\w+)', body + policies, re.M))
metrics = set(re.findall(r'record\s+(\w+)', body))
skills = {s.strip() for group in re.findall(r'skills \[([^\]]*)\]', body) for s in group.split(',')}
pattern = re.compile(r'\b(' + '|'.join(sorted(names | metrics | skills, key=len, reverse=True)) + r')\b')

count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
out = sys.stdout
out.write('timezone "UTC"\n')
for i in range(count):
    out.write(pattern.sub(lambda m: f"{m.group(1)}_{i}", policies + body))
