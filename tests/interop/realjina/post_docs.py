"""Run with REAL Jina 3.34: post two documents with jina.Client and print their texts and tags as JSON."""

import json
import sys

from docarray import Document, DocumentArray

from jina import Client

protocol, port, endpoint = sys.argv[1], int(sys.argv[2]), sys.argv[3]
client = Client(host="127.0.0.1", port=port, protocol=protocol)
docs = client.post(endpoint, inputs=DocumentArray([Document(text="hello"), Document(text="world")]))
print(json.dumps([{"text": doc.text, "tags": dict(doc.tags)} for doc in docs]))
