"""Admission's bookkeeping without sockets: the bound, the release, the retry-after estimate."""

from __future__ import annotations

import pytest
from jina_mesh.services.gateway.admission import MAX_RETRY_AFTER, MIN_RETRY_AFTER, Admission, Overloaded


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_no_limit_admits_everything_and_still_counts():
    admission = Admission(0)
    tickets = [admission.admit() for _ in range(10_000)]
    assert admission.pending == 10_000
    for ticket in tickets:
        ticket.release()
    assert admission.pending == 0 and admission.refused == 0


def test_exactly_the_excess_is_refused():
    admission = Admission(3)
    held = [admission.admit() for _ in range(3)]
    for _ in range(2):
        with pytest.raises(Overloaded) as refused:
            admission.admit()
    assert refused.value.limit == 3
    assert "limit of 3 queued requests (max_queued_requests)" in str(refused.value)
    assert admission.pending == 3 and admission.refused == 2
    held.pop().release()
    again = admission.admit()  # a freed place is taken at once
    assert admission.pending == 3
    again.release()
    for ticket in held:
        ticket.release()
    assert admission.pending == 0


def test_a_ticket_is_released_once():
    admission = Admission(1)
    ticket = admission.admit()
    ticket.release()
    ticket.release()
    assert admission.pending == 0
    with admission.admit():
        assert admission.pending == 1
    assert admission.pending == 0


def test_a_ticket_is_released_when_its_block_fails():
    admission = Admission(1)
    with pytest.raises(RuntimeError), admission.admit():
        raise RuntimeError("the request failed")
    assert admission.pending == 0


def test_negative_limit_is_no_limit():
    assert Admission(-5).limit == 0


def test_retry_after_follows_the_time_requests_take():
    clock = Clock()
    admission = Admission(1, clock=clock)
    assert admission.retry_after() == MIN_RETRY_AFTER  # nothing measured yet
    for _ in range(30):
        ticket = admission.admit()
        clock.now += 4.2
        ticket.release()
    assert admission.retry_after() == 5  # whole seconds, rounded up
    with admission.admit(), pytest.raises(Overloaded) as refused:
        admission.admit()
    assert refused.value.retry_after == 5
    assert str(refused.value).endswith("retry after 5 s")


def test_retry_after_is_bounded():
    clock = Clock()
    admission = Admission(1, clock=clock)
    ticket = admission.admit()
    clock.now += 10_000
    ticket.release()
    assert admission.retry_after() == MAX_RETRY_AFTER
    fast = Admission(1, clock=Clock())
    fast.admit().release()  # took no time at all
    assert fast.retry_after() == MIN_RETRY_AFTER
