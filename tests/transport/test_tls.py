"""TLS on the public port of every protocol, with certificates made for this run (trustme)."""

from __future__ import annotations

import json
import subprocess

import pytest
from docarray import Document, DocumentArray

from jina import Client, Executor, Flow, requests
from jina.excepts import BadConfig


class FooExecutor(Executor):
    @requests
    def foo(self, docs: DocumentArray, **kwargs):
        docs.append(Document(text="foo was called"))


@pytest.fixture(scope="module")
def tls_flow(pki):
    flow = Flow(
        protocol=["grpc", "http", "websocket"], host="127.0.0.1", ssl_certfile=pki["cert"], ssl_keyfile=pki["key"]
    ).add(uses=FooExecutor)
    with flow:
        yield flow


@pytest.mark.parametrize("protocol", ["grpc", "http", "websocket"])
def test_seed_samples_over_tls(tls_flow, pki, protocol):
    """The seed's three samples, with ssl_certfile/ssl_keyfile on the Flow and the CA on the client."""
    client = Client(host="localhost", port=tls_flow.ports[protocol], protocol=protocol, tls=True, ca_certs=pki["ca"])
    with client:
        docs = client.post(on="/")
    assert docs.texts == ["foo was called"]


@pytest.mark.parametrize("protocol", ["grpc", "http", "websocket"])
def test_a_plaintext_client_gets_a_clear_error(tls_flow, protocol):
    with Client(host="localhost", port=tls_flow.ports[protocol], protocol=protocol) as client:
        with pytest.raises(ConnectionError) as info:
            client.post(on="/")
    assert str(tls_flow.ports[protocol]) in str(info.value)


@pytest.mark.parametrize("protocol", ["grpc", "http", "websocket"])
def test_a_client_without_the_ca_gets_a_clear_error(tls_flow, pki, protocol):
    client = Client(host="localhost", port=tls_flow.ports[protocol], protocol=protocol, tls=True, ca_certs=pki["other"])
    with client:
        with pytest.raises(ConnectionError) as info:
            client.post(on="/")
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value) or "certificate verify failed" in str(info.value)
    if protocol == "grpc":
        assert "ca_certs" in str(info.value)  # what to do about it


def test_grpcurl_reaches_status_over_tls(tls_flow, pki, grpcurl):
    result = subprocess.run(
        [grpcurl, "-cacert", pki["ca"], f"localhost:{tls_flow.ports['grpc']}", "jina.JinaInfoRPC/_status"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "jina" in json.loads(result.stdout)
    plaintext = subprocess.run(
        [grpcurl, "-plaintext", f"localhost:{tls_flow.ports['grpc']}", "jina.JinaInfoRPC/_status"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert plaintext.returncode != 0


def test_flow_post_still_works_with_tls(tls_flow):
    assert tls_flow.post("/").texts == ["foo was called"]  # over the gateway's loopback port


def test_bad_tls_options_fail_before_anything_starts(pki, tmp_path):
    from tests.conftest import child_pids

    before = child_pids()
    cases = [
        ({"ssl_certfile": pki["cert"]}, "both ssl_certfile and ssl_keyfile: ssl_certfile is given"),
        ({"ssl_keyfile": pki["key"]}, "ssl_keyfile is given, ssl_certfile is not"),
        ({"ssl_certfile": str(tmp_path / "nope.pem"), "ssl_keyfile": pki["key"]}, "cannot be read"),
        ({"ssl_certfile": pki["ca"], "ssl_keyfile": pki["key"]}, "the key does not match the certificate"),
    ]
    for options, message in cases:
        with pytest.raises(BadConfig, match=message):
            Flow(**options).add().start()
    assert child_pids() == before
