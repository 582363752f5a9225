"""The site's Content-Security-Policy in a real browser: Chromium (Debian's, through Playwright)
against `paperboy serve` opens the main pages, anonymous and as a moderator (who sees the most
forms), votes with the JavaScript button, and opens the API's Swagger UI; the browser must report
no violation of the policy (nothing the pages need is blocked), and the scripts must still work.
"""

from __future__ import annotations

import pytest
from chromium import chromium, csp_violations, screenshot  # noqa: F401 - chromium is a fixture
from community import make_member
from conftest import make_record
from live_server import live_server

from paperboy.services import comments
from paperboy.services.sessions import open_session

pytestmark = pytest.mark.browser

PAPER = "2506.12229"
PAGES = [
    "/",
    "/papers/date/2025-06-12",
    "/papers/week/2025-W24",
    "/papers/top",
    f"/papers/{PAPER}",
    f"/papers/{PAPER}/why",
    "/search?q=study",
    "/about/search",
    "/about/trending",
    "/digest",
    "/users/mod",
]
ANONYMOUS_ONLY = ["/login", "/signup", "/reset-password"]
MEMBERS_ONLY = ["/settings", "/submit"]


@pytest.fixture
def world(settings, engine, add_papers):
    # TeX in the title and abstract: the pages show MathML, which must need nothing the policy blocks.
    tex = {"title": r"A study of $\mathcal{O}(n \log n)$ sorting", "abstract": r"With $x^2$ and $$\int f$$."}
    add_papers(make_record(PAPER, **tex), make_record("2506.12230"))
    mod = make_member(engine, "mod", role="moderator")
    comments.post_comment(engine, settings, mod, PAPER, "A *fine* result.", None, "127.0.0.1")
    return mod


def test_the_pages_break_no_rule_of_their_policy(chromium, world, engine, settings, database_url, tmp_path):  # noqa: F811
    env = {"PAPERBOY_DATABASE_URL": database_url, "PAPERBOY_DATA_DIR": str(tmp_path / "data")}
    with live_server(env, tmp_path / "serve.log") as base:
        anonymous = chromium.new_context()
        seen_anonymous = csp_violations(anonymous)
        page = anonymous.new_page()
        for path in PAGES + ANONYMOUS_ONLY:
            response = page.goto(base + path)
            assert response is not None
            assert "default-src 'self'" in response.headers["content-security-policy"], path
        page.goto(f"{base}/papers/{PAPER}")
        assert page.locator("h1 math").count() == 1
        assert page.locator('.abstract-full math[display="block"]').count() == 1
        _swagger_ui_starts(page, base)
        anonymous.close()

        member = chromium.new_context()
        seen_member = csp_violations(member)
        session = _session(engine, settings, world)
        member.add_cookies([{"name": "paperboy_session", "value": session, "url": base}])
        page = member.new_page()
        for path in PAGES + MEMBERS_ONLY:
            page.goto(base + path)
        _vote_without_reloading(page, base)
        member.close()
    assert seen_anonymous == []
    assert seen_member == []


def _session(engine, settings, user) -> str:
    return open_session(engine, settings, user).token


def _swagger_ui_starts(page, base: str) -> None:
    """Swagger UI starts from its static init script (the inline one would be blocked) and asks
    for the OpenAPI document."""
    with page.expect_response(f"{base}/openapi.json"):
        page.goto(f"{base}/docs")
    page.locator("#swagger-ui .swagger-ui").wait_for(state="attached", timeout=15_000)
    screenshot(page, "csp-docs")


def _vote_without_reloading(page, base: str) -> None:
    """paperboy.js (script-src 'self') still turns the vote form into an in-place button."""
    page.goto(f"{base}/papers/{PAPER}")
    page.evaluate("window.notReloaded = true")
    button = page.locator("form.vote button").first
    button.click()
    page.locator("form.vote button.voted").first.wait_for(timeout=10_000)
    assert page.evaluate("window.notReloaded === true")
    screenshot(page, "csp-paper-voted")
