"""External peers: grpcurl, a Node.js client, and a real Jina 3.34 installation."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from jina import Flow
from tests.conftest import ROOT, require

JINA_VENV = Path(os.environ.get("JINA_VENV", ROOT / ".venv-jina"))
NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="session")
def real_jina_python() -> str:
    python = JINA_VENV / "bin" / "python"
    return require(python if python.exists() else None, "real Jina 3.34", "run scripts/install-real-jina.sh")


def real_jina_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["JINA_OPTOUT_TELEMETRY"] = "1"  # real Jina phones home unless told not to
    env["JINA_LOG_LEVEL"] = "WARNING"
    return env


def run_real_jina(python: str, script: str, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, str(Path(__file__).parent / "realjina" / script), *args],
        cwd=cwd,
        env=real_jina_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def start_real_jina(python: str, script: str, *args: str, cwd: Path) -> subprocess.Popen:
    """Start a real-Jina process that prints READY when it serves (cwd keeps our `jina` off its path)."""
    proc = subprocess.Popen(
        [python, str(Path(__file__).parent / "realjina" / script), *args],
        cwd=cwd,
        env=real_jina_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    lines = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.strip() == "READY":
            return proc
    proc.kill()
    proc.communicate()
    raise RuntimeError("real Jina did not start:\n" + "".join(lines))


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(2)
    try:
        proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


@pytest.fixture(scope="module")
def served_flow():
    """Our Flow: Appender('!') then Failing, on 127.0.0.1."""
    flow = (
        Flow(host="127.0.0.1")
        .add(uses="tests.executors:Appender", name="appender", uses_with={"letter": "!"})
        .add(uses="tests.executors:Failing", name="failing")
    )
    with flow:
        yield flow


@pytest.fixture(scope="session")
def node() -> str:
    found = shutil.which("node")
    if found and not (NODE_DIR / "node_modules" / "@grpc" / "grpc-js").exists():
        found = None
    return require(found, "node with @grpc/grpc-js", "run scripts/install-tools.sh (npm ci in tests/interop/node)")
