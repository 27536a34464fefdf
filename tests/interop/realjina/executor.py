"""Run with REAL Jina 3.34: serve a single Executor (a Jina executor runtime) on a port."""

import sys

from jina import Deployment, Executor, requests


class RealSuffix(Executor):
    @requests
    def add(self, docs, **kwargs):
        for doc in docs:
            doc.text += " (real executor)"


port = int(sys.argv[1])
with Deployment(uses=RealSuffix, port=port, host="127.0.0.1", include_gateway=False) as dep:
    print("READY", flush=True)
    dep.block()
