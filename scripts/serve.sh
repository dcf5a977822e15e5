#!/usr/bin/env bash
# Set everything up, then run the gateway. With no upstream configured it
# starts the embedded SmolLM2 model. Extra arguments go to `tidegate serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/tidegate serve "$@"
