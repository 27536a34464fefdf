#!/usr/bin/env bash
# The adversarial suite (tests/adversarial): property-based fuzzing of the gRPC and WebSocket entry
# points, and a short soak with processes killed (benchmarks/soak.py). Sets up as scripts/test.sh
# does; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/install-tools.sh >/dev/null
exec .venv/bin/python -m pytest -m adversarial tests/adversarial "$@"
