"""Incremental sync for API clients: the papers paperboy changed after a cursor.

A cursor is opaque to clients: the (changed_at, id) of the last paper a client received, written
`<microseconds since 1970>-<id>` (CURSOR_PATTERN: the API's schema declares it, and every text of
that shape is a cursor); those written before, URL-safe base64 of `<ISO time>|<id>`, still work.
Papers come ordered by changed_at then id, so a client that passes each page's `next_cursor` back
as `since` sees every paper that changed after it, once per change, and a paper changed again while
the client pages comes back later in the walk. Community counts
(votes, comments) are not catalogue changes and do not move a paper.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from paperboy.domain.models import Community, Paper
from paperboy.services.hydrate import hydrate_papers
from paperboy.storage import changes

CURSOR_PATTERN = "^[0-9]{1,17}-[0-9]{1,18}$"  # up to the year 5138, and 64-bit ids
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_REFUSED = "since is not a cursor from this API: pass the next_cursor of an earlier answer"


class InvalidCursor(ValueError):
    """The `since` cursor was not made by this API; the message says so."""


@dataclass(frozen=True, slots=True)
class ChangedPaper:
    paper: Paper
    community: Community
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class Changes:
    papers: list[ChangedPaper]
    next_cursor: str | None  # None when nothing came back: ask again later with the same cursor


def changed_papers(engine: Engine, since: str | None, limit: int, viewer_id: int | None = None) -> Changes:
    """Up to `limit` papers changed after the cursor `since` (None: from the beginning)."""
    after = decode_cursor(since) if since is not None else None
    with engine.connect() as conn:
        found = changes.changed_paper_ids(conn, after, limit)
        moments = dict(found)
        views = hydrate_papers(conn, list(moments), viewer_id)
    papers = [ChangedPaper(view.paper, view.community, moments[view.paper.id]) for view in views]
    cursor = encode_cursor(found[-1][1], found[-1][0]) if found else since
    return Changes(papers, cursor)


def encode_cursor(moment: datetime, paper_id: int) -> str:
    return f"{(moment - _EPOCH) // timedelta(microseconds=1)}-{paper_id}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    micros, _, paper_id = cursor.partition("-")
    if _digits(micros, 17) and _digits(paper_id, 18):
        return _EPOCH + timedelta(microseconds=int(micros)), int(paper_id)
    return _decode_base64_cursor(cursor)


def _decode_base64_cursor(cursor: str) -> tuple[datetime, int]:
    """A cursor as this API wrote them before they were plain numbers."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, paper_id = text.split("|")
        when = datetime.fromisoformat(moment)
        number = int(paper_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor(_REFUSED) from None
    if when.tzinfo is None or number < 0:
        raise InvalidCursor(_REFUSED)
    return when.astimezone(UTC), number


def _digits(text: str, most: int) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= most
