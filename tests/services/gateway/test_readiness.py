"""The gateway's readiness rules and probe loop, with scripted probes (no sockets)."""

from __future__ import annotations

import asyncio

from jina_mesh.services.gateway.readiness import Readiness, ReadinessMonitor


def test_a_gateway_without_executors_serves():
    assert Readiness([]).serving


def test_serving_needs_every_group_up_and_no_verdict_changes_nothing():
    state = Readiness(["a", "b"])
    assert not state.serving and state.waiting_for() == ["a", "b"]
    assert state.observe("a", True) is False  # b still down
    assert state.observe("b", None) is False and not state.serving  # a timeout does not make it up
    assert state.observe("b", True) is True and state.serving
    assert state.observe("b", None) is False and state.serving  # nor does it take it down
    assert state.observe("a", True) is False  # no change
    assert state.observe("a", False) is True and state.waiting_for() == ["a"]


class Scripted:
    """A probe answering what the test sets; counts its calls."""

    def __init__(self, answer):
        self.answer = answer
        self.calls = 0

    async def __call__(self, timeout: float):
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def monitor_with(probes: dict) -> tuple[ReadinessMonitor, list[bool]]:
    published: list[bool] = []

    async def publish(serving: bool) -> None:
        published.append(serving)

    return ReadinessMonitor(probes, publish, retry_interval=0.02, check_interval=0.05), published


async def until(condition, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def test_not_serving_until_every_group_answers_then_serving_without_restart():
    async def scenario():
        a, b = Scripted(False), Scripted(None)
        monitor, published = monitor_with({"a": a, "b": b})
        assert await monitor.check_once() is False
        assert published == [False]
        task = asyncio.ensure_future(monitor.run())
        await until(lambda: a.calls > 3)  # retried while not ready
        a.answer = True
        await asyncio.sleep(0.1)
        assert published == [False]  # b never answered in time
        b.answer = True
        await until(lambda: published == [False, True])
        task.cancel()

    asyncio.run(scenario())


def test_a_request_that_reached_no_replica_takes_the_gateway_out_at_once_and_probes_bring_it_back():
    async def scenario():
        a = Scripted(True)
        monitor, published = monitor_with({"a": a})
        monitor._check_interval = 60  # while serving, only the report can change things here
        task = asyncio.ensure_future(monitor.run())
        await until(lambda: published == [True])
        a.answer = False
        monitor.report("a", False)
        await until(lambda: published == [True, False])
        a.answer = True
        await until(lambda: published == [True, False, True])
        task.cancel()

    asyncio.run(scenario())


def test_probes_while_serving_notice_a_group_gone_but_not_a_slow_one():
    async def scenario():
        a = Scripted(True)
        monitor, published = monitor_with({"a": a})
        task = asyncio.ensure_future(monitor.run())
        await until(lambda: published == [True])
        a.answer = None  # busy: no verdict
        calls = a.calls
        await until(lambda: a.calls > calls + 2)
        assert published == [True]
        a.answer = False
        await until(lambda: published == [True, False])
        task.cancel()

    asyncio.run(scenario())


def test_a_probe_that_raises_is_no_verdict_and_the_loop_goes_on():
    async def scenario():
        a = Scripted(RuntimeError("bug"))
        monitor, published = monitor_with({"a": a})
        task = asyncio.ensure_future(monitor.run())
        await until(lambda: a.calls > 2)
        a.answer = True
        await until(lambda: published == [False, True])
        task.cancel()

    asyncio.run(scenario())


def test_successful_requests_report_up_cheaply():
    async def scenario():
        monitor, published = monitor_with({"a": Scripted(None)})
        await monitor.check_once()
        monitor.report("a", True)
        await monitor.check_once()
        assert published == [False, True]

    asyncio.run(scenario())
