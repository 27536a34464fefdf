"""Plain HTTP requests (httpx, as curl would send them) to every default route of a real bridge."""

from __future__ import annotations

import grpc
import httpx
import pytest
from google.protobuf import empty_pb2

from jina import Flow
from jina.proto import jina_pb2_grpc
from tests import executors

CAMEL = {"data": [{"text": "hello"}], "execEndpoint": "/index", "targetExecutor": "", "parameters": {"k": "v"}}
SNAKE = {"data": [{"text": "hello"}], "exec_endpoint": "/index", "target_executor": "", "parameters": {"k": "v"}}


@pytest.fixture(scope="module")
def flow():
    f = (
        Flow(protocol=["grpc", "http"], host="127.0.0.1")
        .add(uses=executors.Appender, name="appender", uses_with={"letter": "!"})
        .add(uses=executors.IndexOnly, name="indexer")
    )
    with f:
        yield f


@pytest.fixture(scope="module")
def http(flow):
    with httpx.Client(base_url=f"http://127.0.0.1:{flow.ports['http']}", timeout=30) as client:
        yield client


def test_health(http):
    response = http.get("/")
    assert (response.status_code, response.json()) == (200, {})
    assert response.headers["content-type"] == "application/json"


def test_status_matches_grpc_status(flow, http):
    over_http = http.get("/status").json()
    with grpc.insecure_channel(f"127.0.0.1:{flow.ports['grpc']}") as channel:
        over_grpc = jina_pb2_grpc.JinaInfoRPCStub(channel)._status(empty_pb2.Empty())
    assert over_http == {"jina": dict(over_grpc.jina), "envs": dict(over_grpc.envs)}


def test_dry_run_like_jina(http):
    assert http.get("/dry_run").json() == {"code": 0, "description": "", "exception": None}


@pytest.mark.parametrize("body", [CAMEL, SNAKE], ids=["camelCase", "snake_case"])
def test_post_with_either_spelling(http, body):
    response = http.post("/post", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["header"]["execEndpoint"] == "/index"
    assert result["parameters"] == {"k": "v"}
    assert [r["executor"] for r in result["routes"]] == ["gateway", "appender", "indexer"]
    (doc,) = result["data"]
    assert doc["text"] == "hello!" and doc["tags"] == {"indexed": True}
    assert list(doc) == [
        "id", "parent_id", "granularity", "adjacency", "blob", "tensor", "mime_type", "text", "weight", "uri",
        "tags", "offset", "location", "embedding", "modality", "evaluations", "scores", "chunks", "matches",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("verb", "path"), [("post", "/index"), ("post", "/search"), ("put", "/update"), ("delete", "/delete")]
)
@pytest.mark.parametrize("body", [CAMEL, SNAKE], ids=["camelCase", "snake_case"])
def test_crud_routes_call_their_own_endpoint(http, verb, path, body):
    response = http.request(verb.upper(), path, json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["header"]["execEndpoint"] == path  # the route decides, as in Jina
    tags = result["data"][0]["tags"]
    assert (tags == {"indexed": True}) == (path == "/index")


def test_endpoints_lists_the_flows_endpoints(http):
    assert {"/default", "/index"} <= set(http.get("/endpoints").json()["endpoints"])


def test_documents_round_trip_every_field(http):
    doc = {
        "id": "d1", "text": "t", "tags": {"a": [1, "x", None], "b": {"c": True}}, "weight": 0.5, "uri": "a.png",
        "embedding": [[1.0, 2.0], [3.0, 4.0]], "location": [1.0, 2.0], "modality": "image", "granularity": 1,
        "scores": {"cos": {"value": 0.25, "op_name": "cos"}},
        "chunks": [{"id": "c1", "blob": "aGk="}], "matches": [{"id": "m1", "tensor": [1, 2, 3]}],
    }  # fmt: skip
    (out,) = http.post("/post", json={"data": [doc], "targetExecutor": "appender"}).json()["data"]
    assert out["id"] == "d1" and out["text"] == "t!"
    assert out["tags"] == {"a": [1.0, "x", None], "b": {"c": True}}
    assert out["embedding"] == [[1.0, 2.0], [3.0, 4.0]]
    assert out["mime_type"] == "image/png"  # docarray's guess from the uri, made in the executor
    assert out["scores"] == {"cos": {"value": 0.25, "op_name": "cos", "description": None, "ref_id": None}}
    assert out["chunks"][0]["blob"] == "aGk=" and out["matches"][0]["tensor"] == [1, 2, 3]


def test_grpc_and_http_share_one_flow(flow, http):
    assert len(flow.post("/", inputs=None)) == 0
    assert http.post("/post", json={"data": [{"text": "x"}]}).json()["data"][0]["text"] == "x!"


def test_cors_is_off_by_default(http):
    preflight = http.options("/post", headers={"Origin": "http://example.com", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 405
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in http.get("/", headers={"Origin": "http://example.com"}).headers


def test_cors_on_answers_preflights_and_adds_headers(flows):
    flow = flows(Flow(protocol="http", cors=True, host="127.0.0.1").add(uses=executors.Appender))
    with httpx.Client(base_url=f"http://127.0.0.1:{flow.port}") as http:
        preflight = http.options(
            "/post",
            headers={
                "Origin": "http://example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert "POST" in preflight.headers["access-control-allow-methods"]
        simple = http.post("/post", json={"data": []}, headers={"Origin": "http://example.com"})
        # cors=True is any origin *without* credentials (issue 11): `*`, never Allow-Credentials
        assert simple.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in simple.headers


def test_uvicorn_kwargs_reach_uvicorn(flows):
    flow = flows(Flow(protocol="http", host="127.0.0.1", uvicorn_kwargs={"http": "h11", "server_header": False}).add())
    with httpx.Client(base_url=f"http://127.0.0.1:{flow.port}") as http:
        response = http.get("/")
    assert response.status_code == 200
    assert "server" not in response.headers  # uvicorn's default header is gone: the option arrived


def test_seed_uvicorn_kwargs_sample_starts(flows):
    flow = flows(Flow(protocol="http", uvicorn_kwargs={"loop": "asyncio", "http": "httptools"}).add())
    assert httpx.get(f"http://127.0.0.1:{flow.port}/").status_code == 200
