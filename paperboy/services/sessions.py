"""Sessions: who is asking. Logging in (services/accounts.py) opens one; its token goes into the
cookie and only the token's sha256 is stored. Each request finds its viewer by the token, and a
session's expiry slides forward as it is used, with one write an hour at most.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from paperboy.config import Settings
from paperboy.domain.user_agents import describe_agent
from paperboy.domain.users import User
from paperboy.storage import users as store
from paperboy.storage.engine import now_utc, read_connection
from paperboy.storage.transactions import write_transaction

log = logging.getLogger(__name__)
_PURGE_CHANCE = 0.01  # about one session refresh in a hundred also deletes expired sessions
_TOUCH_EVERY = timedelta(hours=1)  # a session's expiry slides forward at most this often (one write)


@dataclass(frozen=True, slots=True)
class Session:
    token: str  # goes into the cookie; the database keeps only its hash
    user: User
    csrf_token: str


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: an account with its session, or nobody."""

    user: User | None
    session_id: str | None = None
    csrf_token: str | None = None
    refreshed: bool = False  # the session's expiry slid forward: send the cookie again
    scopes: frozenset[str] | None = None  # an API token's scopes; None: a session, which may do all
    unseen_alerts: int | None = None  # a session's new alerts, read with it (None: not read)


ANONYMOUS = Viewer(None)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    engine: Engine, settings: Settings, user: User, *, user_agent: str = "", ip: str | None = None
) -> Session:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = now_utc()
    with write_transaction(engine) as conn:
        store.insert_session(
            conn,
            session_id=token_digest(token),
            user_id=user.id,
            csrf_token=csrf,
            now=now,
            expires_at=now + timedelta(days=settings.session_days),
            user_agent=describe_agent(user_agent),
            ip=ip[:64] if ip else None,
        )
    return Session(token, user, csrf)


def viewer_for_token(
    engine: Engine, settings: Settings, token: str, *, now: datetime | None = None
) -> Viewer:
    """The session's account (ANONYMOUS for an unknown or expired token); slides the expiry hourly."""
    if not token or len(token) > 128:
        return ANONYMOUS
    moment = now or now_utc()
    session_id = token_digest(token)
    with read_connection(engine) as conn:  # on every logged-in request: no BEGIN, no ROLLBACK
        found = store.session_user(conn, session_id, moment)
    if found is None:
        return ANONYMOUS
    user, csrf, last_seen, unseen = found
    if moment - last_seen <= _TOUCH_EVERY:
        return Viewer(user, session_id, csrf, unseen_alerts=unseen)
    try:
        with write_transaction(engine) as conn:
            store.touch_session(conn, session_id, moment, moment + timedelta(days=settings.session_days))
            if random.random() < _PURGE_CHANCE:  # noqa: S311 - housekeeping, not security
                store.purge_expired_sessions(conn, moment)
    except OperationalError:  # a long write holds the lock: the page matters more than the refresh
        log.warning("could not refresh a session's expiry; it is retried on a later request")
        return Viewer(user, session_id, csrf, unseen_alerts=unseen)
    return Viewer(user, session_id, csrf, refreshed=True, unseen_alerts=unseen)


def log_out(engine: Engine, viewer: Viewer) -> None:
    if viewer.session_id is not None:
        with write_transaction(engine) as conn:
            store.delete_session(conn, viewer.session_id)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))
