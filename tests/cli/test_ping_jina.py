"""`jina ping executor|gateway|flow HOST:PORT` as Jina spells it, against real processes."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from jina import Flow
from jina.flow.ports import free_port
from tests import executors
from tests.conftest import ROOT, running


def ping(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jina", "ping", *args], capture_output=True, text=True, timeout=60, cwd=ROOT
    )


@pytest.fixture(scope="module")
def flow():
    with Flow(protocol=["grpc", "http"], host="127.0.0.1").add(uses=executors.Appender) as flow:
        yield flow


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers: a check can only end by its timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("kind", ["gateway", "flow"])
def test_a_serving_flow_passes_over_grpc_and_http(flow, kind):
    grpc_port, http_port = flow.ports["grpc"], flow.ports["http"]
    for target in (f"127.0.0.1:{grpc_port}", f"grpc://127.0.0.1:{grpc_port}", f"http://127.0.0.1:{http_port}"):
        result = ping(kind, target)
        assert result.returncode == 0, (target, result.stderr)
        assert result.stdout.count("\n") == 1
    assert ping("flow", f"127.0.0.1:{grpc_port}").stdout.strip() == f"grpc://127.0.0.1:{grpc_port}: the Flow is ready"
    assert ping("gateway", f"127.0.0.1:{grpc_port}").stdout.strip() == f"127.0.0.1:{grpc_port}: SERVING"


def test_an_executor_and_a_gateway_whose_executor_is_away():
    executor_port, gateway_port, dead = free_port(), free_port(), free_port()
    with running("executor", executor_port, "--uses", "tests.executors:Appender", "--port", str(executor_port)):
        result = ping("executor", f"127.0.0.1:{executor_port}")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"127.0.0.1:{executor_port}: SERVING"
    gateway_args = ("--host", "127.0.0.1", "--port", str(gateway_port), "--executors", f"enc=127.0.0.1:{dead}")
    with running("gateway", gateway_port, *gateway_args):
        # the gateway serves, but not its Flow: its health says so, and the dry run names the executor
        assert ping("gateway", f"127.0.0.1:{gateway_port}").returncode == 1
        flow = ping("flow", f"127.0.0.1:{gateway_port}", "--timeout", "2000")
    assert flow.returncode == 1
    assert flow.stderr.startswith(f"grpc://127.0.0.1:{gateway_port}: not ready:")
    # named without its address, which is internal to the Flow (issue 11; the gateway's log has it)
    assert "unreachable executors: enc: UNAVAILABLE" in flow.stderr and str(dead) not in flow.stderr


def test_the_timeout_is_in_milliseconds_in_jinas_spelling_and_seconds_in_ours(silent_port):
    for args in (
        ("gateway", f"127.0.0.1:{silent_port}", "--timeout", "300"),
        (f"127.0.0.1:{silent_port}", "--timeout", "0.3"),
    ):
        started = time.monotonic()
        result = ping(*args)
        assert result.returncode == 1
        assert "DEADLINE_EXCEEDED" in result.stderr, result.stderr
        assert time.monotonic() - started < 10


def test_attempts_are_a_second_apart_and_min_successful_attempts_decides():
    target = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = ping("executor", target, "--attempts", "2", "--timeout", "200")
    assert time.monotonic() - started >= 1
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert [line[:5] for line in lines[:2]] == ["[1/2]", "[2/2]"] and "UNAVAILABLE" in lines[0]
    assert lines[-1] == "0 of 2 attempts succeeded"
    # as in Jina: success is at least --min-successful-attempts successful checks (0: always)
    assert ping("executor", target, "--min-successful-attempts", "0", "--timeout", "200").returncode == 0


def test_attempts_against_a_serving_flow(flow):
    result = ping("flow", f"127.0.0.1:{flow.ports['grpc']}", "--attempts", "2", "--min-successful-attempts", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "2 of 2 attempts succeeded"


@pytest.mark.parametrize(
    "args",
    [
        ("flow",),
        ("executor", "a:1", "extra"),
        ("nonsense", "a:1"),
        ("executor", "a:1", "--attempts", "0"),
        ("executor", "a:1", "--attempts", "1", "--min-successful-attempts", "2"),
        ("flow", "ftp://a:1"),
        ("gateway", "http://:80/"),
    ],
)
def test_usage_errors_exit_2(args):
    result = ping(*args)
    assert result.returncode == 2
    assert result.stderr
