#!/usr/bin/env bash
# A real Jina 3.34 (docarray 0.21) in its own virtualenv, for the wire-interop tests.
# Plain `pip install jina==3.34.0` cannot resolve; the lock file pins a set that works.
set -euo pipefail
cd "$(dirname "$0")/.."

JINA_VENV=$(realpath -m "${JINA_VENV:-.venv-jina}")
# run from / so that this checkout's own `jina` package is not on the path
check() { (cd / && JINA_OPTOUT_TELEMETRY=1 "$JINA_VENV/bin/python" -c \
  "import jina, docarray; assert jina.__version__ == '3.34.0'; print('real jina', jina.__version__, 'docarray', docarray.__version__)"); }

if ! check 2>/dev/null; then
  python3 -m venv "$JINA_VENV"
  "$JINA_VENV/bin/python" -m pip install --quiet --upgrade pip
  "$JINA_VENV/bin/python" -m pip install --quiet -r tests/interop/realjina/requirements-lock.txt
  check
fi
