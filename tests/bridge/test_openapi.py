"""The bridge's OpenAPI document, fetched over plain HTTP from real Flows and compared with what Jina 3.34 serves.

The expected path sets and operation docs are written out below; `test_expectations_match_the_jina_reference`
checks them against the reference files recorded from a real Jina 3.34 (copied to tests/bridge/reference).
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from jina import Flow
from jina.flow.ports import free_port
from tests.bridge.executors_http import EpExecutor

REFERENCE = Path(__file__).parent / "reference"

# the seed's two calls, and the seed's YAML for them (merged into one Flow)
SEED_CALLS = (
    ("/foo", {"summary": "my endpoint"}),
    ("/bar", {"summary": "my endpoint", "tags": ["fine-tuning"], "methods": ["PUT"]}),
)
EXPOSE_OPTIONS = {
    "/foo": {"summary": "my endpoint"},
    "/bar": {"methods": ["PUT"], "summary": "my endpoint", "tags": ["fine-tuning"]},
}
SEED_YAML = """
jtype: Flow
with:
  protocol: http
  expose_endpoints:
    /foo:
      summary: my endpoint
    /bar:
      methods: ["PUT"]
      summary: my endpoint
      tags:
        - fine-tuning
"""

Op = tuple[str, str]  # (path, lower-case method), as in OpenAPI's `paths`

DEBUG_JINA: set[Op] = {("/status", "get"), ("/dry_run", "get"), ("/post", "post")}
DEBUG_EXTRA: set[Op] = {("/endpoints", "get")}  # this project's annotated RPC, not in Jina
CRUD: set[Op] = {("/index", "post"), ("/search", "post"), ("/update", "put"), ("/delete", "delete")}
HEALTH: set[Op] = {("/", "get")}
SEED_EXPOSED: set[Op] = {("/foo", "post"), ("/bar", "put")}

# what Jina serves, per Flow of http.txt: A (default), B (expose_endpoint), C1 (no_debug),
# C2 (no_crud + the calls of B), C (no_debug + no_crud)
JINA_PATHS: dict[str, set[Op]] = {
    "default": DEBUG_JINA | CRUD | HEALTH,
    "expose": DEBUG_JINA | CRUD | HEALTH | SEED_EXPOSED,
    "no_debug": CRUD | HEALTH,
    "no_crud_expose": DEBUG_JINA | HEALTH | SEED_EXPOSED,
    "no_debug_no_crud": HEALTH,
}

# tags and summaries as Jina documents them (where Jina gives tags; Jina has none on /dry_run, /post and /)
JINA_DOCS: dict[Op, tuple[list[str] | None, str]] = {
    ("/status", "get"): (["Debug"], "Get the status of Jina service"),
    ("/dry_run", "get"): (
        None,
        "Get the readiness of Jina Flow service, sends an empty DocumentArray to the complete Flow to validate "
        "connectivity",
    ),
    ("/index", "post"): (["CRUD"], "/Index"),
    ("/search", "post"): (["CRUD"], "/Search"),
    ("/update", "put"): (["CRUD"], "/Update"),
    ("/delete", "delete"): (["CRUD"], "/Delete"),
    ("/", "get"): (None, "Get the health of Jina Gateway service"),
    ("/foo", "post"): (["Customized"], "my endpoint"),
    ("/bar", "put"): (["fine-tuning"], "my endpoint"),
}

# name → (Flow options, expose_endpoint calls made before start)
CONFIGS: dict[str, tuple[dict[str, Any], tuple]] = {
    "default": ({}, ()),
    "seed_calls": ({}, SEED_CALLS),
    "seed_options": ({"expose_endpoints": EXPOSE_OPTIONS}, ()),
    "no_debug": ({"no_debug_endpoints": True}, ()),
    "no_crud_expose": ({"no_crud_endpoints": True, "expose_endpoints": EXPOSE_OPTIONS}, ()),
    "no_debug_no_crud": ({"no_debug_endpoints": True, "no_crud_endpoints": True}, ()),
    "no_debug_no_crud_expose": (
        {"no_debug_endpoints": True, "no_crud_endpoints": True, "expose_endpoints": EXPOSE_OPTIONS},
        (),
    ),
    # paths whose naive operationIds collide ('/a-b' and '/a_b'; '/root' and the health route '/')
    "similar_paths": ({"expose_endpoints": {"/a-b": {}, "/a_b": {}, "/root": {"methods": ["GET"]}}}, ()),
}

# what this project serves per Flow: Jina's set plus its annotated /endpoints wherever debug routes are on
EXPECTED_PATHS: dict[str, set[Op]] = {
    "default": JINA_PATHS["default"] | DEBUG_EXTRA,
    "seed_calls": JINA_PATHS["expose"] | DEBUG_EXTRA,
    "seed_options": JINA_PATHS["expose"] | DEBUG_EXTRA,
    "no_debug": JINA_PATHS["no_debug"],
    "no_crud_expose": JINA_PATHS["no_crud_expose"] | DEBUG_EXTRA,
    "no_debug_no_crud": JINA_PATHS["no_debug_no_crud"],
    "no_debug_no_crud_expose": HEALTH | SEED_EXPOSED,
    "similar_paths": JINA_PATHS["default"] | DEBUG_EXTRA | {("/a-b", "post"), ("/a_b", "post"), ("/root", "get")},
}

ERROR_REF = "#/components/schemas/ErrorResponse"


class Served:
    """Flows started on first use and kept running for the module; their OpenAPI documents cached."""

    def __init__(self):
        self.flows: dict[str, Flow] = {}
        self.documents: dict[str, dict] = {}

    def url(self, name: str) -> str:
        if name not in self.flows:
            options, calls = CONFIGS[name]
            flow = Flow(protocol="http", host="127.0.0.1", port=free_port(), **options).add(uses=EpExecutor)
            for endpoint, kwargs in calls:
                flow.expose_endpoint(endpoint, **kwargs)
            self.flows[name] = flow  # registered first: close() stops what a failed start left
            flow.start()
        return f"http://127.0.0.1:{self.flows[name].port}"

    def openapi(self, name: str) -> dict:
        if name not in self.documents:
            response = httpx.get(self.url(name) + "/openapi.json", timeout=30)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith("application/json")
            self.documents[name] = response.json()
        return self.documents[name]

    def close(self) -> None:
        for flow in reversed(list(self.flows.values())):
            flow.close()


@pytest.fixture(scope="module")
def served():
    pool = Served()
    try:
        yield pool
    finally:
        pool.close()


def operations(document: dict) -> dict[Op, dict]:
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return {
        (path, method): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in methods
    }


# -- structural validation --------------------------------------------------------------------

_SCHEMA_TYPES = {"object", "array", "string", "number", "integer", "boolean"}
_RESPONSE_KEY = re.compile(r"^([1-5][0-9][0-9]|[1-5]XX|default)$")
_COMPONENT_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


def structural_problems(document: dict) -> list[str]:
    """What makes the document an invalid OpenAPI 3.0 document (the parts a generator can get wrong)."""
    problems: list[str] = []

    def resolve(ref: str, where: str) -> Any:
        if not ref.startswith("#/components/"):
            problems.append(f"{where}: $ref {ref!r} points outside components")
            return None
        node: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                problems.append(f"{where}: $ref {ref!r} does not resolve")
                return None
            node = node[part]
        return node

    def every_ref(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                if set(node) != {"$ref"}:
                    problems.append(f"{where}: $ref has siblings (ignored in OpenAPI 3.0): {sorted(node)}")
                resolve(node["$ref"], where)
            for key, value in node.items():
                every_ref(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                every_ref(value, f"{where}/{index}")

    def schema(node: Any, where: str) -> None:
        if not isinstance(node, dict):
            problems.append(f"{where}: a schema must be an object, got {node!r}")
            return
        if "$ref" in node:
            return
        kind = node.get("type")
        if kind is not None and kind not in _SCHEMA_TYPES:
            problems.append(f"{where}: type {kind!r} is not an OpenAPI 3.0 type")
        if kind == "array" and "items" not in node:
            problems.append(f"{where}: an array schema needs items")
        if "nullable" in node and not isinstance(node["nullable"], bool):
            problems.append(f"{where}: nullable must be a boolean")
        for key in ("items", "not"):
            if key in node:
                schema(node[key], f"{where}/{key}")
        for key in ("oneOf", "anyOf", "allOf"):
            if key in node:
                if not isinstance(node[key], list) or not node[key]:
                    problems.append(f"{where}/{key}: must be a non-empty list")
                    continue
                for index, sub in enumerate(node[key]):
                    schema(sub, f"{where}/{key}/{index}")
        properties = node.get("properties", {})
        if not isinstance(properties, dict):
            problems.append(f"{where}/properties: must be an object")
            properties = {}
        for name, sub in properties.items():
            schema(sub, f"{where}/properties/{name}")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            schema(extra, f"{where}/additionalProperties")
        elif extra is not None and not isinstance(extra, bool):
            problems.append(f"{where}/additionalProperties: must be a boolean or a schema")
        required = node.get("required")
        if required is not None:
            if not isinstance(required, list) or not required or not all(isinstance(r, str) for r in required):
                problems.append(f"{where}/required: must be a non-empty list of names")
            elif "properties" in node and set(required) - set(properties):
                problems.append(f"{where}/required: {sorted(set(required) - set(properties))} are not properties")

    def content(node: Any, where: str) -> None:
        if not isinstance(node, dict) or not node:
            problems.append(f"{where}: content must map media types to media type objects")
            return
        for media_type, media in node.items():
            if "/" not in media_type:
                problems.append(f"{where}: {media_type!r} is not a media type")
            if "schema" in media:
                schema(media["schema"], f"{where}/{media_type}/schema")

    version = document.get("openapi")
    if not (isinstance(version, str) and re.fullmatch(r"3\.\d+\.\d+", version)):
        problems.append(f"openapi: {version!r} is not an OpenAPI 3 version")
    info = document.get("info")
    if not isinstance(info, dict) or not isinstance(info.get("title"), str) or not isinstance(info.get("version"), str):
        problems.append(f"info needs a title and a version (strings), got {info!r}")
    if not isinstance(document.get("paths"), dict):
        problems.append("paths must be an object")
        return problems
    schemas = document.get("components", {}).get("schemas", {})
    for name, sub in schemas.items():
        if not _COMPONENT_NAME.match(name):
            problems.append(f"components/schemas: {name!r} is not a valid component name")
        schema(sub, f"#/components/schemas/{name}")

    operation_ids = Counter()
    for path, item in document["paths"].items():
        if not path.startswith("/"):
            problems.append(f"path {path!r} must start with '/'")
        variables = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            if method not in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
                problems.append(f"{where}: not an HTTP method")
                continue
            if "operationId" in operation:
                operation_ids[operation["operationId"]] += 1
            if not isinstance(operation.get("summary", ""), str):
                problems.append(f"{where}: summary must be a string")
            tags = operation.get("tags", [])
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                problems.append(f"{where}: tags must be a list of strings")
            declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
            if declared != variables:
                problems.append(f"{where}: path parameters {sorted(declared)} != variables {sorted(variables)}")
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("required") is not True:
                    problems.append(f"{where}: path parameter {parameter.get('name')!r} must be required")
            if "requestBody" in operation:
                content(operation["requestBody"].get("content"), f"{where} requestBody")
            responses = operation.get("responses")
            if not isinstance(responses, dict) or not responses:
                problems.append(f"{where}: no responses")
                continue
            for status, response in responses.items():
                if not _RESPONSE_KEY.match(str(status)):
                    problems.append(f"{where}: {status!r} is not a response status")
                if not isinstance(response.get("description"), str):
                    problems.append(f"{where} {status}: a response needs a description")
                if "content" in response:
                    content(response["content"], f"{where} {status}")
    for operation_id, count in operation_ids.items():
        if count > 1:
            problems.append(f"operationId {operation_id!r} is used by {count} operations (must be unique)")
    every_ref(document, "#")
    return problems


# -- the documents ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in CONFIGS if n != "similar_paths"])
def test_document_is_a_valid_openapi_3_document(served, name):
    document = served.openapi(name)
    assert document["openapi"].startswith("3.")
    assert structural_problems(document) == []


@pytest.mark.parametrize("name", list(CONFIGS))
def test_paths_and_methods(served, name):
    assert set(operations(served.openapi(name))) == EXPECTED_PATHS[name]


def test_default_flow_has_jinas_routes_plus_endpoints(served):
    document = served.openapi("default")
    assert set(operations(document)) - DEBUG_EXTRA == JINA_PATHS["default"]
    jina = {"/", "/status", "/dry_run", "/post", "/index", "/search", "/update", "/delete"}
    assert set(document["paths"]) == jina | {"/endpoints"}
    endpoints = operations(document)[("/endpoints", "get")]
    assert endpoints["tags"] == ["Debug"]


@pytest.mark.parametrize("name", ["default", "seed_calls"])
def test_tags_and_summaries_are_jinas(served, name):
    found = operations(served.openapi(name))
    for op, (tags, summary) in JINA_DOCS.items():
        if op not in found:
            assert op in SEED_EXPOSED and name == "default"
            continue
        assert found[op]["summary"] == summary, op
        if tags is not None:
            assert found[op]["tags"] == tags, op
    for op in DEBUG_JINA | DEBUG_EXTRA:
        assert found[op]["tags"] == ["Debug"], op


def test_expose_endpoint_calls_document_foo_and_bar(served):
    paths = served.openapi("seed_calls")["paths"]
    assert set(paths["/foo"]) == {"post"}
    assert paths["/foo"]["post"]["tags"] == ["Customized"]
    assert paths["/foo"]["post"]["summary"] == "my endpoint"
    assert set(paths["/bar"]) == {"put"}
    assert paths["/bar"]["put"]["tags"] == ["fine-tuning"]
    assert paths["/bar"]["put"]["summary"] == "my endpoint"
    for operation in (paths["/foo"]["post"], paths["/bar"]["put"]):
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/JinaRequestModel"}  # the endpoint is fixed, as in Jina
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": "#/components/schemas/JinaResponseModel"}


def _error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == status
    assert isinstance(error["status"], str) and isinstance(error["message"], str)
    return error


def test_exposed_routes_answer_on_their_methods_only(served):
    url = served.url("seed_calls")
    body = {"data": [{"text": "hello"}], "parameters": {"p": 2}}
    with httpx.Client(base_url=url, timeout=30) as http:
        foo = http.post("/foo", json=body)
        assert foo.status_code == 200, foo.text
        assert foo.json()["header"]["execEndpoint"] == "/foo"
        assert [d["text"] for d in foo.json()["data"]] == ["hello", "foo was called"]
        assert foo.json()["data"][0]["tags"] == {"hit": "/foo"}
        assert foo.json()["data"][1]["tags"] == {"parameters": {"p": 2}}

        bar = http.put("/bar", json=body)
        assert bar.status_code == 200, bar.text
        assert bar.json()["header"]["execEndpoint"] == "/bar"
        assert [d["text"] for d in bar.json()["data"]] == ["hello", "bar was called"]

        wrong = http.get("/foo")
        _error(wrong, 405)
        assert wrong.headers["allow"] == "POST"
        wrong = http.post("/bar", json=body)
        _error(wrong, 405)
        assert wrong.headers["allow"] == "PUT"

        # the exposed route calls its own endpoint, whatever the body says (as in Jina)
        pinned = http.post("/foo", json={**body, "execEndpoint": "/bar"})
        assert pinned.status_code == 200, pinned.text
        assert pinned.json()["header"]["execEndpoint"] == "/foo"


def test_yaml_option_form_equals_the_python_calls(served):
    seed = yaml.safe_load(SEED_YAML)
    assert seed == {"jtype": "Flow", "with": {"protocol": "http", "expose_endpoints": EXPOSE_OPTIONS}}
    by_calls, by_options = served.openapi("seed_calls"), served.openapi("seed_options")
    assert by_options["paths"] == by_calls["paths"]
    assert by_options["components"] == by_calls["components"]
    with httpx.Client(base_url=served.url("seed_options"), timeout=30) as http:
        assert http.post("/foo", json={"data": [{"text": "x"}]}).status_code == 200
        assert http.put("/bar", json={"data": [{"text": "x"}]}).status_code == 200
        _error(http.get("/foo"), 405)
        _error(http.post("/bar", json={}), 405)


def test_no_debug_endpoints_removes_exactly_the_debug_routes(served):
    default, hidden = set(operations(served.openapi("default"))), set(operations(served.openapi("no_debug")))
    assert hidden <= default
    assert {path for path, _ in default - hidden} == {"/status", "/dry_run", "/post", "/endpoints"}
    assert hidden == JINA_PATHS["no_debug"]
    with httpx.Client(base_url=served.url("no_debug"), timeout=30) as http:
        for path in ("/status", "/dry_run", "/endpoints"):
            _error(http.get(path), 404)
        _error(http.post("/post", json={"data": [{"text": "x"}]}), 404)
        assert http.post("/index", json={"data": [{"text": "x"}]}).status_code == 200


def test_no_crud_endpoints_removes_exactly_the_crud_routes(served):
    with_exposed = set(operations(served.openapi("seed_calls")))
    hidden = set(operations(served.openapi("no_crud_expose")))
    assert hidden <= with_exposed
    assert {path for path, _ in with_exposed - hidden} == {"/index", "/search", "/update", "/delete"}
    assert hidden - DEBUG_EXTRA == JINA_PATHS["no_crud_expose"]
    with httpx.Client(base_url=served.url("no_crud_expose"), timeout=30) as http:
        _error(http.post("/index", json={"data": [{"text": "x"}]}), 404)
        _error(http.post("/search", json={"data": [{"text": "x"}]}), 404)
        _error(http.put("/update", json={"data": [{"text": "x"}]}), 404)
        _error(http.delete("/delete"), 404)
        assert http.get("/status").status_code == 200
        assert http.post("/foo", json={"data": [{"text": "x"}]}).status_code == 200


def test_no_debug_and_no_crud_leave_the_health_route_and_the_exposed_ones(served):
    assert set(served.openapi("no_debug_no_crud")["paths"]) == {"/"}
    assert set(operations(served.openapi("no_debug_no_crud"))) == JINA_PATHS["no_debug_no_crud"]
    assert set(served.openapi("no_debug_no_crud_expose")["paths"]) == {"/", "/foo", "/bar"}
    with httpx.Client(base_url=served.url("no_debug_no_crud_expose"), timeout=30) as http:
        assert http.get("/").json() == {}
        _error(http.get("/status"), 404)
        _error(http.post("/index", json={}), 404)
        foo = http.post("/foo", json={"data": [{"text": "x"}]})
        assert [d["text"] for d in foo.json()["data"]] == ["x", "foo was called"]


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_operation_documents_the_error_shape(served, name):
    document = served.openapi(name)
    for op, operation in operations(document).items():
        for status in ("4XX", "5XX"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": ERROR_REF}, (op, status)
    schemas = document["components"]["schemas"]
    assert "error" in schemas["ErrorResponse"]["required"]
    assert schemas["ErrorResponse"]["properties"]["error"] == {"$ref": "#/components/schemas/Error"}
    # every error body has all four keys (bridge/errors.py), so the document requires all four
    assert set(schemas["Error"]["required"]) == {"code", "status", "message", "details"}
    assert schemas["Error"]["properties"]["code"]["type"] == "integer"


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _nullable_ref(schema: dict) -> str:
    """The component a `null`-or-object field refers to (OpenAPI 3.0 ignores a `$ref`'s siblings)."""
    assert schema.get("nullable") is True, schema
    assert [set(s) for s in schema["allOf"]] == [{"$ref"}], schema
    return schema["allOf"][0]["$ref"]


def test_rpc_message_fields_left_unset_are_declared_nullable(served):
    """/dry_run writes `"exception": null` (as Jina does) and /endpoints `"schemas": null`: both are declared."""
    document = served.openapi("default")
    ops = operations(document)
    with httpx.Client(base_url=served.url("default"), timeout=30) as http:
        dry_run, endpoints = http.get("/dry_run").json(), http.get("/endpoints").json()
    assert dry_run == {"code": 0, "description": "", "exception": None}
    assert endpoints["schemas"] is None
    status = _resolve(document, ops[("/dry_run", "get")]["responses"]["200"]["content"]["application/json"]["schema"])
    assert _nullable_ref(status["properties"]["exception"]).endswith("ExceptionProto")
    listing = _resolve(
        document, ops[("/endpoints", "get")]["responses"]["200"]["content"]["application/json"]["schema"]
    )
    assert listing["properties"]["schemas"] == {"type": "object", "additionalProperties": True, "nullable": True}
    # repeated fields are lists, never null
    assert listing["properties"]["endpoints"] == {"type": "array", "items": {"type": "string"}}


@pytest.mark.parametrize("model", ["JinaRequestModel", "JinaEndpointRequestModel"])
def test_request_models_list_every_key_the_bridge_reads_and_refuse_others(served, model):
    schema = served.openapi("default")["components"]["schemas"][model]
    assert schema["additionalProperties"] is False  # the bridge answers an unknown key with 422
    assert schema["nullable"] is True  # a null body is an empty one
    assert set(schema["properties"]) == {
        "data",
        "parameters",
        "execEndpoint",
        "exec_endpoint",
        "targetExecutor",
        "target_executor",
        "header",
        "routes",
    }
    for key in ("data", "parameters", "execEndpoint", "exec_endpoint", "targetExecutor", "header", "routes"):
        assert schema["properties"][key]["nullable"] is True, key  # null is the same as leaving it out


def test_unknown_keys_and_nulls_are_answered_as_documented(served):
    with httpx.Client(base_url=served.url("default"), timeout=30) as http:
        nulls = {"data": None, "parameters": None, "execEndpoint": None, "targetExecutor": None, "header": None}
        assert http.post("/post", json=nulls).status_code == 200
        assert http.post("/index", content=b"null", headers={"content-type": "application/json"}).status_code == 200
        error = _error(http.post("/index", json={"data": [], "paramters": {}}), 422)
        assert error["details"] == [{"location": "paramters", "message": error["details"][0]["message"]}]
        _error(http.post("/post", json={"execEndpoint": None, "exec_endpoint": {}}), 422)
        _error(http.post("/search", json={"targetExecutor": "("}), 422)
        _error(http.post("/post", json={"data": [{"weight": 1e300}]}), 422)


def test_operation_ids_are_unique_for_similar_paths(served):
    """'/a-b' and '/a_b' (and '/root' next to the health route '/') are different operations.

    OpenAPI: "The id MUST be unique among all operations described in the API"; Swagger UI's deep
    links and generated clients key on it.
    """
    document = served.openapi("similar_paths")
    ids = Counter(op["operationId"] for op in operations(document).values())
    assert [i for i, n in ids.items() if n > 1] == []
    assert structural_problems(document) == []


def test_structural_check_finds_what_breaks_a_document(served):
    """The checker is not vacuous: each planted fault is reported."""
    broken = json.loads(json.dumps(served.openapi("default")))
    broken["openapi"] = "2.0"
    post = broken["paths"]["/post"]["post"]
    post["responses"]["5XX"]["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/Nope"}
    post["responses"]["200"].pop("description")
    post["responses"]["42"] = {"description": "odd"}
    broken["paths"]["/status"]["get"]["operationId"] = post["operationId"]
    broken["paths"]["/items/{name}"] = {"get": {"responses": {"200": {"description": "ok"}}}}
    broken["components"]["schemas"]["Error"]["properties"]["details"] = {"type": "array"}
    broken["components"]["schemas"]["ErrorResponse"]["properties"]["error"]["description"] = "x"
    problems = "\n".join(structural_problems(broken))
    for expected in (
        "is not an OpenAPI 3 version",
        "'#/components/schemas/Nope' does not resolve",
        "POST /post 200: a response needs a description",
        "'42' is not a response status",
        "is used by 2 operations",
        "GET /items/{name}: path parameters [] != variables ['name']",
        "Error/properties/details: an array schema needs items",
        "$ref has siblings",
    ):
        assert expected in problems, (expected, problems)


# -- the expectations above are Jina's ------------------------------------------------------


def _reference_operations(name: str) -> set[Op]:
    return set(operations(json.loads((REFERENCE / name).read_text())))


def _reference_section_paths(section: str) -> set[Op]:
    """The `# openapi paths: {...}` line of an http.txt section, e.g. 'C1'."""
    text = (REFERENCE / "http.txt").read_text()
    start = text.index(f"######## {section}.")
    line = re.search(r"^# openapi paths: (\{.*\})$", text[start:], re.M)
    assert line is not None, f"no openapi paths line in section {section}"
    return {(path, method) for path, methods in ast.literal_eval(line.group(1)).items() for method in methods}


def test_expectations_match_the_jina_reference():
    assert _reference_operations("openapi.json") == JINA_PATHS["default"]
    assert _reference_operations("openapi_expose_endpoint.json") == JINA_PATHS["expose"]
    assert _reference_operations("openapi_no_debug_no_crud.json") == JINA_PATHS["no_debug_no_crud"]
    assert _reference_section_paths("C1") == JINA_PATHS["no_debug"]
    assert _reference_section_paths("C2") == JINA_PATHS["no_crud_expose"]
    reference = operations(json.loads((REFERENCE / "openapi_expose_endpoint.json").read_text()))
    for op, (tags, summary) in JINA_DOCS.items():
        assert reference[op]["summary"] == summary, op
        assert reference[op].get("tags") == tags, op
