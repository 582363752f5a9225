"""Pages anyone can read: axe-core (npm's axe-core, which `make axe-core` installs) runs in Chromium
(Debian's, through Playwright) against `paperboy serve` on the ten main pages and an author
page, logged out and logged in (with the library, follows and alerts pages), in the light and the
dark colour scheme, and must find no serious or critical violation. Keyboard use: the first Tab
reaches a visible "Skip to content" link that moves focus
to <main>, every Tab stop shows a focus outline, and every vote button is a labelled Tab stop.

axe is run with Playwright's evaluate (the DevTools protocol, which the pages' Content-Security-
Policy does not govern): the product's policy stays as strict as it is.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from chromium import chromium, missing, screenshot  # noqa: F401 - chromium is a fixture
from community import make_member
from conftest import REPO_ROOT
from digest_fixtures import DAY, add_upvotes, catalogue_records
from live_server import live_server, site_env
from sqlalchemy import insert, select

from paperboy.services import comments, votes
from paperboy.services.sessions import open_session
from paperboy.storage.engine import now_utc
from paperboy.storage.schema import hf_papers, papers

pytestmark = pytest.mark.browser

AXE = Path(os.environ.get("PAPERBOY_TEST_AXE", REPO_ROOT / ".cache/npm/node_modules/axe-core/axe.min.js"))
PAPER = "2506.10000"  # commented on, voted for, with Hugging Face upvotes and stars
PAGES = {
    "front": "/",
    "week": "/papers/week/2025-W24",
    "paper": f"/papers/{PAPER}",
    "search": "/search?q=diffusion",
    "digest": "/digest",
    "login": "/login",
    "sign-up": "/signup",
    "about trending": "/about/trending",
    "top": "/papers/top",
    "about search": "/about/search",
    "author": "/authors/Ada%20Lovelace",
}
# A member asking for /login or /signup is sent to the front page: these are their forms instead;
# and their library.
MEMBER_PAGES = {
    **PAGES,
    "login": "/settings",
    "sign-up": "/submit",
    "library": "/library",
    "following": "/following",
    "alerts": "/notifications",
}
SCHEMES = ("light", "dark")

# Serious and critical violations only, one entry per rule, with every element it found.
_RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((rule) => rule.impact === "serious" || rule.impact === "critical")
    .map((rule) => ({
      id: rule.id,
      impact: rule.impact,
      help: rule.help,
      targets: rule.nodes.map((node) => node.target.join(" ")),
      summary: rule.nodes[0].failureSummary.replace(/\\s+/g, " "),
    }));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe.min.js, or a skip (a failure under CI=true) naming how to install it."""
    if not AXE.exists():
        missing(f"{AXE} is absent: `make axe-core` installs axe-core from npm (or set PAPERBOY_TEST_AXE)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def world(settings, engine, add_papers):
    """Two listing days of papers with upvotes, a discussion, a member's vote and Hugging Face
    signals: every part of a card and of a paper page shows somewhere."""
    add_papers(*catalogue_records(24))
    add_papers(*catalogue_records(12, DAY - timedelta(days=1), prefix="2505"))
    add_upvotes(engine)
    member = make_member(engine, "reader")
    comments.post_comment(engine, settings, member, PAPER, "A *fine* result: `Table 2`.", None, "127.0.0.1")
    votes.upvote_paper(engine, settings, member, PAPER, "127.0.0.1")
    with engine.begin() as conn:
        paper_id = conn.execute(select(papers.c.id).where(papers.c.arxiv_id == PAPER)).scalar_one()
        signals = {"upvotes": 12, "github_stars": 340}
        conn.execute(insert(hf_papers).values(paper_id=paper_id, fetched_at=now_utc(), **signals))
    return member


def _context(chromium, base: str, scheme: str, session: str | None):  # noqa: F811
    """A browser context in the colour scheme, logged in with `session` when there is one."""
    context = chromium.new_context(color_scheme=scheme)
    if session:
        context.add_cookies([{"name": "paperboy_session", "value": session, "url": base}])
    return context


def test_no_page_has_a_serious_violation(
    chromium,  # noqa: F811 - the fixture
    axe_source,
    world,
    engine,
    settings,
    database_url,
    tmp_path,
):
    found: list[str] = []
    with live_server(site_env(database_url, tmp_path), tmp_path / "serve.log") as base:
        member = open_session(engine, settings, world).token
        for scheme in SCHEMES:
            for who, session, pages in (("anonymous", None, PAGES), ("member", member, MEMBER_PAGES)):
                context = _context(chromium, base, scheme, session)
                found += _violations(context.new_page(), base, pages, f"{who}, {scheme}", axe_source)
                context.close()
    assert not found, f"{len(found)} serious or critical axe violations:\n" + "\n".join(found)


def _violations(page, base: str, pages: dict[str, str], state: str, axe_source: str) -> list[str]:
    """axe's serious and critical violations on each page, a line per rule and page."""
    lines = []
    for name, path in pages.items():
        response = page.goto(base + path)
        assert response is not None, (state, path)
        assert response.ok, (state, path)
        page.evaluate(axe_source)
        for rule in page.evaluate(_RUN_AXE):
            lines.append(
                f"{state}, {name} ({path}): {rule['id']} ({rule['impact']}, {len(rule['targets'])} elements):"
                f" {rule['help']}. {rule['summary']} At: {', '.join(rule['targets'])}"
            )
        if name == "paper":
            screenshot(page, f"accessibility-paper-{state.replace(', ', '-')}")
    return lines


_FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  return {
    tag: element.tagName.toLowerCase(),
    text: element.textContent.trim().replace(/\\s+/g, " ").slice(0, 60),
    vote: element.classList.contains("vote-button"),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
    visible: box.width > 1 && box.height > 1 && box.bottom > 0 && box.right > 0,
  };
}"""


def test_keyboard_reaches_the_content_and_the_votes_and_shows_focus(
    chromium,  # noqa: F811 - the fixture
    world,
    engine,
    settings,
    database_url,
    tmp_path,
):
    with live_server(site_env(database_url, tmp_path), tmp_path / "serve.log") as base:
        anonymous = _context(chromium, base, "light", None)
        page = anonymous.new_page()
        for path in ("/", f"/papers/{PAPER}", "/search?q=diffusion", "/about/trending"):  # no autofocus
            _skip_link_moves_focus_to_main(page, base + path)
        _tab_through(page, base + "/", vote_name="Log in to upvote")
        anonymous.close()

        member = _context(chromium, base, "dark", open_session(engine, settings, world).token)
        page = member.new_page()
        _skip_link_moves_focus_to_main(page, base + f"/papers/{PAPER}")
        _tab_through(page, base + "/", vote_name="Upvote")
        _tab_through(page, base + f"/papers/{PAPER}", vote_name="Upvote")
        member.close()


def _skip_link_moves_focus_to_main(page, url: str) -> None:
    page.goto(url)
    page.keyboard.press("Tab")
    first = page.evaluate(_FOCUSED)
    assert (first["tag"], first["text"]) == ("a", "Skip to content"), url
    assert first["visible"], (url, first)
    assert first["outline"], (url, first)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.tagName") == "MAIN", url


def _tab_through(page, url: str, vote_name: str) -> None:
    """Tab from the top of the page to its end: every stop shows an outline, and every vote
    button (a form's button for members, a link for visitors) is a stop named for what it does
    and the count it shows ("Upvote 3")."""
    page.goto(url)
    buttons = page.locator(".vote-button")
    assert buttons.count() > 0, url
    role = "link" if vote_name.startswith("Log in") else "button"
    named = page.get_by_role(role, name=re.compile(rf"^{vote_name} [0-9]+$"))
    assert named.count() == buttons.count(), url
    stops, votes_reached, no_outline = 0, 0, []
    while stops < 2000:
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused["tag"] == "body" or (stops and focused["text"] == "Skip to content"):
            break  # past the last stop (out of the page, or round to the first)
        stops += 1
        votes_reached += focused["vote"]
        if not focused["outline"]:
            no_outline.append(f"{focused['tag']} {focused['text']!r}")
    assert no_outline == [], url
    assert votes_reached == buttons.count(), url
