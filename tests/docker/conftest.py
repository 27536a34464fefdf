"""The Docker suite: a real engine, Compose v2, a one-node Swarm, the project image (scripts/test-docker.sh).

Every test here is marked `docker` (scripts/test.sh leaves them out); what a test starts
(Compose projects, stacks, a Swarm it initialised) it removes. Containers are reached only
through ports published on 127.0.0.1 (Swarm: on every interface, 127.0.0.1 included).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import jina
from tests.conftest import ROOT, require

IMAGE = os.environ.get("JINA_IMAGE", f"jina-mesh:{jina.__version__}")
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.docker)


def docker(*args: str, timeout: float = 180, check: bool = True, env: dict | None = None, cwd=None):
    result = subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def engine() -> str:
    """The engine answers, Compose v2 is there, the project image is built; else skip (fail in CI)."""
    found = shutil.which("docker")
    require(found, "docker", "run scripts/test-docker.sh")
    ok = subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    require(ok or None, "a Docker engine", "run scripts/test-docker.sh (it starts dockerd)")
    compose = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode == 0
    require(compose or None, "Docker Compose v2", "run scripts/docker-engine.sh start")
    image = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, timeout=30).returncode == 0
    require(image or None, f"the image {IMAGE}", "run scripts/docker-images.sh")
    return IMAGE


class ComposeProject:
    """`docker compose -p NAME` in a directory, with the environment it is run with."""

    def __init__(self, directory: Path, env: dict[str, str], files: tuple[str, ...] = ()):
        self.directory = directory
        self.name = f"jmtest-{uuid.uuid4().hex[:8]}"
        self.env = env
        self.files = [arg for f in files for arg in ("-f", f)]

    def run(self, *args: str, timeout: float = 240, check: bool = True):
        return docker("compose", "-p", self.name, *self.files, *args, timeout=timeout, check=check, env=self.env,
                      cwd=self.directory)  # fmt: skip

    def up(self) -> float:
        """Start and wait until every service is healthy; returns the seconds it took."""
        started = time.monotonic()
        result = self.run("up", "-d", "--wait", "--wait-timeout", "180", check=False)
        if result.returncode != 0:
            logs = self.run("logs", "--no-color", "--tail", "60", check=False)
            raise AssertionError(f"compose up failed:\n{result.stderr}\n{logs.stdout}")
        return time.monotonic() - started

    def containers(self, service: str) -> list[str]:
        return self.run("ps", "-q", service).stdout.split()

    def down(self) -> None:
        self.run("down", "-v", "-t", "5", "--remove-orphans", check=False)


@pytest.fixture
def compose_project(engine):
    projects: list[ComposeProject] = []

    def make(directory: Path, env: dict[str, str] | None = None, files: tuple[str, ...] = ()) -> ComposeProject:
        project = ComposeProject(directory, env or {}, files)
        projects.append(project)
        return project

    yield make
    for project in projects:
        project.down()


@pytest.fixture
def swarm(engine):
    """A one-node Swarm on 127.0.0.1 (left again unless it was there before); yields a stack deployer."""
    state = docker("info", "--format", "{{json .Swarm.LocalNodeState}}").stdout.strip()
    joined_here = json.loads(state) != "active"
    if joined_here:
        docker("swarm", "init", "--advertise-addr", "127.0.0.1")
    stacks: list[str] = []

    def deploy(compose_file: Path, env: dict[str, str]) -> str:
        name = f"jm{uuid.uuid4().hex[:6]}"
        docker("stack", "deploy", "--detach=true", "-c", str(compose_file), name, env=env, cwd=compose_file.parent)
        stacks.append(name)
        return name

    yield deploy
    for name in stacks:
        docker("stack", "rm", name, check=False)
    for name in stacks:  # the stack's network goes last; leaving the Swarm before that fails
        for _ in range(60):
            left = docker("network", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={name}", check=False)
            if not left.stdout.strip():
                break
            time.sleep(0.5)
    if joined_here:
        docker("swarm", "leave", "--force", check=False)


def wait_until(predicate, timeout: float, interval: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


TAGGER = '''
import socket
import time

from jina import Executor, requests


class HostTagger(Executor):
    """Tags each document with the container (replica) that handled it."""

    @requests
    def tag(self, docs, **kwargs):
        time.sleep(0.01)  # long enough for requests to overlap across replicas
        for doc in docs:
            doc.tags["replica"] = socket.gethostname()
'''

TAGGER_FLOW = """
jtype: Flow
with:
  protocol: [grpc, http]
  port: [12345, 12346]
executors:
  - name: tagger
    uses: HostTagger
    py_modules: [tagger.py]
    replicas: 3
"""


def export_tagger_flow(directory: Path) -> Path:
    """A YAML Flow with a 3-replica executor, exported by the real `jina export docker-compose`."""
    (directory / "tagger.py").write_text(TAGGER)
    (directory / "flow.yml").write_text(TAGGER_FLOW)
    directory.chmod(0o755)  # pytest's tmp dirs are 0700; the containers' user (uid 10001) reads the mount
    out = directory / "docker-compose.yml"
    result = subprocess.run(
        [sys.executable, "-m", "jina", "export", "docker-compose", str(directory / "flow.yml"), str(out)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out
