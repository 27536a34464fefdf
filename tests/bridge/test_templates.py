from __future__ import annotations

import pytest
from jina_mesh.bridge.templates import PathTemplate, TemplateError


@pytest.mark.parametrize(
    ("template", "path", "bound"),
    [
        ("/", "/", {}),
        ("/status", "/status", {}),
        ("/status", "/status/", None),
        ("/v1/{name}", "/v1/shelf1", {"name": "shelf1"}),
        ("/v1/{name}", "/v1/a/b", None),
        ("/v1/{name=shelves/*}", "/v1/shelves/s1", {"name": "shelves/s1"}),
        ("/v1/{name=shelves/*}/books/{book.id}", "/v1/shelves/s1/books/b2", {"name": "shelves/s1", "book.id": "b2"}),
        ("/v1/{path=**}", "/v1/a/b/c", {"path": "a/b/c"}),
        ("/v1/*/x", "/v1/anything/x", {}),
        ("/v1/{name}:publish", "/v1/n1:publish", {"name": "n1"}),
        ("/v1/{name}:publish", "/v1/n1", None),
        ("/v1/{name}", "/v1/a%2Fb", {"name": "a/b"}),
    ],
)
def test_match(template, path, bound):
    assert PathTemplate.parse(template).match(path) == bound


@pytest.mark.parametrize(
    "template",
    ["status", "/a//b", "/{unclosed", "/a}", "/{1bad}", "/{a}/{a}", "/{a={b}}", "/**/x", "/a b"],
)
def test_bad_templates(template):
    with pytest.raises(TemplateError):
        PathTemplate.parse(template)


def test_openapi_path_and_literal():
    assert PathTemplate.parse("/v1/{name=shelves/*}:get").openapi_path == "/v1/{name}:get"
    assert PathTemplate.parse("/status").is_literal
    assert not PathTemplate.parse("/v1/{x}").is_literal
