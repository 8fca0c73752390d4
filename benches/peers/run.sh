#!/usr/bin/env bash
# The peer comparison (BENCHMARKS.md, "Peers"): installs Prefect, Dagster and
# Luigi from PyPI into a virtualenv, builds wfc in release, and runs the same
# workloads on all four. By hand, not in CI (it downloads a few hundred MB and
# takes several minutes):  benches/peers/run.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${PEERS_VENV:-$root/target/peers-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet prefect dagster luigi
fi
cargo build --release --manifest-path "$root/Cargo.toml" --bin wfc
WFC="$root/target/release/wfc" "$venv/bin/python" "$root/benches/peers/run.py"
