"""Run with REAL Jina 3.34: serve a Flow on a port until SIGTERM/SIGINT; print READY when up."""

import sys

import jina.orchestrate.orchestrator as orchestrator
from docarray import Document

from jina import Executor, Flow, requests

# Jina looks up its public IP on every Flow start; this project's tests never call out.
orchestrator.get_public_ip = lambda *a, **k: None


class Suffix(Executor):
    @requests
    def add(self, docs, **kwargs):
        for doc in docs:
            doc.text += " (real jina)"
        docs.append(Document(text="appended by real jina"))

    @requests(on="/fail")
    def fail(self, docs, **kwargs):
        raise ValueError("real jina boom")


port = int(sys.argv[1])
protocol = sys.argv[2] if len(sys.argv) > 2 else "grpc"
with Flow(protocol=protocol, port=port, host="127.0.0.1").add(uses=Suffix) as flow:
    print("READY", flush=True)
    flow.block()
