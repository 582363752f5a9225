"""What /metrics reads from the database (web/metrics.py through services/site_metrics.py): the
last successful sync, the library imports waiting, the latest digest edition's progress. Every
web process answers a scrape from these, so all of them report the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, exists, func, select

from paperboy.domain.digest import Edition
from paperboy.storage.digests import FINAL
from paperboy.storage.engine import utc
from paperboy.storage.schema import (
    digest_editions,
    digest_sends,
    digest_subscriptions,
    library_imports,
    sync_state,
)
from paperboy.storage.sync_state import SYNC_SUCCEEDED_KEY


def sync_succeeded_at(conn: Connection) -> datetime | None:
    """When the last sync that ended without a failure ended (services/sync.py writes it)."""
    found = conn.execute(
        select(sync_state.c.updated_at).where(sync_state.c.key == SYNC_SUCCEEDED_KEY)
    ).scalar()
    return utc(found)


@dataclass(frozen=True, slots=True)
class QueueCounts:
    queued: int
    running: int
    oldest_queued_at: datetime | None


def library_import_queue(conn: Connection) -> QueueCounts:
    """Members' library imports waiting for arXiv (queued) and being fetched (running)."""
    li = library_imports
    rows = conn.execute(
        select(li.c.status, func.count(), func.min(li.c.created_at))
        .where(li.c.status.in_(("queued", "running")))
        .group_by(li.c.status)
    ).all()
    found = {row[0]: (int(row[1]), utc(row[2])) for row in rows}
    queued = found.get("queued", (0, None))
    return QueueCounts(queued[0], found.get("running", (0, None))[0], queued[1])


@dataclass(frozen=True, slots=True)
class EditionProgress:
    key: str
    counts: dict[str, int]  # send-log rows by status: sent, skipped, bounced, deferred
    waiting: int  # subscribers still due it (no final row yet)
    finished: bool


def latest_edition_progress(conn: Connection) -> EditionProgress | None:
    e = digest_editions
    row = conn.execute(
        select(e.c.key, e.c.frequency, e.c.period_start, e.c.period_end, e.c.finished_at)
        .order_by(e.c.created_at.desc(), e.c.key.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    counts = conn.execute(
        select(digest_sends.c.status, func.count())
        .where(digest_sends.c.edition == row.key)
        .group_by(digest_sends.c.status)
    )
    day = date.fromisoformat(row.key.split(":", 1)[1])
    edition = Edition(row.frequency, row.period_start, row.period_end, day)
    waiting = _count_waiting(conn, edition)
    return EditionProgress(row.key, {s: int(n) for s, n in counts}, waiting, row.finished_at is not None)


def _count_waiting(conn: Connection, edition: Edition) -> int:
    """`storage.digests.subscribers_waiting`, counted."""
    s = digest_subscriptions
    done = exists().where(
        digest_sends.c.edition == edition.key,
        digest_sends.c.subscription_id == s.c.id,
        digest_sends.c.status.in_(FINAL),
    )
    query = select(func.count()).where(s.c.status == "active", s.c.frequency == edition.frequency, ~done)
    if edition.weekday is not None:
        query = query.where(s.c.weekday == edition.weekday)
    return int(conn.execute(query).scalar_one())
