#!/usr/bin/env bash
# SQLite against PostgreSQL through the public Gym API, one run, same data: p50/p99 of
# check-in by document, a partial payment, a one-unit sale and check-in by face at 1k
# and 10k members, then the time to open the 10k-member SQLite file and make the first
# face search, and the resident memory that adds (fresh processes).
#
#   benches/scripts/stores.sh [-- extra arguments for the binary, e.g. --sizes 1000]
#
# Needs a PostgreSQL server: DATABASE_URL, default
# postgres://powergym:powergym@127.0.0.1:5432/powergym; the role must be allowed to
# create databases. If nothing answers on 127.0.0.1 it runs scripts/setup-postgres.sh
# (needs root). Each size gets a fresh database powergym_bench_stores_<N>, dropped at
# the end of that size; SQLite files are target/bench-data/stores-<N>.db (kept).
# Builds the release binary, runs it once; the table goes to stdout and to
# target/bench-results/stores.{md,json}. About 6–8 minutes on a 2-core machine, most of
# it the setup through the API.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
[[ "${1:-}" == "--" ]] && shift

if [[ -z "${DATABASE_URL:-}" ]]; then
    if pg_isready -q -h 127.0.0.1 2>/dev/null; then
        export DATABASE_URL="postgres://powergym:powergym@127.0.0.1:5432/powergym"
    else
        DATABASE_URL="$(bash scripts/setup-postgres.sh | tail -n 1)"
        export DATABASE_URL
    fi
fi

cargo build --release --quiet -p powergym-benches --bin stores
echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$target/release/stores" --data "$target/bench-data" --out "$target/bench-results" "$@"
echo "load after the run: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
