#!/usr/bin/env bash
# The in-process comparison in one run, same data, same machine: our Gallery (f32, f16,
# int8) against numpy `X @ q` and faiss `IndexFlatIP`, plus the memory-bandwidth floor.
#
#   benches/scripts/inprocess.sh [--quick]
#
# Builds and runs `--bin inprocess` (release), which writes the galleries as raw f32
# under target/bench-data/ and prints its JSON, then runs benches/inprocess/compare.py
# in a venv (target/bench-venv, created once, reused) with numpy, faiss-cpu and
# threadpoolctl from PyPI. The markdown table goes to stdout and to
# target/bench-data/inprocess.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
data="$target/bench-data"
venv="$target/bench-venv"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import numpy, faiss, threadpoolctl" 2>/dev/null; then
    "$venv/bin/pip" install --quiet numpy faiss-cpu threadpoolctl
fi

cargo build --release --quiet -p powergym-benches --bin inprocess
echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# The JSON it prints is also in $data/inprocess.json, which compare.py reads.
"$target/release/inprocess" --data "$data" "$@" > /dev/null
"$venv/bin/python" benches/inprocess/compare.py "$data" | tee "$data/inprocess.md"
echo "load after the run: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
