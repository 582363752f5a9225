"""/docs: Swagger UI over /openapi.json, from the swagger-ui-bundle package's own files (served
under /static/swagger), so that the page works offline; no CDN is ever asked."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from paperboy.web.context import app_context

SWAGGER_STATIC = "/static/swagger"
router = APIRouter(include_in_schema=False)


@router.get("/docs")
def api_docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{app_context(request).settings.site_name} API",
        swagger_js_url=f"{SWAGGER_STATIC}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_STATIC}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_STATIC}/favicon-32x32.png",
    )


def mount_swagger_files(app: FastAPI) -> None:
    """Before the site's /static mount, which would otherwise answer these paths."""
    app.mount(SWAGGER_STATIC, StaticFiles(directory=swagger_ui_path), name="swagger")
