"""Accounts for tests: members made straight in the database (hashing once), logged-in clients.

Not a conftest.py (see app_client.py).
"""

from __future__ import annotations

import re
from functools import cache

from sqlalchemy import Engine

from paperboy.domain.users import User
from paperboy.services.accounts import hash_password
from paperboy.services.sessions import open_session, token_digest
from paperboy.storage.api_tokens import insert_token
from paperboy.storage.engine import now_utc
from paperboy.storage.transactions import write_transaction
from paperboy.storage.users import insert_user

PASSWORD = "correct horse battery"


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 takes ~50 ms: once per test process, not per user


def make_member(engine: Engine, name: str, *, verified: bool = True, role: str = "member") -> User:
    """An account named `name` (e-mail name@example.org) whose password is PASSWORD."""
    with write_transaction(engine) as conn:
        return insert_user(
            conn,
            email=f"{name}@example.org",
            name=name,
            password_hash=_password_hash(),
            role=role,
            now=now_utc(),
            verified=verified,
        )


def log_in_as(client, user: User) -> str:
    """Give `client` a session cookie for `user`; the session's CSRF token is returned."""
    ctx = client.app.state.paperboy
    session = open_session(ctx.engine, ctx.settings, user)
    client.cookies.set("paperboy_session", session.token)
    return session.csrf_token


_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF_INPUT.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def stored_token(engine: Engine, user: User, scopes: str, plaintext: str = "pb_" + "b" * 40) -> str:
    """An API token written straight to the database, as an older version or a token made before
    a ban would have left it (no checks of today's rules); its plaintext."""
    with write_transaction(engine) as conn:
        insert_token(
            conn,
            user_id=user.id,
            name="old",
            token_hash=token_digest(plaintext),
            prefix=plaintext[:10],
            scopes=scopes,
            now=now_utc(),
        )
    return plaintext
