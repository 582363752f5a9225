"""What every "For you" request reads before anything else, in one statement: the member's
signals and settings (storage/reader_signals.py), their follows (storage/follows.py) and the
page versions (storage/sync_state.py). Three statements were three round trips to PostgreSQL on
every page (bench/README.md, "personal"); the rows are the same.

Each part of the union is a row of six columns: (part, number, name, text, label, at):
- a signal: its kind, the paper's row id (or the setting's value);
- a follow: "follow", its id, its kind, its value, its label, when it was made;
- a version: "version", -, its key, its value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Connection,
    Text,
    bindparam,
    cast,
    literal,
    null,
    or_,
    select,
    union_all,
)

from paperboy.domain.follows import Follow, follow_kind
from paperboy.storage.engine import utc
from paperboy.storage.reader_signals import ReaderSignals, signal_selects, signals_of
from paperboy.storage.schema import follows, sync_state
from paperboy.storage.sync_state import CATALOGUE_VERSION_KEY, COMMUNITY_VERSION_KEY

FOLLOW, VERSION = "follow", "version"


@dataclass(frozen=True, slots=True)
class ForYouReads:
    signals: ReaderSignals
    follows: list[Follow]  # the oldest first
    versions: tuple[str, str]  # the catalogue's and the community's (sync_state.page_versions)


def for_you_reads(conn: Connection, user_id: int) -> ForYouReads:
    """The member's signals, follows and the page versions, one statement."""
    signals: list[tuple[str, int]] = []
    followed: list[Follow] = []
    versions: dict[str, str] = {}
    for part, number, name, text, label, at in conn.execute(_STATEMENT, {"user_id": user_id}):
        if part == FOLLOW:
            followed.append(Follow(number, follow_kind(name), text, label, utc(at) or at))
        elif part == VERSION:
            versions[name] = text
        else:
            signals.append((part, number))
    followed.sort(key=lambda f: (f.created_at, f.id))  # follows_of's order, reversed
    return ForYouReads(
        signals_of(signals),
        followed,
        (versions.get(CATALOGUE_VERSION_KEY) or "", versions.get(COMMUNITY_VERSION_KEY) or "0"),
    )


def _build() -> CompoundSelect[Any]:
    """Made once. The follows' part comes first: its columns' types are the union's (a datetime
    read back as one on SQLite too)."""
    reader: BindParameter[int] = bindparam("user_id")
    follows_part = select(
        literal(FOLLOW), follows.c.id, follows.c.kind, follows.c.value, follows.c.label, follows.c.created_at
    ).where(follows.c.user_id == reader)
    nothing = (*(cast(null(), Text) for _ in range(3)), cast(null(), follows.c.created_at.type))
    signal_parts = [part.add_columns(*nothing) for part in signal_selects(reader)]
    versions_part = select(
        literal(VERSION), cast(null(), follows.c.id.type), sync_state.c.key, sync_state.c.value, *nothing[2:]
    ).where(or_(sync_state.c.key == CATALOGUE_VERSION_KEY, sync_state.c.key == COMMUNITY_VERSION_KEY))
    return union_all(follows_part, *signal_parts, versions_part)


_STATEMENT = _build()
