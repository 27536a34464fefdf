"""Swagger UI at /docs, served from the swagger-ui-bundle package: it works with no internet."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from starlette.responses import HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

ASSETS_PREFIX = "/docs/assets/"
_ASSETS = Path(str(swagger_ui_path))
_ALLOWED = {p.name for p in _ASSETS.iterdir() if p.is_file() and not p.name.endswith((".map", ".j2"))}

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title} - Swagger UI</title>
  <link rel="stylesheet" href="{prefix}swagger-ui.css">
  <link rel="icon" type="image/png" href="{prefix}favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{prefix}swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    }});
  </script>
</body>
</html>
"""


def respond(path: str, title: str = "jina-mesh") -> Response | None:
    """The page or one of its assets; None when the path is not Swagger UI's."""
    if path in ("/docs", "/docs/"):
        return HTMLResponse(_PAGE.format(title=title, prefix=ASSETS_PREFIX))
    if path.startswith(ASSETS_PREFIX):
        name = path[len(ASSETS_PREFIX) :]
        if name not in _ALLOWED:  # a fixed list: no path tricks reach the file system
            return None
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        headers = {"Cache-Control": "public, max-age=86400"}
        return Response((_ASSETS / name).read_bytes(), media_type=media_type, headers=headers)
    return None
