"""Supervision with real processes: a child that dies is restarted on its port and the Flow serves again."""

from __future__ import annotations

import os
import signal
import threading
import time

import grpc
import psutil
import pytest
from docarray import Document, DocumentArray

from jina import Client, Executor, Flow, requests
from jina.excepts import InternalNetworkError, RuntimeFailToStart
from jina.flow.supervisor import RestartBudgetExceeded, RestartPolicy
from jina.proto import jina_pb2, jina_pb2_grpc
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


# -- requests while an executor restarts (issue 11): retried when they had not reached it, failed
# -- (never resent) when its process died with them


class Ledger(Executor):
    """Notes every document it runs, one line `text replica pid` per execution in `ledger`; tags each
    with its replica and pid; `/die` notes the request, then exits inside it."""

    def __init__(self, ledger: str = "", **kwargs):
        super().__init__(**kwargs)
        self.ledger = ledger

    def _note(self, docs) -> None:
        replica = self.runtime_args.replica_id
        with open(self.ledger, "a") as handle:  # O_APPEND: the replicas' lines do not mix
            handle.write("".join(f"{doc.text} {replica} {os.getpid()}\n" for doc in docs))

    @requests(on="/die")
    def die(self, docs, **kwargs):
        self._note(docs)
        os._exit(1)

    @requests
    def answer(self, docs, **kwargs):
        self._note(docs)
        for doc in docs:
            doc.tags["replica"] = self.runtime_args.replica_id
            doc.tags["pid"] = os.getpid()


def executions(ledger) -> dict[str, int]:
    """How many times each text was run."""
    counts: dict[str, int] = {}
    for line in ledger.read_text().splitlines() if ledger.exists() else ():
        text = line.split(" ")[0]
        counts[text] = counts.get(text, 0) + 1
    return counts


def ledger_flow(ledger, replicas: int = 1) -> Flow:
    return Flow(host="127.0.0.1").add(uses=Ledger, name="ledger", replicas=replicas, uses_with={"ledger": str(ledger)})


def _kill_and_wait(flow: Flow, name: str) -> tuple[int, float]:
    """SIGKILL, wait until the process is dead (not reaped: the Flow reaps it) and the gateway had a
    moment to see its connections close; (pid, monotonic time of the kill)."""
    pid = flow.pids[name]
    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.005)
    time.sleep(0.05)  # a request written into the dead connection before the gateway saw it close counts as lost
    return pid, killed_at


LOST = "exited or lost its connection while handling this request"


def test_requests_sent_while_the_only_replica_restarts_wait_for_it_and_run_once(tmp_path):
    ledger = tmp_path / "ledger"
    with ledger_flow(ledger) as flow:
        assert flow.post("/", DocumentArray([Document(text="warm")]))[0].tags["pid"] == flow.pids["ledger"]
        old, killed_at = _kill_and_wait(flow, "ledger")
        answers: dict[str, tuple[float, float]] = {}
        errors: list[BaseException] = []

        def post(text: str) -> None:
            try:
                with Client(host="127.0.0.1", port=flow.port) as client:
                    doc = client.post("/", DocumentArray([Document(text=text)]))[0]
                answers[doc.text] = (time.monotonic() - killed_at, doc.tags["pid"])
            except BaseException as exc:  # noqa: BLE001  (shown by the assertion)
                errors.append(exc)

        senders = [threading.Thread(target=post, args=(f"r{i}",)) for i in range(5)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(DEADLINE)
        new = flow.pids["ledger"]
    assert not errors, errors
    assert sorted(answers) == [f"r{i}" for i in range(5)]
    assert new != old and {pid for _, pid in answers.values()} == {new}  # answered by the restarted process
    assert executions(ledger) == {"warm": 1, **{f"r{i}": 1 for i in range(5)}}  # each ran once
    first = min(took for took, _ in answers.values())
    print(f"single replica SIGKILL -> first retried request answered after {first:.2f} s")
    assert first > 0.4  # they were sent during the restart (its backoff alone is 0.5 s), and waited


def test_one_of_two_replicas_killed_under_a_steady_stream_loses_no_request(tmp_path):
    ledger = tmp_path / "ledger"
    senders = 3
    with ledger_flow(ledger, replicas=2) as flow:
        victim = "ledger/rep-1"
        old = flow.pids[victim]
        answered: dict[str, list] = {}
        failed: dict[str, BaseException] = {}
        stop = threading.Event()
        lock = threading.Lock()

        def stream(k: int) -> None:
            with Client(host="127.0.0.1", port=flow.port) as client:
                i = 0
                while not stop.is_set():
                    text = f"s{k}-{i}"
                    i += 1
                    try:
                        doc = client.post("/", DocumentArray([Document(text=text)]))[0]
                    except Exception as exc:  # noqa: BLE001  (checked below)
                        with lock:
                            failed[text] = exc
                        continue
                    with lock:
                        answered[text] = [time.monotonic(), doc.tags["pid"]]
                    time.sleep(0.002)

        threads = [threading.Thread(target=stream, args=(k,)) for k in range(senders)]
        for thread in threads:
            thread.start()
        try:
            while len(answered) < 60:
                time.sleep(0.01)
            killed_at = time.monotonic()
            os.kill(old, signal.SIGKILL)
            back = None
            while back is None and time.monotonic() - killed_at < DEADLINE:
                with lock:
                    back = next(
                        (t for t, pid in answered.values() if pid not in (old, flow.pids["ledger/rep-0"])), None
                    )
                time.sleep(0.05)
            time.sleep(0.3)
        finally:
            stop.set()
            for thread in threads:
                thread.join(DEADLINE)
    assert back is not None, "the restarted replica got no request"
    print(
        f"replicas=2, one SIGKILLed: {len(answered)} answered, {len(failed)} failed (in flight on it when it died); "
        f"the restarted replica served again {back - killed_at:.2f} s after the kill"
    )
    counts = executions(ledger)
    # the requests the dead replica had taken went to the other one: none failed
    assert not failed, failed
    assert all(1 <= counts.get(text, 0) <= 2 for text in answered)
    # twice only for what the dead one may have started (each sender has one request in flight)
    assert sum(counts[text] == 2 for text in answered) <= senders


@pytest.mark.parametrize("replicas", [1, 2])
def test_a_request_an_executor_exits_on_fails_clearly_and_runs_at_most_on_two_replicas(tmp_path, replicas):
    ledger = tmp_path / "ledger"
    with ledger_flow(ledger, replicas=replicas) as flow:
        for i in range(2 * replicas):  # every replica answered once
            flow.post("/", DocumentArray([Document(text=f"warm{i}")]))
        before = dict(flow.pids)
        with pytest.raises(InternalNetworkError) as info:
            flow.post("/die", DocumentArray([Document(text="poison")]))
        failed_at = time.monotonic()
        # the next request goes out once a replica serves (after the restart, with one replica)
        doc = flow.post("/", DocumentArray([Document(text="next")]))[0]
        took = time.monotonic() - failed_at
        deadline = time.monotonic() + DEADLINE
        while flow.pids == before and time.monotonic() < deadline:  # with two, the dead one restarts meanwhile
            time.sleep(0.05)
        time.sleep(0.5)
        after = dict(flow.pids)
    message = str(info.value)
    assert info.value.executor == "ledger" and "executor 'ledger'" in message and LOST in message
    counts = executions(ledger)
    if replicas == 1:
        # run once: the replacement does not get it again
        assert "not sent again" in message and counts["poison"] == 1
    else:
        # once more on the other replica (which it kills too), never a third time
        assert "so did the replica it was sent to next" in message and counts["poison"] == 2
    assert counts["next"] == 1 and doc.text == "next"
    changed = [name for name in before if before[name] != after[name]]
    assert len(changed) == replicas and "gateway" not in changed  # only the replicas it killed restarted
    print(f"replicas={replicas}: os._exit in a request -> next request answered {took:.2f} s later")


def test_a_deadline_shorter_than_the_restart_fails_by_the_deadline(tmp_path):
    ledger = tmp_path / "ledger"
    with ledger_flow(ledger) as flow:
        flow.post("/", DocumentArray([Document(text="warm")]))
        _kill_and_wait(flow, "ledger")
        with Client(host="127.0.0.1", port=flow.port) as client:
            started = time.monotonic()
            with pytest.raises(InternalNetworkError, match="deadline of 500 ms") as info:
                client.post("/", DocumentArray([Document(text="late")]), timeout=0.5)
            waited = time.monotonic() - started
            assert info.value.executor == "ledger"
        request = jina_pb2.DataRequestProto()
        request.header.exec_endpoint = "/"
        request.header.timeout = 300
        request.data.docs.CopyFrom(DocumentArray([Document(text="late-unary")]).to_protobuf())
        with grpc.insecure_channel(f"127.0.0.1:{flow.port}") as channel:
            started = time.monotonic()
            with pytest.raises(grpc.RpcError) as unary:
                jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel).process_single_data(request, timeout=20)
            unary_waited = time.monotonic() - started
        assert flow.post("/", DocumentArray([Document(text="after")]))[0].text == "after"
    assert waited < 2.0 and unary_waited < 2.0  # by the deadline, not a hang
    assert unary.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    counts = executions(ledger)
    assert "late" not in counts and "late-unary" not in counts  # given up before they were sent
    assert counts["after"] == 1
