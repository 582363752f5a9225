"""Personal access tokens of the API: only each token's sha256 is stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from paperboy.domain.users import User
from paperboy.storage.engine import utc
from paperboy.storage.schema import api_tokens, users
from paperboy.storage.users import user_from_row

_USER_COLUMNS = [c for c in users.c if c.name not in ("password_hash", "password_changed_at")]


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    user_id: int
    name: str
    prefix: str
    scopes: frozenset[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def insert_token(
    conn: Connection, *, user_id: int, name: str, token_hash: str, prefix: str, scopes: str, now: datetime
) -> int:
    values = {"user_id": user_id, "name": name, "token_hash": token_hash, "prefix": prefix}
    statement = insert(api_tokens).values(**values, scopes=scopes, created_at=now).returning(api_tokens.c.id)
    token_id: int = conn.execute(statement).scalar_one()
    return token_id


def user_tokens(conn: Connection, user_id: int) -> list[ApiToken]:
    """The account's tokens, newest first, revoked ones included."""
    rows = conn.execute(
        select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id.desc())
    )
    return [_token(row) for row in rows]


def token_with_user(conn: Connection, token_hash: str) -> tuple[ApiToken, User] | None:
    """The live (unrevoked) token with this hash and its account, in one query."""
    columns = [c.label(f"t_{c.name}") for c in api_tokens.c]
    row = conn.execute(
        select(*columns, *_USER_COLUMNS)
        .join_from(api_tokens, users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    token = _token_from({c.name: row._mapping[f"t_{c.name}"] for c in api_tokens.c})
    return token, user_from_row(row)


def revoke_token(conn: Connection, user_id: int, token_id: int, now: datetime) -> bool:
    """Revoke one of the account's tokens; False when it has no such live token."""
    result = conn.execute(
        update(api_tokens)
        .where(
            api_tokens.c.id == token_id, api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None)
        )
        .values(revoked_at=now)
    )
    return result.rowcount > 0


def revoke_user_tokens(conn: Connection, user_id: int, now: datetime) -> int:
    """Revoke every live token of the account; how many there were."""
    result = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount


def touch_token(conn: Connection, token_id: int, now: datetime) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now))


def _token(row: Any) -> ApiToken:
    return _token_from(row._mapping)


def _token_from(values: Mapping[str, Any]) -> ApiToken:
    return ApiToken(
        id=values["id"],
        user_id=values["user_id"],
        name=values["name"],
        prefix=values["prefix"],
        scopes=frozenset(values["scopes"].split()),
        created_at=utc(values["created_at"]) or values["created_at"],
        last_used_at=utc(values["last_used_at"]),
        revoked_at=utc(values["revoked_at"]),
    )
