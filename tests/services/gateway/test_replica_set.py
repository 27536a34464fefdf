"""ReplicaSet with fake connections and a scripted resolver: how names become replicas (no sockets)."""

from __future__ import annotations

import asyncio

import pytest
from jina_mesh.services.gateway.replica_set import ReplicaSet


class FakeReplica:
    def __init__(self, address: str):
        self.address = address
        self.in_flight = 0
        self.closed = False
        self._idle = asyncio.Event()
        self._idle.set()

    def busy(self) -> None:
        self.in_flight += 1
        self._idle.clear()

    def done(self) -> None:
        self.in_flight -= 1
        if not self.in_flight:
            self._idle.set()

    async def wait_idle(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    async def close(self) -> None:
        self.closed = True


class ScriptedResolver:
    """Answers from a dict the test edits; an Exception value is raised."""

    def __init__(self, answers: dict):
        self.answers = answers
        self.calls = 0

    async def __call__(self, address: str):
        self.calls += 1
        answer = self.answers[address]
        if isinstance(answer, Exception):
            raise answer
        return answer


def addresses(replicas: ReplicaSet) -> list[str]:
    return [m.address for m in replicas.members]


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 10))


def test_ip_literals_are_replicas_as_given_and_start_no_resolver():
    async def scenario():
        resolver = ScriptedResolver({})
        replicas = ReplicaSet(["127.0.0.1:1", "127.0.0.1:2"], FakeReplica, resolver=resolver)
        assert replicas.started and replicas.names == ()
        await replicas.start()
        assert await replicas.refresh(force=True) is False
        assert replicas._periodic is None and resolver.calls == 0
        assert addresses(replicas) == ["127.0.0.1:1", "127.0.0.1:2"]
        await replicas.close()

    run(scenario())


def test_a_name_stands_for_itself_until_it_resolves_then_for_every_address():
    async def scenario():
        resolver = ScriptedResolver({"exec:80": ["10.0.0.1:80", "10.0.0.2:80"]})
        replicas = ReplicaSet(["10.0.0.9:80", "exec:80"], FakeReplica, resolver=resolver, resolve_interval=0)
        placeholder = replicas.members[1]
        assert addresses(replicas) == ["10.0.0.9:80", "exec:80"] and not replicas.started
        await replicas.start()
        assert replicas.started
        assert addresses(replicas) == ["10.0.0.9:80", "10.0.0.1:80", "10.0.0.2:80"]
        await asyncio.sleep(0)
        assert placeholder.closed  # nothing in flight there: closed at once
        await replicas.close()
        assert all(m.closed for m in replicas.members)

    run(scenario())


def test_a_failed_or_empty_lookup_keeps_the_replicas():
    async def scenario():
        resolver = ScriptedResolver({"exec:80": ["10.0.0.1:80", "10.0.0.2:80"]})
        replicas = ReplicaSet(["exec:80"], FakeReplica, resolver=resolver, resolve_interval=0)
        await replicas.start()
        before = list(replicas.members)
        resolver.answers["exec:80"] = OSError("Temporary failure in name resolution")
        assert await replicas.refresh(force=True) is False
        resolver.answers["exec:80"] = []
        assert await replicas.refresh(force=True) is False
        assert replicas.members == before
        await replicas.close()

    run(scenario())


def test_a_name_that_never_resolves_stays_one_replica_under_its_name():
    async def scenario():
        resolver = ScriptedResolver({"exec:80": OSError("Name or service not known")})
        replicas = ReplicaSet(["exec:80"], FakeReplica, resolver=resolver, resolve_interval=0)
        await replicas.start()
        assert addresses(replicas) == ["exec:80"]  # gRPC's own failure (UNAVAILABLE) drives the retries
        await replicas.close()

    run(scenario())


def test_added_addresses_join_and_removed_ones_close_once_their_requests_are_answered():
    async def scenario():
        resolver = ScriptedResolver({"exec:80": ["10.0.0.1:80", "10.0.0.2:80"]})
        replicas = ReplicaSet(["exec:80"], FakeReplica, resolver=resolver, resolve_interval=0)
        await replicas.start()
        first, second = replicas.members
        second.busy()
        resolver.answers["exec:80"] = ["10.0.0.3:80", "10.0.0.1:80"]
        assert await replicas.refresh(force=True) is True
        assert addresses(replicas) == ["10.0.0.3:80", "10.0.0.1:80"]
        assert replicas.members[1] is first  # kept replicas keep their connection
        await asyncio.sleep(0.05)
        assert not second.closed  # its request is still in flight
        second.done()
        await asyncio.sleep(0.05)
        assert second.closed
        await replicas.close()

    run(scenario())


def test_a_removed_replica_is_closed_after_the_grace_even_when_busy():
    async def scenario():
        resolver = ScriptedResolver({"exec:80": ["10.0.0.1:80", "10.0.0.2:80"]})
        replicas = ReplicaSet(["exec:80"], FakeReplica, resolver=resolver, resolve_interval=0, retire_grace=0.1)
        await replicas.start()
        stuck = replicas.members[1]
        stuck.busy()
        resolver.answers["exec:80"] = ["10.0.0.1:80"]
        await replicas.refresh(force=True)
        await asyncio.sleep(0.3)
        assert stuck.closed
        await replicas.close()

    run(scenario())


def test_periodic_resolution_follows_the_name_without_being_asked():
    async def scenario():
        resolver = ScriptedResolver({"exec:80": ["10.0.0.1:80"]})
        replicas = ReplicaSet(["exec:80"], FakeReplica, resolver=resolver, resolve_interval=0.05)
        await replicas.start()
        resolver.answers["exec:80"] = ["10.0.0.1:80", "10.0.0.2:80"]
        for _ in range(100):
            await asyncio.sleep(0.01)
            if len(replicas.members) == 2:
                break
        assert addresses(replicas) == ["10.0.0.1:80", "10.0.0.2:80"]
        await replicas.close()

    run(scenario())


def test_failing_requests_asking_for_resolution_at_once_cause_one_lookup():
    async def scenario():
        resolver = ScriptedResolver({"exec:80": ["10.0.0.1:80"]})
        replicas = ReplicaSet(["exec:80"], FakeReplica, resolver=resolver, resolve_interval=0)
        await replicas.start()
        calls = resolver.calls
        await asyncio.gather(*(replicas.refresh() for _ in range(20)))
        await replicas.refresh()
        assert resolver.calls == calls  # within MIN_RESOLVE_GAP of the first resolution
        await asyncio.sleep(0.3)
        await asyncio.gather(*(replicas.refresh() for _ in range(20)))
        assert resolver.calls == calls + 1
        await replicas.close()

    run(scenario())


@pytest.mark.parametrize("interval", [0, 0.05])
def test_close_stops_the_resolver_and_closes_every_connection(interval):
    async def scenario():
        resolver = ScriptedResolver({"exec:80": ["10.0.0.1:80", "10.0.0.2:80"]})
        replicas = ReplicaSet(["exec:80"], FakeReplica, resolver=resolver, resolve_interval=interval)
        await replicas.start()
        members = list(replicas.members)
        await replicas.close()
        calls = resolver.calls
        await asyncio.sleep(0.15)
        assert resolver.calls == calls
        assert all(m.closed for m in members)

    run(scenario())
