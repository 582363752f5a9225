"""Incremental sync for API clients: the papers paperboy changed after a cursor.

A cursor is opaque to clients: the (changed_at, id) of the last paper a client received, in
URL-safe base64. Papers come ordered by changed_at then id, so a client that passes each page's
`next_cursor` back as `since` sees every paper that changed after it, once per change, and a
paper changed again while the client pages comes back later in the walk. Community counts
(votes, comments) are not catalogue changes and do not move a paper.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from paperboy.domain.models import Community, Paper
from paperboy.services.hydrate import hydrate_papers
from paperboy.storage import changes


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
    after = decode_cursor(since) if since else None
    with engine.connect() as conn:
        found = changes.changed_paper_ids(conn, after, limit)
        moments = dict(found)
        views = hydrate_papers(conn, list(moments), viewer_id)
    papers = [ChangedPaper(view.paper, view.community, moments[view.paper.id]) for view in views]
    cursor = encode_cursor(found[-1][1], found[-1][0]) if found else since
    return Changes(papers, cursor)


def encode_cursor(moment: datetime, paper_id: int) -> str:
    text = f"{moment.astimezone(UTC).isoformat()}|{paper_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, paper_id = text.split("|")
        when = datetime.fromisoformat(moment)
        number = int(paper_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor(
            "since is not a cursor from this API: pass the next_cursor of an earlier answer"
        ) from None
    if when.tzinfo is None or number < 0:
        raise InvalidCursor("since is not a cursor from this API: pass the next_cursor of an earlier answer")
    return when.astimezone(UTC), number
