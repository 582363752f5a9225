"""Small key/value state of background jobs: sync progress, last harvested datestamps."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import BigInteger, Connection, Text, bindparam, cast, select

from paperboy.storage.dialect import insert_into
from paperboy.storage.engine import now_utc, utc
from paperboy.storage.schema import sync_state

SYNC_STATE_KEY = "sync:state"  # "running" | "failed" | "done", written by services/sync.py
SYNC_MESSAGE_KEY = "sync:message"  # what the last sync did, or why it failed
# Written when a sync ends without a failure; its updated_at is /metrics' sync lag.
SYNC_SUCCEEDED_KEY = "sync:succeeded"
# A running sync rewrites its state at every step (a heartbeat); one silent for this long was
# left behind by a process that stopped or crashed mid-sync.
RUNNING_GOES_STALE = timedelta(minutes=10)
INTERRUPTED = "the last sync stopped before it finished (its process was stopped or crashed)"


_GET_STATE = select(sync_state.c.value).where(sync_state.c.key == bindparam("key"))  # built once


def get_state(conn: Connection, key: str) -> str | None:
    value: str | None = conn.execute(_GET_STATE, {"key": key}).scalar()
    return value


def set_state(conn: Connection, key: str, value: str) -> None:
    statement = insert_into(conn, sync_state).values(key=key, value=value, updated_at=now_utc())
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[sync_state.c.key],
            set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
        )
    )


def delete_state(conn: Connection, key: str) -> None:
    conn.execute(sync_state.delete().where(sync_state.c.key == key))


def insert_state_if_absent(conn: Connection, key: str, value: str) -> None:
    statement = insert_into(conn, sync_state).values(key=key, value=value, updated_at=now_utc())
    conn.execute(statement.on_conflict_do_nothing(index_elements=[sync_state.c.key]))


def get_counter(conn: Connection, key: str) -> int:
    """A counter kept by `bump_counter` (0 before its first bump)."""
    return int(get_state(conn, key) or 0)


def bump_counter(conn: Connection, key: str) -> None:
    """Add one to a counter, atomically: one statement, so that concurrent writers each count."""
    statement = insert_into(conn, sync_state).values(key=key, value="1", updated_at=now_utc())
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[sync_state.c.key],
            set_={
                "value": cast(cast(sync_state.c.value, BigInteger) + 1, Text),
                "updated_at": statement.excluded.updated_at,
            },
        )
    )


def claim_running(conn: Connection, key: str, stale_after: timedelta) -> bool:
    """Set `key` to "running" unless it already is and was written within `stale_after`: one
    statement (an upsert whose update is conditional), so of processes claiming at once exactly
    one wins, on SQLite and PostgreSQL alike. True when this call won."""
    now = now_utc()
    statement = insert_into(conn, sync_state).values(key=key, value="running", updated_at=now)
    claimed = statement.on_conflict_do_update(
        index_elements=[sync_state.c.key],
        set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
        where=(sync_state.c.value != "running") | (sync_state.c.updated_at < now - stale_after),
    ).returning(sync_state.c.key)
    return conn.execute(claimed).first() is not None


def get_state_age(conn: Connection, key: str) -> tuple[str, timedelta] | None:
    """The value of `key` and how long ago it was written."""
    row = conn.execute(
        select(sync_state.c.value, sync_state.c.updated_at).where(sync_state.c.key == key)
    ).first()
    if row is None:
        return None
    return row.value, now_utc() - (utc(row.updated_at) or now_utc())


CATALOGUE_VERSION_KEY = "catalogue:version"  # changes with every write that pages show


def bump_catalogue_version(conn: Connection) -> None:
    """Mark the catalogue changed (in the writer's transaction), so cached pages are rebuilt."""
    set_state(conn, CATALOGUE_VERSION_KEY, uuid.uuid4().hex)


def catalogue_version(conn: Connection) -> str:
    return get_state(conn, CATALOGUE_VERSION_KEY) or ""


COMMUNITY_VERSION_KEY = "community:version"  # a counter: changes with every vote and comment count


def page_versions(conn: Connection) -> tuple[str, str]:
    """The catalogue version and the community version, in one statement: what a ranked page
    depends on besides the clock."""
    found = {row.key: row.value for row in conn.execute(_PAGE_VERSIONS)}
    return found.get(CATALOGUE_VERSION_KEY) or "", found.get(COMMUNITY_VERSION_KEY) or "0"


# Built once: read on every page rendered, where building a statement anew costs more CPU than
# running it (SQLAlchemy's construction and cache key, ~0.1 ms).
_PAGE_VERSIONS = select(sync_state.c.key, sync_state.c.value).where(
    sync_state.c.key.in_((CATALOGUE_VERSION_KEY, COMMUNITY_VERSION_KEY))
)
