"""Run with REAL Jina 3.34: `Flow.load_config(YAML)` and serve it until SIGTERM/SIGINT; print READY when up."""

import sys

import jina.orchestrate.orchestrator as orchestrator

from jina import Flow

# Jina looks up its public IP on every Flow start; this project's tests never call out.
orchestrator.get_public_ip = lambda *a, **k: None

with Flow.load_config(sys.argv[1]) as flow:
    print("READY", flush=True)
    flow.block()
