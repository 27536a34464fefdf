"""The executor runtime through real `jina executor` processes: runtime surface, YAML, uses_requests,
dynamic batching, joins (process_data) and `__results__`."""

from __future__ import annotations

import asyncio
import contextlib
import json

import grpc
import pytest
from docarray import Document, DocumentArray
from google.protobuf import empty_pb2

from jina.documents import docs_from_content
from jina.excepts import RuntimeFailToStart
from jina.flow.ports import free_port
from jina.proto import jina_pb2, jina_pb2_grpc
from jina.wire import dict_to_struct, struct_to_dict
from tests.conftest import running

PROBES = "tests.services.executor.probes"


@contextlib.contextmanager
def executor(*args: str):
    port = free_port()
    with running("executor", port, "--host", "127.0.0.1", "--port", str(port), "--log-level", "ERROR", *args):
        yield f"127.0.0.1:{port}"


def make_request(docs=(), endpoint="/", parameters=None, routes=()) -> jina_pb2.DataRequestProto:
    request = jina_pb2.DataRequestProto()
    request.header.exec_endpoint = endpoint
    request.data.docs.CopyFrom(DocumentArray(list(docs)).to_protobuf())
    if parameters:
        dict_to_struct(parameters, request.parameters)
    for route in routes:
        request.routes.add(executor=route)
    return request


def call(address: str, request: jina_pb2.DataRequestProto) -> jina_pb2.DataRequestProto:
    with grpc.insecure_channel(address) as channel:
        return jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel).process_single_data(request, timeout=20)


def call_list(address: str, requests: list[jina_pb2.DataRequestProto]) -> jina_pb2.DataRequestProto:
    with grpc.insecure_channel(address) as channel:
        stub = jina_pb2_grpc.JinaDataRequestRPCStub(channel)
        return stub.process_data(jina_pb2.DataRequestListProto(requests=requests), timeout=20)


def call_concurrently(address: str, requests: list[jina_pb2.DataRequestProto]) -> list[jina_pb2.DataRequestProto]:
    async def send() -> list[jina_pb2.DataRequestProto]:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel)
            return await asyncio.gather(*(stub.process_single_data(r, timeout=20) for r in requests))

    return asyncio.run(send())


def surface(response: jina_pb2.DataRequestProto) -> dict:
    assert response.header.status.code == jina_pb2.StatusProto.SUCCESS, response.header.status.description
    return docs_from_content(response.data)[-1].tags


@pytest.mark.parametrize(
    ("args", "metas_name", "runtime_name", "shard_dir"),
    [
        # `jina executor --name counter` in Jina: runtime_args.name is the name as given
        (["--name", "counter"], "counter", "counter", "counter/0"),
        # replicas: Jina's Deployment names each `<name>/rep-<i>`
        (["--name", "enc", "--replicas", "2", "--replica-id", "1"], "enc", "enc/rep-1", "enc/0"),
        # shards: `<name>/shard-<s>/rep-<i>`, and the workspace gets the shard's own directory
        (["--name", "idx", "--shards", "2", "--shard-id", "1"], "idx", "idx/shard-1/rep-0", "idx/1"),
        # no name at all: metas.name is the class name, as in Jina
        ([], "Surface", "executor", "Surface/0"),
    ],
)
def test_runtime_surface_and_results_key(tmp_path, args, metas_name, runtime_name, shard_dir):
    with executor("--uses", f"{PROBES}:Surface", "--workspace", str(tmp_path), *args) as address:
        response = call(address, make_request([Document(text="a")]))
    tags = surface(response)
    assert tags["metas.name"] == metas_name
    assert tags["runtime.name"] == runtime_name
    shards = 2 if "--shards" in args else 1
    assert (tags["shards"], tags["shard_id"]) == (shards, 1 if shards == 2 else 0)
    assert tags["replicas"] == (2 if "--replicas" in args else 1)
    assert tags["workspace"] == str(tmp_path / shard_dir)
    assert (tmp_path / shard_dir).is_dir()
    # `__results__` is keyed by runtime_args.name, as Jina's worker keys it
    assert struct_to_dict(response.parameters)["__results__"] == {runtime_name: {"seen": 2.0}}


def test_uses_metas_names_the_executor_and_its_workspace(tmp_path):
    args = ["--name", "enc", "--workspace", str(tmp_path), "--uses-metas", json.dumps({"name": "mm"})]
    with executor("--uses", f"{PROBES}:Surface", *args) as address:
        parameters = {"mm": {"only_mm": 1}, "enc": {"only_enc": 1}, "other": {"no": 1}, "shared": 1}
        tags = surface(call(address, make_request(parameters=parameters)))
    assert tags["metas.name"] == "mm"
    assert tags["runtime.name"] == "enc"
    assert tags["workspace"] == str(tmp_path / "mm" / "0")
    # parameters addressed by the Flow's name (Jina's gateway does that) and by metas.name (its worker)
    assert {k: v for k, v in tags["parameters"].items() if not isinstance(v, dict)} == {
        "only_mm": 1,
        "only_enc": 1,
        "shared": 1,
    }


def test_executor_yaml_metas_requests_and_env(tmp_path, monkeypatch):
    monkeypatch.setenv("PROBE_NAME", "from-env")
    (tmp_path / "exec.yml").write_text(
        f"jtype: {PROBES}.Surface\nmetas:\n  name: $PROBE_NAME\nrequests:\n  /other: other\n"
    )
    args = ["--uses", str(tmp_path / "exec.yml"), "--name", "flow-name", "--workspace", str(tmp_path)]
    with executor(*args) as address:
        tags = surface(call(address, make_request([Document(text="a")])))
        other = call(address, make_request([Document(text="b")], endpoint="/other"))
        with grpc.insecure_channel(address) as channel:
            discovery = jina_pb2_grpc.JinaDiscoverEndpointsRPCStub(channel)
            endpoints = discovery.endpoint_discovery(empty_pb2.Empty(), timeout=10)
    # the YAML's metas.name beats the Flow's name for the executor (Jina's precedence)
    assert tags["metas.name"] == "from-env"
    assert tags["workspace"] == str(tmp_path / "from-env" / "0")
    assert docs_from_content(other.data)[0].tags["other"] is True
    assert {"/default", "/other"} <= set(endpoints.endpoints)


def test_uses_requests_moves_a_method_to_an_endpoint(tmp_path):
    args = ["--uses-requests", json.dumps({"/x": "other", "/report": "report"}), "--workspace", str(tmp_path)]
    with executor("--uses", f"{PROBES}:Surface", *args) as address:
        moved = call(address, make_request([Document(text="a")], endpoint="/x"))
        reported = call(address, make_request(endpoint="/report"))
        fallback = call(address, make_request(endpoint="/anything"))
    assert docs_from_content(moved.data)[0].tags["other"] is True
    assert surface(reported)["metas.name"] == "Surface"
    # the default binding moved to /report: other endpoints are not bound any more (passed through)
    assert len(docs_from_content(fallback.data)) == 0
    assert [r.executor for r in fallback.routes] == ["executor"]


def test_uses_requests_naming_an_unknown_method_stops_the_start():
    with pytest.raises(RuntimeFailToStart) as info:
        with executor("--uses", f"{PROBES}:Surface", "--uses-requests", json.dumps({"/x": "nope"})):
            pass
    message = str(info.value)
    assert "Surface has no method 'nope'" in message
    assert "other" in message and "report" in message  # it names the methods there are


def one_doc_requests(n: int, endpoint: str, parameters=None) -> list[jina_pb2.DataRequestProto]:
    return [make_request([Document(id=f"d{i}", text=str(i))], endpoint, parameters) for i in range(n)]


def test_dynamic_batching_batches_32_concurrent_requests():
    with executor("--uses", f"{PROBES}:Batched") as address:
        responses = call_concurrently(address, one_doc_requests(32, "/batch"))
        returned = call_concurrently(address, one_doc_requests(8, "/async"))
    sizes = []
    for i, response in enumerate(responses):
        assert response.header.status.code == jina_pb2.StatusProto.SUCCESS, response.header.status.description
        (doc,) = docs_from_content(response.data)
        assert (doc.id, doc.text) == (f"d{i}", str(i))  # each request gets its own document back
        assert doc.tags["calls"] == 1
        sizes.append(doc.tags["batch"])
    assert max(sizes) > 1, sizes
    assert max(sizes) <= 8  # preferred_batch_size
    # a method returning new documents: each request gets its slice, in order
    for i, response in enumerate(returned):
        (doc,) = docs_from_content(response.data)
        assert (doc.id, doc.text) == (f"d{i}", f"{i}!")
        assert doc.tags["batch"] > 1


def test_uses_dynamic_batching_turns_batching_on_for_an_endpoint():
    config = json.dumps({"/plain": {"preferred_batch_size": 16, "timeout": 300}})
    with executor("--uses", f"{PROBES}:Batched", "--uses-dynamic-batching", config) as address:
        responses = call_concurrently(address, one_doc_requests(16, "/plain"))
    sizes = [docs_from_content(r.data)[0].tags["batch"] for r in responses]
    assert max(sizes) > 1, sizes


def test_a_failing_batch_fails_each_of_its_requests_and_only_those():
    with executor("--uses", f"{PROBES}:Batched") as address:
        # parameters differ: Jina batches requests with equal parameters only
        responses = call_concurrently(
            address, one_doc_requests(8, "/batch", {"fail": True}) + one_doc_requests(8, "/batch", {"fail": False})
        )
    failed, passed = responses[:8], responses[8:]
    for response in failed:
        status = response.header.status
        assert status.code == jina_pb2.StatusProto.ERROR
        assert status.exception.name == "RuntimeError"
        assert "failed" in status.exception.args[0]
    for response in passed:
        assert response.header.status.code == jina_pb2.StatusProto.SUCCESS
        assert docs_from_content(response.data)[0].tags["batch"] > 1


def branch(name: str, *docs: Document) -> jina_pb2.DataRequestProto:
    return make_request(docs, routes=("gateway", name))


@pytest.mark.parametrize(
    ("flag", "expected_docs"),
    [
        (None, ["x", "y", "z"]),  # default: every document once
        ("--no-reduce", ["x", "y", "y2", "z"]),  # Jina's no_reduce: all parts' documents
        ("--join-parts", ["merged"]),  # the first part is the gateway's merge
    ],
)
def test_process_data_gives_the_join_its_branches(flag, expected_docs):
    x, y, z = Document(text="x"), Document(text="y"), Document(text="z")
    parts = [branch("b", x, y), branch("c", Document(id=y.id, text="y2"), z)]
    if flag == "--join-parts":
        parts.insert(0, make_request([Document(text="merged")], routes=("gateway", "c")))
    with executor("--uses", f"{PROBES}:Joiner", "--name", "j", *([flag] if flag else [])) as address:
        response = call_list(address, parts)
    assert response.header.status.code == jina_pb2.StatusProto.SUCCESS, response.header.status.description
    (summary,) = docs_from_content(response.data)
    assert summary.tags["docs"] == expected_docs
    assert summary.tags["matrix"] == [["x", "y"], ["y2", "z"]]
    # keyed by each branch's last route entry: the upstream executor's name
    assert summary.tags["map"] == {"b": ["x", "y"], "c": ["y2", "z"]}
    assert response.routes[-1].executor == "j"


def test_a_single_request_has_its_upstream_in_docs_map():
    with executor("--uses", f"{PROBES}:Joiner") as address:
        chained = docs_from_content(call(address, branch("a", Document(text="x"))).data)[0]
        empty = docs_from_content(call(address, make_request()).data)[0]
    assert chained.tags["matrix"] == [["x"]]
    assert chained.tags["map"] == {"a": ["x"]}
    # no route entry: it came from the gateway; no documents at all: docs_matrix is None (Jina's rule)
    assert empty.tags["matrix"] is None
    assert empty.tags["map"] == {"gateway": []}
