"""Shared fixtures: real Flows on free loopback ports, external tools, process bookkeeping."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import hypothesis  # noqa: F401  (imported before any test starts threads: CPython 3.11.7's

# `ast` keeps one global recursion counter, and hypothesis' plugin otherwise imports it, and so
# parses it for assertion rewriting, at the very end while other threads may still run)
import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".cache" / "tools"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(found: str | Path | None, what: str, how: str) -> str:
    """A missing external tool skips a test locally but fails it in CI (where it must be installed)."""
    if found:
        return str(found)
    message = f"{what} is not installed: {how}"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def grpcurl() -> str:
    candidates = [os.environ.get("GRPCURL"), TOOLS / "grpcurl", shutil.which("grpcurl")]
    found = next((c for c in candidates if c and Path(c).is_file()), None)
    return require(found, "grpcurl", "run scripts/install-tools.sh")


@pytest.fixture
def flows():
    """Start Flows in the test process; every one is closed at the end of the test."""
    started = []

    def start(flow):
        started.append(flow)
        return flow.start()

    yield start
    for flow in reversed(started):
        flow.close()


def child_pids(pid: int | None = None) -> set[int]:
    try:
        return {p.pid for p in psutil.Process(pid or os.getpid()).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def wait_gone(pids, timeout: float = 5.0) -> set[int]:
    """Wait for the processes to exit; return those still alive."""
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return {p.pid for p in alive if p.status() != psutil.STATUS_ZOMBIE}


def run_python(
    code_or_path: str | Path, *args: str, timeout: float = 60, cwd: str | Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run a script (or `-c` code) with this interpreter as its own process."""
    argv = [sys.executable]
    argv += [str(code_or_path)] if isinstance(code_or_path, Path) else ["-c", code_or_path]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [*argv, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
    )


def stop_processes(*procs: subprocess.Popen | None, timeout: float = 10) -> None:
    """SIGTERM each process a test started, then SIGKILL what is still running after `timeout`."""
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.terminate()
    for proc in procs:
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def running(kind: str, port: int, *args: str, grace: float = 2):
    """`jina KIND ARGS` as a child process, ready on `port` inside the block, stopped after it."""
    from jina.flow import launcher

    service = launcher.ServiceProcess(kind, launcher.python_argv(kind, *args), launcher.child_env(), port)
    service.start()
    try:
        launcher.wait_ready([service], timeout=30)
        yield service
    finally:
        launcher.stop_all([service], grace=grace)


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """A test CA and a server certificate for localhost / 127.0.0.1: paths of `ca`, `cert`, `key`,
    `other` (another CA's certificate, which did not sign it), a client certificate the CA signed
    (`client_cert`, `client_key`) and one another CA signed (`stranger_cert`, `stranger_key`)."""
    import trustme

    folder = tmp_path_factory.mktemp("pki")
    ca, other = trustme.CA(), trustme.CA()
    names = ("ca", "cert", "key", "other", "client_cert", "client_key", "stranger_cert", "stranger_key")
    paths = {name: str(folder / f"{name}.pem") for name in names}
    ca.cert_pem.write_to_path(paths["ca"])
    other.cert_pem.write_to_path(paths["other"])
    for issued, cert, key in (
        (ca.issue_cert("localhost", "127.0.0.1"), "cert", "key"),
        (ca.issue_cert("client@example.com"), "client_cert", "client_key"),
        (other.issue_cert("stranger@example.com"), "stranger_cert", "stranger_key"),
    ):
        issued.private_key_pem.write_to_path(paths[key])
        for i, blob in enumerate(issued.cert_chain_pems):
            blob.write_to_path(paths[cert], append=i > 0)
    return paths
