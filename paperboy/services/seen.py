"""What each member has seen, and "hide seen".

A paper counts as seen by a member once they opened its page, saved it, or were mailed it in a
digest (services/digest_sender.py records that in the send's transaction). Listings read it
with the reader's other marks in one statement (storage/reader_marks.py); a member who chose
"hide seen" gets those papers left out of every listing (day, week and month pages, top, search
results, For you, author pages), as "not interested" leaves papers out: the page keeps its place
in the period's paging, so it may show fewer cards than the page size, and the page says how to
show them again.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from paperboy.config import Settings
from paperboy.domain.users import User
from paperboy.services.library import change_counted
from paperboy.storage import seen as store
from paperboy.storage.engine import now_utc
from paperboy.storage.transactions import write_transaction

__all__ = ["record_opened", "set_hide_seen"]


def record_opened(engine: Engine, user: User, paper_id: int) -> None:
    """The member opened the paper's page: it counts as seen from now on (again is a no-op;
    callers skip it for a paper already seen, so a page view writes once per member and paper)."""
    with write_transaction(engine) as conn:
        store.insert_seen(conn, user.id, [paper_id], now_utc(), store.OPENED)


def set_hide_seen(engine: Engine, settings: Settings, user: User, ip: str, *, hide: bool) -> bool:
    """Turn "hide seen" on or off for the member's listings; the new choice. RateLimited past
    `rate_limit_library` (it counts with saves and "not interested")."""

    def change(conn: Connection) -> bool:
        store.set_hide_seen(conn, user.id, hide)
        return hide

    return change_counted(engine, settings, user, ip, change)
