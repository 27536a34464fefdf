"""Run with REAL Jina 3.34: post to a gateway with jina.Client and print the result as JSON."""

import json
import sys

from docarray import Document, DocumentArray

from jina import Client

protocol, port, endpoint = sys.argv[1], int(sys.argv[2]), sys.argv[3]
client = Client(host="127.0.0.1", port=port, protocol=protocol)
out = {}
docs = client.post(endpoint, inputs=DocumentArray([Document(text="hello"), Document(text="world")]))
out["texts"] = docs.texts
try:
    failed = client.post("/fail", inputs=Document(text="x"))
    out["error"] = None
    out["texts_on_error"] = failed.texts if failed is not None else None
except Exception as exc:  # real Jina raises BadServer
    out["error"] = f"{type(exc).__name__}: {exc}"
out["after_error"] = client.post(endpoint, inputs=Document(text="again")).texts
print(json.dumps(out))
