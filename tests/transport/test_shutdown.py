"""Graceful shutdown: a SIGTERM lets every request in flight finish, then every process exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

from docarray import Document, DocumentArray

from jina import Client
from tests.conftest import ROOT, wait_gone

SERVE = """
import json
from jina import Flow
flow = Flow(host='127.0.0.1').add(uses='tests.executors:AsyncSleeper')
with flow:
    print(json.dumps({'port': flow.port, 'pids': flow.pids}), flush=True)
    flow.block()
print('stopped', flush=True)
"""


def test_sigterm_during_fifty_requests_in_flight():
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    info = json.loads(proc.stdout.readline())
    results: list = []
    errors: list = []

    def post() -> None:
        try:
            with Client(port=info["port"]) as client:
                docs = DocumentArray([Document(text=str(i)) for i in range(50)])
                results.extend(client.post("/", docs, request_size=1, parameters={"seconds": 1.0}))
        except Exception as exc:  # the assertion below shows it
            errors.append(exc)

    worker = threading.Thread(target=post)
    worker.start()
    time.sleep(0.5)  # all 50 are now in flight (each takes a second)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    worker.join(30)
    out, err = proc.communicate(timeout=30)
    assert not errors, errors
    assert sorted(d.text for d in results) == sorted(str(i) for i in range(50))
    assert "stopped" in out and proc.returncode == 0, err
    assert time.monotonic() - started < 5
    assert not wait_gone(info["pids"].values(), timeout=5)
