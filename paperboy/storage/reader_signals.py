"""Everything a member's "For you" model learns from, read in one statement: their saves,
upvotes and "not interested" since their last reset, and their settings. The rows themselves
are the version a kept model is checked against (services/recommend.py), so a model is never
used after the member acted: any save, upvote, hide, undo or reset changes them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    bindparam,
    literal,
    not_,
    or_,
    select,
    union_all,
)

from paperboy.storage.feedback import NOT_INTERESTED
from paperboy.storage.queries import id_in
from paperboy.storage.reader_preferences import DEFAULT_PERSONAL_SHARE
from paperboy.storage.schema import library_items, paper_feedback, reader_preferences, votes

SAVED, UPVOTED, HIDDEN, SETTINGS = "saved", "upvoted", "not_interested", "settings"
HIDDEN_BEFORE = "hidden_before_reset"  # still hidden from feeds, no longer training


@dataclass(frozen=True, slots=True)
class ReaderSignals:
    saved: tuple[int, ...] = ()  # paper row ids, ascending
    upvoted: tuple[int, ...] = ()
    not_interested: tuple[int, ...] = ()
    hidden_before_reset: tuple[int, ...] = ()
    personal_share: int = DEFAULT_PERSONAL_SHARE  # percent
    reset: bool = False  # whether the member has reset their model once

    @property
    def hidden(self) -> tuple[int, ...]:
        """Every paper the member marked not interested, before their reset or after."""
        return tuple(sorted(self.not_interested + self.hidden_before_reset))

    @property
    def positives(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.saved) | set(self.upvoted)))


def reader_signals(conn: Connection, user_id: int) -> ReaderSignals:
    """The member's signals (those given after their last reset) and settings, one statement."""
    return signals_of(conn.execute(_STATEMENT, {"user_id": user_id}))


def signals_of(rows: Iterable[tuple[str, int]]) -> ReaderSignals:
    """The signals of a member's rows of `signal_selects` (kind, value)."""
    found: dict[str, list[int]] = {SAVED: [], UPVOTED: [], HIDDEN: [], HIDDEN_BEFORE: []}
    share, reset = DEFAULT_PERSONAL_SHARE, False
    for kind, value in rows:
        if kind == SETTINGS:
            share = int(value)
        elif kind == SETTINGS + ":reset":
            reset = True
        else:
            found[kind].append(int(value))
    return ReaderSignals(
        saved=tuple(sorted(found[SAVED])),
        upvoted=tuple(sorted(found[UPVOTED])),
        not_interested=tuple(sorted(found[HIDDEN])),
        hidden_before_reset=tuple(sorted(found[HIDDEN_BEFORE])),
        personal_share=share,
        reset=reset,
    )


def readers_signals(conn: Connection, user_ids: Sequence[int]) -> dict[int, ReaderSignals]:
    """`reader_signals` of each of these members, in one statement (a digest run's batch)."""
    found: dict[int, dict[str, list[int]]] = {
        user: {SAVED: [], UPVOTED: [], HIDDEN: [], HIDDEN_BEFORE: []} for user in user_ids
    }
    share = dict.fromkeys(user_ids, DEFAULT_PERSONAL_SHARE)
    reset: set[int] = set()
    for user, kind, value in conn.execute(_statement(user_ids)) if user_ids else ():
        if kind == SETTINGS:
            share[user] = int(value)
        elif kind == SETTINGS + ":reset":
            reset.add(user)
        else:
            found[user][kind].append(int(value))
    return {
        user: ReaderSignals(
            saved=tuple(sorted(lists[SAVED])),
            upvoted=tuple(sorted(lists[UPVOTED])),
            not_interested=tuple(sorted(lists[HIDDEN])),
            hidden_before_reset=tuple(sorted(lists[HIDDEN_BEFORE])),
            personal_share=share[user],
            reset=user in reset,
        )
        for user, lists in found.items()
    }


def _statement(user_ids: Sequence[int]) -> CompoundSelect[int, str, int]:
    def of(column: ColumnElement[int]) -> ColumnElement[bool]:
        return column == user_ids[0] if len(user_ids) == 1 else id_in(column, user_ids)

    def since_reset(user: ColumnElement[int], column: ColumnElement[datetime]) -> ColumnElement[bool]:
        reset_at = select(reader_preferences.c.reset_at).where(reader_preferences.c.user_id == user)
        return or_(reset_at.scalar_subquery().is_(None), column > reset_at.scalar_subquery())

    saves, feedback, prefs = library_items, paper_feedback, reader_preferences
    hidden = (feedback.c.user_id, feedback.c.signal == NOT_INTERESTED)
    return union_all(
        select(saves.c.user_id, literal(SAVED).label("kind"), saves.c.paper_id.label("value")).where(
            of(saves.c.user_id), since_reset(saves.c.user_id, saves.c.saved_at)
        ),
        select(votes.c.user_id, literal(UPVOTED), votes.c.paper_id).where(
            of(votes.c.user_id), since_reset(votes.c.user_id, votes.c.created_at)
        ),
        select(feedback.c.user_id, literal(HIDDEN), feedback.c.paper_id).where(
            of(hidden[0]), hidden[1], since_reset(hidden[0], feedback.c.created_at)
        ),
        select(feedback.c.user_id, literal(HIDDEN_BEFORE), feedback.c.paper_id).where(
            of(hidden[0]), hidden[1], not_(since_reset(hidden[0], feedback.c.created_at))
        ),
        select(prefs.c.user_id, literal(SETTINGS), prefs.c.personal_share).where(of(prefs.c.user_id)),
        select(prefs.c.user_id, literal(SETTINGS + ":reset"), literal(1)).where(
            of(prefs.c.user_id), prefs.c.reset_at.is_not(None)
        ),
    )


def signal_selects(reader: ColumnElement[int]) -> list[Select[tuple[str, int]]]:
    """The member's signals as (kind, value) rows, one select per kind: `reader_signals`'s union
    (storage/for_you_reads.py adds columns to each for its own)."""
    reset_at = (
        select(reader_preferences.c.reset_at).where(reader_preferences.c.user_id == reader).scalar_subquery()
    )

    def since_reset(column: ColumnElement[datetime]) -> ColumnElement[bool]:
        return or_(reset_at.is_(None), column > reset_at)

    return [
        select(literal(SAVED).label("kind"), library_items.c.paper_id.label("value")).where(
            library_items.c.user_id == reader, since_reset(library_items.c.saved_at)
        ),
        select(literal(UPVOTED), votes.c.paper_id).where(
            votes.c.user_id == reader, since_reset(votes.c.created_at)
        ),
        select(literal(HIDDEN), paper_feedback.c.paper_id).where(
            paper_feedback.c.user_id == reader,
            paper_feedback.c.signal == NOT_INTERESTED,
            since_reset(paper_feedback.c.created_at),
        ),
        select(literal(HIDDEN_BEFORE), paper_feedback.c.paper_id).where(
            paper_feedback.c.user_id == reader,
            paper_feedback.c.signal == NOT_INTERESTED,
            not_(since_reset(paper_feedback.c.created_at)),
        ),
        select(literal(SETTINGS), reader_preferences.c.personal_share).where(
            reader_preferences.c.user_id == reader
        ),
        select(literal(SETTINGS + ":reset"), literal(1)).where(
            reader_preferences.c.user_id == reader, reader_preferences.c.reset_at.is_not(None)
        ),
    ]


def _build() -> CompoundSelect[str, int]:
    """The statement, made once (its construction cost more than its run: py-spy)."""
    reader: BindParameter[int] = bindparam("user_id")
    return union_all(*signal_selects(reader))


_STATEMENT = _build()
