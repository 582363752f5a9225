"""/docs: Swagger UI over /openapi.json, from the fastapi-offline package's own files (served
under /static/swagger), so that the page works offline; no CDN is ever asked. That package ships
Swagger UI 5, the first that reads OpenAPI 3.1, the version FastAPI writes (4.x, as in the
swagger-ui-bundle package, answered "Unable to render this definition"). Of its files, only
swagger-ui-bundle.js, swagger-ui.css and favicon.png are used: not its FastAPIOffline app factory.

The page is written here rather than by FastAPI's get_swagger_ui_html, whose inline start-up
script the site's Content-Security-Policy (web/security_headers.py) would block: Swagger UI starts
from /static/swagger-init.js instead, and the page keeps the same policy as every other."""

from __future__ import annotations

from html import escape
from importlib.resources import files

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from paperboy import __version__
from paperboy.web.context import app_context

SWAGGER_STATIC = "/static/swagger"
SWAGGER_FILES = files("fastapi_offline") / "static"
router = APIRouter(include_in_schema=False)
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{swagger}/swagger-ui.css">
<link rel="icon" href="{swagger}/favicon.png">
<title>{title}</title>
</head>
<body>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
<script src="{swagger}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js?v={version}"></script>
</body>
</html>
"""


@router.get("/docs")
def api_docs(request: Request) -> HTMLResponse:
    title = escape(f"{app_context(request).settings.site_name} API")
    return HTMLResponse(PAGE.format(swagger=SWAGGER_STATIC, title=title, version=__version__))


def mount_swagger_files(app: FastAPI) -> None:
    """Before the site's /static mount, which would otherwise answer these paths."""
    app.mount(SWAGGER_STATIC, StaticFiles(directory=str(SWAGGER_FILES)), name="swagger")
