"""The demo Flow: two Executors, gRPC on port 12345, HTTP and WebSocket on port 12346, until Ctrl-C.

The same Flow as deploy/flow.yml (which docker-compose.yml is exported from), in Python.

Try it:  jina ping localhost:12345
         grpcurl -plaintext localhost:12345 list
         curl -s localhost:12346/post -H 'content-type: application/json' -d '{"data": [{"text": "hello world"}]}'
         open http://localhost:12346/docs
         python -c "from jina import Client; print(Client(port=12345).post('/shout', ['hello world']).texts)"
"""

from __future__ import annotations

import sys

from demo_executors import Shouter, WordCounter  # next to this script (deploy/ is on the path)

from jina import Flow

if __name__ == "__main__":
    grpc_port = int(sys.argv[1]) if len(sys.argv) > 1 else 12345
    http_port = int(sys.argv[2]) if len(sys.argv) > 2 else grpc_port + 1
    flow = Flow(
        protocol=["grpc", "http", "websocket"], port=[grpc_port, http_port, http_port], cors=True, compression="gzip"
    )
    flow.add(uses=WordCounter, name="counter").add(uses=Shouter, name="shouter")
    flow.expose_endpoint("/shout", summary="Upper-case the texts", tags=["demo"])
    with flow:
        print(
            f"demo Flow: gRPC on port {grpc_port}, HTTP and WebSocket on port {http_port}"
            f" (Swagger UI: http://localhost:{http_port}/docs); Ctrl-C to stop",
            flush=True,
        )
        flow.block()
