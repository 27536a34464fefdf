"""Run with REAL Jina 3.34: a Flow whose only Executor is external (this project's, at EXEC_PORT)."""

import sys

import jina.orchestrate.orchestrator as orchestrator

from jina import Flow

# Jina looks up its public IP on every Flow start; this project's tests never call out.
orchestrator.get_public_ip = lambda *a, **k: None

port, exec_port = int(sys.argv[1]), int(sys.argv[2])
flow = Flow(port=port, host="127.0.0.1").add(name="ours", host="127.0.0.1", port=exec_port, external=True)
with flow:
    print("READY", flush=True)
    flow.block()
