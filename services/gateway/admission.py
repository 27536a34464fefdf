"""Admission: a bound on the requests the gateway holds at once, across every client and stream.

`prefetch` bounds what one client stream has in flight; nothing bounds how many clients there
are. With `max_queued_requests = N > 0` the gateway holds at most N data requests (accepted, not
yet answered); one more is refused at once, with how many seconds to wait before trying again
(RESOURCE_EXHAUSTED + `retry-after`, HTTP 429 + `Retry-After`, as Ray Serve's `max_queued_requests`
does), instead of queueing without bound in front of executors that cannot keep up. The wait is
an estimate: the recent mean time a request spent in the gateway, in whole seconds (RFC 9110
§10.2.3 gives `Retry-After` in seconds), at least 1. No sockets or asyncio here: pure bookkeeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

#: default: no bound, as in Jina. How many requests a Flow can hold depends on their size and on its
#: executors' speed, which the gateway cannot know; a guessed bound would refuse work a Flow that
#: is slow but fine could do, and Jina clients do not retry RESOURCE_EXHAUSTED by themselves
DEFAULT_MAX_QUEUED_REQUESTS = 0
#: the option's name wherever a user sets it (Flow(...), YAML `with:`, `jina gateway --max-queued-requests`)
OPTION = "max_queued_requests"
#: bounds of the `retry-after` estimate, in seconds
MIN_RETRY_AFTER = 1
MAX_RETRY_AFTER = 60
#: weight of the newest request's duration in the running mean
SMOOTHING = 0.2


class Overloaded(Exception):
    """The gateway holds `limit` requests already; try again in `retry_after` seconds."""

    def __init__(self, limit: int, retry_after: int):
        super().__init__(
            f"the gateway is at its limit of {limit} queued requests ({OPTION}); retry after {retry_after} s"
        )
        self.limit = limit
        self.retry_after = retry_after


class Ticket:
    """One admitted request; `release()` (or leaving the `with` block) frees its place, once."""

    __slots__ = ("_admission", "_started", "_released")

    def __init__(self, admission: Admission, started: float):
        self._admission = admission
        self._started = started
        self._released = False

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._admission._release(self._started)

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class Admission:
    """Counts the requests held; `limit` 0 (or less) admits everything, and still counts."""

    def __init__(self, limit: int = DEFAULT_MAX_QUEUED_REQUESTS, *, clock: Callable[[], float] = time.monotonic):
        self.limit = max(0, limit)
        self._clock = clock
        self.pending = 0
        #: requests refused so far
        self.refused = 0
        self._mean_seconds: float | None = None

    def admit(self) -> Ticket:
        """A ticket for one more request; raises `Overloaded` when `limit` are held already."""
        if self.limit and self.pending >= self.limit:
            self.refused += 1
            raise Overloaded(self.limit, self.retry_after())
        self.pending += 1
        return Ticket(self, self._clock())

    def retry_after(self) -> int:
        """Whole seconds a refused caller should wait: about one request's time in the gateway."""
        if self._mean_seconds is None:
            return MIN_RETRY_AFTER
        return max(MIN_RETRY_AFTER, min(MAX_RETRY_AFTER, math.ceil(self._mean_seconds)))

    def _release(self, started: float) -> None:
        self.pending -= 1
        took = max(0.0, self._clock() - started)
        if self._mean_seconds is None:
            self._mean_seconds = took
        else:
            self._mean_seconds += SMOOTHING * (took - self._mean_seconds)


__all__ = ["Admission", "DEFAULT_MAX_QUEUED_REQUESTS", "OPTION", "Overloaded", "Ticket"]
