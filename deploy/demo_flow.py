"""The demo Flow: two Executors behind the gateway, served on gRPC port 12345 until Ctrl-C.

Try it:  jina ping localhost:12345
         grpcurl -plaintext localhost:12345 list
         python -c "from jina import Client; print(Client(port=12345).post('/', ['hello world']).texts)"
"""

from __future__ import annotations

import sys

from docarray import DocumentArray

from jina import Executor, Flow, requests


class WordCounter(Executor):
    """Counts the words of every text document."""

    @requests
    def count(self, docs: DocumentArray, **kwargs):
        for doc in docs:
            doc.tags["words"] = len((doc.text or "").split())


class Shouter(Executor):
    """Upper-cases texts, only for the /shout endpoint."""

    @requests(on="/shout")
    def shout(self, docs: DocumentArray, **kwargs):
        for doc in docs:
            doc.text = (doc.text or "").upper()


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 12345
    flow = Flow(protocol="grpc", port=port).add(uses=WordCounter, name="counter").add(uses=Shouter, name="shouter")
    with flow:
        print(f"demo Flow serving gRPC on port {flow.port} (Ctrl-C to stop)", flush=True)
        flow.block()
