"""The `jina` command as users (and docker-compose) run it."""

from __future__ import annotations

import subprocess
import sys

from docarray import Document

from jina import Client, __version__
from jina.flow import launcher
from jina.flow.ports import free_port
from tests.conftest import ROOT


def jina(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jina", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def test_help_lists_the_commands():
    result = jina("--help")
    assert result.returncode == 0
    for command in ("flow", "deployment", "executor", "gateway", "bridge", "ping"):
        assert f"  {command}" in result.stdout
    assert jina("--version").stdout.strip() == __version__


def test_version_as_jina_prints_it():
    assert jina("-v").stdout.strip() == __version__
    full = jina("--version-full")
    assert full.returncode == 0
    lines = full.stdout.splitlines()
    assert lines[0] == f"- jina {__version__}"
    names = [line.split()[1] for line in lines]
    assert {"docarray", "protobuf", "grpcio", "python", "platform"} <= set(names)
    assert jina("-vf").stdout == full.stdout


def test_each_command_has_help():
    for command, option in (
        ("executor", "--uses"),
        ("gateway", "--executors"),
        ("bridge", "--gateway"),
        ("flow", "--uses"),
        ("deployment", "--uses"),
        ("ping", "HOST:PORT"),
    ):
        result = jina(command, "--help")
        assert result.returncode == 0, result.stderr
        assert option in result.stdout


def test_unknown_command():
    result = jina("flw")
    assert result.returncode == 2
    assert "unknown command 'flw'" in result.stderr


def test_bad_executor_list_is_reported():
    result = jina("gateway", "--port", str(free_port()), "--executors", "nonsense")
    assert result.returncode == 1
    assert "expected NAME=HOST:PORT" in result.stderr


def test_bad_uses_is_reported():
    result = jina("executor", "--port", str(free_port()), "--uses", "no_such_module.Thing")
    assert result.returncode == 1
    assert "cannot import module 'no_such_module'" in result.stderr


def test_standalone_executor_and_gateway_serve_and_ping():
    executor_port, gateway_port = free_port(), free_port()
    env = launcher.child_env()
    services = [
        launcher.ServiceProcess(
            "enc",
            launcher.python_argv(
                "executor",
                "--uses",
                "tests.executors:Appender",
                "--uses-with",
                '{"letter": "+"}',
                "--name",
                "enc",
                "--host",
                "127.0.0.1",
                "--port",
                str(executor_port),
            ),
            env,
            executor_port,
        ),
        launcher.ServiceProcess(
            "gateway",
            launcher.python_argv(
                "gateway",
                "--host",
                "127.0.0.1",
                "--port",
                str(gateway_port),
                "--executors",
                f"enc=127.0.0.1:{executor_port}",
            ),
            env,
            gateway_port,
        ),
    ]
    for service in services:
        service.start()
    try:
        launcher.wait_ready(services, timeout=30)
        assert jina("ping", f"127.0.0.1:{gateway_port}").returncode == 0
        assert jina("ping", f"127.0.0.1:{executor_port}", "--service", "jina.JinaRPC").returncode == 0
        with Client(port=gateway_port) as client:
            assert client.post("/", Document(text="x")).texts == ["x+"]
    finally:
        launcher.stop_all(list(reversed(services)), grace=5)
    result = jina("ping", f"127.0.0.1:{gateway_port}", "--timeout", "0.5")
    assert result.returncode == 1
    assert "UNAVAILABLE" in result.stderr or "DEADLINE" in result.stderr
