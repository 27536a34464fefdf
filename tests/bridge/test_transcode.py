"""The generic google.api.http mapping, on a proto that is not Jina's (tests/bridge/protos/library.proto)."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent import futures
from pathlib import Path

import grpc
import httpx
import pytest
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection
from jina_mesh.bridge.config import BridgeConfig
from jina_mesh.bridge.descriptors import MessageTypes, compiled_files, http_bindings
from jina_mesh.bridge.errors import HTTPError
from jina_mesh.bridge.routes import build_routes
from jina_mesh.bridge.transcode import build_message, render_message

from jina.flow import launcher
from jina.flow.ports import free_port
from tests.conftest import ROOT

PROTOS = Path(__file__).parent / "protos"


@pytest.fixture(scope="module")
def library_files(tmp_path_factory) -> list[descriptor_pb2.FileDescriptorProto]:
    out = tmp_path_factory.mktemp("library") / "library.pb"
    result = subprocess.run(
        [
            sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTOS}", f"-I{ROOT / 'protos'}",
            f"--descriptor_set_out={out}", "--include_imports", str(PROTOS / "library.proto"),
        ],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return list(descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file)


def test_route_table_is_exactly_the_annotated_rpcs_plus_configured_routes(library_files):
    config = BridgeConfig.build("gateway:1", expose_endpoints={"/foo": {"methods": ["PUT"]}})
    table = build_routes(config, http_bindings(library_files))
    assert sorted(table.describe()) == sorted(
        [
            ("GET", "/v1/{name=shelves/*/books/*}", "/library.Library/GetBook"),
            ("GET", "/v1/books/{name}", "/library.Library/GetBook"),
            ("POST", "/v1/{parent=shelves/*}/books", "/library.Library/CreateBook"),
            ("PATCH", "/v1/{name=shelves/*/books/*}", "/library.Library/UpdateBook"),
            # Plain has no annotation; Watch streams, which HTTP/1 request-response cannot carry
            ("POST", "/index", "executor endpoint /index"),
            ("POST", "/search", "executor endpoint /search"),
            ("PUT", "/update", "executor endpoint /update"),
            ("DELETE", "/delete", "executor endpoint /delete"),
            ("PUT", "/foo", "executor endpoint /foo"),
            ("GET", "/", "gRPC health"),
        ]
    )


def test_jina_protos_give_jinas_debug_routes():
    table = build_routes(BridgeConfig.build("gateway:1"), http_bindings(compiled_files()))
    debug = sorted(
        (verb, path)
        for verb, path, _ in table.describe()
        if path not in ("/index", "/search", "/update", "/delete", "/")
    )
    assert debug == [("GET", "/dry_run"), ("GET", "/endpoints"), ("GET", "/status"), ("POST", "/post")]


def test_path_query_and_body_mapping(library_files):
    types = MessageTypes(library_files)
    get = types.get("library.GetBookRequest")
    message = build_message(
        get, body="", raw_body=b"", path_values={"name": "shelves/1/books/2"},
        query=[("full", "true"), ("fields", "a"), ("fields", "b"), ("author.name", "ann")],
    )  # fmt: skip
    assert (message.name, message.full, list(message.fields), message.author.name) == (
        "shelves/1/books/2", True, ["a", "b"], "ann",
    )  # fmt: skip
    create = types.get("library.CreateBookRequest")
    message = build_message(
        create, body="book", raw_body=b'{"title": "T", "pages": 3, "isbn": "12"}',
        path_values={"parent": "shelves/1"}, query=[],
    )  # fmt: skip
    assert (message.parent, message.book.title, message.book.pages, message.book.isbn) == ("shelves/1", "T", 3, 12)
    whole = build_message(
        types.get("library.Book"), body="*", raw_body=b'{"title": "x"}', path_values={"name": "shelves/1/books/2"},
        query=[("pages", "9")],
    )  # fmt: skip
    assert (whole.name, whole.title, whole.pages) == ("shelves/1/books/2", "x", 0)  # body "*": no query fields


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"body": "", "raw_body": b"", "path_values": {}, "query": [("full", "maybe")]}, 400),
        ({"body": "", "raw_body": b"", "path_values": {}, "query": [("nosuch", "1")]}, 400),
        ({"body": "", "raw_body": b"", "path_values": {}, "query": [("name", "a"), ("name", "b")]}, 400),
        ({"body": "", "raw_body": b"", "path_values": {}, "query": [("author", "x")]}, 400),
        ({"body": "*", "raw_body": b"{bad", "path_values": {}, "query": []}, 400),
        ({"body": "*", "raw_body": b'{"full": "yes"}', "path_values": {}, "query": []}, 422),
        ({"body": "*", "raw_body": b"[1]", "path_values": {}, "query": []}, 422),
    ],
)
def test_mapping_errors(library_files, kwargs, status):
    with pytest.raises(HTTPError) as info:
        build_message(MessageTypes(library_files).get("library.GetBookRequest"), **kwargs)
    assert info.value.status == status


def test_render_prints_defaults_and_null_messages(library_files):
    book = MessageTypes(library_files).get("library.Book")(title="t")
    assert render_message(book) == {
        "name": "", "title": "t", "pages": 0, "published": False, "tags": [], "author": None, "isbn": "0",
    }  # fmt: skip


@pytest.fixture(scope="module")
def library_server(library_files):
    """A plain gRPC server of library.Library with reflection: a gateway the bridge knows nothing about."""
    from google.protobuf import descriptor_pool, message_factory

    pool = descriptor_pool.DescriptorPool()
    for file in library_files:
        pool.Add(file)
    book_cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("library.Book"))
    get_cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("library.GetBookRequest"))
    create_cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("library.CreateBookRequest"))

    def get_book(request, context):
        if request.name.endswith("missing"):
            context.abort(grpc.StatusCode.NOT_FOUND, f"no book {request.name}")
        return book_cls(name=request.name, title="found", pages=10 if request.full else 0)

    def create_book(request, context):
        book = book_cls()
        book.CopyFrom(request.book)
        book.name = f"{request.parent}/books/new"
        return book

    handlers = grpc.method_handlers_generic_handler(
        "library.Library",
        {
            "GetBook": grpc.unary_unary_rpc_method_handler(get_book, get_cls.FromString, book_cls.SerializeToString),
            "CreateBook": grpc.unary_unary_rpc_method_handler(
                create_book, create_cls.FromString, book_cls.SerializeToString
            ),
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handlers,))
    reflection.enable_server_reflection(["library.Library", reflection.SERVICE_NAME], server, pool=pool)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield port
    server.stop(0)


def test_a_gateway_unknown_to_the_bridge_is_transcoded_from_its_reflection(library_server):
    port = free_port()
    bridge = launcher.ServiceProcess(
        "bridge",
        launcher.python_argv("bridge", "--gateway", f"127.0.0.1:{library_server}", "--host", "127.0.0.1",
                             "--port", str(port), "--no-crud-endpoints"),
        launcher.child_env(),
        port,
    )  # fmt: skip
    bridge.start()
    try:
        launcher.wait_ready([bridge], timeout=30)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            got = http.get("/v1/shelves/s/books/b", params={"full": "true"})
            assert got.status_code == 200, got.text
            assert got.json()["title"] == "found" and got.json()["pages"] == 10
            assert http.get("/v1/books/b").json()["name"] == "b"
            created = http.post("/v1/shelves/s/books", json={"title": "new", "tags": ["x"]})
            assert created.json()["name"] == "shelves/s/books/new" and created.json()["tags"] == ["x"]
            missing = http.get("/v1/books/missing")
            assert missing.status_code == 404
            assert missing.json()["error"]["status"] == "NOT_FOUND"
            paths = set(http.get("/openapi.json").json()["paths"])
            assert {"/v1/{name}", "/v1/books/{name}", "/v1/{parent}/books", "/"} <= paths
    finally:
        launcher.stop_all([bridge], grace=2)


def test_routes_are_read_again_from_reflection_when_the_gateway_comes_back(library_files, tmp_path):
    """A bridge started before its gateway serves Jina's compiled routes, then the gateway's own."""
    from google.protobuf import descriptor_pool, message_factory

    gateway_port, port = free_port(), free_port()
    bridge = launcher.ServiceProcess(
        "bridge",
        launcher.python_argv("bridge", "--gateway", f"127.0.0.1:{gateway_port}", "--host", "127.0.0.1",
                             "--port", str(port), "--config", '{"descriptor_timeout": 0.5}'),
        launcher.child_env(),
        port,
    )  # fmt: skip
    bridge.start()
    server = None
    try:
        launcher.wait_ready([bridge], timeout=30)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            spec = http.get("/openapi.json").json()
            assert spec["info"]["x-descriptors"] == "compiled" and "/status" in spec["paths"]
            pool = descriptor_pool.DescriptorPool()
            for file in library_files:
                pool.Add(file)
            book = message_factory.GetMessageClass(pool.FindMessageTypeByName("library.Book"))
            request_cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("library.GetBookRequest"))
            handlers = grpc.method_handlers_generic_handler(
                "library.Library",
                {
                    "GetBook": grpc.unary_unary_rpc_method_handler(
                        lambda request, context: book(name=request.name, title="back"),
                        request_cls.FromString,
                        book.SerializeToString,
                    )
                },
            )
            server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
            server.add_generic_rpc_handlers((handlers,))
            reflection.enable_server_reflection(["library.Library", reflection.SERVICE_NAME], server, pool=pool)
            server.add_insecure_port(f"127.0.0.1:{gateway_port}")
            server.start()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                http.get("/")  # traffic makes the bridge's channel try to connect
                spec = http.get("/openapi.json").json()
                if spec["info"]["x-descriptors"] == "reflection":
                    break
                time.sleep(0.2)
            assert spec["info"]["x-descriptors"] == "reflection"
            assert "/v1/books/{name}" in spec["paths"] and "/status" not in spec["paths"]
            assert http.get("/v1/books/b").json()["title"] == "back"
    finally:
        launcher.stop_all([bridge], grace=2)
        if server is not None:
            server.stop(0)
