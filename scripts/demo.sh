#!/usr/bin/env bash
# The main job: starts PostgreSQL + pgvector (installing it on a fresh Debian 12 machine)
# and runs the front-desk program against it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source "$root/scripts/env.sh"
cargo run --locked -q -p powergym-examples --bin front_desk
