"""The peer comparison: the same workloads on wfc, Prefect, Dagster and Luigi,
interleaved (every tool once per repetition, in turn), each measurement in a
fresh process and a fresh state directory; medians with min-max, printed as
the Markdown table BENCHMARKS.md keeps. Run by hand through run.sh."""

import os
import signal
import statistics
import subprocess
import sys
import tempfile
from importlib import metadata

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = ["wfc", "prefect", "dagster", "luigi"]
# workload: (what the number is, unit)
WORKLOADS = {
    "chain": ("300-step in-process chain, per step", "ms"),
    "runs": ("100 runs of a 3-step chain, per run", "ms"),
    "subprocess": ("50-step chain of `cat` subprocesses, per step", "ms"),
    "start": ("process start to a 1-step run done", "ms"),
    "quick_exit": ("of 300 step records, kept when the process exits right after the run", "records"),
}
REPETITIONS = int(os.environ.get("PEERS_REPETITIONS", "5"))


def run_alone(args, state):
    """Runs `args` in a process group of its own and returns (exit code, stdout,
    stderr); whatever it started (Prefect's temporary server) is killed after it
    exits, and output goes to files, so a leftover child cannot hold a pipe open."""
    out_path, err_path = os.path.join(state, ".stdout"), os.path.join(state, ".stderr")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        process = subprocess.Popen(args, stdout=out, stderr=err, start_new_session=True)
        try:
            code = process.wait(timeout=600)
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return code, open(out_path).read(), open(err_path).read()


def measure(tool, workload):
    with tempfile.TemporaryDirectory(prefix=f"peers-{tool}-{workload}-") as state:
        script = os.path.join(HERE, "workloads.py")
        code, out, err = run_alone([sys.executable, script, tool, workload, state], state)
        if workload == "quick_exit" and tool != "wfc" and code == 0:
            # The run exited at once; a new process counts what it left.
            code, out, err = run_alone([sys.executable, script, tool, "records", state], state)
        lines = out.strip().splitlines()
        if code != 0 or not lines:
            raise SystemExit(f"{tool} {workload} failed:\n{err[-2000:]}")
        return float(lines[-1])


def version(tool):
    if tool == "wfc":
        out = subprocess.run([os.environ.get("WFC", "wfc"), "--version"], capture_output=True, text=True)
        return out.stdout.split()[-1] if out.returncode == 0 else "?"
    return metadata.version(tool)


def main():
    results = {(t, w): [] for t in TOOLS for w in WORKLOADS}
    for repetition in range(REPETITIONS):
        for workload in WORKLOADS:
            for tool in TOOLS:
                results[(tool, workload)].append(measure(tool, workload))
        print(f"repetition {repetition + 1}/{REPETITIONS} done", file=sys.stderr)
    print("| workload | " + " | ".join(f"{t} {version(t)}" for t in TOOLS) + " |")
    print("|---|" + "---|" * len(TOOLS))
    for workload, (what, unit) in WORKLOADS.items():
        cells = []
        for tool in TOOLS:
            values = results[(tool, workload)]
            median = statistics.median(values)
            digits = 0 if unit == "records" or median >= 100 else 3 if median < 1 else 1
            cells.append(f"{median:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})")
        print(f"| {what} ({unit}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
