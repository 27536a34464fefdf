#!/usr/bin/env bash
# Set everything up and serve the demo Flow (gRPC on port 12345) until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
exec .venv/bin/python deploy/demo_flow.py "$@"
