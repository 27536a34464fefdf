"""Which failed executor calls go again and which do not, and waiting for a replica that restarts.

The rules are pure functions (tables below); the rest runs real `jina executor` processes that
are killed and started again on their port.
"""

from __future__ import annotations

import asyncio
import math
import os
import time

import grpc
import pytest
from jina_mesh.services.gateway import connections
from jina_mesh.services.gateway.connections import (
    NOT_CONNECTED,
    RESTART_WAIT,
    RETRY_BACKOFF,
    STREAM_MAX_BYTES,
    WATCH_INTERVALS,
    WATCH_SLOW,
    ExecutorClient,
    ExecutorLost,
    ExecutorUnreachable,
    resendable,
    wait_limit,
    watch_pause,
)

from jina import Executor, requests
from jina.flow.ports import free_port
from jina.topology import ExecutorNode
from tests.conftest import stop_processes
from tests.services.conftest import start_executor
from tests.services.gateway.test_connections import message as _message
from tests.services.gateway.test_connections import texts

UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
REFUSED = (
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:5: "
    "Failed to connect to remote host: connect: Connection refused (111)"
)


class Dier(Executor):
    """Appends `letter` to each text; `/die` notes the call in `marker` (one line per execution), then exits."""

    def __init__(self, letter: str = "", marker: str = "", **kwargs):
        super().__init__(**kwargs)
        self.letter = letter
        self.marker = marker

    @requests(on="/die")
    def die(self, docs, **kwargs):
        with open(self.marker, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        os._exit(1)

    @requests
    def answer(self, docs, **kwargs):
        for doc in docs:
            doc.text += self.letter


DIER = "tests.services.gateway.test_retry:Dier"


def message(request_id: str, text: str, endpoint: str = "/"):
    request = _message(request_id, text)
    request.header.exec_endpoint = endpoint
    return request


# -- the rules, without sockets ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "details", "written", "peer_ended", "expected"),
    [
        # gRPC never connected: nothing can have reached the executor
        (UNAVAILABLE, REFUSED, True, False, True),
        (UNAVAILABLE, "connections to all backends failing; last error: ...", True, False, True),
        (UNAVAILABLE, "DNS resolution failed for ghost:5000", True, False, True),
        # never written to the shared stream (broken already, write failed, still queued)
        (UNAVAILABLE, "Socket closed", False, False, True),
        (UNAVAILABLE, "recvmsg:Connection reset by peer", False, False, True),
        # the executor ended the stream itself, having answered all it read
        (UNAVAILABLE, "the executor ended the stream", True, True, True),
        # handed over, then the connection broke: the executor may have run it, or died of it
        (UNAVAILABLE, "Socket closed", True, False, False),
        (UNAVAILABLE, "recvmsg:Connection reset by peer", True, False, False),
        (UNAVAILABLE, "the connection to the executor broke", True, False, False),
        # other codes are answers, not transport failures: never resent
        (grpc.StatusCode.DEADLINE_EXCEEDED, "no answer in time", True, False, False),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded", False, False, False),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, "message larger than max", False, False, False),
        (grpc.StatusCode.CANCELLED, "the gateway closed the stream", True, False, False),
        (grpc.StatusCode.UNKNOWN, "Exception calling application", True, True, False),
    ],
)
def test_what_may_be_sent_again(code, details, written, peer_ended, expected):
    assert resendable(code, details, written=written, peer_ended=peer_ended) is expected


def test_every_not_connected_marker_is_lower_case():  # resendable() compares lower-cased details
    assert all(marker == marker.lower() for marker in NOT_CONNECTED)


FAST = sum(RETRY_BACKOFF)


@pytest.mark.parametrize(
    ("now", "timeout_end", "rounds", "lost_at", "expected"),
    [
        # the backoff rounds are granted even to a group that never answered ...
        (0.1, math.inf, 0, [], RESTART_WAIT),
        (FAST, math.inf, len(RETRY_BACKOFF) - 1, [], RESTART_WAIT),
        # ... and after them it fails
        (FAST, math.inf, len(RETRY_BACKOFF), [], None),
        # a replica that answered before and was lost is waited for, RESTART_WAIT after the loss
        (FAST, math.inf, len(RETRY_BACKOFF), [-2.0], RESTART_WAIT - 2.0),
        (FAST, math.inf, len(RETRY_BACKOFF), [-2.0, -1.0], RESTART_WAIT - 1.0),
        (RESTART_WAIT - 2.0, math.inf, 9, [-2.0], None),
        # a loss after the request started: still no more than RESTART_WAIT from its start
        (FAST, math.inf, len(RETRY_BACKOFF), [0.5], RESTART_WAIT),
        # the call's timeout comes first
        (0.1, 0.4, 0, [], 0.4),
        (FAST, 3.0, len(RETRY_BACKOFF), [0.0], 3.0),
        (3.0, 3.0, 5, [0.0], None),
    ],
)
def test_how_long_a_request_may_wait(now, timeout_end, rounds, lost_at, expected):
    assert wait_limit(now, started=0.0, timeout_end=timeout_end, rounds=rounds, lost_at=lost_at) == expected


def test_a_watcher_knocks_often_while_a_restart_is_expected_then_rarely():
    pauses = [watch_pause(step, 1.0) for step in range(8)]
    assert pauses[: len(WATCH_INTERVALS)] == list(WATCH_INTERVALS)
    assert set(pauses[len(WATCH_INTERVALS) :]) == {WATCH_INTERVALS[-1]}
    assert watch_pause(50, RESTART_WAIT + 1) == WATCH_SLOW
    assert max(WATCH_INTERVALS) <= 0.25  # a replica back is found within a quarter second


# -- with real executor processes -----------------------------------------------------------


def _client(*ports: int) -> ExecutorClient:
    return ExecutorClient(ExecutorNode("dier", tuple(f"127.0.0.1:{p}" for p in ports)))


async def _kill(proc) -> None:
    """SIGKILL, and give the gateway's side a moment to see the connection close (a request written
    into it before then may have reached the dead process's socket: it would count as maybe delivered)."""
    proc.kill()
    await asyncio.to_thread(proc.wait)
    await asyncio.sleep(0.05)


@pytest.mark.parametrize("size", ["small", "large"])  # the shared stream; a unary call of its own
def test_a_request_sent_while_the_only_replica_restarts_waits_for_it(size):
    proc, port = start_executor(DIER, "dier", "--uses-with", '{"letter": "1"}')
    text = "x" if size == "small" else "x" * (STREAM_MAX_BYTES + 10)
    restarted = None

    async def run():
        nonlocal restarted
        client = _client(port)
        try:
            assert texts(await client.send(message("before", "a"))) == ["a1"]
            await _kill(proc)
            sent = time.monotonic()
            waiting = asyncio.ensure_future(client.send(message("during", text)))
            await asyncio.sleep(1.0)  # longer than every RETRY_BACKOFF round together
            assert not waiting.done()
            assert client.replicas[0].down
            restarted, _ = await asyncio.to_thread(
                start_executor, DIER, "dier", "--uses-with", '{"letter": "2"}', port=port
            )
            up = time.monotonic()
            answer = await waiting
            after_up, total = time.monotonic() - up, time.monotonic() - sent
            again = time.monotonic()
            await client.send(message("again", text))
            return answer, after_up, total, time.monotonic() - again
        finally:
            await client.close()

    try:
        answer, after_up, total, one_call = asyncio.run(run())
    finally:
        stop_processes(proc, restarted)
    assert texts(answer) == [text + "2"]  # answered once, by the new process
    print(
        f"{size}: answered {after_up:.3f} s after the restarted executor answered a ping ({total:.2f} s in all; "
        f"the same call afterwards: {one_call:.3f} s)"
    )
    # the watcher knocks every 0.25 s: neither gRPC's reconnect back-off (up to 2 s) nor RESTART_POLL is waited out
    assert after_up < 1.0 + 2 * one_call


def test_a_group_that_never_answered_fails_fast():
    async def run():
        client = _client(free_port())
        try:
            started = time.monotonic()
            with pytest.raises(ExecutorUnreachable) as info:
                await client.send(message("r", "x"))
            return info.value, time.monotonic() - started
        finally:
            await client.close()

    error, took = asyncio.run(run())
    assert error.code == UNAVAILABLE and not isinstance(error, ExecutorLost)
    assert "executor 'dier'" in str(error)
    assert FAST * 0.8 < took < FAST + 1.5


def test_waiting_for_a_restart_is_bounded_by_the_timeout_and_by_restart_wait(monkeypatch):
    proc, port = start_executor(DIER, "dier")
    monkeypatch.setattr(connections, "RESTART_WAIT", 2.0)

    async def run():
        client = _client(port)
        try:
            await client.send(message("before", "a"))
            await _kill(proc)
            started = time.monotonic()
            with pytest.raises(ExecutorUnreachable) as timed_out:
                await client.send(message("deadline", "x"), timeout=0.5)
            by_timeout = time.monotonic() - started
            started = time.monotonic()
            with pytest.raises(ExecutorUnreachable) as gave_up:
                await client.send(message("no-deadline", "x"))
            by_restart_wait = time.monotonic() - started
            return timed_out.value, by_timeout, gave_up.value, by_restart_wait
        finally:
            await client.close()

    try:
        timed_out, by_timeout, gave_up, by_restart_wait = asyncio.run(run())
    finally:
        stop_processes(proc)
    assert timed_out.code == grpc.StatusCode.DEADLINE_EXCEEDED and "within 500 ms" in str(timed_out)
    assert 0.45 < by_timeout < 1.5
    # RESTART_WAIT counts from the loss (about 0.5 s before this request started)
    assert gave_up.code == UNAVAILABLE and "no replica came back" in str(gave_up)
    assert 0.8 < by_restart_wait < 3.0


@pytest.mark.parametrize("size", ["small", "large"])
def test_a_request_its_replica_exits_on_goes_to_one_other_replica_only(tmp_path, size):
    """Maybe delivered: once more to another replica that is up, never a third time, so a request
    that makes its executor exit takes down two of three replicas, and the third serves on."""
    marker = tmp_path / "died"
    options = f'{{"marker": "{marker}", "letter": "!"}}'
    started = [start_executor(DIER, "dier", "--uses-with", options) for _ in range(3)]
    text = "p" if size == "small" else "p" * (STREAM_MAX_BYTES + 10)

    async def run():
        client = _client(*(address for _, address in started))
        try:
            for i in range(6):  # every replica has answered
                await client.send(message(f"warm{i}", "w"))
            with pytest.raises(ExecutorLost) as info:
                await client.send(message("poison", text, endpoint="/die"))
            after = [texts(await client.send(message(f"after{i}", "a"))) for i in range(4)]
            return info.value, after
        finally:
            await client.close()

    try:
        error, after = asyncio.run(run())
        alive = [proc.poll() is None for proc, _ in started]
    finally:
        stop_processes(*(proc for proc, _ in started))
    assert error.code == grpc.StatusCode.INTERNAL
    assert "executor 'dier' exited or lost its connection while handling this request" in str(error)
    assert len(marker.read_text().splitlines()) == 2  # the first replica, then one other
    assert sorted(alive) == [False, False, True]
    assert after == [["a!"]] * 4  # the survivor serves the rest


def test_a_down_replica_is_passed_over_and_used_again_once_back():
    (first, one), (second, two) = (
        start_executor(DIER, "dier", "--uses-with", f'{{"letter": "{letter}"}}') for letter in "AB"
    )
    restarted = None

    async def run():
        nonlocal restarted
        client = _client(one, two)
        try:
            warm = {texts(await client.send(message(f"w{i}", "")))[0] for i in range(4)}
            await _kill(second)
            during = [texts(await client.send(message(f"d{i}", "")))[0] for i in range(20)]
            down = client.replicas[1].down
            restarted, _ = await asyncio.to_thread(
                start_executor, DIER, "dier", "--uses-with", '{"letter": "C"}', port=two
            )
            up = time.monotonic()
            seen: list[str] = []
            while "C" not in seen and time.monotonic() - up < 10:
                seen.append(texts(await client.send(message(f"a{len(seen)}", "")))[0])
                await asyncio.sleep(0.01)
            return warm, during, down, seen, time.monotonic() - up
        finally:
            await client.close()

    try:
        warm, during, down, seen, back_after = asyncio.run(run())
    finally:
        stop_processes(first, second, restarted)
    assert warm == {"A", "B"}
    assert during == ["A"] * 20 and down  # none failed, none went to the dead replica after it was found down
    assert "C" in seen
    print(f"the restarted replica got a request {back_after:.3f} s after it answered a ping")
    assert back_after < 2.0  # the watcher knocks every 0.25 s; the rest is this busy machine


def test_a_replica_stopped_gracefully_under_load_loses_no_request():
    """SIGTERM: the executor answers what it read and ends the stream; what it had not read goes elsewhere."""
    (first, one), (second, two) = (start_executor("tests.executors:AsyncSleeper", "sleeper") for _ in range(2))

    async def run():
        client = _client(one, two)
        try:
            for i in range(4):
                await client.send(message(f"warm{i}", ""))

            async def sleepy(i: int):
                request = message(f"r{i}", str(i))
                request.parameters.update({"seconds": 0.3})
                return await client.send(request)

            calls = []
            for i in range(80):  # a steady stream: some reach the replica while it drains
                calls.append(asyncio.ensure_future(sleepy(i)))
                if i == 20:
                    second.terminate()
                await asyncio.sleep(0.005)
            answers = await asyncio.gather(*calls, return_exceptions=True)
            await asyncio.to_thread(second.wait, 20)
            return answers
        finally:
            await client.close()

    try:
        answers = asyncio.run(run())
    finally:
        stop_processes(first, second)
    failures = [a for a in answers if isinstance(a, BaseException)]
    assert not failures, failures
    assert sorted(texts(a)[0] for a in answers) == sorted(str(i) for i in range(80))
