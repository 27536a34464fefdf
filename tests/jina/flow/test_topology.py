"""Graphs of Executors: parallel branches, joins, replicas with failover, targeting."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from docarray import Document, DocumentArray

from jina import Flow
from jina.excepts import BadConfig

TAGGER = "tests.executors:Tagger"


@pytest.fixture(scope="module")
def diamond():
    flow = (
        Flow(host="127.0.0.1")
        .add(uses=TAGGER, name="a")
        .add(uses=TAGGER, name="b", needs="a")
        .add(uses=TAGGER, name="c", needs="a")
        .add(uses=TAGGER, name="d", needs=["b", "c"])
    )
    with flow:
        yield flow


def test_branches_run_concurrently_and_the_join_sees_both(diamond):
    diamond.post("/", Document())  # warm
    started = time.perf_counter()
    response = diamond.post("/", Document(text="x"), parameters={"sleep": 0.6}, return_responses=True)[0]
    elapsed = time.perf_counter() - started
    # a, then b and c at once, then d: three sleeps, not four
    assert 1.8 <= elapsed < 2.3, f"{elapsed:.2f}s"
    (doc,) = response.docs
    assert all(doc.tags[name] is True for name in "abcd")
    assert doc.text == "x"
    assert [r.executor for r in response.routes] == ["gateway", "a", "b", "c", "d"] or [
        r.executor for r in response.routes
    ] == ["gateway", "a", "c", "b", "d"]


def test_parameters_addressed_to_one_executor_reach_only_it(diamond):
    (doc,) = diamond.post("/", Document(), parameters={"shared": 1, "b": {"only_b": True}, "c": {"only_c": 1}})
    assert doc.tags["b_parameters"] == {"shared": 1.0, "b": {"only_b": True}, "only_b": True}
    assert doc.tags["c_parameters"] == {"shared": 1.0, "c": {"only_c": 1.0}, "only_c": 1.0}
    assert doc.tags["a_parameters"] == {"shared": 1.0}


def test_target_executor_runs_only_matching_executors(diamond):
    response = diamond.post("/", Document(), target_executor="^(b|d)$", return_responses=True)[0]
    assert [r.executor for r in response.routes] == ["gateway", "b", "d"]
    (doc,) = response.docs
    assert set(k for k in doc.tags if "_" not in k) == {"b", "d"}


def test_replicas_share_the_load_and_a_killed_replica_loses_nothing(flows):
    flow = flows(Flow(host="127.0.0.1").add(uses=TAGGER, name="r", replicas=3))
    replicas = {name: pid for name, pid in flow.pids.items() if name.startswith("r/")}
    assert len(replicas) == 3
    seen = [d.tags["r_pid"] for d in flow.post("/", DocumentArray([Document() for _ in range(300)]), request_size=1)]
    assert len(seen) == 300
    assert set(seen) == set(replicas.values())  # every replica served some

    results: list = []

    def run():
        results.extend(
            flow.post("/", DocumentArray([Document() for _ in range(400)]), request_size=1, parameters={"sleep": 0.005})
        )

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.5)
    victim = replicas["r/rep-1"]
    os.kill(victim, signal.SIGKILL)
    worker.join(60)
    assert not worker.is_alive()
    assert len(results) == 400  # none lost
    assert victim in {d.tags["r_pid"] for d in results}  # it did serve before it died


def test_needs_errors_are_reported_before_anything_starts():
    with pytest.raises(BadConfig, match="needs 'ghost'"):
        Flow().add(name="a", needs="ghost").start()
    with pytest.raises(BadConfig, match="cycle: a -> b -> a"):
        Flow().add(name="a", needs="b").add(name="b", needs="a").start()
    with pytest.raises(BadConfig, match="replicas"):
        Flow().add(replicas=0)
