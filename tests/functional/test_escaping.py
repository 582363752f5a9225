"""Upstream text is hostile: titles, abstracts, comments and links are shown, never executed."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import pytest
from app_client import open_client
from conftest import make_record
from sqlalchemy import insert, select

from paperboy.domain.models import Listing
from paperboy.storage.engine import now_utc
from paperboy.storage.schema import hf_papers, papers

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture
def client(settings):
    with open_client(settings) as client:
        yield client


@pytest.fixture
def hostile(add_papers, engine):
    add_papers(
        make_record(
            "2506.00666",
            title=SCRIPT,
            abstract=f"Look {IMG} here. " + "Padding words. " * 40,
            authors=('"><svg onload=alert(1)>',),
            comment=f"Accepted {SCRIPT}",
            journal_ref=IMG,
            license="javascript:alert(1)",
            listings=(Listing(date(2025, 6, 12), "new"),),
        )
    )
    with engine.begin() as conn:
        paper_id = conn.execute(select(papers.c.id)).scalar_one()
        conn.execute(
            insert(hf_papers).values(
                paper_id=paper_id,
                upvotes=1,
                github_repo="javascript:alert(1)",
                project_page="https://example.org/?q=<b>",
                fetched_at=now_utc(),
            )
        )


@pytest.mark.parametrize(
    "path",
    ["/", "/papers/date/2025-06-12", "/papers/week/2025-W24", "/papers/2506.00666", "/search?q=padding"],
)
def test_hostile_text_is_escaped_everywhere(client, hostile, path):
    html = client.get(path).text
    assert SCRIPT not in html
    assert IMG not in html
    assert "<svg" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html


def test_hostile_query_values_are_escaped(client, hostile):
    html = client.get("/papers/date/2025-06-12", params={"category": SCRIPT}).text
    assert SCRIPT not in html
    assert "&lt;script&gt;" in html
    html = client.get("/papers/date/2025-06-12", params={"page": SCRIPT}).text
    assert SCRIPT not in html
    for params in (
        {"q": SCRIPT},
        {"q": "padding", "author": IMG},
        {"q": f'"{IMG}'},
        {"q": "x", "sort": SCRIPT},
    ):
        html = client.get("/search", params=params).text
        assert SCRIPT not in html
        assert IMG not in html


def test_hostile_paths_are_escaped_in_error_pages(client):
    for path in ["/papers/<script>alert(1)<%2Fscript>", "/nowhere/<script>", "/papers/date/<script>"]:
        response = client.get(path)
        assert response.status_code == 404
        assert "<script>" not in response.text


class _Executable(HTMLParser):
    """Everything in a page that a browser could run: script elements (other than paperboy's own
    static script), event-handler attributes, and links or sources with a non-web scheme."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not (values.get("src") or "").startswith("/static/paperboy.js"):
            self.found.append(f"<script {values}>")
        if tag in ("iframe", "object", "embed", "svg", "math", "base"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}={value!r}")
            if name in ("href", "src", "action", "formaction", "srcdoc") and value is not None:
                scheme = value.strip().split(":", 1)[0].lower() if ":" in value.split("/", 1)[0] else ""
                if scheme not in ("", "http", "https", "mailto"):
                    self.found.append(f"{tag} {name}={value!r}")


def _executable(html: str) -> list[str]:
    parser = _Executable()
    parser.feed(html)
    return parser.found


@pytest.fixture
def hostile_community(hostile, engine, settings):
    """The hostile paper, voted for, commented on with hostile Markdown, by a hostile-looking member."""
    from community import make_member

    from paperboy.services import comments, votes

    ada = make_member(engine, "ada")
    votes.upvote_paper(engine, settings, ada, "2506.00666", "192.0.2.1")
    for body in (f"{SCRIPT} [x](javascript:alert(1)) {IMG}", '<a href="jav&#x61;script:alert(1)">y</a>'):
        comments.post_comment(engine, settings, ada, "2506.00666", body, None, "192.0.2.1")
    return ada


@pytest.mark.parametrize("logged_in", [False, True])
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/papers/date/2025-06-12",
        "/papers/week/2025-W24",
        "/papers/month/2025-06",
        "/papers/2506.00666",
        "/papers/2506.00666/why",
        "/papers/top",
        "/users/ada",
        "/about/trending",
        "/search?q=padding",
        "/search?q=look+here&mode=lexical",
        "/about/search",
    ],
)
def test_nothing_executable_reaches_any_page(settings, hostile_community, path, logged_in):
    from community import log_in_as

    with open_client(settings.replace(page_cache_mb=0)) as client:
        if logged_in:
            log_in_as(client, hostile_community)
        response = client.get(path)
    assert response.status_code == 200
    assert _executable(response.text) == []
    assert "alert(1)" not in response.text or "&lt;" in response.text  # shown as text, escaped
