"""TLS in containers: the certificate and key as Compose secrets, gRPC and HTTPS on the public ports."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys

import httpx
import trustme

from jina import Client
from jina.flow.ports import free_port
from tests.conftest import ROOT

FLOW = """
jtype: Flow
with:
  protocol: [grpc, http]
  port: [12345, 12346]
  ssl_certfile: cert.pem
  ssl_keyfile: key.pem
executors:
  - name: appender
    uses: Appender
    py_modules: [appender.py]
"""

APPENDER = """
from jina import Executor, requests


class Appender(Executor):
    @requests
    def append(self, docs, **kwargs):
        for doc in docs:
            doc.text = (doc.text or "") + " over tls"
"""


def test_an_exported_tls_flow_serves_grpc_and_https_from_its_containers(compose_project, tmp_path):
    ca = trustme.CA()
    issued = ca.issue_cert("localhost", "127.0.0.1")
    issued.cert_chain_pems[0].write_to_path(tmp_path / "cert.pem")
    issued.private_key_pem.write_to_path(tmp_path / "key.pem")
    (tmp_path / "key.pem").chmod(0o644)  # a bind-mounted secret keeps its mode: uid 10001 must read it
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    (tmp_path / "appender.py").write_text(APPENDER)
    (tmp_path / "flow.yml").write_text(FLOW)
    tmp_path.chmod(0o755)
    exported = subprocess.run(
        [sys.executable, "-m", "jina", "export", "docker-compose", "flow.yml", "docker-compose.yml"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    grpc_port, http_port = free_port(), free_port()
    project = compose_project(tmp_path, {"JINA_GATEWAY_PORT": str(grpc_port), "JINA_BRIDGE_PORT": str(http_port)})
    project.up()

    ca_file = str(tmp_path / "ca.pem")
    assert Client(port=grpc_port, tls=True, ca_certs=ca_file).post("/", ["grpc"]).texts == ["grpc over tls"]
    trust = ssl.create_default_context(cafile=ca_file)
    reply = httpx.post(f"https://127.0.0.1:{http_port}/post", json={"data": [{"text": "https"}]}, verify=trust)
    assert reply.status_code == 200
    assert [d["text"] for d in reply.json()["data"]] == ["https over tls"]
    assert Client(port=http_port, protocol="websocket", tls=True, ca_certs=ca_file).post("/", ["wss"]).texts == [
        "wss over tls"
    ]
