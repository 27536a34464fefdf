#!/usr/bin/env bash
# Set everything up (venv, protoc, grpcurl, Node packages, real Jina) and run the whole test suite.
# Extra arguments go to pytest, e.g. ./scripts/test.sh -k grpcurl. The Docker suite: scripts/test-docker.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/install-tools.sh
# the Docker suite has its own command (scripts/test-docker.sh): it starts a Docker engine
exec .venv/bin/python -m pytest -m "not docker and not adversarial" "$@"
