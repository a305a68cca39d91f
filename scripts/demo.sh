#!/usr/bin/env bash
# The main job: a day at the front desk. By default on an embedded SQLite file
# (target/demo/powergym-demo.db): no server, no root. With DATABASE_URL=postgres://…
# it runs on PostgreSQL instead (scripts/setup-postgres.sh installs and starts one).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [ -z "${DATABASE_URL:-}" ]; then
  mkdir -p "$root/target/demo"
  export DATABASE_URL="sqlite://$root/target/demo/powergym-demo.db"
fi
cargo run --locked -q -p powergym-examples --bin front_desk
