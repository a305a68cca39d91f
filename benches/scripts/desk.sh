#!/usr/bin/env bash
# Ours (the Python binding, release build) against the original stack (SQLAlchemy 2 +
# psycopg 3 + pgvector-python, written as the original FastAPI backend was) at the front
# desk, one run, same server, same data: check-in by document, a partial payment, a
# one-unit sale, face check-in and identification (ours with the int8 cache) at 10k
# members, then face check-in and identification at 100k. Both stacks reach PostgreSQL
# through rtproxy (benches/src/bin/rtproxy.rs), which counts round trips and adds 0 or
# 1 ms before each client → server chunk; ours on a SQLite file runs the same calls.
#
#   benches/scripts/desk.sh [-- extra arguments for desk.py, e.g. --face-members 0]
#
# Needs a PostgreSQL server with pgvector: DATABASE_URL, default
# postgres://powergym:powergym@127.0.0.1:5432/powergym (the role creates and drops the
# databases powergym_bench_desk_{orig,ours}_<N>). Python packages go into
# target/bench-venv (created once; shared with inprocess.sh), where `maturin develop
# --release` installs the extension; .venv is not touched. Results:
# target/bench-results/desk.{md,json}. About 5–8 minutes on a 2-core machine.
# DESK_NO_BUILD=1 runs the extension already installed in target/bench-venv.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
target="$CARGO_TARGET_DIR"
venv="$root/target/bench-venv"
proxy_port="${DESK_PROXY_PORT:-6543}"
control_port="${DESK_CONTROL_PORT:-6544}"
[[ "${1:-}" == "--" ]] && shift

if [[ -z "${DATABASE_URL:-}" ]]; then
    if pg_isready -q -h 127.0.0.1 2>/dev/null; then
        export DATABASE_URL="postgres://powergym:powergym@127.0.0.1:5432/powergym"
    else
        DATABASE_URL="$(bash scripts/setup-postgres.sh | tail -n 1)"
        export DATABASE_URL
    fi
fi
upstream="$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(f"{p.hostname}:{p.port or 5432}")' "$DATABASE_URL")"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import numpy, sqlalchemy, psycopg, pgvector, maturin" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.9,<2" "numpy>=1.26,<3" \
        "sqlalchemy>=2,<3" "psycopg[binary]>=3.1,<4" "pgvector>=0.3,<1"
fi

cargo build --release --quiet -p powergym-benches --bin rtproxy
if [[ -z "${DESK_NO_BUILD:-}" ]]; then
    VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" \
        maturin develop --release --locked --quiet -m powergym-py/Cargo.toml >&2
fi

"$target/release/rtproxy" --listen "127.0.0.1:$proxy_port" --upstream "$upstream" \
    --control "127.0.0.1:$control_port" &
proxy_pid=$!
trap 'kill "$proxy_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    (echo > "/dev/tcp/127.0.0.1/$control_port") 2>/dev/null && break
    sleep 0.1
done

echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
start=$(date +%s)
PYTHONPATH="$root/benches/desk" "$venv/bin/python" benches/desk/desk.py \
    --url "$DATABASE_URL" --proxy-port "$proxy_port" --control-port "$control_port" \
    --data "$target/bench-data" --out "$target/bench-results" "$@"
echo "load after the run: $(cut -d' ' -f1-3 /proc/loadavg); $(( $(date +%s) - start )) s" >&2
