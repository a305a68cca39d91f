#!/usr/bin/env bash
# Creates .venv (once) with what the Python suite needs, pinned to known-good ranges.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$root/.venv
stamp=$venv/.powergym-deps-v5
if [ ! -f "$stamp" ]; then
  # Debian's own python3 needs python3-venv for `-m venv` (a pyenv or python.org
  # Python has it built in).
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
    fi
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "maturin>=1.9,<2" "pytest>=8,<10" "mypy>=1.10,<2" "cryptography>=42,<47" "numpy>=1.26,<3" \
    "hypothesis>=6.100,<7" "pytest-asyncio>=0.24,<2" \
    "fastapi>=0.115,<1" "httpx>=0.27,<1" "python-multipart>=0.0.9,<1"
  touch "$stamp"
fi
