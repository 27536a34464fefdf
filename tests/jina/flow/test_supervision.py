"""Supervision with real processes: a child that dies is restarted on its port and the Flow serves again."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from docarray import Document, DocumentArray

from jina import Client, Executor, Flow, requests
from jina.excepts import RuntimeFailToStart
from jina.flow.supervisor import RestartBudgetExceeded, RestartPolicy
from tests.conftest import child_pids, wait_gone

DEADLINE = 30.0  # seconds a restarted process gets to serve again (it takes about 1-2 s)


class Crasher(Executor):
    """Exits when asked (`/die`), at start (`exit_at_start`) or `exit_after` s after it started."""

    def __init__(self, exit_at_start: bool = False, exit_after: float | None = None, **kwargs):
        super().__init__(**kwargs)
        if exit_at_start:
            os._exit(3)
        if exit_after is not None:
            threading.Timer(exit_after, os._exit, (4,)).start()

    @requests(on="/die")
    def die(self, docs, **kwargs):
        os._exit(1)

    @requests
    def answer(self, docs, **kwargs):
        for doc in docs:
            doc.text = f"ok from {os.getpid()}"


def _docs() -> DocumentArray:
    return DocumentArray([Document(text="hi")])


def serves_again(post, deadline: float = DEADLINE) -> float:
    """Post until an answer comes back; the seconds that took (fails after `deadline`)."""
    started = time.monotonic()
    last: BaseException | None = None
    while time.monotonic() - started < deadline:
        try:
            answer = post()
            if answer[0].text.startswith("ok from"):
                return time.monotonic() - started
        except Exception as exc:  # noqa: BLE001  (every failure while it restarts is retried)
            last = exc
        time.sleep(0.1)
    pytest.fail(f"not serving again {deadline:.0f} s after the kill; last error: {last!r}")


def _kill(flow: Flow, name: str) -> int:
    # not reaped here (psutil's wait would reap our child, and the Flow would not see its exit status)
    pid = flow.pids[name]
    os.kill(pid, signal.SIGKILL)
    return pid


@pytest.fixture
def grpc_flow():
    with Flow(host="127.0.0.1").add(uses=Crasher, name="crasher") as flow:
        yield flow


def test_a_killed_executor_is_restarted_on_its_port_and_found_again(grpc_flow):
    before = grpc_flow.addresses
    old = _kill(grpc_flow, "crasher")
    took = serves_again(lambda: grpc_flow.post("/", _docs()))
    print(f"executor SIGKILL -> serving again: {took:.2f} s")
    assert grpc_flow.pids["crasher"] != old
    assert grpc_flow.addresses == before  # same port: the gateway dials the same address


def test_a_killed_gateway_is_restarted_and_the_flows_client_reconnects(grpc_flow):
    old = _kill(grpc_flow, "gateway")
    took = serves_again(lambda: grpc_flow.post("/", _docs()))
    print(f"gateway SIGKILL -> serving again: {took:.2f} s")
    assert grpc_flow.pids["gateway"] != old
    fresh = Client(host="127.0.0.1", port=grpc_flow.port)
    assert fresh.post("/", _docs())[0].text.startswith("ok from")


def test_an_executor_that_exits_inside_a_request_fails_that_request_only(grpc_flow):
    with pytest.raises(Exception):  # noqa: B017  (the gateway lost its executor mid-call)
        grpc_flow.post("/die", _docs())
    took = serves_again(lambda: grpc_flow.post("/", _docs()))
    print(f"os._exit(1) in a request -> serving again: {took:.2f} s")


@pytest.mark.parametrize("victim", ["bridge", "gateway"])
def test_http_serves_again_after_its_bridge_or_gateway_is_killed(victim):
    with Flow(protocol="http", host="127.0.0.1").add(uses=Crasher, name="crasher") as flow:
        client = Client(host="127.0.0.1", port=flow.port, protocol="http")
        assert client.post("/", _docs())[0].text.startswith("ok from")
        old = _kill(flow, victim)
        took = serves_again(lambda: client.post("/", _docs()))
        print(f"http: {victim} SIGKILL -> serving again: {took:.2f} s")
        assert flow.pids[victim] != old


def test_an_executor_that_exits_at_start_fails_the_start():
    flow = Flow(host="127.0.0.1").add(uses=Crasher, uses_with={"exit_at_start": True})
    with pytest.raises(RuntimeFailToStart, match="executor0"):
        flow.start()
    assert not child_pids()


def test_a_crash_loop_ends_the_flow_with_a_clear_error():
    flow = Flow(host="127.0.0.1").add(uses=Crasher, uses_with={"exit_after": 0.3})
    flow.restart_policy = RestartPolicy(backoff_initial=0.1, max_restarts=2, window=60)
    started = time.monotonic()
    with flow:
        pids = set(flow.pids.values())
        with pytest.raises(RestartBudgetExceeded, match="executor0 .*restart budget") as caught:
            flow.block()
        assert caught.value.process == "executor0"
        assert time.monotonic() - started < DEADLINE
        assert not wait_gone(pids | set(flow.pids.values()), timeout=10.0)  # the whole Flow stopped
        with pytest.raises(RestartBudgetExceeded, match="executor0"):
            flow.post("/", _docs())
    assert not child_pids()


def test_nothing_is_restarted_once_the_flow_closes(grpc_flow):
    pids = set(grpc_flow.pids.values())
    grpc_flow.close()
    assert not wait_gone(pids, timeout=5.0)
    time.sleep(1.0)  # longer than the first backoff: a restart would have happened by now
    assert not child_pids()


@pytest.mark.parametrize("after", [0.2, 0.7])  # in its backoff; starting again (the backoff is 0.5 s)
def test_closing_while_a_process_restarts_leaves_no_process_behind(grpc_flow, after):
    _kill(grpc_flow, "crasher")
    time.sleep(after)
    grpc_flow.close()
    time.sleep(1.0)
    assert not child_pids()
