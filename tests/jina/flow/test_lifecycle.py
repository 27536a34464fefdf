"""A Flow as its own process: block() until a signal, and no process outliving its parent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, wait_gone

# The pids are printed from a timer once block() waits: a signal that came while the body of
# `with flow:` still ran would (rightly) interrupt that body instead of ending block().
SERVE = """
import json, sys, threading
from jina import Flow
flow = Flow(host='127.0.0.1').add(uses='tests.executors:Appender').add(uses='tests.executors:IndexOnly')
with flow:
    threading.Timer(0.5, lambda: print(json.dumps(flow.pids), flush=True)).start()
    flow.block()
print('block returned', flush=True)
"""


def start_blocking_flow() -> tuple[subprocess.Popen, dict[str, int]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        pytest.fail(f"the Flow did not start: {proc.stderr.read()}")
    return proc, json.loads(line)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_block_ends_within_two_seconds_of_a_signal_leaving_no_child(sig):
    proc, pids = start_blocking_flow()
    assert len(pids) == 3
    started = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=10)
    elapsed = time.monotonic() - started
    assert "block returned" in out, err
    assert proc.returncode == 0, err
    assert elapsed < 2.0, f"took {elapsed:.2f}s"
    assert not wait_gone(pids.values(), timeout=1.0)


def test_children_stop_by_themselves_when_the_parent_is_killed():
    proc, pids = start_blocking_flow()
    proc.kill()  # SIGKILL: no cleanup code runs in the parent
    proc.communicate(timeout=10)
    assert not wait_gone(pids.values(), timeout=10.0), "orphaned Flow processes"
