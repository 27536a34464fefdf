"""GraphQL at /graphql: real Flows (bridge, gateway, executors as processes) queried over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from docarray import Document, DocumentArray

from jina import Executor, Flow, requests
from jina.flow.ports import free_port
from tests import executors
from tests.bridge.chromium import run_in_page
from tests.bridge.executors_http import EpExecutor
from tests.conftest import ROOT

SEED_YAML = ROOT / "tests" / "jina" / "flow" / "yaml" / "seed_graphql.yml"


class Matcher(Executor):
    """Gives every document two scored matches; returns how many it matched (the response's `__results__`)."""

    @requests
    def match(self, docs: DocumentArray, **kwargs):
        for doc in docs:
            for rank in (1, 2):
                match = Document(text=f"match {rank} of {doc.text}")
                match.scores["cosine"].value = 1 / rank
                doc.matches.append(match)
        return {"matched": len(docs)}


@pytest.fixture(scope="module")
def gql():
    flow = (
        Flow(protocol="http", host="127.0.0.1", port=free_port(), expose_graphql_endpoint=True, cors=True)
        .add(uses=EpExecutor, name="ep")
        .add(uses=Matcher, name="matcher")
        .add(uses=executors.Failing, name="failing")
        .add(uses=executors.AsyncSleeper, name="sleeper")
    )
    with flow:
        with httpx.Client(base_url=f"http://127.0.0.1:{flow.port}", timeout=60) as http:
            yield http


def graphql(http: httpx.Client, query: str, variables: dict | None = None, headers: dict | None = None) -> dict:
    reply = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    return reply.json()


# -- the seed's forms ------------------------------------------------------------------------


def _yaml_flow(tmp_path: Path, spelling: str) -> Flow:
    if spelling == "expose_graphql_endpont":
        return Flow.load_config(str(SEED_YAML))  # the seed's file, as the document writes it
    path = tmp_path / "flow.yml"
    path.write_text("jtype: Flow\nwith:\n  protocol: 'http'\n  expose_graphql_endpoint: true\n")
    return Flow.load_config(str(path))


@pytest.mark.parametrize("form", ["python", "yaml"])
@pytest.mark.parametrize("spelling", ["expose_graphql_endpont", "expose_graphql_endpoint"])
def test_the_seed_forms_serve_graphql(form, spelling, tmp_path):
    if form == "python":
        f = Flow(protocol="http", **{spelling: True})
    else:
        f = _yaml_flow(tmp_path, spelling)
    with f:
        reply = httpx.post(
            f"http://127.0.0.1:{f.port}/graphql",
            json={"query": 'mutation { docs(data: [{text: "hello"}], execEndpoint: "/") { text } }'},
            timeout=60,
        )
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"data": {"docs": [{"text": "hello"}]}}  # an empty Flow answers what it got


# -- queries and mutations -------------------------------------------------------------------


def test_a_query_selecting_text_returns_the_executors_output(gql):
    body = graphql(gql, '{ docs(data: [{text: "hello"}], targetExecutor: "^ep$") { text tags } }')
    assert body == {
        "data": {"docs": [{"text": "hello", "tags": {"hit": "default"}}, {"text": "default was called", "tags": None}]}
    }


def test_a_mutation_reaches_the_endpoint_with_its_parameters(gql):
    body = graphql(
        gql,
        "mutation Send($p: JSONScalar) {"
        ' docs(data: [{text: "hello"}], execEndpoint: "/foo", parameters: $p, targetExecutor: "^ep$") { text tags } }',
        {"p": {"p": 1, "who": "graphql"}},
    )
    assert body["data"]["docs"] == [
        {"text": "hello", "tags": {"hit": "/foo"}},
        {"text": "foo was called", "tags": {"parameters": {"p": 1, "who": "graphql"}}},
    ]


def test_parameters_given_as_a_string_of_json_as_jina_clients_do(gql):
    body = graphql(
        gql, 'query { docs(execEndpoint: "/bar", parameters: "{\\"p\\": 2}", targetExecutor: "^ep$") { tags } }'
    )
    assert body["data"]["docs"] == [{"tags": {"parameters": {"p": 2}}}]


def test_nested_matches_with_scores(gql):
    body = graphql(
        gql,
        '{ docs(data: [{text: "q"}], targetExecutor: "matcher") '
        "{ text matches { text scores { name score { value } } } } }",
    )
    assert body["data"]["docs"] == [
        {
            "text": "q",
            "matches": [
                {"text": "match 1 of q", "scores": [{"name": "cosine", "score": {"value": 1.0}}]},
                {"text": "match 2 of q", "scores": [{"name": "cosine", "score": {"value": 0.5}}]},
            ],
        }
    ]


def test_target_executor_reaches_only_that_executor(gql):
    body = graphql(
        gql,
        '{ response(data: [{text: "x"}], targetExecutor: "^matcher$") '
        "{ docs { tags matches { text } } routes { executor } } }",
    )
    answer = body["data"]["response"]
    assert [r["executor"] for r in answer["routes"]] == ["gateway", "matcher"]
    assert answer["docs"] == [{"tags": None, "matches": [{"text": "match 1 of x"}, {"text": "match 2 of x"}]}]


def test_the_response_field_shows_parameters_and_results(gql):
    body = graphql(
        gql,
        'mutation { response(data: [{text: "a"}, {text: "b"}], parameters: {echo: 1}, targetExecutor: "matcher") '
        "{ requestId docs { text } parameters } }",
    )
    answer = body["data"]["response"]
    assert answer["parameters"]["echo"] == 1
    assert answer["parameters"]["__results__"] == {"matcher/rep-0": {"matched": 2}}  # Jina's key
    assert [d["text"] for d in answer["docs"]] == ["a", "b"] and answer["requestId"]


def test_documents_keep_their_fields_both_ways(gql):
    doc = {
        "id": "d1",
        "text": "t",
        "uri": "http://example.invalid/x",
        "mimeType": "text/plain",
        "tags": {"k": [1, "two"]},
        "embedding": [0.5, 1.5],
        "chunks": [{"text": "c", "embedding": [[1, 2], [3, 4]]}],
    }
    body = graphql(
        gql,
        "query ($d: [StrawberryDocumentInput!]) { docs(data: $d, targetExecutor: 'none') "
        "{ id text uri mimeType tags embedding chunks { text embedding } } }".replace("'", '"'),
        {"d": [doc]},
    )
    assert body["data"]["docs"] == [
        {**doc, "chunks": [{"text": "c", "embedding": [[1, 2], [3, 4]]}]},
    ]


# -- errors ----------------------------------------------------------------------------------


def test_an_executor_exception_is_an_error_and_the_next_request_works(gql):
    body = graphql(gql, '{ docs(data: [{text: "x"}], execEndpoint: "/fail") { text } }')
    assert body["data"] is None  # never the input documents as if it had worked
    (error,) = body["errors"]
    assert "'failing'" in error["message"] and "ValueError" in error["message"] and "boom" in error["message"]
    assert error["extensions"] == {"code": "UNKNOWN", "executor": "failing", "exception": "ValueError"}
    assert error["path"] == ["docs"]
    after = graphql(gql, '{ docs(data: [{text: "ok"}], targetExecutor: "failing") { text tags } }')
    assert after == {"data": {"docs": [{"text": "ok", "tags": {"passed_failing": True}}]}}


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ('{ docs(data: [{text: "x"}], exec_endpoint: "/foo") { text } }', "Unknown argument 'exec_endpoint'"),
        ("{ docs { nothing } }", "Cannot query field 'nothing'"),
        ("{ docs { text }", "Syntax Error"),
        ("{ docs(execEndpoint: 5) { text } }", "String cannot represent a non string value: 5"),
        ("{ docs(data: [{text: 1}]) { text } }", "String cannot represent a non string value: 1"),
        ("{ docs(data: 7) { text } }", "Expected value of type 'StrawberryDocumentInput' to be an object"),
    ],
)
def test_invalid_queries_and_wrong_argument_types_get_standard_errors(gql, query, says):
    body = graphql(gql, query)
    assert body["data"] is None
    assert any(says in e["message"] for e in body["errors"]), body
    assert all("locations" in e for e in body["errors"])
    assert graphql(gql, '{ docs(data: [{text: "next"}], targetExecutor: "none") { text } }') == {
        "data": {"docs": [{"text": "next"}]}
    }


def test_a_wrong_variable_type_and_a_bad_document(gql):
    wrong = graphql(gql, "query ($e: String!) { docs(execEndpoint: $e) { text } }", {"e": 3})
    assert wrong["data"] is None and "Variable '$e' has invalid value" in wrong["errors"][0]["message"]
    bad = graphql(gql, '{ docs(data: [{text: "x", embedding: "no"}]) { text } }')
    (error,) = bad["errors"]
    assert error["extensions"]["code"] == "INVALID_ARGUMENT" and "data[0].embedding" in error["message"]
    regex = graphql(gql, '{ docs(targetExecutor: "(") { text } }')
    assert regex["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


def test_a_deadline_is_an_error_naming_the_executor(gql):
    started = time.monotonic()
    body = graphql(
        gql,
        '{ docs(data: [{text: "x"}], parameters: {seconds: 20}, targetExecutor: "sleeper") { text } }',
        headers={"Grpc-Timeout": "300m"},
    )
    assert time.monotonic() - started < 15
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "DEADLINE_EXCEEDED"
    assert "'sleeper'" in error["message"] and "300 ms" in error["message"], error
    assert body["data"] is None


def test_requests_that_are_not_graphql(gql):
    assert gql.post("/graphql", content=b"{", headers={"content-type": "application/json"}).status_code == 400
    assert gql.post("/graphql", json={"variables": {}}).status_code == 400
    assert gql.post("/graphql", content=b"x", headers={"content-type": "text/plain"}).status_code == 415
    by_get = gql.get("/graphql", params={"query": 'mutation { docs(execEndpoint: "/foo") { text } }'})
    assert by_get.status_code == 405 and by_get.headers["allow"] == "POST"
    assert gql.put("/graphql", json={"query": "{ docs { text } }"}).status_code == 405
    query = gql.get("/graphql", params={"query": '{ docs(data: [{text: "g"}], targetExecutor: "none") { text } }'})
    assert query.status_code == 200 and query.json() == {"data": {"docs": [{"text": "g"}]}}


def test_an_unreachable_gateway_is_unavailable(tmp_path):
    port = free_port()
    config = {"expose_graphql_endpoint": True, "descriptor_timeout": 0.5}
    argv = [sys.executable, "-m", "jina_mesh.bridge", "--gateway", f"127.0.0.1:{free_port()}"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--config", json.dumps(config)]
    with (tmp_path / "bridge.log").open("wb") as log:
        bridge = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/graphql"
        deadline = time.monotonic() + 30
        while True:
            try:
                reply = httpx.post(url, json={"query": '{ docs(data: [{text: "x"}]) { text } }'}, timeout=30)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and bridge.poll() is None, (tmp_path / "bridge.log").read_text()
                time.sleep(0.2)
        assert reply.status_code == 200
        body = reply.json()
        assert body["data"] is None
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "UNAVAILABLE" and "gateway cannot be reached" in error["message"]
    finally:
        bridge.terminate()
        bridge.wait(10)


_WITHOUT_STRAWBERRY = "import sys; sys.modules['strawberry'] = None\n"


def test_without_the_library_the_flow_does_not_start():
    code = _WITHOUT_STRAWBERRY + "from jina import Flow\nFlow(protocol='http', expose_graphql_endpoint=True).start()\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode != 0
    assert "BadConfig" in done.stderr and "pip install 'jina-mesh[graphql]'" in done.stderr, done.stderr[-2000:]
    assert "Flow is ready" not in done.stderr


def test_without_the_library_the_bridge_does_not_start():
    code = _WITHOUT_STRAWBERRY + "from jina_mesh.bridge.main import main\nsys.exit(main(sys.argv[1:]))\n"
    config = json.dumps({"expose_graphql_endpoint": True})
    argv = [sys.executable, "-c", code, "--gateway", "127.0.0.1:1", "--port", str(free_port()), "--config", config]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT, env={**os.environ})
    assert done.returncode == 1
    assert "pip install 'jina-mesh[graphql]'" in done.stderr, done.stderr[-2000:]


# -- the HTTP around it ----------------------------------------------------------------------


def test_without_the_flag_graphql_is_404():
    with Flow(protocol="http", host="127.0.0.1", port=free_port()) as flow:
        reply = httpx.post(f"http://127.0.0.1:{flow.port}/graphql", json={"query": "{ docs { text } }"}, timeout=30)
        document = httpx.get(f"http://127.0.0.1:{flow.port}/openapi.json", timeout=30).json()
    assert "/graphql" not in document["paths"]
    assert reply.status_code == 404
    assert reply.json()["error"]["status"] == "NOT_FOUND"


def test_cors_applies_to_graphql(gql):
    preflight = gql.options(
        "/graphql",
        headers={
            "Origin": "http://elsewhere.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", "http://elsewhere.example")
    assert "POST" in preflight.headers["access-control-allow-methods"]
    reply = gql.post(
        "/graphql",
        json={"query": '{ docs(targetExecutor: "none") { text } }'},
        headers={"Origin": "http://elsewhere.example"},
    )
    assert reply.status_code == 200 and "access-control-allow-origin" in reply.headers


# -- the explorer ----------------------------------------------------------------------------


def test_the_explorer_page_loads_nothing_from_elsewhere(gql):
    page = gql.get("/graphql", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script src" not in page.text and "<link" not in page.text and "https://" not in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy


_CLICK_RUN = """(async () => {
  const until = async (check) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise(r => setTimeout(r, 50));
  };
  await until(() => document.body.dataset.schema === "loaded");
  const schema = document.getElementById("schema").innerText;
  document.getElementById("query").value =
    'mutation { docs(data: [{text: "from the page"}], execEndpoint: "/foo", targetExecutor: "^ep$") { text tags } }';
  document.getElementById("run").click();
  await until(() => document.getElementById("result").textContent !== "");
  return {schema: schema, result: document.getElementById("result").textContent, title: document.title};
})()"""


def test_the_explorer_runs_a_query_in_chromium_with_the_network_off(gql, tmp_path):
    url = str(gql.base_url).rstrip("/") + "/graphql"
    value, requested = run_in_page(url, _CLICK_RUN, tmp_path / "profile")
    assert "docs(data: [StrawberryDocumentInput!]" in value["schema"]  # the schema, from introspection
    assert "Mutation" in value["schema"] and "StrawberryDocument" in value["schema"]
    result = json.loads(value["result"])
    assert result["data"]["docs"][0] == {"text": "from the page", "tags": {"hit": "/foo"}}
    assert result["data"]["docs"][1]["text"] == "foo was called"  # the executor's output
    origin = str(gql.base_url).rstrip("/")
    assert requested and all(u.startswith(origin + "/") for u in requested), requested


# -- /openapi.json -----------------------------------------------------------------------------


def test_graphql_is_in_the_bridges_openapi_document(gql):
    from tests.bridge.test_openapi import structural_problems

    document = gql.get("/openapi.json").json()
    assert structural_problems(document) == []
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values() if "operationId" in op]
    assert len(ids) == len(set(ids))
    assert set(document["paths"]["/graphql"]) == {"get", "post"}  # as Jina documents /graphql
