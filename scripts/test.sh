#!/usr/bin/env bash
# Runs every test suite — Rust, Python, Kotlin — on both stores: a real PostgreSQL +
# pgvector server and embedded SQLite files (the store contract suite runs on each).
#
# On a fresh Debian 12 machine (as root) it installs what it needs first: PostgreSQL and
# pgvector (scripts/setup-postgres.sh), a Python virtual environment with maturin and
# pytest, and Maven's plugins and JNA from Maven Central. One shared target directory
# serves cargo, maturin and the UniFFI build, and the workspace is compiled once.
#
# Usage: scripts/test.sh            all suites
#        SUITES="rust python" scripts/test.sh   a subset (rust, python, kotlin)
#        POWERGYM_TEST_STORES=sqlite scripts/test.sh   the Python and Kotlin suites on one store
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
SUITES=${SUITES:-"rust python kotlin"}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

step() { printf '\n==> %s\n' "$*"; }
has_suite() { [[ " $SUITES " == *" $1 "* ]]; }

step "PostgreSQL + pgvector"
source "$root/scripts/env.sh"
echo "DATABASE_URL=${DATABASE_URL//:*@/:***@}"

step "Rust: build and test (powergym-core, powergym-ffi, examples, benches)"
if has_suite rust || has_suite kotlin; then
  cargo build --locked -p powergym-ffi
fi
if has_suite rust; then
  cargo test --locked
  step "Rust: the store contract suite again, on SQLite"
  POWERGYM_TEST_STORE=sqlite cargo test --locked -p powergym-core \
    --test store --test clients --test idempotency --test input_bounds --test sign_in \
    --test face --test face_bulk --test conformance
  step "Rust: format and lints (cargo fmt --check, clippy -D warnings)"
  cargo fmt --all -- --check
  # clippy checks powergym-py too; it only type-checks, so PyO3 need not link libpython.
  PYO3_BUILD_EXTENSION_MODULE=1 cargo clippy --locked --workspace --all-targets -q -- -D warnings
  # Each store alone, as a mobile build (SQLite only) or a server build (PostgreSQL only)
  # compiles powergym-core.
  cargo clippy --locked -p powergym-core --no-default-features --features sqlite -q -- -D warnings
  cargo clippy --locked -p powergym-core --no-default-features --features postgres -q -- -D warnings
fi

if has_suite python; then
  step "Python: build the extension into .venv and run pytest"
  "$root/scripts/python-env.sh"
  # maturin sets PYO3_BUILD_EXTENSION_MODULE so the module does not link libpython.
  "$root/.venv/bin/maturin" develop --locked -q -m powergym-py/Cargo.toml
  "$root/.venv/bin/python" -m mypy.stubtest powergym._powergym
  "$root/.venv/bin/python" -m pytest -q powergym-py/tests
  # The FastAPI example, as a user of the original backend would run it.
  (cd "$root/examples/python/desk_api" && "$root/.venv/bin/python" -m pytest -q -p no:cacheprovider .)
fi

if has_suite kotlin; then
  step "Kotlin: generate UniFFI bindings and run JUnit on the JVM"
  "$root/scripts/kotlin-test.sh"
fi

step "all requested suites passed: $SUITES"
