"""Start the processes of a Flow as fresh interpreters, wait until they are ready, stop them.

Each child gets two inherited pipes: it writes one JSON line to the *ready* pipe once it
serves (or why it could not start), and it watches the *lifeline* pipe, which the parent never
writes: when the parent dies, even by SIGKILL, the pipe closes and the child stops by itself,
so no process outlives its Flow. Children run in their own session: a Ctrl-C in the terminal
reaches only the parent, which then stops them in order.
"""

from __future__ import annotations

import json
import os
import select
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from jina.excepts import RuntimeFailToStart


@dataclass
class ServiceProcess:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    process: subprocess.Popen | None = None
    _ready_read: int | None = None
    _lifeline_write: int | None = None
    _buffer: bytes = b""
    ready: bool = False
    failure: str | None = None
    stopped: bool = field(default=False)
    #: how many times the supervisor started this process again after it exited
    restarts: int = 0

    def start(self) -> None:
        self._buffer = b""
        self.ready = False
        self.failure = None
        ready_read, ready_write = os.pipe()
        lifeline_read, lifeline_write = os.pipe()
        argv = [*self.argv, "--ready-fd", str(ready_write), "--lifeline-fd", str(lifeline_read)]
        try:
            self.process = subprocess.Popen(
                argv,
                env=self.env,
                pass_fds=(ready_write, lifeline_read),
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            os.close(ready_write)
            os.close(lifeline_read)
        self._ready_read = ready_read
        self._lifeline_write = lifeline_write

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def restart(self) -> None:
        """Start the same command line again (the same argv, so the same port) once the process exited."""
        if self.alive():
            raise RuntimeError(f"{self.name} is still running (pid {self.pid})")
        self.release()
        self.restarts += 1
        self.start()

    def poll_ready(self, timeout: float = 0.0) -> bool:
        """Wait up to `timeout` s for the ready report; True once the outcome (ready or failed) is known."""
        if self._ready_read is None:
            return True
        readable, _, _ = select.select([self._ready_read], [], [], timeout)
        return bool(readable) and self._on_readable()

    def _on_readable(self) -> bool:
        """Consume the ready pipe; True once the outcome (ready or failed) is known."""
        assert self._ready_read is not None
        chunk = os.read(self._ready_read, 65536)
        self._buffer += chunk
        if chunk and b"\n" not in self._buffer:
            return False
        self._close_ready()
        line = self._buffer.split(b"\n", 1)[0]
        if not line:
            code = self.process.wait() if self.process else None
            self.failure = f"{self.name} exited (code {code}) before it was ready; its output is above"
            return True
        message = json.loads(line)
        if message.get("status") == "ready":
            self.ready = True
        else:
            self.failure = f"{self.name} failed to start:\n{message.get('error', 'unknown error')}"
        return True

    def _close_ready(self) -> None:
        if self._ready_read is not None:
            os.close(self._ready_read)
            self._ready_read = None

    def signal(self, sig: int) -> None:
        if self.alive():
            try:
                self.process.send_signal(sig)  # type: ignore[union-attr]
            except ProcessLookupError:
                pass

    def release(self) -> None:
        self._close_ready()
        if self._lifeline_write is not None:
            os.close(self._lifeline_write)
            self._lifeline_write = None


def wait_ready(services: Sequence[ServiceProcess], timeout: float | None) -> None:
    """Block until every service reported ready; raise RuntimeFailToStart on the first failure."""
    deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for service in services:
            selector.register(service._ready_read, selectors.EVENT_READ, service)
        pending = len(services)
        while pending:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if remaining == 0.0:
                slow = [s.name for s in services if not s.ready]
                raise RuntimeFailToStart(f"not ready after {timeout:.0f}s: {', '.join(slow)}")
            for key, _ in selector.select(remaining):
                service: ServiceProcess = key.data
                fd = service._ready_read
                if service._on_readable():
                    selector.unregister(fd)
                    pending -= 1
                    if service.failure:
                        raise RuntimeFailToStart(service.failure)


def stop_all(services: Sequence[ServiceProcess], grace: float) -> None:
    """SIGTERM, wait up to `grace` (+1 s for the interpreter to exit), then SIGKILL what is left."""
    for service in services:
        service.signal(signal.SIGTERM)
    deadline = time.monotonic() + grace + 1.0
    for service in services:
        if service.process is None:
            continue
        try:
            service.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            service.signal(signal.SIGKILL)
            service.process.wait()
        service.release()
        service.stopped = True


def describe_exit(returncode: int | None) -> str:
    """`code 1`, `signal SIGKILL` (Popen reports death by signal N as returncode -N)."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"code {returncode}"


def python_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "jina", *args]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The parent's environment, with its import path, so the children import what the parent can."""
    env = dict(os.environ)
    # the interpreter's own directories (stdlib, site-packages) are on the child's path anyway
    own = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})
    paths = [os.path.abspath(p) if p else os.getcwd() for p in sys.path]
    seen: list[str] = []
    for path in env.get("PYTHONPATH", "").split(os.pathsep) + paths:
        if path and path not in seen and not path.startswith(own) and os.path.isdir(path):
            seen.append(path)
    env["PYTHONPATH"] = os.pathsep.join(seen)
    env.update(extra or {})
    return env
