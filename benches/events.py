#!/usr/bin/env python3
"""Events per second through one `wfc serve`: N events posted over HTTP by C
client threads (keep-alive connections), each starting a 10-step compute chain;
the clock runs from the first post to the last execution completed (read from
the store). BENCHMARKS.md §11.

    python3 benches/events.py WFC_BIN [N=2000] [CLIENTS=8] [--db URL]
"""
import http.client
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

FLOW = """
agent inc { input { n: number } output { n: number } compute { n: input.n + 1 } }
trigger arrived { on event "order.placed" }
workflow chain10 {
  on arrived
  input { n: number }
  steps {
    a = inc({ n: input.n }) b = inc(a) c = inc(b) d = inc(c) e = inc(d)
    f = inc(e) g = inc(f) h = inc(g) i = inc(h) j = inc(i)
  }
  output j
}
"""


def main():
    wfc = os.path.abspath(sys.argv[1])
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    db = sys.argv[sys.argv.index("--db") + 1] if "--db" in sys.argv else None
    work = tempfile.mkdtemp(prefix="wfc-events-")
    with open(os.path.join(work, "flow.wf"), "w") as f:
        f.write(FLOW)
    args = [wfc, "serve", "flow.wf", "--listen", "127.0.0.1:0"]
    env = dict(os.environ, WFC_LOG="warn,wfc::serve=info")
    if db:
        env["WFC_DB"] = db
    server = subprocess.Popen(args, cwd=work, env=env, stderr=subprocess.PIPE, text=True)
    address = None
    for line in server.stderr:
        found = re.search(r"serving address=(\S+)", line)
        if found:
            address = found.group(1)
            break
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
    host, port = address.rsplit(":", 1)

    def post(count):
        conn = http.client.HTTPConnection(host, int(port))
        for n in range(count):
            conn.request("POST", "/events/order.placed", body=json.dumps({"n": n}),
                         headers={"content-type": "application/json"})
            answer = conn.getresponse()
            answer.read()
            assert answer.status == 202, answer.status

    started = time.time()
    threads = [threading.Thread(target=post, args=(total // clients,)) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    posted = time.time() - started
    done = 0
    while done < total:
        time.sleep(0.05)
        if db:
            out = subprocess.run([wfc, "history", "--status", "completed", "--limit", "1000000",
                                  "--format", "json"], cwd=work, env=env, capture_output=True, text=True)
            done = len(json.loads(out.stdout))
        else:
            conn = sqlite3.connect(os.path.join(work, "wfc.db"))
            done = conn.execute("SELECT COUNT(*) FROM executions WHERE status = 'completed'").fetchone()[0]
            conn.close()
    elapsed = time.time() - started
    with open(f"/proc/{server.pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    server.terminate()
    server.wait()
    print(f"{total} events by {clients} clients: posted in {posted:.2f} s, all completed in "
          f"{elapsed:.2f} s: {total / elapsed:.0f} events/s, {10 * total / elapsed:.0f} steps/s; "
          f"the server used {cpu:.2f} s of CPU")


main()
