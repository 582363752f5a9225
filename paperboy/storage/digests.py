"""Digest subscriptions, editions, the send log and the papers mailed to each subscriber.

The send log has one row per edition and subscriber, written in the same transaction as the
papers that mail carried: a run that stops anywhere and runs again skips exactly the mails it
recorded. An edition row doubles as a lease, so only one run sends an edition at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Executable, Row, delete, exists, func, or_, select, update

from paperboy.domain.digest import Edition, Preferences, Subscription
from paperboy.storage.dialect import insert_for_dialect, insert_into
from paperboy.storage.engine import utc
from paperboy.storage.queries import id_in
from paperboy.storage.schema import (
    digest_editions,
    digest_mailed,
    digest_sends,
    digest_subscriptions,
)

FINAL = ("sent", "skipped", "bounced")  # a send row in one of these is never tried again


# --- subscriptions -------------------------------------------------------------------------------


def subscription_from_row(row: Row[Any]) -> Subscription:
    preferences = Preferences(
        frequency=row.frequency,
        weekday=row.weekday,
        top_n=row.top_n,
        categories=tuple(row.categories.split()),
        include=tuple(line for line in row.include_keywords.split("\n") if line),
        exclude=tuple(line for line in row.exclude_keywords.split("\n") if line),
        only_new=bool(row.only_new),
        for_you=bool(row.for_you) and row.user_id is not None,
    )
    return Subscription(row.id, row.email, row.user_id, row.status, row.nonce, preferences)


def preference_columns(preferences: Preferences) -> dict[str, Any]:
    return {
        "frequency": preferences.frequency,
        "weekday": preferences.weekday,
        "top_n": preferences.top_n,
        "categories": " ".join(preferences.categories),
        "include_keywords": "\n".join(preferences.include),
        "exclude_keywords": "\n".join(preferences.exclude),
        "only_new": preferences.only_new,
        "for_you": preferences.for_you,
    }


def subscription_by_id(conn: Connection, subscription_id: int) -> Subscription | None:
    row = conn.execute(
        select(digest_subscriptions).where(digest_subscriptions.c.id == subscription_id)
    ).first()
    return subscription_from_row(row) if row else None


def subscription_by_email(conn: Connection, email: str) -> Subscription | None:
    row = conn.execute(select(digest_subscriptions).where(digest_subscriptions.c.email == email)).first()
    return subscription_from_row(row) if row else None


def subscription_by_user(conn: Connection, user_id: int) -> Subscription | None:
    row = conn.execute(select(digest_subscriptions).where(digest_subscriptions.c.user_id == user_id)).first()
    return subscription_from_row(row) if row else None


def insert_subscription(
    conn: Connection,
    *,
    email: str,
    status: str,
    nonce: str,
    preferences: Preferences,
    now: datetime,
    **extra: Any,
) -> int:
    values = {
        "email": email,
        "status": status,
        "nonce": nonce,
        "created_at": now,
        "changed_at": now,
        **preference_columns(preferences),
        **extra,
    }
    result = conn.execute(digest_subscriptions.insert().values(values).returning(digest_subscriptions.c.id))
    return int(result.scalar_one())


def update_subscription(conn: Connection, subscription_id: int, now: datetime, **values: Any) -> None:
    conn.execute(
        update(digest_subscriptions)
        .where(digest_subscriptions.c.id == subscription_id)
        .values(changed_at=now, **values)
    )


def subscribers_waiting(conn: Connection, edition: Edition) -> list[Subscription]:
    """Active subscribers of the edition's frequency (and weekday) with no final send row for it."""
    s = digest_subscriptions
    done = exists().where(
        digest_sends.c.edition == edition.key,
        digest_sends.c.subscription_id == s.c.id,
        digest_sends.c.status.in_(FINAL),
    )
    query = select(s).where(s.c.status == "active", s.c.frequency == edition.frequency, ~done)
    if edition.weekday is not None:
        query = query.where(s.c.weekday == edition.weekday)
    return [subscription_from_row(row) for row in conn.execute(query.order_by(s.c.id))]


def count_subscriptions(conn: Connection) -> dict[str, int]:
    s = digest_subscriptions
    rows = conn.execute(select(s.c.status, func.count()).group_by(s.c.status))
    return {status: int(count) for status, count in rows}


# --- editions and their lease --------------------------------------------------------------------


def ensure_edition(conn: Connection, edition: Edition, now: datetime) -> None:
    statement = insert_into(conn, digest_editions).values(
        key=edition.key,
        frequency=edition.frequency,
        period_start=edition.start,
        period_end=edition.end,
        created_at=now,
    )
    conn.execute(statement.on_conflict_do_nothing(index_elements=[digest_editions.c.key]))


def claim_edition(
    conn: Connection,
    key: str,
    sender: str,
    now: datetime,
    free_before: datetime,
    dead_senders: Sequence[str] = (),
) -> bool:
    """Take the edition's lease unless another live run holds it: one whose heartbeat is newer
    than `free_before` and which is not among `dead_senders` (runs known to have stopped)."""
    e = digest_editions
    free = or_(e.c.sender.is_(None), e.c.sender == sender, e.c.heartbeat_at < free_before)
    if dead_senders:
        free = or_(free, e.c.sender.in_(list(dead_senders)))
    result = conn.execute(update(e).where(e.c.key == key, free).values(sender=sender, heartbeat_at=now))
    return result.rowcount == 1


def edition_holder(conn: Connection, key: str) -> str | None:
    """The run holding the edition's lease ("host:pid:run"), if any."""
    query = select(digest_editions.c.sender).where(digest_editions.c.key == key)
    holder: str | None = conn.execute(query).scalar()
    return holder


def heartbeat(conn: Connection, key: str, sender: str, now: datetime) -> bool:
    """Renew the lease; False when this run no longer holds it."""
    e = digest_editions
    result = conn.execute(update(e).where(e.c.key == key, e.c.sender == sender).values(heartbeat_at=now))
    return result.rowcount == 1


def stopped_since(conn: Connection, moment: datetime) -> set[int]:
    """Subscriptions that stopped being active at or after `moment`."""
    s = digest_subscriptions
    query = select(s.c.id).where(s.c.changed_at >= moment, s.c.status != "active")
    return {int(sid) for sid in conn.execute(query).scalars()}


def release_edition(conn: Connection, key: str, sender: str, *, finished: datetime | None) -> None:
    e = digest_editions
    conn.execute(
        update(e).where(e.c.key == key, e.c.sender == sender).values(sender=None, finished_at=finished)
    )


def edition_counts(conn: Connection, key: str) -> dict[str, int]:
    rows = conn.execute(
        select(digest_sends.c.status, func.count())
        .where(digest_sends.c.edition == key)
        .group_by(digest_sends.c.status)
    )
    return {status: int(count) for status, count in rows}


@dataclass(frozen=True, slots=True)
class EditionRow:
    key: str
    created_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]


def recent_editions(conn: Connection, limit: int = 10) -> list[EditionRow]:
    e = digest_editions
    rows = conn.execute(
        select(e.c.key, e.c.created_at, e.c.finished_at).order_by(e.c.created_at.desc()).limit(limit)
    )
    editions = []
    for row in rows.all():
        created, finished = utc(row.created_at), utc(row.finished_at)
        assert created is not None
        editions.append(EditionRow(row.key, created, finished, edition_counts(conn, row.key)))
    return editions


# --- the send log --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendRecord:
    edition: str
    subscription_id: int
    status: str  # sent | skipped | bounced | deferred
    attempts: int
    papers: Sequence[tuple[int, str]]  # (paper id, arXiv id) in mail order
    at: datetime
    message_id: str | None = None
    error: str | None = None


def record_send(conn: Connection, record: SendRecord) -> None:
    """The send row (replacing a deferred one) and, for a sent mail, the papers it carried."""
    send, mailed = _record_statements(conn.dialect.name)
    conn.execute(
        send,
        {
            "edition": record.edition,
            "subscription_id": record.subscription_id,
            "status": record.status,
            "attempts": record.attempts,
            "message_id": record.message_id,
            "papers": " ".join(arxiv_id for _, arxiv_id in record.papers),
            "at": record.at,
            "error": record.error,
        },
    )
    if record.status == "sent" and record.papers:
        rows = [
            {"subscription_id": record.subscription_id, "paper_id": paper_id, "mailed_at": record.at}
            for paper_id, _ in record.papers
        ]
        conn.execute(mailed, rows)


@cache
def _record_statements(dialect: str) -> tuple[Executable, Executable]:
    """Built once per dialect: a sending run records thousands of mails a minute, and building
    the upsert costs more than running it."""
    send = insert_for_dialect(dialect, digest_sends)
    replaced = {
        name: send.excluded[name] for name in ("status", "attempts", "message_id", "papers", "at", "error")
    }
    send = send.on_conflict_do_update(
        index_elements=[digest_sends.c.edition, digest_sends.c.subscription_id], set_=replaced
    )
    mailed = insert_for_dialect(dialect, digest_mailed).on_conflict_do_nothing(
        index_elements=[digest_mailed.c.subscription_id, digest_mailed.c.paper_id]
    )
    return send, mailed


def send_attempts(conn: Connection, key: str) -> dict[int, int]:
    """Attempts already made for deferred mails of the edition, by subscription."""
    rows = conn.execute(
        select(digest_sends.c.subscription_id, digest_sends.c.attempts).where(
            digest_sends.c.edition == key, digest_sends.c.status == "deferred"
        )
    )
    return {int(sid): int(attempts) for sid, attempts in rows}


def mailed_among(
    conn: Connection,
    paper_ids: Sequence[int],
    subscription_ids: Iterable[int] | None = None,
    *,
    edition: Edition | None = None,
) -> dict[int, set[int]]:
    """Which of `paper_ids` each subscriber was mailed before: {subscription id: {paper id}},
    for the given subscribers, or those of `edition` (only they need it: a weekly edition need
    not load what the daily subscribers got)."""
    m, s = digest_mailed, digest_subscriptions
    mailed: dict[int, set[int]] = {}
    for start in range(0, len(paper_ids), 500):
        query = select(m.c.subscription_id, m.c.paper_id).where(
            id_in(m.c.paper_id, paper_ids[start : start + 500])
        )
        if subscription_ids is not None:
            query = query.where(m.c.subscription_id.in_(list(subscription_ids)))
        if edition is not None:
            # Members' too whatever "only new" says: their "For you" section never repeats.
            query = query.join(s, s.c.id == m.c.subscription_id).where(
                s.c.frequency == edition.frequency, or_(s.c.only_new.is_(True), s.c.user_id.is_not(None))
            )
            if edition.weekday is not None:
                query = query.where(s.c.weekday == edition.weekday)
        for sid, pid in conn.execute(query):
            mailed.setdefault(int(sid), set()).add(int(pid))
    return mailed


def prune_mailed(conn: Connection, before: datetime) -> int:
    """Forget papers mailed before `before`: no edition can offer them again by then."""
    result = conn.execute(delete(digest_mailed).where(digest_mailed.c.mailed_at < before))
    return int(result.rowcount or 0)
