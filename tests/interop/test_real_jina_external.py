"""External executors across implementations: real Jina 3.34's in our Flow, ours in a real Jina Flow."""

from __future__ import annotations

from docarray import Document

from jina import Client, Flow
from jina.flow.ports import free_port
from tests.conftest import running
from tests.interop.conftest import start_real_jina, stop


def test_a_real_jina_executor_is_an_external_executor_of_our_flow(real_jina_python, flows, tmp_path):
    port = free_port()
    proc = start_real_jina(real_jina_python, "executor.py", str(port), cwd=tmp_path)
    try:
        flow = flows(
            Flow()
            .add(name="ours", uses="tests.executors.Appender", uses_with={"letter": "!"})
            .add(name="real", host=f"grpc://127.0.0.1:{port}", external=True)
        )
        with Client(port=flow.port) as client:
            response = client.post("/", Document(text="x"), return_responses=True)[0]
        assert response.docs.texts == ["x! (real executor)"]
        assert [r.executor for r in response.routes] == ["gateway", "ours", "real"]
    finally:
        stop(proc)


def test_our_executor_is_an_external_executor_of_a_real_jina_flow(real_jina_python, tmp_path):
    exec_port, flow_port = free_port(), free_port()
    with running("executor", exec_port, "--port", str(exec_port), "--name", "ours", "--uses",
                 "tests.executors.Appender", "--uses-with", '{"letter": "?"}'):  # fmt: skip
        proc = start_real_jina(real_jina_python, "external_flow.py", str(flow_port), str(exec_port), cwd=tmp_path)
        try:
            with Client(port=flow_port) as client:
                assert client.post("/", Document(text="y")).texts == ["y?"]
        finally:
            stop(proc)
