"""A member's alerts as the notifications page, the header's count, the API, the digest and
the private feed read them (services/alerts.py makes them and says what "shown once" means)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from paperboy.domain.users import User
from paperboy.storage import notifications as store
from paperboy.storage.engine import now_utc
from paperboy.storage.notifications import Notification
from paperboy.storage.transactions import write_transaction

__all__ = [
    "Notification",
    "NotificationsPage",
    "alerts_to_feed",
    "mark_alerts_seen",
    "notifications_page",
    "unseen_count",
]

DESCRIPTIONS = {
    "author": "New paper by {label}",
    "category": "New paper in {label}",
    "search": "New paper matching your saved search {label}",
    "version": "New version of a paper you follow or saved",
    "code": "Code link added to a paper you follow or saved",
    "journal": "Journal reference added to a paper you follow or saved",
    "activity": "Much new discussion on a paper you follow or saved",
}


def describe(item: Notification) -> str:
    """One line saying why the reader gets this alert."""
    template = DESCRIPTIONS.get(item.kind, "Alert")
    return template.format(label=item.follow_label or item.detail)


def alert_line(item: Notification) -> str:
    """`describe`, with the version, journal reference or activity it is about."""
    detailed = item.kind in ("version", "journal", "activity") and item.detail
    return f"{describe(item)}: {item.detail}" if detailed else describe(item)


@dataclass(frozen=True, slots=True)
class NotificationsPage:
    items: list[Notification]  # `shown` False: new to the reader on this page
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def unseen_count(engine: Engine, user: User) -> int:
    """Alerts no channel has shown yet (the header's count)."""
    with engine.connect() as conn:
        return store.count_unseen(conn, user.id)


def notifications_page(
    engine: Engine, user: User, *, page: int = 1, page_size: int = 50, mark_seen: bool = True
) -> NotificationsPage:
    """One page of the member's alerts, the newest first; with `mark_seen` (the HTML page) the
    ones it lists that no channel showed before are marked seen once read: shown here as new,
    never again anywhere. The API reads without marking (POST …/seen marks)."""
    page, page_size = max(1, page), max(1, page_size)
    with engine.connect() as conn:
        total = store.count_all(conn, user.id)
        items = store.notifications_of(conn, user.id, limit=page_size, offset=(page - 1) * page_size)
    fresh = [item.id for item in items if not item.shown]
    if mark_seen and fresh:
        with write_transaction(engine) as conn:
            store.mark_seen(conn, user.id, fresh, now_utc())
    return NotificationsPage(items, total, page, page_size)


def mark_alerts_seen(engine: Engine, user: User, ids: list[int] | None = None) -> int:
    """Mark the member's alerts (these ids, or all) seen; how many were not yet."""
    with write_transaction(engine) as conn:
        return store.mark_seen(conn, user.id, ids, now_utc())


def alerts_to_feed(engine: Engine, user_id: int, limit: int = 50) -> list[Notification]:
    """The private feed's alerts: those it fed before and those no channel showed yet, which it
    claims (fed_at) in the same call; an alert seen on the page or mailed is never fed."""
    with engine.connect() as conn:
        items = store.fed_or_unseen(conn, user_id, limit=limit)
    fresh = [item.id for item in items if not item.shown]
    if fresh:
        with write_transaction(engine) as conn:
            store.mark_shown(conn, user_id, fresh, "fed", now_utc())
    return items


def alerts_to_mail(engine: Engine, user_id: int, limit: int = 50) -> list[Notification]:
    """A digest's alerts for a member: those no channel showed yet (the sender marks them mailed
    with the send record, `store.mark_shown`)."""
    with engine.connect() as conn:
        return store.notifications_of(conn, user_id, limit=limit, unseen_only=True)


def members_with_alerts(engine: Engine, user_ids: Sequence[int]) -> set[int]:
    """Which of these members have alerts to mail now (a digest run asks for a batch at once and
    reads only theirs: an alert made after this is mailed next time, never twice)."""
    with engine.connect() as conn:
        return store.members_with_unseen(conn, user_ids)
