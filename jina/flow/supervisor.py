"""Restart a Flow's processes that exit unexpectedly, with backoff and a restart budget (as Kubernetes does)."""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from jina.excepts import RuntimeFailToStart
from jina.flow import launcher

_logger = logging.getLogger("jina.flow")

__all__ = ["DEFAULT_POLICY", "Decision", "RestartBudgetExceeded", "RestartHistory", "RestartPolicy", "Supervisor"]


class RestartBudgetExceeded(RuntimeFailToStart):
    """A process of the Flow kept exiting: its restart budget is spent and the Flow was stopped."""

    def __init__(self, message: str, *, process: str):
        super().__init__(message)
        #: the name of the process that kept exiting (`gateway`, `executor0/rep-1` ...)
        self.process = process


@dataclass(frozen=True)
class RestartPolicy:
    """Wait `backoff_initial` s before the first restart, `backoff_factor` times longer before each next
    one (at most `backoff_max` s); at most `max_restarts` restarts of one process in any `window` s."""

    backoff_initial: float = 0.5
    backoff_factor: float = 2.0
    backoff_max: float = 10.0
    max_restarts: int = 5
    window: float = 60.0

    def delay(self, recent: int) -> float:
        """The wait before a restart when `recent` restarts happened within the window already."""
        return min(self.backoff_max, self.backoff_initial * self.backoff_factor**recent)

    def describe(self) -> str:
        return f"{self.max_restarts} restarts per {self.window:g} s"


DEFAULT_POLICY = RestartPolicy()


def policy_from(max_restarts: int | None, window: float | None) -> RestartPolicy:
    """The Flow options `max_restarts` / `restart_window` over the default policy."""
    changes = {k: v for k, v in (("max_restarts", max_restarts), ("window", window)) if v is not None}
    return replace(DEFAULT_POLICY, **changes) if changes else DEFAULT_POLICY


@dataclass(frozen=True)
class Decision:
    restart: bool
    #: seconds to wait before starting the process again
    delay: float = 0.0
    #: the how-many-th restart within the window this is (1-based), when `restart`
    attempt: int = 0


class RestartHistory:
    """One process's restarts: what to do when it exits at time `now` (pure: the caller gives the clock)."""

    def __init__(self, policy: RestartPolicy = DEFAULT_POLICY):
        self.policy = policy
        self._restarts: deque[float] = deque()

    def recent(self, now: float) -> int:
        while self._restarts and self._restarts[0] <= now - self.policy.window:
            self._restarts.popleft()
        return len(self._restarts)

    def on_exit(self, now: float) -> Decision:
        recent = self.recent(now)
        if recent >= self.policy.max_restarts:
            return Decision(restart=False)
        self._restarts.append(now)
        return Decision(restart=True, delay=self.policy.delay(recent), attempt=recent + 1)


def _reap(service: launcher.ServiceProcess, grace: float = 5.0) -> None:
    """Wait for a process that reported its failure to exit (SIGKILL when it lingers)."""
    assert service.process is not None
    try:
        service.process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        service.signal(signal.SIGKILL)
        service.process.wait()


# a process's state in the supervisor's loop
_RUNNING, _WAITING, _STARTING = "running", "waiting", "starting"


class _Watched:
    def __init__(self, service: launcher.ServiceProcess, policy: RestartPolicy):
        self.service = service
        self.history = RestartHistory(policy)
        self.state = _RUNNING
        self.due = 0.0  # when to start it again (waiting) or give up on its readiness (starting)
        self.exited_at = 0.0


class Supervisor:
    """A background thread that watches the processes of a running Flow and restarts any that exit.

    `on_restarted(service)` is called once a restarted process reports ready again; `on_failed(error)`
    once a process exceeded its budget (the supervisor stops watching then: the caller stops the Flow).
    """

    def __init__(
        self,
        services: Sequence[launcher.ServiceProcess],
        *,
        policy: RestartPolicy = DEFAULT_POLICY,
        ready_timeout: float | None = None,
        on_restarted: Callable[[launcher.ServiceProcess], None] = lambda _service: None,
        on_failed: Callable[[RestartBudgetExceeded], None] = lambda _error: None,
        interval: float = 0.1,
    ):
        self.policy = policy
        self._watched = [_Watched(s, policy) for s in services]
        self._ready_timeout = ready_timeout
        self._on_restarted = on_restarted
        self._on_failed = on_failed
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jina-flow-supervisor", daemon=True)
        #: the error that ended supervision, if one did
        self.failure: RestartBudgetExceeded | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (before the Flow stops its processes, so their exits are not taken for crashes)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                for watched in self._watched:
                    if self._stop.is_set() or not self._step(watched, time.monotonic()):
                        return
        except Exception:  # a bug here must not pass silently: the Flow would run unsupervised
            _logger.exception("the Flow's supervisor stopped; processes that exit are no longer restarted")

    def _step(self, watched: _Watched, now: float) -> bool:
        """Advance one process's state; False when its budget is spent (supervision ends)."""
        service = watched.service
        if watched.state == _RUNNING and not service.alive():
            return self._exited(watched, now, f"exited unexpectedly ({self._exit(service)})")
        if watched.state == _WAITING and now >= watched.due:
            _logger.info("restarting %s on port %s", service.name, service.port)
            try:
                service.restart()
            except OSError as exc:
                return self._exited(watched, now, f"could not be started again ({exc})")
            watched.state = _STARTING
            watched.due = float("inf") if self._ready_timeout is None else now + self._ready_timeout
        elif watched.state == _STARTING:
            if service.poll_ready(0.0):
                if service.ready:
                    watched.state = _RUNNING
                    _logger.warning(
                        "%s serves again (pid %s, %.1f s after it exited)",
                        service.name,
                        service.pid,
                        now - watched.exited_at,
                    )
                    self._on_restarted(service)
                else:
                    _reap(service)
                    first_line = (service.failure or "").splitlines()[0] if service.failure else ""
                    return self._exited(watched, now, f"failed again after its restart ({first_line})")
            elif now >= watched.due:
                service.signal(signal.SIGKILL)  # it did not become ready in time
                _reap(service)
                return self._exited(watched, now, f"was not ready {self._ready_timeout:g} s after its restart")
        return True

    @staticmethod
    def _exit(service: launcher.ServiceProcess) -> str:
        return launcher.describe_exit(service.process.returncode if service.process else None)

    def _exited(self, watched: _Watched, now: float, what: str) -> bool:
        service = watched.service
        decision = watched.history.on_exit(now)
        if watched.state == _RUNNING:
            watched.exited_at = now
        if decision.restart:
            _logger.error(
                "%s %s; restarting it in %.1f s (restart %d of at most %s)",
                service.name, what, decision.delay, decision.attempt, self.policy.describe(),
            )  # fmt: skip
            watched.state = _WAITING
            watched.due = now + decision.delay
            return True
        self.failure = RestartBudgetExceeded(
            f"{service.name} {what}, and it was restarted {self.policy.max_restarts} times within "
            f"{self.policy.window:g} s already (the restart budget): the Flow is stopped",
            process=service.name,
        )
        _logger.error("%s", self.failure)
        self._on_failed(self.failure)
        return False
