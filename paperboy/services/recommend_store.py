"""A reader's "For you" scores shared by every process and host: the first process that needs a
member's scores of a period fits them (services/recommend.py) and stores them in the database;
any other process, finding none of its own kept (services/recommend_cache.py), reads them there
instead of fitting again (~0.3 ms against 6-9 ms for a day, bench/README.md "personal").

Stored under a digest of everything the fit reads (the member's signals and follows, the
catalogue version, the vectors generation, the model's weights), so that a save, hide, undo,
follow or reset, a sync or a new index makes the next page fit anew, as the process caches do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from sqlalchemy import Connection, Engine

from paperboy.domain.calendar import Period
from paperboy.domain.personal_bytes import personal_bytes, personal_from_bytes
from paperboy.domain.recommend import Candidates, Personal
from paperboy.storage.engine import now_utc
from paperboy.storage.reader_scores import store_scores, stored_scores
from paperboy.storage.transactions import write_transaction


def scope_of(period: Period, category: str | None) -> str:
    """The row a member's scores of `period` (and `category`) are kept in."""
    return f"{period.kind}:{period.start}:{category or ''}"[:64]


def version_of(*made_from: object) -> str:
    """A digest of what the scores were made from (dataclasses and tuples: their repr is the same
    in every process)."""
    return hashlib.sha256(repr(made_from).encode()).hexdigest()


def shared_personal(
    engine: Engine,
    conn: Connection,
    user_id: int,
    where: tuple[str, str],
    candidates: Candidates,
    fit: Callable[[], Personal],
    *,
    store: bool = True,
) -> Personal:
    """The member's scores over `candidates` stored at `where` (scope, version), else `fit()`'s,
    then stored for the other processes (unless `store` is False)."""
    scope, version = where
    blob = stored_scores(conn, user_id, scope, version)
    found = personal_from_bytes(blob, candidates) if blob is not None else None
    if found is not None:
        return found
    personal = fit()
    if not store:
        return personal
    with write_transaction(engine) as writer:
        store_scores(writer, user_id, scope, version, personal_bytes(personal), now_utc())
    return personal
