"""A bridge started before its gateway: 503 on its health route until the gateway serves, then 200."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from jina.flow.ports import free_port
from tests.conftest import ROOT, stop_processes
from tests.services.conftest import start_executor


def jina_process(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "jina", *args, "--log-level", "WARNING"], cwd=ROOT, stdin=subprocess.DEVNULL
    )


def wait_for(http: httpx.Client, check, seconds: float) -> httpx.Response:
    """GET / until check(response) holds (connection errors count as not yet)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            response = http.get("/")
            if check(response):
                return response
        except httpx.TransportError:
            response = None
        if time.monotonic() > deadline:
            detail = "no answer" if response is None else f"{response.status_code} {response.text}"
            raise AssertionError(f"GET / still {detail} after {seconds}s")
        time.sleep(0.1)


def test_a_bridge_started_before_its_gateway_serves_once_the_gateway_does():
    gateway_port, port, executor_port = free_port(), free_port(), free_port()
    bridge = jina_process(
        "bridge", "--gateway", f"127.0.0.1:{gateway_port}", "--host", "127.0.0.1", "--port", str(port)
    )
    gateway = executor = None
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            alone = wait_for(http, lambda r: True, 30)
            assert alone.status_code == 503, alone.text
            assert alone.json()["error"]["status"] == "UNAVAILABLE"
            # what is wrong, without the internal address (debug=True would show it)
            assert alone.json()["error"]["message"].startswith("the gateway is not serving: UNAVAILABLE")
            assert f":{gateway_port}" not in alone.json()["error"]["message"]

            # the gateway comes up, its executor not yet: the gateway says NOT_SERVING, and so the bridge 503
            gateway = jina_process(
                "gateway", "--host", "127.0.0.1", "--port", str(gateway_port),
                "--executors", f"a=127.0.0.1:{executor_port}",
            )  # fmt: skip
            waiting = wait_for(http, lambda r: "NOT_SERVING" in r.text, 20)
            assert waiting.status_code == 503

            executor, _ = start_executor(
                "tests.executors:Appender", "a", "--uses-with", '{"letter": "1"}', port=executor_port
            )
            assert wait_for(http, lambda r: r.status_code == 200, 10).json() == {}
            posted = http.post("/post", json={"data": [{"text": "x"}]})
            assert posted.status_code == 200, posted.text
            assert [doc["text"] for doc in posted.json()["data"]] == ["x1"]
            # and the routes were read again from the gateway's reflection, without a restart
            deadline = time.monotonic() + 10
            while http.get("/openapi.json").json()["info"]["x-descriptors"] != "reflection":
                assert time.monotonic() < deadline, "the bridge never read the gateway's descriptors"
                time.sleep(0.1)
    finally:
        stop_processes(bridge, gateway, executor)
