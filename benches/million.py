#!/usr/bin/env python3
"""A store of N executions and 5·N attempts spread over the past year, for
timing what reads history (BENCHMARKS.md §12). The schema is made by wfc (one
real run of `flow.wf`), the rows by SQLite itself (a recursive CTE), so a
million take seconds.

    python3 benches/million.py WFC_BIN DIR [N=1000000]
    cd DIR && time WFC_BIN history ... (see §12)
"""
import os
import sqlite3
import subprocess
import sys

FLOW = """
agent intake { input { n: number } output { n: number } compute { n: input.n + 1 } }
agent score { input { n: number } output { n: number } compute { n: input.n * 2 } }
agent route { input { n: number } output { n: number } compute { n: input.n } }
metric revenue { unit "EUR" }
trigger go { manual }
goal yearly { title "Revenue" kpi sum(revenue) >= 1000000 }
workflow lead { on go input { n: number } steps { a = intake(input) b = score(a) c = route(b) d = intake(c) e = score(d) } output e record revenue = e.n }
"""

WORKFLOWS = ["lead", "invoice", "onboarding", "support", "renewal"]


def main():
    wfc, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "flow.wf"), "w") as f:
        f.write(FLOW)
    db = os.path.join(out, "wfc.db")
    if os.path.exists(db):
        os.remove(db)
    subprocess.run([wfc, "run", "flow.wf", "--workflow", "lead", "--input", '{"n": 1}'],
                   cwd=out, check=True, capture_output=True)
    conn = sqlite3.connect(db)
    blob, root = conn.execute("SELECT source_blob, root_path FROM executions").fetchone()
    year = 365 * 24 * 3600
    conn.executescript(f"""
    BEGIN;
    CREATE TEMP TABLE nums AS
      WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {n}) SELECT i FROM k;
    INSERT INTO executions (id, workflow, source_blob, root_path, trigger, input, status, result, error,
                            started_at, finished_at)
      SELECT printf('%08x-0000-7000-8000-%012x', i, i),
             CASE i % 5 WHEN 0 THEN 'lead' WHEN 1 THEN 'invoice' WHEN 2 THEN 'onboarding'
                        WHEN 3 THEN 'support' ELSE 'renewal' END,
             '{blob}', '{root}', 'go', '{{"n": 1}}',
             CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 97 = 0 THEN 'cancelled' ELSE 'completed' END,
             CASE WHEN i % 50 = 0 THEN NULL ELSE '{{"n": 12}}' END,
             CASE WHEN i % 50 = 0 THEN '{{"kind": "failed", "message": "exit 3"}}' END,
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%d seconds', ({n} - i) * {year} / {n})),
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%d seconds', ({n} - i) * {year} / {n} - 2))
      FROM nums;
    INSERT INTO workflow_executions (workflow_id, trigger_id, agents_involved, execution_status, result, timestamp)
      SELECT id, 'go', '["intake","score","route"]', status, result, started_at
      FROM executions WHERE root_path = '{root}' AND id LIKE '%-7000-8000-%';
    INSERT INTO step_attempts (execution_id, id, step, agent, attempt, status, input, output, error,
                               started_at, finished_at, duration_ms)
      SELECT e.id, s.k, s.step, s.agent, 1,
             CASE WHEN e.status = 'failed' AND s.k = 5 THEN 'failed' ELSE 'completed' END,
             '{{"n": 1}}', '{{"n": 2}}',
             CASE WHEN e.status = 'failed' AND s.k = 5 THEN 'exit 3' END,
             e.started_at, e.finished_at, 3.0 + (s.k * 7 + length(e.id)) % 40
      FROM executions e
      JOIN (SELECT 1 AS k, 'a' AS step, 'intake' AS agent UNION ALL SELECT 2, 'b', 'score'
            UNION ALL SELECT 3, 'c', 'route' UNION ALL SELECT 4, 'd', 'intake'
            UNION ALL SELECT 5, 'e', 'score') s
      WHERE e.id LIKE '%-7000-8000-%';
    INSERT INTO metrics (name, value, recorded_at)
      SELECT 'revenue', 12, started_at FROM executions
      WHERE id LIKE '%-7000-8000-%' AND status = 'completed' AND workflow = 'lead';
    COMMIT;
    """)
    counts = [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
              for t in ("executions", "step_attempts", "metrics")]
    conn.close()
    size = os.path.getsize(db) / (1024 * 1024)
    print(f"{out}/wfc.db: {counts[0]:,} executions, {counts[1]:,} attempts, "
          f"{counts[2]:,} metric samples, {size:.0f} MiB")


main()
