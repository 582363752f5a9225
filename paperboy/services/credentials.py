"""An account's credentials as its owner manages them in settings: sessions and API tokens,
listed, ended one by one, or all at once ("log out everywhere")."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from paperboy.domain.users import User
from paperboy.storage import users as store
from paperboy.storage.engine import now_utc
from paperboy.storage.transactions import write_transaction
from paperboy.storage.users import SessionInfo

__all__ = ["SessionInfo", "end_session", "list_sessions", "log_out_everywhere"]


@dataclass(frozen=True, slots=True)
class EndedSession:
    ended: bool  # False: no such live session of this account
    was_current: bool  # the session that asked: its cookie should go too


def list_sessions(engine: Engine, user: User) -> list[SessionInfo]:
    with engine.connect() as conn:
        return store.user_sessions(conn, user.id, now_utc())


def end_session(engine: Engine, user: User, session_id: str, *, current: str | None) -> EndedSession:
    """End one of the account's sessions (logging out there at once)."""
    with write_transaction(engine) as conn:
        ended = store.delete_user_session(conn, user.id, session_id[:64])
    return EndedSession(ended, ended and session_id == current)


def log_out_everywhere(engine: Engine, user: User) -> None:
    """End every session of the account, this one too, and revoke every API token, together."""
    with write_transaction(engine) as conn:
        store.end_credentials(conn, user.id, now_utc())
