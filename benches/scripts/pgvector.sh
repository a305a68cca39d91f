#!/usr/bin/env bash
# Face identification on PostgreSQL + pgvector at 10k and 100k enrolled members: p50/p99
# of `identify` and recall@1 against exact search for the library's HNSW setup (two
# builds, an ef_search sweep), the original guide's IVFFlat, an exact scan, binary
# quantisation with an exact re-rank, and the exact in-process matcher loaded from the
# database as a search cache. Also the bulk-load rate and the index build times.
#
#   benches/scripts/pgvector.sh [N ...] [-- extra arguments for the binary]
#
# N defaults to "10000 100000". Starts PostgreSQL through scripts/setup-postgres.sh
# (needs root, idempotent), builds the release binary once, runs it once per N and
# writes target/bench-results/pgvector-<N>.{json,md}. Each N gets a fresh database
# powergym_bench_<N>, dropped at the end. About 3 minutes at 10k and 15–20 minutes at
# 100k on a 2-core machine (index builds dominate); `--cap SECONDS` bounds each
# configuration's measurement (default 60 s, at least 200 probes).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
out="$target/bench-results"
mkdir -p "$out"

sizes=()
while [[ $# -gt 0 && "$1" != "--" ]]; do
    sizes+=("$1")
    shift
done
[[ "${1:-}" == "--" ]] && shift
[[ ${#sizes[@]} -gt 0 ]] || sizes=(10000 100000)

url="$(bash scripts/setup-postgres.sh | tail -n 1)"
export DATABASE_URL="${DATABASE_URL:-$url}"

cargo build --release --quiet -p powergym-benches --bin pgvector
for n in "${sizes[@]}"; do
    echo "== $n templates; load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    # JSON and markdown are also written to $out/pgvector-$n.{json,md}.
    "$target/release/pgvector" "$n" --out "$out" "$@" > "$out/pgvector-$n.log"
    cat "$out/pgvector-$n.md"
    echo "== $n templates; load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
done
