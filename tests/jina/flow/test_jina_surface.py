"""Jina 3 options through whole Flows: shards and polling, joins' docs_matrix/docs_map and no_reduce,
dynamic batching, runtime names and workspaces, uses_requests/uses_metas, external executors over TLS."""

from __future__ import annotations

import asyncio
import os

from docarray import Document, DocumentArray

from jina import Client, Flow
from jina.flow.ports import free_port
from tests.conftest import running


def _matches_by_shard(doc) -> set[int]:
    return {int(m.tags["shard"]) for m in doc.matches}


def test_shards_with_polling_all_reach_every_shard_and_are_reduced(flows):
    flow = flows(Flow().add(name="idx", uses="tests.services.gateway.executors.ShardTagger", shards=2, polling="ALL"))
    response = flow.post("/foo", DocumentArray([Document(id="a"), Document(id="b")]), return_responses=True)[0]
    for doc in response.docs:
        assert _matches_by_shard(doc) == {0, 1}  # both shards' matches survive the reduce
        assert doc.tags["shard0"] and doc.tags["shard1"]
    assert sorted(response.parameters["__results__"]) == ["idx/shard-0/rep-0", "idx/shard-1/rep-0"]
    assert [r.executor for r in response.routes] == ["gateway", "idx"]


def test_shards_with_polling_any_reach_one_shard_and_search_reaches_all_as_in_jina(flows):
    flow = flows(Flow().add(name="idx", uses="tests.services.gateway.executors.ShardTagger", shards=2, replicas=2))
    seen = set()
    for i in range(24):  # sequential, so ties between the shards rotate; enough to ride out a busy machine
        doc = flow.post("/index", Document(id=f"d{i}"))[0]
        assert len(_matches_by_shard(doc)) == 1
        seen |= _matches_by_shard(doc)
    assert seen == {0, 1}  # balanced over both shards
    assert _matches_by_shard(flow.search(Document(id="q"))[0]) == {0, 1}  # Jina's default: /search is ALL


def test_polling_per_endpoint(flows):
    polling = {"/all": "ALL", "*": "ANY"}
    flow = flows(Flow().add(name="idx", uses="tests.services.gateway.executors.ShardTagger", shards=2, polling=polling))
    assert _matches_by_shard(flow.post("/all", Document())[0]) == {0, 1}
    assert len(_matches_by_shard(flow.post("/other", Document())[0])) == 1


def _join_flow(no_reduce: bool) -> Flow:
    return (
        Flow()
        .add(name="a", uses="tests.executors.Appender", uses_with={"letter": "A"})
        .add(name="b", uses="tests.executors.Appender", uses_with={"letter": "B"}, needs="gateway")
        .needs_all(name="join", uses="tests.services.gateway.executors.JoinRecorder", no_reduce=no_reduce)
    )


def test_a_join_gets_the_merge_and_every_branch_keyed_by_upstream_name(flows):
    flow = flows(_join_flow(no_reduce=False))
    response = flow.post("/", Document(id="x", text="x"), return_responses=True)[0]
    seen = response.parameters["__results__"]["join/rep-0"]
    assert seen["docs"] == ["xB"]  # the gateway's merge: both branches changed text, the later need wins
    assert sorted(seen["matrix"]) == [["xA"], ["xB"]]
    assert seen["map"] == {"a": ["xA"], "b": ["xB"]}


def test_no_reduce_hands_the_join_every_branch_unmerged(flows):
    flow = flows(_join_flow(no_reduce=True))
    response = flow.post("/", Document(id="x", text="x"), return_responses=True)[0]
    seen = response.parameters["__results__"]["join/rep-0"]
    assert seen["docs"] == ["xA", "xB"]  # as Jina: every branch's documents, not reduced
    assert seen["map"] == {"a": ["xA"], "b": ["xB"]}


def test_dynamic_batching_batches_concurrent_requests_through_a_flow(flows):
    flow = flows(Flow().add(name="b", uses="tests.services.executor.probes.Batched"))

    async def send_all() -> list[int]:
        async with Client(port=flow.port, asyncio=True) as client:

            async def one(i: int) -> int:
                async for response in client.post("/batch", Document(text=str(i)), return_responses=True):
                    return int(response.docs[0].tags["batch"])
                raise AssertionError("no response")

            return await asyncio.gather(*(one(i) for i in range(32)))

    sizes = asyncio.run(send_all())
    assert len(sizes) == 32 and max(sizes) > 1


def test_runtime_names_workspace_and_metas_as_jina_lays_them_out(flows, tmp_path):
    flow = flows(
        Flow(workspace=str(tmp_path))
        .add(name="enc", uses="tests.services.executor.probes.Surface", replicas=2)
        .add(name="idx", uses="tests.services.executor.probes.Surface", shards=2, uses_metas={"name": "index"})
    )
    surfaces = [d.tags for d in flow.post("/", DocumentArray(), request_size=1, return_responses=True)[0].docs]
    enc, idx = surfaces[0], surfaces[1]
    assert enc["metas.name"] == "enc" and enc["runtime.name"] in ("enc/rep-0", "enc/rep-1") and enc["replicas"] == 2
    assert enc["workspace"] == str(tmp_path / "enc" / "0")
    assert idx["metas.name"] == "index" and idx["shards"] == 2
    assert idx["runtime.name"] == f"idx/shard-{int(idx['shard_id'])}/rep-0"
    assert idx["workspace"] == str(tmp_path / "index" / str(int(idx["shard_id"])))
    assert os.path.isdir(idx["workspace"])


def test_uses_requests_rebinds_an_endpoint(flows):
    flow = flows(Flow().add(name="s", uses="tests.services.executor.probes.Surface", uses_requests={"/other": "other"}))
    assert flow.post("/other", Document())[0].tags["other"] is True
    assert "other" not in flow.post("/", Document())[0].tags


def test_an_external_executor_over_tls(flows, pki, monkeypatch):
    port = free_port()
    monkeypatch.setenv("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", pki["ca"])  # the gateway trusts the test CA
    with running("executor", port, "--port", str(port), "--uses", "tests.executors.Appender",
                 "--ssl-certfile", pki["cert"], "--ssl-keyfile", pki["key"]):  # fmt: skip
        flow = flows(Flow().add(name="secure", host=f"grpcs://127.0.0.1:{port}", external=True))
        assert flow.post("/", Document(text="t"))[0].text == "tx"
