"""The parent pipes of every kind of service process: the ready report, start-up failures, the lifeline."""

from __future__ import annotations

import asyncio
import json
import os
import socket

import pytest

from jina.excepts import RuntimeFailToStart
from jina.flow import launcher
from jina.flow.ports import free_port
from jina.serve.process import ParentPipes

# what each kind needs besides its address; the bridge's gateway is not there (it serves anyway)
KINDS = {
    "gateway": [],
    "executor": [],
    "bridge": ["--gateway", "127.0.0.1:1", "--config", json.dumps({"descriptor_timeout": 0.1})],
}


def service(kind: str, port: int) -> launcher.ServiceProcess:
    argv = launcher.python_argv(kind, "--host", "127.0.0.1", "--port", str(port), "--log-level", "ERROR", *KINDS[kind])
    return launcher.ServiceProcess(kind, argv, launcher.child_env(), port)


def read_all(fd: int) -> bytes:
    with os.fdopen(fd, "rb") as pipe:
        return pipe.read()


def test_the_first_report_is_the_only_one():
    read, write = os.pipe()
    parent = ParentPipes(ready_fd=write)
    parent.report_ready(1234)
    parent.report_failure(ValueError("too late"))  # the pipe is closed: nothing is written
    assert json.loads(read_all(read)) == {"status": "ready", "port": 1234, "pid": os.getpid()}


def test_a_failure_is_reported_as_type_and_message():
    read, write = os.pipe()
    ParentPipes(ready_fd=write).report_failure(ValueError("bad option"))
    assert json.loads(read_all(read)) == {"status": "failed", "error": "ValueError: bad option"}


def test_without_pipes_nothing_happens():
    parent = ParentPipes()
    parent.report_ready(1)
    loop = asyncio.new_event_loop()
    try:
        parent.watch_lifeline(loop, lambda: pytest.fail("no lifeline, no call"))
    finally:
        loop.close()


def test_the_lifeline_closing_calls_back_once():
    async def scenario() -> int:
        read, write = os.pipe()
        calls = []
        gone = asyncio.Event()
        ParentPipes(lifeline_fd=read).watch_lifeline(asyncio.get_running_loop(), lambda: (calls.append(1), gone.set()))
        await asyncio.sleep(0.05)
        assert not calls
        os.close(write)
        await asyncio.wait_for(gone.wait(), 5)
        await asyncio.sleep(0.05)
        os.close(read)
        return len(calls)

    assert asyncio.run(scenario()) == 1


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_service_stops_by_itself_when_its_parent_is_gone(kind):
    proc = service(kind, free_port())
    proc.start()
    try:
        launcher.wait_ready([proc], timeout=30)
        proc.release()  # what the parent's death does: its end of the lifeline closes
        assert proc.process.wait(15) == 0
    finally:
        launcher.stop_all([proc], grace=1)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_taken_port_fails_start_up_naming_the_port(kind):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = service(kind, port)
        proc.start()
        try:
            with pytest.raises(RuntimeFailToStart, match=f"port {port} is already in use"):
                launcher.wait_ready([proc], timeout=30)
            assert proc.process.wait(10) != 0
        finally:
            launcher.stop_all([proc], grace=1)
