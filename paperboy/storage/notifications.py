"""Alerts: written set-based, one statement per kind of event for all members at once, each an
`INSERT … SELECT … ON CONFLICT DO NOTHING` on the unique (member, kind, paper, dedupe key), so
the same alert is never made twice; then read per member (the page, the header's count, the
digest, the private feed) and marked seen, mailed or fed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    String,
    and_,
    bindparam,
    cast,
    column,
    func,
    literal,
    null,
    select,
    union,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from paperboy.domain.iterables import batched
from paperboy.storage.dialect import insert_into
from paperboy.storage.engine import utc
from paperboy.storage.queries import id_in
from paperboy.storage.schema import (
    follows,
    hf_papers,
    library_items,
    notifications,
    paper_alert_marks,
    paper_authors,
    paper_categories,
    paper_stats,
    papers,
)

_CHUNK = 500
_COLUMNS = ("user_id", "kind", "paper_id", "follow_id", "dedupe_key", "detail", "created_at")


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    kind: str
    paper_id: int
    arxiv_id: str
    title: str
    detail: str
    follow_id: int | None
    follow_kind: str | None  # what the member followed that made it (None: a saved paper)
    follow_label: str | None
    created_at: datetime
    seen_at: datetime | None
    mailed_at: datetime | None
    fed_at: datetime | None

    @property
    def shown(self) -> bool:
        """Shown once already: seen on the page, mailed or put in the private feed."""
        return bool(self.seen_at or self.mailed_at or self.fed_at)


def _insert(conn: Connection, source: Select[Any]) -> int:
    """Run the INSERT … SELECT; how many alerts it made (RETURNING: drivers' rowcounts of an
    INSERT … SELECT differ)."""
    statement = (
        insert_into(conn, notifications)
        .from_select(list(_COLUMNS), source)
        .on_conflict_do_nothing()
        .returning(notifications.c.id)
    )
    return len(conn.execute(statement).all())


# --- new papers: a followed author, category or saved search --------------------------------


def add_author_alerts(conn: Connection, paper_ids: Sequence[int], now: datetime) -> int:
    """'author': a followed author (by normalised name) is on one of these new papers. The follows
    are narrowed to the new papers' names first (`value IN (…)`): joined the other way round, the
    planner walks every author follow and each followed name's every paper (10x slower)."""
    made = 0
    for chunk in batched(sorted(paper_ids), _CHUNK):
        ids = list(chunk)
        names = select(paper_authors.c.name_key).where(paper_authors.c.paper_id.in_(ids))
        joined = paper_authors.join(
            follows, and_(follows.c.kind == "author", follows.c.value == paper_authors.c.name_key)
        )
        columns = _values(
            follows.c.user_id, "author", paper_authors.c.paper_id, follows.c.id, "", follows.c.label, now
        )
        source = (
            select(*columns)
            .select_from(joined)
            .where(paper_authors.c.paper_id.in_(ids), follows.c.value.in_(names))
        )
        made += _insert(conn, source)
    return made


def add_category_alerts(conn: Connection, paper_ids: Sequence[int], now: datetime) -> int:
    """'category': one of these new papers is in a followed category (primary or cross-list)."""
    made = 0
    for chunk in batched(sorted(paper_ids), _CHUNK):
        joined = paper_categories.join(
            follows, and_(follows.c.kind == "category", follows.c.value == paper_categories.c.category)
        )
        source = (
            select(
                *_values(
                    follows.c.user_id,
                    "category",
                    paper_categories.c.paper_id,
                    follows.c.id,
                    "",
                    follows.c.label,
                    now,
                )
            )
            .select_from(joined)
            .where(paper_categories.c.paper_id.in_(list(chunk)))
        )
        made += _insert(conn, source)
    return made


def followed_searches(conn: Connection) -> list[str]:
    """Every distinct saved search any member follows (each is evaluated once, for all)."""
    query = select(follows.c.value).where(follows.c.kind == "search").distinct().order_by(follows.c.value)
    return list(conn.execute(query).scalars())


def add_search_alerts(conn: Connection, query_text: str, paper_ids: Sequence[int], now: datetime) -> int:
    """'search': these new papers match the saved search `query_text`, for each member following it."""
    made = 0
    for chunk in batched(sorted(paper_ids), _CHUNK):
        source = (
            select(*_values(follows.c.user_id, "search", papers.c.id, follows.c.id, "", follows.c.label, now))
            .select_from(follows.join(papers, papers.c.id.in_(list(chunk))))
            .where(follows.c.kind == "search", follows.c.value == query_text)
        )
        made += _insert(conn, source)
    return made


# --- watched papers: followed or saved ------------------------------------------------------


def _watchers() -> Select[Any]:
    """(user_id, paper_id, follow_id) of every member watching a paper: saved or followed."""
    saved = select(library_items.c.user_id, library_items.c.paper_id, null().label("follow_id"))
    followed = select(
        follows.c.user_id, papers.c.id.label("paper_id"), follows.c.id.label("follow_id")
    ).select_from(follows.join(papers, and_(follows.c.kind == "paper", papers.c.arxiv_id == follows.c.value)))
    return union(saved, followed).subquery("w").select()


def add_paper_alerts(conn: Connection, kind: str, paper_ids: Sequence[int], now: datetime) -> int:
    """'version' (key v<N>), 'code' or 'journal': these watched papers got a new version, a code
    link or a journal reference, for each member who saved or follows one."""
    made = 0
    for chunk in batched(sorted(paper_ids), _CHUNK):
        w = _watchers().where(column("paper_id").in_(list(chunk))).subquery("watch")
        key, detail = _paper_key_detail(kind)
        source = select(
            *_values(w.c.user_id, kind, w.c.paper_id, w.c.follow_id, key, detail, now)
        ).select_from(w.join(papers, papers.c.id == w.c.paper_id))
        made += _insert(conn, source)
    return made


def _paper_key_detail(kind: str) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    if kind == "version":
        number = cast(func.coalesce(papers.c.latest_version, 0), String)
        return literal("v") + number, literal("version ") + number
    if kind == "journal":
        return literal("journal"), func.coalesce(func.substr(papers.c.journal_ref, 1, 200), "")
    return literal("code"), literal("a code link")


def _activity() -> ColumnElement[int]:
    return (
        func.coalesce(paper_stats.c.upvotes, 0)
        + func.coalesce(paper_stats.c.comments, 0)
        + func.coalesce(hf_papers.c.upvotes, 0)
        + func.coalesce(hf_papers.c.num_comments, 0)
    )


def mark_watched_papers(conn: Connection, now: datetime) -> int:
    """A first activity mark for each watched paper without one (its activity now: no alert)."""
    watched = _watchers().subquery("w")
    source = (
        select(papers.c.id, _activity(), literal(now))
        .select_from(
            papers.outerjoin(paper_stats, paper_stats.c.paper_id == papers.c.id).outerjoin(
                hf_papers, hf_papers.c.paper_id == papers.c.id
            )
        )
        .where(
            papers.c.id.in_(select(watched.c.paper_id)),
            ~select(paper_alert_marks.c.paper_id).where(paper_alert_marks.c.paper_id == papers.c.id).exists(),
        )
    )
    statement = insert_into(conn, paper_alert_marks).from_select(
        ["paper_id", "activity", "updated_at"], source
    )
    return int(conn.execute(statement.on_conflict_do_nothing()).rowcount or 0)


def add_activity_alerts(conn: Connection, threshold: int, now: datetime) -> int:
    """'activity' (key a<N>): a watched paper's upvotes and comments grew by `threshold` or more
    since its mark; each watcher is told, then the mark moves to the activity now."""
    current = (
        select(
            paper_alert_marks.c.paper_id,
            _activity().label("activity"),
            paper_alert_marks.c.activity.label("marked"),
        )
        .select_from(
            paper_alert_marks.outerjoin(
                paper_stats, paper_stats.c.paper_id == paper_alert_marks.c.paper_id
            ).outerjoin(hf_papers, hf_papers.c.paper_id == paper_alert_marks.c.paper_id)
        )
        .where(_activity() >= paper_alert_marks.c.activity + threshold)
    )
    grown = {row.paper_id: (row.activity, row.marked) for row in conn.execute(current)}
    made = 0
    for chunk in batched(sorted(grown), _CHUNK):
        w = _watchers().where(column("paper_id").in_(list(chunk))).subquery("watch")
        act = _activity()
        source = select(
            *_values(
                w.c.user_id,
                "activity",
                w.c.paper_id,
                w.c.follow_id,
                literal("a") + cast(act, String),
                cast(act - paper_alert_marks.c.activity, String) + literal(" new upvotes and comments"),
                now,
            )
        ).select_from(
            w.join(paper_alert_marks, paper_alert_marks.c.paper_id == w.c.paper_id)
            .outerjoin(paper_stats, paper_stats.c.paper_id == w.c.paper_id)
            .outerjoin(hf_papers, hf_papers.c.paper_id == w.c.paper_id)
        )
        made += _insert(conn, source)
    if grown:
        conn.execute(
            update(paper_alert_marks)
            .where(paper_alert_marks.c.paper_id == bindparam("pid"))
            .values(activity=bindparam("act"), updated_at=now),
            [{"pid": pid, "act": activity} for pid, (activity, _) in grown.items()],
        )
    return made


def _values(
    user_id: Any, kind: str, paper_id: Any, follow_id: Any, key: Any, detail: Any, now: datetime
) -> list[Any]:
    def lit(value: Any) -> Any:
        return literal(value) if isinstance(value, str | datetime) else value

    return [
        user_id.label("user_id"),
        literal(kind).label("kind"),
        paper_id.label("paper_id"),
        follow_id.label("follow_id"),
        lit(key).label("dedupe_key"),
        lit(detail).label("detail"),
        literal(now).label("created_at"),
    ]


# --- reading and marking, per member ----------------------------------------------------------


def count_unseen(conn: Connection, user_id: int) -> int:
    """The header's count: one COUNT over ix_notifications_user_id_seen_at."""
    return int(conn.execute(_COUNT_UNSEEN, {"user_id": user_id}).scalar_one())


# Made once: on every logged-in page, and its construction cost more than its run (py-spy).
_COUNT_UNSEEN = (
    select(func.count())
    .select_from(notifications)
    .where(notifications.c.user_id == bindparam("user_id"), notifications.c.seen_at.is_(None))
)


def count_all(conn: Connection, user_id: int) -> int:
    query = select(func.count()).select_from(notifications).where(notifications.c.user_id == user_id)
    return int(conn.execute(query).scalar_one())


def _listing() -> Select[Any]:
    return select(
        notifications,
        papers.c.arxiv_id,
        papers.c.title,
        follows.c.kind.label("follow_kind"),
        follows.c.label.label("follow_label"),
    ).select_from(
        notifications.join(papers, papers.c.id == notifications.c.paper_id).outerjoin(
            follows, follows.c.id == notifications.c.follow_id
        )
    )


def _notification(row: Any) -> Notification:
    return Notification(
        row.id,
        row.kind,
        row.paper_id,
        row.arxiv_id,
        row.title,
        row.detail,
        row.follow_id,
        row.follow_kind,
        row.follow_label,
        utc(row.created_at) or row.created_at,
        utc(row.seen_at),
        utc(row.mailed_at),
        utc(row.fed_at),
    )


def notifications_of(
    conn: Connection, user_id: int, *, limit: int, offset: int = 0, unseen_only: bool = False
) -> list[Notification]:
    """The member's alerts, the newest first (ix_notifications_user_id_id), in one statement."""
    query = _listing().where(notifications.c.user_id == user_id)
    if unseen_only:
        query = query.where(notifications.c.seen_at.is_(None))
    query = query.order_by(notifications.c.id.desc()).limit(limit).offset(offset)
    return [_notification(row) for row in conn.execute(query)]


def members_with_unseen(conn: Connection, user_ids: Sequence[int]) -> set[int]:
    """Which of these members have alerts no channel showed yet (one statement)."""
    if not user_ids:
        return set()
    query = select(notifications.c.user_id).where(
        id_in(notifications.c.user_id, user_ids), notifications.c.seen_at.is_(None)
    )
    return {int(user) for user in conn.execute(query.distinct()).scalars()}


def fed_or_unseen(conn: Connection, user_id: int, *, limit: int) -> list[Notification]:
    """The private feed's alerts: the ones it fed before and the ones not shown anywhere yet."""
    query = _listing().where(
        notifications.c.user_id == user_id,
        (notifications.c.seen_at.is_(None)) | (notifications.c.fed_at.is_not(None)),
    )
    return [
        _notification(row) for row in conn.execute(query.order_by(notifications.c.id.desc()).limit(limit))
    ]


def mark_seen(conn: Connection, user_id: int, ids: Sequence[int] | None, now: datetime) -> int:
    """Mark these alerts (None: all) of the member seen; alerts seen already keep their moment."""
    statement = update(notifications).where(
        notifications.c.user_id == user_id, notifications.c.seen_at.is_(None)
    )
    if ids is not None:
        statement = statement.where(notifications.c.id.in_(list(ids)))
    return int(conn.execute(statement.values(seen_at=now)).rowcount or 0)


def mark_shown(conn: Connection, user_id: int, ids: Sequence[int], channel: str, now: datetime) -> int:
    """Mark alerts mailed (`channel` "mailed") or fed ("fed"); they count as seen from then on,
    so no other channel shows them as new. Only alerts still unseen are taken: an alert another
    channel showed first in the meantime is not claimed twice."""
    if not ids:
        return 0
    column_name = {"mailed": "mailed_at", "fed": "fed_at"}[channel]
    statement = (
        update(notifications)
        .where(
            notifications.c.user_id == user_id,
            notifications.c.id.in_(list(ids)),
            notifications.c.seen_at.is_(None),
        )
        .values({column_name: now, "seen_at": now})
    )
    return int(conn.execute(statement).rowcount or 0)
