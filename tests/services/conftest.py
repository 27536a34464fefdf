"""Executor processes started through the real `jina executor` command."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from jina.flow.ports import free_port
from tests.conftest import ROOT


def start_executor(
    uses: str, name: str, *extra: str, port: int | None = None, host: str = "127.0.0.1"
) -> tuple[subprocess.Popen, int]:
    port = port or free_port(host)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jina",
            "executor",
            "--uses",
            uses,
            "--name",
            name,
            "--host",
            host,
            "--port",
            str(port),
            "--log-level",
            "WARNING",
            *extra,
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    from jina.cli.ping import ping

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"executor {name} exited with {proc.returncode}")
        if ping(f"{host}:{port}", timeout=0.5)[0]:
            return proc, port
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"executor {name} did not come up")


@pytest.fixture(scope="module")
def executor_processes():
    """start(uses, name) → port; every process is stopped after the module."""
    started: list[subprocess.Popen] = []

    def start(uses: str, name: str, *extra: str) -> int:
        proc, port = start_executor(uses, name, *extra)
        started.append(proc)
        return port

    yield start
    for proc in started:
        proc.terminate()
    for proc in started:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
