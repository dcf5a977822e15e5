#!/usr/bin/env bash
# Set everything up, then run the whole test suite: lint, types, tests
# (including the end-to-end tests against the real SmolLM2 model).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
TIDEGATE_REQUIRE_E2E=1 .venv/bin/pytest "$@"
