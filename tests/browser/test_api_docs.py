"""/docs in a real browser: Chromium (Debian's, through Playwright) against `paperboy serve` must
render every operation of the OpenAPI 3.1 document that FastAPI writes (a Swagger UI older than 5
says "Unable to render this definition" instead), "Try it out" must call the API and show its
answer, and the page must break no rule of the site's Content-Security-Policy nor ask any other
origin for anything (no CDN: the page works offline).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from chromium import chromium, csp_violations, screenshot  # noqa: F401 - chromium is a fixture
from conftest import make_record
from live_server import live_server

pytestmark = pytest.mark.browser

PAPER = "2506.12229"


def test_docs_lists_every_operation_and_tries_one(chromium, add_papers, database_url, tmp_path):  # noqa: F811
    add_papers(make_record(PAPER))
    env = {"PAPERBOY_DATABASE_URL": database_url, "PAPERBOY_DATA_DIR": str(tmp_path / "data")}
    with live_server(env, tmp_path / "serve.log") as base:
        operations = _operations(base)
        context = chromium.new_context()
        violations = csp_violations(context)
        elsewhere = _requests_to_other_origins(context, base)
        page = context.new_page()
        page.goto(f"{base}/docs")
        page.locator(".opblock, .version-pragma, .errors-wrapper").first.wait_for(timeout=20_000)
        screenshot(page, "api-docs")
        refusals = page.locator(".version-pragma, .errors-wrapper")  # "Unable to render this definition"
        assert refusals.count() == 0, refusals.first.inner_text()
        shown = _shown_operations(page)
        _try_daily_papers(page)
        context.close()
    assert shown == operations
    assert violations == []
    assert elsewhere == []


def _operations(base: str) -> set[str]:
    """Every operation /openapi.json declares, as "GET /api/daily_papers"."""
    paths = httpx.get(f"{base}/openapi.json").json()["paths"]
    return {f"{method.upper()} {path}" for path, methods in paths.items() for method in methods}


# An operation with two tags has a block under each: the set of them is what must match.
_SHOWN = """[...document.querySelectorAll(".opblock-summary")].map((summary) =>
  `${summary.querySelector(".opblock-summary-method").textContent} ` +
  summary.querySelector(".opblock-summary-path").dataset.path)"""


def _shown_operations(page) -> set[str]:
    return set(page.evaluate(_SHOWN))


def _requests_to_other_origins(context, base: str) -> list[str]:
    seen: list[str] = []
    origin = urlsplit(base).netloc

    def on_request(request) -> None:
        url = urlsplit(request.url)
        if url.scheme in ("http", "https") and url.netloc != origin:
            seen.append(request.url)

    context.on("request", on_request)
    return seen


def _try_daily_papers(page) -> None:
    """Opens GET /api/daily_papers, "Try it out", Execute: the answer (200, the paper) is shown."""
    path = page.locator('.opblock-summary-path[data-path="/api/daily_papers"]')
    operation = page.locator(".opblock-get").filter(has=path)
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    with page.expect_response(lambda response: "/api/daily_papers" in response.url) as answer:
        operation.locator("button.execute").click()
    assert answer.value.status == 200
    shown = operation.locator(".live-responses-table tbody tr.response").first
    shown.wait_for(timeout=10_000)
    assert shown.locator(".response-col_status").inner_text().strip() == "200"
    assert PAPER in shown.locator(".response-col_description").inner_text()
    screenshot(page, "api-docs-tried")
