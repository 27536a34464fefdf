"""Headless Chromium for page tests: it reaches nothing but 127.0.0.1, and is stopped by its PID.

`render_dom` prints a page's DOM after its scripts ran; `run_in_page` drives a page over the
DevTools protocol (on a pipe, no port) to click through it as a person would, and reports
every URL the page asked for.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.conftest import require

# host names other than 127.0.0.1 resolve to nothing: whatever a page shows came from the bridge
_OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def _argv(profile: Path) -> list[str]:
    chromium = require(shutil.which("chromium"), "chromium", "apt-get install chromium")
    profile.mkdir()
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        _OFFLINE,
    ]


def _stop(process: subprocess.Popen) -> None:
    try:  # its own process group: the renderer and helper processes go with it
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # it and all its children have exited
        pass
    process.wait()


def render_dom(url: str, profile: Path, timeout: float = 90) -> str:
    """The DOM of `url` after its scripts ran, printed by headless Chromium with its own fresh profile."""
    argv = [*_argv(profile), "--dump-dom", "--virtual-time-budget=10000", url]
    log = profile.parent / "chromium.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True
        )
        try:
            out, _ = process.communicate(timeout=timeout)
        finally:
            _stop(process)
            process.stdout.close()
    assert process.returncode == 0, log.read_text(errors="replace")[-3000:]
    return out.decode("utf-8", errors="replace")


class _Pipe:
    """The DevTools protocol on `--remote-debugging-pipe`: JSON messages ended by NUL, fd 3 in, fd 4 out."""

    def __init__(self, write_fd: int, read_fd: int):
        self._write, self._read = write_fd, read_fd
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._read, 65536)
            if not chunk:
                raise EOFError("chromium closed its DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60) -> dict:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._next_id:
                assert "error" not in reply, reply
                return reply["result"]
            self.events.append(reply)


def run_in_page(url: str, script: str, profile: Path, timeout: float = 60) -> tuple[Any, list[str]]:
    """Open `url`, evaluate `script` (an expression; a promise is awaited) in it once loaded:
    (its value, every URL the page requested)."""
    to_chromium_r, to_chromium_w = os.pipe()
    from_chromium_r, from_chromium_w = os.pipe()
    log = profile.parent / "chromium-devtools.log"
    # the pipe's ends must be fds 3 and 4 in the child: dup2'd there before exec (dup2 makes them
    # inheritable; with close_fds=False the child keeps only inheritable fds, which Python's are not)
    inherit = (to_chromium_r, from_chromium_w)

    def place_fds() -> None:
        os.dup2(inherit[0], 3)
        os.dup2(inherit[1], 4)

    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*_argv(profile), "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
            close_fds=False,
            preexec_fn=place_fds,
        )
        os.close(to_chromium_r)
        os.close(from_chromium_w)
        try:
            pipe = _Pipe(to_chromium_w, from_chromium_r)
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            pipe.send("Network.enable", session=session)
            pipe.send("Page.enable", session=session)
            pipe.send("Page.navigate", {"url": url}, session=session)
            wait = "new Promise(r => document.readyState === 'complete' ? r(1) : addEventListener('load', () => r(1)))"
            pipe.send("Runtime.evaluate", {"expression": wait, "awaitPromise": True}, session=session)
            result = pipe.send(
                "Runtime.evaluate",
                {"expression": script, "awaitPromise": True, "returnByValue": True},
                session=session,
                timeout=timeout,
            )
        finally:
            _stop(process)
            os.close(to_chromium_w)
            os.close(from_chromium_r)
    assert "exceptionDetails" not in result, result["exceptionDetails"]
    requested = [
        e["params"]["request"]["url"]
        for e in pipe.events
        if e.get("method") == "Network.requestWillBeSent" and e.get("sessionId") == session
    ]
    return result["result"].get("value"), requested
