"""One measurement of one workload on one tool, in this process.

Run as `python workloads.py TOOL WORKLOAD DIR`; prints one number (see
WORKLOADS in run.py for what it means). DIR is a fresh directory for the
tool's state (its database, its files). Persistence is on for every tool: wfc
writes its SQLite store; Prefect records runs in its server's database (the
temporary local server it starts by itself, under PREFECT_HOME); Dagster
writes its SQLite run and event storage under DAGSTER_HOME; Luigi writes one
output file per task.
"""

import json
import os
import subprocess
import sys
import time

TOOL, WORKLOAD, DIR = sys.argv[1], sys.argv[2], sys.argv[3]
STEPS = {"chain": 300, "runs": 100, "subprocess": 50, "start": 1, "quick_exit": 300}
WFC = os.environ.get("WFC", "wfc")


def through_cat(n):
    """The subprocess step every tool runs: `cat` echoes the JSON it is given."""
    out = subprocess.run(["cat"], input=json.dumps({"n": n}), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["n"]


def wfc_flow(workload):
    chain = lambda agent, n: " -> ".join([agent] * n)
    agents = (
        'agent inc { input { n: number } output { n: number } compute { n: input.n + 1 } }\n'
        'agent cat { input { n: number } output { n: number } run ["cat"] }\n'
    )
    if workload in ("chain", "quick_exit", "start"):
        body = f"workflow w {{ input {{ n: number }} chain {chain('inc', STEPS[workload])} }}\n"
    elif workload == "subprocess":
        body = f"workflow w {{ input {{ n: number }} chain {chain('cat', 50)} }}\n"
    else:  # runs: 100 executions of a 3-step chain, one after another
        body = (
            "workflow three { input { n: number } chain inc -> inc -> inc }\n"
            "workflow w { input { n: number } steps { for i in range(100) { r = workflow three({ n: i }) } } }\n"
        )
    return agents + body


def wfc_run(workload):
    path = os.path.join(DIR, "flow.wf")
    with open(path, "w") as f:
        f.write(wfc_flow(workload))
    db = os.path.join(DIR, "wfc.db")
    args = [WFC, "run", path, "--workflow", "w", "--input", '{"n": 0}', "--db", db]
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    if workload == "start":
        return wall * 1000
    history = json.loads(subprocess.run(
        [WFC, "history", "--db", db, "--workflow", "w", "--format", "json"],
        check=True, capture_output=True, text=True).stdout)
    execution = history[0]
    if workload == "quick_exit":
        shown = json.loads(subprocess.run(
            [WFC, "show", execution["id"], "--db", db, "--format", "json"],
            check=True, capture_output=True, text=True).stdout)
        return sum(1 for a in shown["attempts"] if a["status"] == "completed")
    return execution["duration_ms"] / STEPS[workload]


def prefect_run(workload):
    os.environ["PREFECT_HOME"] = DIR
    # Its temporary server migrates a fresh database first: slow on 2 busy cores.
    os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "300"
    started = time.perf_counter()
    from prefect import flow, task

    @task
    def inc(n):
        return n + 1

    @task
    def cat(n):
        return through_cat(n)

    @flow
    def chain(steps: int, use_cat: bool = False):
        n = 0
        for _ in range(steps):
            n = cat(n) if use_cat else inc(n)
        return n

    @flow
    def three():
        n = 0
        for _ in range(3):
            n = inc(n)
        return n

    if workload == "start":
        chain(1)
        return (time.perf_counter() - started) * 1000
    if workload == "runs":
        chain(1)  # the temporary server is up before timing
        began = time.perf_counter()
        for _ in range(100):
            three()
        return (time.perf_counter() - began) * 1000 / 100
    if workload == "quick_exit":
        state = chain(300, return_state=True)
        with open(os.path.join(DIR, "flow_run"), "w") as f:
            f.write(str(state.state_details.flow_run_id))
        os._exit(0)  # right after the run, as a crashed or killed process would
    chain(1)
    began = time.perf_counter()
    chain(STEPS[workload], workload == "subprocess")
    return (time.perf_counter() - began) * 1000 / STEPS[workload]


def prefect_records():
    """Task runs the quick-exit run left in Prefect's database."""
    import sqlite3
    flow_run = open(os.path.join(DIR, "flow_run")).read().strip()
    db = sqlite3.connect(os.path.join(DIR, "prefect.db"))
    (count,) = db.execute(
        "SELECT count(*) FROM task_run WHERE flow_run_id = ? AND state_type = 'COMPLETED'",
        (flow_run,)).fetchone()
    return count


def dagster_run(workload):
    os.environ["DAGSTER_HOME"] = DIR
    started = time.perf_counter()
    from dagster import DagsterInstance, In, Out, job, op

    @op
    def zero():
        return 0

    @op
    def inc(n):
        return n + 1

    @op
    def cat(n):
        return through_cat(n)

    def chain_job(name, step, steps):
        @job(name=name)
        def built():
            n = zero()
            for i in range(steps):
                n = step.alias(f"{step.name}_{i}")(n)
        return built

    instance = DagsterInstance.get()
    if workload == "start":
        chain_job("one", inc, 1).execute_in_process(instance=instance)
        return (time.perf_counter() - started) * 1000
    if workload == "runs":
        three = chain_job("three", inc, 3)
        began = time.perf_counter()
        for _ in range(100):
            three.execute_in_process(instance=instance)
        return (time.perf_counter() - began) * 1000 / 100
    steps = STEPS[workload]
    built = chain_job("chain", cat if workload == "subprocess" else inc, steps)
    began = time.perf_counter()
    result = built.execute_in_process(instance=instance)
    elapsed = time.perf_counter() - began
    if workload == "quick_exit":
        with open(os.path.join(DIR, "run_id"), "w") as f:
            f.write(result.run_id)
        os._exit(0)
    return elapsed * 1000 / steps


def dagster_records():
    os.environ["DAGSTER_HOME"] = DIR
    from dagster import DagsterEventType, DagsterInstance
    run_id = open(os.path.join(DIR, "run_id")).read().strip()
    records = DagsterInstance.get().get_records_for_run(
        run_id, of_type=DagsterEventType.STEP_SUCCESS, limit=10_000).records
    # `zero` is a step too; count the 300 of the chain.
    return sum(1 for r in records if r.event_log_entry.step_key != "zero")


def luigi_run(workload):
    started = time.perf_counter()
    import luigi

    class Step(luigi.Task):
        i = luigi.IntParameter()
        tag = luigi.Parameter()
        use_cat = luigi.BoolParameter(default=False)

        def requires(self):
            return Step(i=self.i - 1, tag=self.tag, use_cat=self.use_cat) if self.i > 1 else []

        def output(self):
            return luigi.LocalTarget(os.path.join(DIR, f"{self.tag}-{self.i}.json"))

        def run(self):
            n = 0
            if self.i > 1:
                with self.input().open() as f:
                    n = json.load(f)["n"]
            if self.use_cat:
                n = through_cat(n)
            with self.output().open("w") as f:
                json.dump({"n": n + 1}, f)

    build = lambda tasks: luigi.build(tasks, local_scheduler=True, log_level="ERROR")
    if workload == "start":
        build([Step(i=1, tag="one")])
        return (time.perf_counter() - started) * 1000
    if workload == "runs":
        began = time.perf_counter()
        for run in range(100):
            build([Step(i=3, tag=f"run{run}")])
        return (time.perf_counter() - began) * 1000 / 100
    steps = STEPS[workload]
    began = time.perf_counter()
    build([Step(i=steps, tag="chain", use_cat=workload == "subprocess")])
    elapsed = time.perf_counter() - began
    if workload == "quick_exit":
        os._exit(0)
    return elapsed * 1000 / steps


def luigi_records():
    return sum(1 for name in os.listdir(DIR) if name.startswith("chain-"))


RUN = {"wfc": wfc_run, "prefect": prefect_run, "dagster": dagster_run, "luigi": luigi_run}
RECORDS = {"prefect": prefect_records, "dagster": dagster_records, "luigi": luigi_records}

if __name__ == "__main__":
    if WORKLOAD == "records":
        print(RECORDS[TOOL]())
    else:
        print(RUN[TOOL](WORKLOAD))
