"""A client in another language: Node.js (@grpc/grpc-js + @grpc/proto-loader) loading protos/ directly."""

from __future__ import annotations

import json
import subprocess

from jina import __version__
from tests.interop.conftest import NODE_DIR
from tests.services.test_status import DOCUMENTED_KEYS


def test_node_client_status_unary_and_stream(node, served_flow):
    result = subprocess.run(
        [node, str(NODE_DIR / "client.js"), served_flow.addresses["gateway"]],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert DOCUMENTED_KEYS <= set(out["status_keys"])
    assert out["jina_version"] == __version__
    assert out["unary"] == {"request_id": "u1", "texts": ["from node!"], "routes": ["gateway", "appender", "failing"]}
    assert sorted(out["stream"], key=lambda r: r["request_id"]) == [
        {"request_id": "s1", "texts": ["one!"]},
        {"request_id": "s2", "texts": ["two!"]},
        {"request_id": "s3", "texts": ["three!"]},
    ]
