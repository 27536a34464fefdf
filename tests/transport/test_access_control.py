"""Access control on a Flow's public ports: the bearer token on gRPC, HTTP and WebSocket, and mutual
TLS, through real processes (rules: jina/serve/access.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import grpc
import httpx
import pytest
from docarray import Document, DocumentArray
from grpc_health.v1 import health_pb2, health_pb2_grpc
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from jina import Client, Executor, Flow, requests
from jina.excepts import BadConfig, BadServer
from jina.proto import jina_pb2
from jina.wire import PROCESS_SINGLE_DATA

TOKEN = "t0ken-for-this-test_~.+/="
PROTOCOLS = ["grpc", "http", "websocket"]


class Secretive(Executor):
    @requests
    def foo(self, docs: DocumentArray, **kwargs):
        import os

        for doc in docs:
            doc.text = "seen"
            doc.tags["token_in_env"] = os.environ.get("JINA_MESH_ACCESS_TOKEN", "")


@pytest.fixture(scope="module")
def token_flow():
    with Flow(protocol=PROTOCOLS, host="127.0.0.1", access_token=TOKEN).add(uses=Secretive) as flow:
        yield flow


def _post(flow: Flow, protocol: str, token: str | None) -> DocumentArray:
    with Client(host="127.0.0.1", port=flow.ports[protocol], protocol=protocol, access_token=token) as client:
        return client.post("/", DocumentArray([Document(text="x")]))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_right_token_is_served_and_executors_never_see_it(token_flow, protocol):
    docs = _post(token_flow, protocol, TOKEN)
    assert docs.texts == ["seen"]
    assert docs[0].tags["token_in_env"] == ""


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("token", [None, "wrong", TOKEN + "x", TOKEN[:-1]])
def test_a_missing_or_wrong_token_is_refused(token_flow, protocol, token):
    expected = {"grpc": ConnectionError, "http": BadServer, "websocket": ConnectionError}[protocol]
    with pytest.raises(expected) as info:
        _post(token_flow, protocol, token)
    message = str(info.value)
    assert "UNAUTHENTICATED" in message or "401" in message
    assert TOKEN not in message
    # the Flow goes on serving the clients that have it
    assert _post(token_flow, protocol, TOKEN).texts == ["seen"]


def test_grpc_refusals_are_unauthenticated_on_every_data_rpc(token_flow):
    target = f"127.0.0.1:{token_flow.ports['grpc']}"
    request = jina_pb2.DataRequestProto()
    request.header.exec_endpoint = "/"
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(
            PROCESS_SINGLE_DATA,
            request_serializer=jina_pb2.DataRequestProto.SerializeToString,
            response_deserializer=jina_pb2.DataRequestProto.FromString,
        )
        for metadata in (None, [("authorization", TOKEN)], [("authorization", f"Basic {TOKEN}")]):
            with pytest.raises(grpc.RpcError) as info:
                call(request, metadata=metadata, timeout=10)
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert TOKEN not in (info.value.details() or "")
        # two authorization entries are refused too, even when one of them is right
        with pytest.raises(grpc.RpcError) as info:
            call(request, metadata=[("authorization", "Bearer no"), ("authorization", f"Bearer {TOKEN}")], timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert call(request, metadata=[("authorization", f"Bearer {TOKEN}")], timeout=10).header.status.code == 0


def test_health_stays_open(token_flow):
    with grpc.insecure_channel(f"127.0.0.1:{token_flow.ports['grpc']}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    base = f"http://127.0.0.1:{token_flow.ports['http']}"
    assert httpx.get(base + "/").status_code == 200
    # the API's description holds no data: open, so Swagger UI can load and then send the token
    assert httpx.get(base + "/openapi.json").status_code == 200
    assert httpx.get(base + "/docs").status_code == 200


def test_http_routes_need_the_token_and_say_so_in_the_one_error_shape(token_flow):
    base = f"http://127.0.0.1:{token_flow.ports['http']}"
    for method, path in (("GET", "/status"), ("GET", "/dry_run"), ("POST", "/post"), ("POST", "/search")):
        reply = httpx.request(method, base + path, json={"data": [{"text": "x"}]})
        assert reply.status_code == 401, (method, path)
        assert reply.headers["www-authenticate"] == "Bearer"
        assert reply.json()["error"]["status"] == "UNAUTHENTICATED"
    authorized = {"authorization": f"Bearer {TOKEN}"}
    status = httpx.get(base + "/status", headers=authorized)
    assert status.status_code == 200
    assert TOKEN not in status.text
    posted = httpx.post(base + "/post", json={"data": [{"text": "x"}]}, headers=authorized)
    assert posted.status_code == 200 and posted.json()["data"][0]["text"] == "seen"


def test_websocket_handshakes_need_the_token(token_flow):
    url = f"ws://127.0.0.1:{token_flow.ports['websocket']}/"
    with pytest.raises(InvalidStatus) as info:
        ws_connect(url, open_timeout=10)
    assert info.value.response.status_code == 401
    with ws_connect(url, open_timeout=10, additional_headers={"Authorization": f"Bearer {TOKEN}"}) as socket:
        socket.send(json.dumps({"data": [{"text": "x"}]}))
        assert json.loads(socket.recv(timeout=10))["data"][0]["text"] == "seen"


def test_reflection_needs_the_token_too(token_flow, grpcurl):
    target = f"127.0.0.1:{token_flow.ports['grpc']}"
    refused = subprocess.run([grpcurl, "-plaintext", target, "list"], capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and "Unauthenticated" in refused.stderr
    listed = subprocess.run(
        [grpcurl, "-plaintext", "-H", f"authorization: Bearer {TOKEN}", target, "list"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert listed.returncode == 0, listed.stderr
    assert "jina.JinaRPC" in listed.stdout


def test_the_token_is_on_no_command_line(token_flow):
    for service in token_flow._services:
        cmdline = Path(f"/proc/{service.pid}/cmdline").read_bytes()
        assert TOKEN.encode() not in cmdline, service.name
    assert TOKEN not in repr(token_flow) and TOKEN not in repr(token_flow.gateway_args)


def test_bad_tokens_are_refused_before_start():
    for token in ("has space", " lead", "tab\tin", "non-ascii-é", 42):
        with pytest.raises(BadConfig, match="access_token"):
            Flow(access_token=token)
    with pytest.raises(BadConfig, match="access_token"):
        Client(port=1234, access_token="has space")


# -- mutual TLS --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mtls_flow(pki):
    flow = Flow(
        protocol=PROTOCOLS,
        host="127.0.0.1",
        ssl_certfile=pki["cert"],
        ssl_keyfile=pki["key"],
        ssl_ca_certs=pki["ca"],
    ).add(uses=Secretive)
    with flow:
        yield flow


def _mtls_post(flow: Flow, pki, protocol: str, cert: str | None, key: str | None) -> DocumentArray:
    client = Client(
        host="localhost",
        port=flow.ports[protocol],
        protocol=protocol,
        tls=True,
        ca_certs=pki["ca"],
        client_cert=cert,
        client_key=key,
    )
    with client:
        return client.post("/", DocumentArray([Document(text="x")]))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_mtls_accepts_a_certificate_the_authority_signed(mtls_flow, pki, protocol):
    assert _mtls_post(mtls_flow, pki, protocol, pki["client_cert"], pki["client_key"]).texts == ["seen"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("who", ["nobody", "stranger"])
def test_mtls_refuses_a_client_without_a_signed_certificate(mtls_flow, pki, protocol, who):
    cert, key = (None, None) if who == "nobody" else (pki["stranger_cert"], pki["stranger_key"])
    with pytest.raises(ConnectionError):
        _mtls_post(mtls_flow, pki, protocol, cert, key)
    # and still serves the clients that have one
    assert _mtls_post(mtls_flow, pki, protocol, pki["client_cert"], pki["client_key"]).texts == ["seen"]


def test_mtls_options_are_checked_before_start(pki, tmp_path):
    with pytest.raises(BadConfig, match="ssl_ca_certs"):
        Flow(ssl_ca_certs=pki["ca"]).start()
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(BadConfig, match="ssl_ca_certs"):
        Flow(ssl_certfile=pki["cert"], ssl_keyfile=pki["key"], ssl_ca_certs=str(garbage)).start()
    with pytest.raises(BadConfig, match="client_cert and client_key"):
        Client(port=1234, tls=True, client_cert=pki["client_cert"])
    with pytest.raises(BadConfig, match="client_cert"):
        Client(port=1234, tls=True, client_cert=pki["client_cert"], client_key=pki["key"])
