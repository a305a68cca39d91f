#!/usr/bin/env bash
# Creates .venv (once) with what the Python suite needs, pinned to known-good ranges.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$root/.venv
stamp=$venv/.powergym-deps-v4
if [ ! -f "$stamp" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "maturin>=1.9,<2" "pytest>=8,<10" "mypy>=1.10,<2" "cryptography>=42,<47" "numpy>=1.26,<3" \
    "hypothesis>=6.100,<7"
  touch "$stamp"
fi
