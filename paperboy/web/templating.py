"""The Jinja environment: autoescaping always on, since titles and abstracts come from outside."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from starlette.templating import Jinja2Templates

from paperboy import __version__
from paperboy.config import Settings
from paperboy.domain.follows import FollowKind, InvalidFollow, normalised_value
from paperboy.services.feed import SORTS
from paperboy.services.follows import follow_states
from paperboy.services.notifications import unseen_count
from paperboy.services.sessions import Viewer
from paperboy.web import urls
from paperboy.web.auth import csrf_token_for, viewer_of
from paperboy.web.context import app_context
from paperboy.web.filters import FILTERS, SORT_LABELS, TESTS
from paperboy.web.fragments import FragmentCache
from paperboy.web.library_cards import LibraryCards
from paperboy.web.region_pieces import PieceCache
from paperboy.web.regions import RegionCache, reader_choice, reader_value

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def make_templates(settings: Settings) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template, whatever its file name
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails the tests, not silently renders ""
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the package: compiled once per process, not checked on disk at
        # every render (a stat per template and page, a third of a paper page's rendering, and
        # a release of the GIL each, which under load is a wait for it). Restart to see edits.
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    fragments = FragmentCache()
    env.tests.update(TESTS)
    env.globals.update(
        site_name=settings.site_name,
        period_url=urls.period_url,
        day_url=urls.day_url,
        paper_url=urls.paper_url,
        for_you_url=urls.for_you_url,
        for_you_why_url=urls.for_you_why_url,
        sorts=[(sort, SORT_LABELS.get(sort, sort)) for sort in SORTS],
        static_url=lambda name: f"/static/{name}?v={__version__}",
        cached_fragment=fragments,
        shared_region=RegionCache(),
        shared_pieces=PieceCache(),
        reader_choice=reader_choice,
        reader_value=reader_value,
        vote_mode=vote_mode,
        library_cards=LibraryCards(env, fragments, lambda viewer: vote_mode(viewer)),
    )
    return Jinja2Templates(env=env, context_processors=[_viewer_context])


class Reader:
    """What the macros of the `_*.html` templates need of the request, handed to them as their
    `reader` argument: the viewer, and the CSRF token, return address and follow state asked
    only when a form renders. Passed explicitly so that those templates are imported without
    context: Jinja keeps such a module per environment, where an import `with context` runs the
    imported template's module again at every render (~1.5 ms of a paper page)."""

    __slots__ = ("_request", "viewer")

    def __init__(self, request: Request) -> None:
        self._request = request
        self.viewer = viewer_of(request)

    def csrf_token(self) -> str:
        return csrf_token_for(self._request)

    def here(self) -> str:
        """This page's path and query, for a form's `next`."""
        return _here(self._request)

    def follow_of(self, kind: FollowKind, value: str) -> int | None:
        return _follow_of(self._request, kind, value)


def _viewer_context(request: Request) -> dict[str, Any]:
    """Every page knows who is looking; forms ask for `csrf_token()` (and `here()`, the address
    to come back to) only when they render. Macros get them through `reader`."""
    reader = Reader(request)
    return {
        "reader": reader,
        "viewer": reader.viewer,
        "csrf_token": reader.csrf_token,
        "here": reader.here,
        "unseen_alerts": lambda: _unseen_alerts(request),
    }


def _unseen_alerts(request: Request) -> int:
    """The header's count of the reader's new alerts, for a logged-in reader (never part of a
    shared region or the page cache): read with the session (services/sessions.py), or one
    indexed COUNT when it was not, or when the handler changed it since (`alerts_changed`)."""
    viewer = viewer_of(request)
    if viewer.user is None:
        return 0
    if viewer.unseen_alerts is not None and not getattr(request.state, "alerts_changed", False):
        return viewer.unseen_alerts
    return unseen_count(app_context(request).engine, viewer.user)


def _follow_of(request: Request, kind: FollowKind, text: str) -> int | None:
    """The id of the reader's follow of this author, category, search or paper (None: not
    followed, or nobody logged in); one small statement, asked only where a follow button renders."""
    user = viewer_of(request).user
    if user is None:
        return None
    try:
        value = normalised_value(kind, text)[0]
    except InvalidFollow:
        return None
    return follow_states(app_context(request).engine, user, kind, [value]).get(value)


def _here(request: Request) -> str:
    """This page's path and query, for a form's `next`."""
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


def vote_mode(viewer: Viewer) -> str:
    """How the reader may vote: "form" (a member who can), "login" (nobody logged in), or why
    not ("banned", "unconfirmed"). Everything a vote button shows but the reader's own state."""
    user = viewer.user
    if user is None:
        return "login"
    if user.can_take_part:
        return "form"
    return "banned" if user.banned else "unconfirmed"
