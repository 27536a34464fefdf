#!/usr/bin/env bash
# The Docker suite (tests/docker): a real engine, Compose v2 and a one-node Swarm. Installs and
# starts what it needs (dockerd only if none answers), builds the images, runs the tests, and
# stops the dockerd it started. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/install-tools.sh >/dev/null
./scripts/docker-engine.sh start
trap './scripts/docker-engine.sh stop' EXIT
./scripts/docker-images.sh
.venv/bin/python -m pytest -m docker tests/docker -p no:cacheprovider "$@"
