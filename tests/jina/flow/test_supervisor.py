"""The restart policy as pure logic: backoff schedule, budget per window, decisions (no processes)."""

from __future__ import annotations

import pytest

from jina.excepts import RuntimeFailToStart
from jina.flow.launcher import describe_exit
from jina.flow.supervisor import DEFAULT_POLICY, RestartBudgetExceeded, RestartHistory, RestartPolicy


def test_default_policy_numbers():
    assert (DEFAULT_POLICY.backoff_initial, DEFAULT_POLICY.backoff_factor, DEFAULT_POLICY.backoff_max) == (0.5, 2, 10)
    assert (DEFAULT_POLICY.max_restarts, DEFAULT_POLICY.window) == (5, 60)


@pytest.mark.parametrize(("recent", "delay"), [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)])
def test_backoff_doubles_up_to_its_cap(recent, delay):
    assert DEFAULT_POLICY.delay(recent) == delay


def test_crash_loop_is_restarted_with_growing_delays_then_refused():
    history = RestartHistory(DEFAULT_POLICY)
    decisions = [history.on_exit(now) for now in (0, 1, 3, 6, 11)]
    assert [d.restart for d in decisions] == [True] * 5
    assert [d.delay for d in decisions] == [0.5, 1, 2, 4, 8]
    assert [d.attempt for d in decisions] == [1, 2, 3, 4, 5]
    assert not history.on_exit(20).restart
    assert not history.on_exit(59.9).restart  # the first restart is still within the window


def test_restarts_older_than_the_window_are_forgotten():
    policy = RestartPolicy(max_restarts=2, window=10)
    history = RestartHistory(policy)
    assert history.on_exit(0).restart
    assert history.on_exit(5).restart
    assert not history.on_exit(9).restart
    again = history.on_exit(10.5)  # the one at 0 left the window
    assert again.restart and again.attempt == 2 and again.delay == policy.delay(1)
    assert history.recent(100) == 0
    assert history.on_exit(100).delay == policy.backoff_initial  # a process that stayed up starts afresh


def test_zero_budget_never_restarts():
    assert not RestartHistory(RestartPolicy(max_restarts=0)).on_exit(0).restart


@pytest.mark.parametrize(
    ("code", "text"), [(1, "code 1"), (0, "code 0"), (-9, "signal SIGKILL"), (-15, "signal SIGTERM")]
)
def test_exit_is_described_by_code_or_signal(code, text):
    assert describe_exit(code) == text


def test_budget_error_names_the_process_and_is_a_start_failure():
    error = RestartBudgetExceeded("executor0 kept exiting", process="executor0")
    assert isinstance(error, RuntimeFailToStart)  # `jina flow` reports it and exits 1
    assert error.process == "executor0"


def test_the_flow_options_set_the_restart_budget():
    from jina import Flow
    from jina.excepts import BadConfig
    from jina.flow.supervisor import DEFAULT_POLICY

    assert Flow().restart_policy == DEFAULT_POLICY
    policy = Flow(max_restarts=2, restart_window=10).restart_policy
    assert (policy.max_restarts, policy.window, policy.backoff_initial) == (2, 10, DEFAULT_POLICY.backoff_initial)
    for bad in ({"max_restarts": -1}, {"max_restarts": "3"}, {"restart_window": 0}):
        with pytest.raises(BadConfig):
            Flow(**bad)
