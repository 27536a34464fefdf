#!/usr/bin/env bash
# Set everything up (venv, protoc, grpcurl, Node packages, real Jina) and run the whole test suite.
# Extra arguments go to pytest, e.g. ./scripts/test.sh -k grpcurl
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/install-tools.sh
exec .venv/bin/python -m pytest "$@"
