"""A service process's end of the two pipes its parent hands it: the ready report and the lifeline.

The parent (`jina.flow.launcher`) passes two inherited file descriptors:

* `--ready-fd`: the child writes one JSON line to it, once, and closes it:
  `{"status": "ready", "port": ..., "pid": ...}` when it serves, or
  `{"status": "failed", "error": "..."}` when it cannot start;
* `--lifeline-fd`: the parent never writes to it; it becomes readable (end of file) only when
  the parent's end closes, that is when the parent is gone, even killed by SIGKILL. The child
  then stops by itself, so no service outlives its Flow.

Run by hand (or in a container) a service gets neither, and every call here does nothing.
gRPC services (`jina.serve.service`) and the bridge's uvicorn server both go through this module.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Callable


def add_parent_arguments(parser: argparse.ArgumentParser) -> None:
    # Used by Flow, which starts services as child processes: not for humans.
    parser.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--lifeline-fd", type=int, default=None, help=argparse.SUPPRESS)


def inherited_fd(fd: int | None) -> int | None:
    """Validate a pipe fd handed over by the parent (None when run by hand)."""
    if fd is None:
        return None
    os.fstat(fd)  # raises if the parent did not pass it
    return fd


class ParentPipes:
    """The ready pipe (written once) and the lifeline (watched) of a service process."""

    def __init__(self, ready_fd: int | None = None, lifeline_fd: int | None = None):
        self._ready_fd = ready_fd
        self._lifeline_fd = lifeline_fd

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ParentPipes:
        """The pipes named by the flags `add_parent_arguments` adds, checked to be open."""
        return cls(inherited_fd(args.ready_fd), inherited_fd(args.lifeline_fd))

    def report_ready(self, port: int | None) -> None:
        self._report({"status": "ready", "port": port, "pid": os.getpid()})

    def report_failure(self, error: str | BaseException) -> None:
        """Why the service could not start: a text (a traceback, say), or an exception as `Type: message`."""
        if isinstance(error, BaseException):
            error = f"{type(error).__name__}: {error}"
        self._report({"status": "failed", "error": error})

    def _report(self, message: dict) -> None:
        # the first report is the outcome; the fd is closed after it (its number may be reused)
        fd, self._ready_fd = self._ready_fd, None
        if fd is None:
            return
        try:
            with os.fdopen(fd, "w", closefd=True) as pipe:
                pipe.write(json.dumps(message) + "\n")
        except OSError:
            pass  # the parent is gone; nothing to tell

    def watch_lifeline(self, loop: asyncio.AbstractEventLoop, on_parent_gone: Callable[[], None]) -> None:
        """Call `on_parent_gone` (once, on `loop`) when the parent's process is gone."""
        fd = self._lifeline_fd
        if fd is None:
            return

        def readable() -> None:
            # the parent never writes: readable means end of file
            loop.remove_reader(fd)
            on_parent_gone()

        loop.add_reader(fd, readable)
