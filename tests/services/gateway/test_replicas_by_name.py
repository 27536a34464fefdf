"""One name for a group of replicas (Compose/Swarm dnsrr, Kubernetes headless Service), on loopback.

On Linux every 127.x.y.z is loopback, so executors on 127.0.0.2, .3, .4 ... listening on the same
port stand for the pods behind one name; the resolver is injected to say what the name resolves
to at each moment (scale up, scale down), as DNS would.
"""

from __future__ import annotations

import asyncio
import socket
import time

import grpc
import pytest
from docarray import Document, DocumentArray
from jina_mesh.services.gateway.connections import ExecutorClient, ExecutorUnreachable
from jina_mesh.services.gateway.passthrough_pb2 import PassthroughRequest

from jina.documents import docs_from_content
from jina.flow.ports import free_port
from jina.proto import jina_pb2
from jina.topology import ExecutorNode
from tests.conftest import stop_processes
from tests.services.conftest import start_executor

NAME = "replicas.test"
HOSTS = ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")


def _loopback_aliases_work() -> bool:
    try:
        with socket.socket() as probe:
            probe.bind((HOSTS[-1], 0))
    except OSError:
        return False
    return True


needs_aliases = pytest.mark.skipif(not _loopback_aliases_work(), reason="127.0.0.2+ are not loopback here (not Linux)")


def message(request_id: str) -> PassthroughRequest:
    full = jina_pb2.DataRequestProto()
    full.header.request_id = request_id
    full.header.exec_endpoint = "/"
    full.data.docs.CopyFrom(DocumentArray([Document(text="")]).to_protobuf())
    return PassthroughRequest.FromString(full.SerializeToString())


def answered_by(response: PassthroughRequest) -> str:
    """Which replica answered: each appends the last digit of its IP."""
    return docs_from_content(jina_pb2.DataRequestProto.FromString(response.SerializeToString()).data).texts[0]


class Dns:
    """What the name resolves to now; the test edits `addresses` to scale."""

    def __init__(self, port: int, hosts: list[str]):
        self.port = port
        self.hosts = hosts

    async def __call__(self, address: str) -> list[str]:
        assert address == f"{NAME}:{self.port}"
        return [f"{host}:{self.port}" for host in self.hosts]


@pytest.fixture(scope="module")
def group():
    """Executors on 127.0.0.2/.3/.4, one port; each appends its IP's last digit. → (port, {host: proc})"""
    if not _loopback_aliases_work():
        pytest.skip("127.0.0.2+ are not loopback here (not Linux)")
    port = free_port()
    procs = {}
    try:
        for host in HOSTS[:3]:
            procs[host], _ = start_executor(
                "tests.executors:Appender", "grp", "--uses-with", f'{{"letter": "{host[-1]}"}}', port=port, host=host
            )
        yield port, procs
    finally:
        for proc in procs.values():
            stop_processes(proc)


def client_for(dns: Dns, interval: float = 2.0) -> ExecutorClient:
    return ExecutorClient(ExecutorNode("grp", (f"{NAME}:{dns.port}",)), resolver=dns, resolve_interval=interval)


@needs_aliases
def test_requests_spread_over_every_address_the_name_resolves_to(group):
    port, _ = group
    dns = Dns(port, list(HOSTS[:3]))

    async def run():
        client = client_for(dns)
        try:
            await client.warm_up(5)
            assert [r.address for r in client.replicas] == [f"{h}:{port}" for h in HOSTS[:3]]
            sequential = [answered_by(await client.send(message(f"s{i}"))) for i in range(30)]
            concurrent = await asyncio.gather(*(client.send(message(f"c{i}")) for i in range(60)))
        finally:
            await client.close()
        return sequential, [answered_by(r) for r in concurrent]

    sequential, concurrent = asyncio.run(run())
    for answers in (sequential, concurrent):
        counts = {digit: answers.count(digit) for digit in "234"}
        assert all(count >= len(answers) // 6 for count in counts.values()), counts


@needs_aliases
def test_an_address_added_to_the_answer_gets_requests_within_the_interval(group):
    port, _ = group
    dns = Dns(port, list(HOSTS[:2]))
    interval = 0.3

    async def run():
        client = client_for(dns, interval)
        try:
            await client.start()
            before = {answered_by(await client.send(message(f"b{i}"))) for i in range(20)}
            dns.hosts.append(HOSTS[2])  # scaled up: the new replica is in DNS now
            added_at = time.monotonic()
            seen_after = None
            for i in range(2000):
                if answered_by(await client.send(message(f"a{i}"))) == "4":
                    seen_after = time.monotonic() - added_at
                    break
                await asyncio.sleep(0.005)
        finally:
            await client.close()
        return before, seen_after

    before, seen_after = asyncio.run(run())
    assert before == {"2", "3"}
    assert seen_after is not None and seen_after < interval + 1.0


@needs_aliases
def test_a_replica_removed_and_killed_during_a_stream_of_requests_loses_none(group):
    port, _ = group
    extra, _ = start_executor(
        "tests.executors:Appender", "grp", "--uses-with", '{"letter": "5"}', port=port, host=HOSTS[3]
    )
    dns = Dns(port, [HOSTS[0], HOSTS[1], HOSTS[3]])

    async def run():
        client = client_for(dns, interval=0.1)
        answers: list[str] = []
        sent = 0
        done = asyncio.Event()

        async def worker(k: int) -> None:
            nonlocal sent
            i = 0
            while not done.is_set():
                sent += 1
                answers.append(answered_by(await client.send(message(f"w{k}-{i}"))))
                i += 1

        try:
            await client.start()
            workers = asyncio.gather(*(worker(k) for k in range(8)))
            while answers.count("5") < 20:
                await asyncio.sleep(0.01)
            extra.kill()  # the pod dies with requests in flight ...
            await asyncio.get_running_loop().run_in_executor(None, extra.wait)
            dns.hosts.remove(HOSTS[3])  # ... and leaves DNS a moment later
            while any(r.address.startswith(HOSTS[3]) for r in client.replicas):
                await asyncio.sleep(0.01)
            mark = len(answers)
            await asyncio.sleep(0.5)
            done.set()
            await workers  # any request lost would raise here
            replicas = [r.address for r in client.replicas]
        finally:
            done.set()
            await client.close()
        return sent, answers, mark, replicas

    try:
        sent, answers, mark, replicas = asyncio.run(run())
    finally:
        stop_processes(extra)
    assert len(answers) == sent
    assert "5" not in answers[mark + 8 :]  # at most the 8 requests in flight at removal time
    assert replicas == [f"{HOSTS[0]}:{port}", f"{HOSTS[1]}:{port}"]


def test_the_default_resolver_turns_localhost_into_its_address(executor_processes):
    port = executor_processes("tests.executors:Appender", "local", "--uses-with", '{"letter": "L"}')

    async def run():
        client = ExecutorClient(ExecutorNode("local", (f"localhost:{port}",)))
        try:
            response = await client.send(message("r"))
            replicas = [r.address for r in client.replicas]
        finally:
            await client.close()
        return answered_by(response), replicas

    answer, replicas = asyncio.run(run())
    assert answer == "L"
    assert replicas == [f"127.0.0.1:{port}"]


def test_a_name_that_never_resolves_fails_as_unavailable():
    dead = free_port()

    async def nowhere(address: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def run():
        # the name stays the one replica; gRPC's own connection failure drives the retries
        client = ExecutorClient(ExecutorNode("ghost", (f"localhost:{dead}",)), resolver=nowhere)
        try:
            with pytest.raises(ExecutorUnreachable) as info:
                await client.send(message("r"))
            replicas = [r.address for r in client.replicas]
        finally:
            await client.close()
        return info.value, replicas

    error, replicas = asyncio.run(run())
    assert error.code == grpc.StatusCode.UNAVAILABLE
    assert replicas == [f"localhost:{dead}"]
