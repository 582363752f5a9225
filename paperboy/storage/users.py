"""Accounts and login sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from paperboy.domain.users import User
from paperboy.storage.engine import utc
from paperboy.storage.schema import api_tokens, notifications, password_resets, sessions, users

_USER_COLUMNS = [c for c in users.c if c.name not in ("password_hash", "password_changed_at")]


class NameOrEmailTaken(Exception):
    """The unique e-mail or name already belongs to an account."""


def user_from_row(row: Any) -> User:
    """A User from any row holding the users columns (other columns may follow)."""
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        role=row.role,
        email_verified_at=utc(row.email_verified_at),
        banned_at=utc(row.banned_at),
        ban_reason=row.ban_reason,
        created_at=utc(row.created_at) or row.created_at,
        hide_seen=bool(row.hide_seen),
    )


def insert_user(
    conn: Connection,
    *,
    email: str,
    name: str,
    password_hash: str,
    role: str,
    now: datetime,
    verified: bool = False,
) -> User:
    """A new account; NameOrEmailTaken when either is in use (checked first, then by the unique keys)."""
    taken = conn.execute(select(users.c.id).where((users.c.email == email) | (users.c.name == name))).first()
    if taken is not None:
        raise NameOrEmailTaken()
    values = {
        "email": email,
        "name": name,
        "password_hash": password_hash,
        "role": role,
        "email_verified_at": now if verified else None,
        "created_at": now,
        "password_changed_at": now,
    }
    try:
        user_id = conn.execute(insert(users).values(**values).returning(users.c.id)).scalar_one()
    except IntegrityError:  # inserted by a concurrent transaction since the check above
        raise NameOrEmailTaken() from None
    return User(user_id, email, name, role, now if verified else None, None, None, now)


def user_by_id(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(select(*_USER_COLUMNS).where(users.c.id == user_id)).first()
    return user_from_row(row) if row else None


def user_by_name(conn: Connection, name: str) -> User | None:
    row = conn.execute(select(*_USER_COLUMNS).where(users.c.name == name)).first()
    return user_from_row(row) if row else None


def user_by_email(conn: Connection, email: str) -> User | None:
    row = conn.execute(select(*_USER_COLUMNS).where(users.c.email == email)).first()
    return user_from_row(row) if row else None


def credentials(conn: Connection, email: str) -> tuple[User, str] | None:
    """The account and its password hash, for logging in."""
    row = conn.execute(select(*_USER_COLUMNS, users.c.password_hash).where(users.c.email == email)).first()
    return (user_from_row(row), row.password_hash) if row else None


def update_user(conn: Connection, user_id: int, **values: Any) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(**values))


def mark_verified(conn: Connection, user_id: int, now: datetime) -> None:
    conn.execute(
        update(users)
        .where(users.c.id == user_id, users.c.email_verified_at.is_(None))
        .values(email_verified_at=now)
    )


def set_password_hash(conn: Connection, user_id: int, password_hash: str, now: datetime) -> None:
    update_user(conn, user_id, password_hash=password_hash, password_changed_at=now)


def count_users(conn: Connection) -> int:
    count: int = conn.execute(select(func.count()).select_from(users)).scalar_one()
    return count


# --- sessions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A live session as its account's settings page lists it."""

    id: str  # the sha256 of the cookie's token: naming it in a form gives nobody the session
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    client_ip: str


def insert_session(
    conn: Connection,
    *,
    session_id: str,
    user_id: int,
    csrf_token: str,
    now: datetime,
    expires_at: datetime,
    user_agent: str = "",
    ip: str | None = None,
) -> None:
    conn.execute(
        insert(sessions).values(
            id=session_id,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
            last_seen_at=now,
            user_agent=user_agent[:80] or None,
            client_ip=ip,
        )
    )


def user_sessions(conn: Connection, user_id: int, now: datetime) -> list[SessionInfo]:
    """The account's live sessions, most recently seen first."""
    rows = conn.execute(
        select(sessions)
        .where(sessions.c.user_id == user_id, sessions.c.expires_at > now)
        .order_by(sessions.c.last_seen_at.desc(), sessions.c.created_at.desc())
    )
    return [
        SessionInfo(
            row.id,
            utc(row.created_at) or row.created_at,
            utc(row.last_seen_at) or row.last_seen_at,
            row.user_agent or "",
            row.client_ip or "",
        )
        for row in rows
    ]


def delete_user_session(conn: Connection, user_id: int, session_id: str) -> bool:
    """End one of the account's sessions; False when it has no such session."""
    query = delete(sessions).where(sessions.c.id == session_id, sessions.c.user_id == user_id)
    return conn.execute(query).rowcount > 0


class SessionRow(NamedTuple):
    user: User
    csrf_token: str
    last_seen: datetime
    unseen_alerts: int  # the member's alerts no channel has shown yet (the header's count)


def session_user(conn: Connection, session_id: str, now: datetime) -> SessionRow | None:
    """The account of a live session, its CSRF token, when it was last seen and the count the
    header shows, in one query."""
    row = conn.execute(_SESSION_USER, {"session_id": session_id, "now": now}).first()
    if row is None:
        return None
    return SessionRow(
        user_from_row(row), row.csrf_token, utc(row.last_seen_at) or now, int(row.unseen_alerts)
    )


# The header's count of new alerts, read with the session: every logged-in page shows it, and a
# statement of its own cost a connection, a BEGIN and a ROLLBACK more (py-spy: 7% of a logged-in
# day page's time, against 2% for the whole session look-up). ix_notifications_user_id_seen_at.
_UNSEEN_ALERTS = (
    select(func.count())
    .select_from(notifications)
    .where(notifications.c.user_id == sessions.c.user_id, notifications.c.seen_at.is_(None))
    .scalar_subquery()
)

# Built once: every logged-in request runs it, and building it anew cost three times as much
# CPU as running it (0.25 ms against 0.08 ms a look-up on SQLite, connection included).
_SESSION_USER = (
    select(
        *_USER_COLUMNS, sessions.c.csrf_token, sessions.c.last_seen_at, _UNSEEN_ALERTS.label("unseen_alerts")
    )
    .join_from(sessions, users, users.c.id == sessions.c.user_id)
    .where(
        sessions.c.id == bindparam("session_id"),
        sessions.c.expires_at > bindparam("now", type_=sessions.c.expires_at.type),
    )
)


def touch_session(conn: Connection, session_id: str, now: datetime, expires_at: datetime) -> None:
    conn.execute(
        update(sessions).where(sessions.c.id == session_id).values(last_seen_at=now, expires_at=expires_at)
    )


def delete_session(conn: Connection, session_id: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.id == session_id))


def delete_user_sessions(conn: Connection, user_id: int, *, keep: str | None = None) -> None:
    query = delete(sessions).where(sessions.c.user_id == user_id)
    if keep is not None:
        query = query.where(sessions.c.id != keep)
    conn.execute(query)


def end_credentials(
    conn: Connection, user_id: int, now: datetime, *, keep_session: str | None = None
) -> None:
    """End every session (but `keep_session`) and revoke every API token of the account, in the
    caller's transaction: the password change, reset or ban and the revocations commit together."""
    delete_user_sessions(conn, user_id, keep=keep_session)
    conn.execute(
        update(api_tokens)
        .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def purge_expired_sessions(conn: Connection, now: datetime) -> int:
    return conn.execute(delete(sessions).where(sessions.c.expires_at <= now)).rowcount


# --- password resets ---------------------------------------------------------------------------


def insert_password_reset(
    conn: Connection, *, reset_id: str, user_id: int, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        insert(password_resets).values(id=reset_id, user_id=user_id, created_at=now, expires_at=expires_at)
    )


def use_password_reset(conn: Connection, reset_id: str, now: datetime) -> int | None:
    """Spend a reset token: the user id when it was live and unused, None otherwise.

    One UPDATE … WHERE used_at IS NULL, so two requests racing with the same token cannot both win.
    """
    result = conn.execute(
        update(password_resets)
        .where(
            password_resets.c.id == reset_id,
            password_resets.c.used_at.is_(None),
            password_resets.c.expires_at > now,
        )
        .values(used_at=now)
        .returning(password_resets.c.user_id)
    )
    user_id: int | None = result.scalar()
    return user_id


def live_reset_user(conn: Connection, reset_id: str, now: datetime) -> int | None:
    """The account of a reset token that is unused and unexpired."""
    user_id: int | None = conn.execute(
        select(password_resets.c.user_id).where(
            password_resets.c.id == reset_id,
            password_resets.c.used_at.is_(None),
            password_resets.c.expires_at > now,
        )
    ).scalar()
    return user_id


def drop_password_resets(conn: Connection, user_id: int) -> None:
    conn.execute(delete(password_resets).where(password_resets.c.user_id == user_id))
