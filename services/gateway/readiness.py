"""Whether the gateway is ready: every executor group has a replica answering (state and probe loop).

Start order must not matter (a gateway may come up before its executors, or outlive them), so
readiness is not decided once at start: groups that are not up are probed every
`retry_interval` until they answer, all groups every `check_interval` while serving, and
requests report what they saw in between (a request that could not reach any replica of a
group after its retries takes the gateway out of service at once). No sockets here: the probes
are callables, so the rules are testable on their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping

_logger = logging.getLogger("jina.gateway")

#: probe(timeout) → True: a replica answers; False: none can be reached; None: no verdict in time
Probe = Callable[[float], Awaitable[bool | None]]

#: seconds between probes of groups that are not up
RETRY_INTERVAL = 0.5
#: seconds between probes of every group while the gateway serves
CHECK_INTERVAL = 2.0
#: seconds one probe may take
PROBE_TIMEOUT = 1.0


class Readiness:
    """Which groups are up; serving means all of them (so a gateway without executors serves)."""

    def __init__(self, groups: Iterable[str]):
        self._up: dict[str, bool] = dict.fromkeys(groups, False)

    @property
    def serving(self) -> bool:
        return all(self._up.values())

    def waiting_for(self) -> list[str]:
        return [group for group, up in self._up.items() if not up]

    def observe(self, group: str, answer: bool | None) -> bool:
        """Record what a probe or a request found; True when that changed whether we serve.

        `None` (no verdict, e.g. a probe timed out on a busy replica) changes nothing: a group
        that was up stays up, one that was not stays down.
        """
        if answer is None or self._up.get(group, answer) == answer:
            return False
        before = self.serving
        self._up[group] = answer
        return self.serving != before


class ReadinessMonitor:
    """Drives a Readiness from probes and request reports; publishes each change of `serving`."""

    def __init__(
        self,
        probes: Mapping[str, Probe],
        publish: Callable[[bool], Awaitable[None]],
        *,
        retry_interval: float = RETRY_INTERVAL,
        check_interval: float = CHECK_INTERVAL,
        probe_timeout: float = PROBE_TIMEOUT,
    ):
        self._probes = dict(probes)
        self._publish_to = publish
        self._retry_interval = retry_interval
        self._check_interval = check_interval
        self._probe_timeout = probe_timeout
        self.state = Readiness(self._probes)
        self._published: bool | None = None
        self._wake = asyncio.Event()

    def report(self, group: str, reachable: bool) -> None:
        """What a request found (called on the request path: cheap, never blocks)."""
        if self.state.observe(group, reachable):
            self._wake.set()

    async def check_once(self) -> bool:
        """Probe the groups due (the waiting ones, or all while serving), publish; whether we serve."""
        if self._published is not None:
            await self._publish()  # what requests reported since the last round: no need to wait for probes
        due = self.state.waiting_for() if not self.state.serving else list(self._probes)
        answers = await asyncio.gather(
            *(self._probes[group](self._probe_timeout) for group in due), return_exceptions=True
        )
        for group, answer in zip(due, answers, strict=True):
            if isinstance(answer, BaseException):
                _logger.warning("probing executor %r failed: %s", group, answer)
                answer = None
            self.state.observe(group, answer)
        await self._publish()
        return self.state.serving

    async def run(self) -> None:
        """Probe forever; a request's report wakes the loop at once."""
        while True:
            self._wake.clear()
            await self.check_once()
            interval = self._check_interval if self.state.serving else self._retry_interval
            try:
                await asyncio.wait_for(self._wake.wait(), interval)
            except asyncio.TimeoutError:
                pass

    async def _publish(self) -> None:
        serving = self.state.serving
        if serving == self._published:
            return
        first, self._published = self._published is None, serving
        # the first verdict is routine (executors start next to the gateway); a change after is news
        if serving:
            _logger.log(logging.DEBUG if first else logging.INFO, "every executor answers: SERVING")
        else:
            waiting = ", ".join(map(repr, self.state.waiting_for()))
            _logger.log(logging.DEBUG if first else logging.WARNING, "no replica of %s answers: NOT_SERVING", waiting)
        await self._publish_to(serving)
