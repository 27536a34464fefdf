"""The replicas of one executor group: its IP addresses as given, its DNS names as they resolve now.

On Docker Compose, Swarm (`endpoint_mode: dnsrr`) and Kubernetes (headless Service) a group is
one name that resolves to every replica's IP. Each resolved address becomes a replica of its
own, so the gateway balances every request over them instead of pinning one channel to the
first address gRPC picks; re-resolving picks up scaling without a restart.

Rules:

* an IP literal is one replica, for good (no resolver task for groups of IP literals only);
* a name stands for itself until it first resolves (gRPC then fails the calls with UNAVAILABLE,
  which the retry logic handles), and afterwards for what it last resolved to: a failed or empty
  lookup keeps the current replicas, so the set is never empty;
* a replica whose address went away gets no new request; its connection is closed once its
  in-flight requests are answered, or after `retire_grace` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from jina_mesh.services.gateway.discovery import Resolver, changes, is_name, resolve_all

_logger = logging.getLogger("jina.gateway")

#: seconds between periodic re-resolutions (the gateway's --resolve-interval)
DEFAULT_RESOLVE_INTERVAL = 2.0
#: at most one re-resolution per this many seconds, however many failing requests ask for one
MIN_RESOLVE_GAP = 0.25
#: seconds one lookup may take before the current answer is kept
RESOLVE_TIMEOUT = 5.0
#: seconds a removed replica's in-flight requests get before its connection is closed anyway
RETIRE_GRACE = 30.0


class Replica(Protocol):
    address: str

    async def wait_idle(self, timeout: float) -> None: ...

    async def close(self) -> None: ...


R = TypeVar("R", bound=Replica)


class ReplicaSet(Generic[R]):
    def __init__(
        self,
        addresses: Sequence[str],
        connect: Callable[[str], R],
        *,
        resolver: Resolver = resolve_all,
        resolve_interval: float = DEFAULT_RESOLVE_INTERVAL,
        retire_grace: float = RETIRE_GRACE,
        label: str = "",
    ):
        self._sources = tuple(addresses)
        self._connect = connect
        self._resolver = resolver
        self._interval = resolve_interval
        self._retire_grace = retire_grace
        self._label = label or ",".join(addresses)
        self.names = tuple(dict.fromkeys(a for a in self._sources if is_name(a)))
        #: what each name stands for now (itself until it first resolves)
        self._resolved: dict[str, tuple[str, ...]] = {name: (name,) for name in self.names}
        self._failing: set[str] = set()
        # IP literals only: one replica per address as given, exactly as without discovery
        initial = self._wanted() if self.names else list(self._sources)
        #: the replicas new requests may go to
        self.members: list[R] = [connect(address) for address in initial]
        self._retiring: dict[R, asyncio.Task] = {}
        self._first: asyncio.Future | None = None
        self._periodic: asyncio.Task | None = None
        self._resolving: asyncio.Future | None = None
        self._last_resolved = float("-inf")
        self._closed = False

    @property
    def started(self) -> bool:
        """True once the first resolution is done (always, for IP literals only)."""
        return not self.names or (self._first is not None and self._first.done())

    async def start(self) -> None:
        """Resolve the names once, then keep re-resolving them every interval (0: only on failures)."""
        if not self.names:
            return
        if self._first is None:
            self._first = asyncio.ensure_future(self.refresh(force=True))
            if self._interval > 0:
                self._periodic = asyncio.ensure_future(self._resolve_forever())
        await asyncio.shield(self._first)

    async def refresh(self, force: bool = False) -> bool:
        """Resolve every name again now (unless one was done within MIN_RESOLVE_GAP); True if the set changed.

        Concurrent callers share one resolution.
        """
        if not self.names or self._closed:
            return False
        if self._resolving is None or self._resolving.done():
            loop = asyncio.get_running_loop()
            if not force and loop.time() - self._last_resolved < MIN_RESOLVE_GAP:
                return False
            self._last_resolved = loop.time()
            self._resolving = asyncio.ensure_future(self._resolve_names())
        return await asyncio.shield(self._resolving)

    async def _resolve_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.refresh()
            except Exception:  # the loop must outlive any bug in one round
                _logger.exception("re-resolving %s failed", self._label)

    async def _resolve_names(self) -> bool:
        answers = await asyncio.gather(*(self._lookup(name) for name in self.names))
        for name, found in zip(self.names, answers, strict=True):
            if found:
                self._resolved[name] = found
        return self._apply()

    async def _lookup(self, name: str) -> tuple[str, ...]:
        """The name's addresses, or () when the lookup failed (the caller keeps the old ones)."""
        try:
            found = tuple(await asyncio.wait_for(self._resolver(name), RESOLVE_TIMEOUT))
        except Exception as exc:  # any failure of DNS (or of an injected resolver) keeps the set
            found, why = (), f"{type(exc).__name__}: {exc}"
        else:
            why = "no address"
        if not found:
            if name not in self._failing:
                self._failing.add(name)
                _logger.warning("%s: cannot resolve %s (%s); keeping %s", self._label, name, why, self._resolved[name])
            return ()
        if name in self._failing:
            self._failing.discard(name)
            _logger.info("%s: %s resolves again", self._label, name)
        return found

    def _wanted(self) -> list[str]:
        """Every address once (two names resolving to one pod are one replica)."""
        wanted: dict[str, None] = {}
        for source in self._sources:
            for address in self._resolved.get(source, (source,)):
                wanted[address] = None
        return list(wanted)

    def _apply(self) -> bool:
        wanted = self._wanted()
        added, removed = changes([m.address for m in self.members], wanted)
        if not added and not removed:
            return False
        by_address = {m.address: m for m in self.members}
        for address in added:
            by_address[address] = self._connect(address)
        self.members = [by_address[address] for address in wanted]
        for address in removed:
            self._retire(by_address[address])
        _logger.info(
            "%s: replicas %s (added %s, removed %s)",
            self._label,
            ", ".join(wanted),
            ", ".join(added) or "none",
            ", ".join(removed) or "none",
        )
        return True

    def _retire(self, replica: R) -> None:
        async def close_when_idle() -> None:
            try:
                await replica.wait_idle(self._retire_grace)
            finally:
                self._retiring.pop(replica, None)
                await replica.close()

        self._retiring[replica] = asyncio.ensure_future(close_when_idle())

    async def close(self) -> None:
        self._closed = True
        for task in (self._first, self._periodic, self._resolving):
            if task is not None:
                task.cancel()
        for task in list(self._retiring.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for member in self.members:
            await member.close()
