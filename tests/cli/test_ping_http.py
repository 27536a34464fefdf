"""`jina ping URL`: the HTTP(S) health check of a bridge (a container's HEALTHCHECK), against real ones."""

from __future__ import annotations

import subprocess
import sys

from jina import Flow
from jina.flow.ports import free_port
from tests import executors
from tests.conftest import ROOT, run_python, running


def ping(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jina", "ping", *args], capture_output=True, text=True, timeout=30, cwd=ROOT
    )


def test_a_serving_bridge_answers_200(flows):
    flow = flows(Flow(protocol="http", host="127.0.0.1").add(uses=executors.Appender))
    url = f"http://127.0.0.1:{flow.port}/"
    result = ping(url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{url}: 200 OK"


def test_a_bridge_whose_gateway_is_away_fails_the_check():
    gateway_port, port = free_port(), free_port()
    gateway = f"127.0.0.1:{gateway_port}"
    config = '{"descriptor_timeout": 0.2}'
    with running("bridge", port, "--gateway", gateway, "--host", "127.0.0.1", "--port", str(port), "--config", config):
        result = ping(f"http://127.0.0.1:{port}/")
    assert result.returncode == 1
    assert f"http://127.0.0.1:{port}/: 503 Service Unavailable" in result.stderr
    assert "not serving" in result.stderr


def test_https_verifies_the_certificate_unless_told_not_to(flows, pki):
    flow = flows(
        Flow(protocol="http", host="127.0.0.1", ssl_certfile=pki["cert"], ssl_keyfile=pki["key"]).add(
            uses=executors.Appender
        )
    )
    url = f"https://127.0.0.1:{flow.port}/"
    untrusted = ping(url)
    assert untrusted.returncode == 1
    assert "TLS" in untrusted.stderr and "certificate" in untrusted.stderr
    assert ping(url, "--ca-certs", pki["ca"]).returncode == 0
    insecure = ping(url, "--insecure")
    assert insecure.returncode == 0, insecure.stderr
    assert insecure.stdout.strip() == f"{url}: 200 OK"


def test_nothing_listening_and_bad_urls():
    url = f"http://127.0.0.1:{free_port()}/"
    refused = ping(url, "--timeout", "1")
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"{url}: ConnectionRefusedError")
    assert ping("http://:80/").returncode == 2
    assert ping("http://host:port/").returncode == 2


def test_the_http_check_imports_neither_docarray_nor_httpx():
    url = f"http://127.0.0.1:{free_port()}/"
    result = run_python(
        "import sys\n"
        "from jina.cli import main\n"
        f"code = main(['ping', '{url}', '--timeout', '0.5'])\n"
        "print(code, 'docarray' in sys.modules, 'httpx' in sys.modules)\n"
    )
    assert result.stdout.split() == ["1", "False", "False"], result.stderr
