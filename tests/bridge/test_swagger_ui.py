"""Swagger UI at /docs: rendered by a real headless Chromium that can reach nothing but the bridge."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from swagger_ui_bundle import swagger_ui_path

from jina import Flow
from jina.flow.ports import free_port
from tests.bridge.chromium import render_dom
from tests.bridge.executors_http import EpExecutor

TITLE = "Swagger Test Service"


@pytest.fixture(scope="module")
def docs_flow():
    flow = Flow(protocol="http", host="127.0.0.1", port=free_port(), title=TITLE).add(uses=EpExecutor)
    flow.expose_endpoint("/foo", summary="my endpoint")
    try:
        flow.start()
        yield f"http://127.0.0.1:{flow.port}"
    finally:
        flow.close()


def test_chromium_renders_the_routes_from_the_bridge_alone(docs_flow, tmp_path):
    document = httpx.get(docs_flow + "/openapi.json", timeout=30).json()
    dom = render_dom(docs_flow + "/docs", tmp_path / "profile")
    assert "opblock" in dom, dom[:2000]
    rendered = set(re.findall(r'class="opblock-summary-path"[^>]*data-path="([^"]*)"', dom))
    assert {"/status", "/post", "/foo"} <= rendered, rendered
    assert rendered == set(document["paths"])  # every documented route, and only those
    assert "my endpoint" in dom  # the exposed endpoint's summary
    assert "Customized" in dom  # ...and its tag
    assert "errors-wrapper" not in dom  # Swagger UI found nothing wrong with the document


def test_the_page_loads_only_assets_the_bridge_serves(docs_flow):
    with httpx.Client(base_url=docs_flow, timeout=30) as http:
        page = http.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert references, page.text
        assert re.findall(r"https?://", page.text) == []  # no CDN: nothing outside the bridge
        expected = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
        for reference in references:
            assert reference.startswith("/docs/assets/"), reference
            asset = http.get(reference)
            assert asset.status_code == 200, reference
            suffix = Path(reference).suffix
            assert expected[suffix] in asset.headers["content-type"], (reference, asset.headers["content-type"])


def test_swagger_ui_bundle_is_javascript(docs_flow):
    response = httpx.get(docs_flow + "/docs/assets/swagger-ui-bundle.js", timeout=30)
    assert response.status_code == 200
    content_type = response.headers["content-type"].split(";")[0].strip()
    assert content_type in ("text/javascript", "application/javascript"), content_type
    assert response.content == (Path(str(swagger_ui_path)) / "swagger-ui-bundle.js").read_bytes()


@pytest.mark.parametrize(
    "target",
    [
        "/docs/assets/../../etc/passwd",
        "/docs/assets/../../openapi.json",  # would be 200 if anything removed the dot segments
        "/docs/assets/../../../../../../../../etc/passwd",
        "/docs/assets/%2e%2e/%2e%2e/etc/passwd",
        "/docs/assets/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/docs/assets/%2fetc%2fpasswd",
        "/docs/assets/",
        "/docs/assets/swagger-ui-bundle.js.map",
    ],
)
def test_no_path_leaves_the_assets(docs_flow, target):
    # sent byte for byte: httpx would otherwise remove the dot segments before sending
    request = httpx.Request("GET", docs_flow + "/docs/assets/x", extensions={"target": target.encode()})
    with httpx.Client(timeout=30) as http:
        response = http.send(request)
    assert response.status_code == 404, (target, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == 404
    assert isinstance(error["message"], str) and isinstance(error["status"], str)
    assert "root:" not in response.text


def test_the_page_title_is_the_flow_title(docs_flow):
    """Jina's /docs page is titled '<Flow title> - Swagger UI', like its OpenAPI info.title."""
    document = httpx.get(docs_flow + "/openapi.json", timeout=30).json()
    assert document["info"]["title"] == TITLE
    page = httpx.get(docs_flow + "/docs", timeout=30).text
    assert re.search(r"<title>(.*?)</title>", page).group(1) == f"{TITLE} - Swagger UI"
