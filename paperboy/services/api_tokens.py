"""Personal access tokens: created in the settings page, sent as `Authorization: Bearer <token>`.

A token is `pb_` and 40 random URL-safe characters, shown once when it is made; the database
keeps only its sha256 and its first characters (to tell tokens apart in the list). A token acts
as its account with only its scopes; a banned account's tokens stop working, a revoked one at once.

Only a confirmed, unbanned account makes tokens; a password change or reset, a ban and "log out
everywhere" revoke them all (services/accounts.py). A `feed` token is single-purpose: it opens the
account's private feed URL and nothing else (no /api/ route), and no other scope joins it, since
a feed URL ends up in feed readers, their logs and their sync services.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from paperboy.domain.users import User
from paperboy.services.sessions import token_digest
from paperboy.storage import api_tokens as store
from paperboy.storage import users as users_store
from paperboy.storage.api_tokens import ApiToken
from paperboy.storage.engine import now_utc
from paperboy.storage.transactions import write_transaction

TOKEN_PREFIX = "pb_"  # noqa: S105 - the visible start of every token, not a secret
# What each scope allows: read (GET /api/v1/me, the library), vote, submit, comment, library (save
# papers to the library and remove them); feed is for a private feed URL and nothing else.
SCOPES = ("read", "vote", "submit", "comment", "library")
FEED_SCOPE = "feed"
ALL_SCOPES = (*SCOPES, FEED_SCOPE)
MAX_NAME = 80
MAX_TOKENS = 50  # live tokens per account
_VISIBLE = 10  # characters of the token the list shows: "pb_" and seven more
_TOUCH_EVERY = timedelta(minutes=5)  # last_used_at is written at most this often (one write)

__all__ = ["ALL_SCOPES", "SCOPES", "ApiToken", "TokenError"]


class TokenError(ValueError):
    """A token request to correct (no name, unknown scope, too many tokens); the message says what."""


class TokenForbidden(TokenError):
    """This account may not make tokens (unconfirmed address, banned): HTTP 403."""


@dataclass(frozen=True, slots=True)
class NewToken:
    token: ApiToken
    plaintext: str  # shown once; never stored


@dataclass(frozen=True, slots=True)
class TokenUser:
    """Who a Bearer token acts as, and what it may do."""

    user: User
    scopes: frozenset[str]
    token_id: int


def create_token(engine: Engine, user: User, name: str, scopes: list[str]) -> NewToken:
    """A new token for `user`; its plaintext is in the result and nowhere else. TokenError, or
    TokenForbidden for an unconfirmed or banned account."""
    if user.banned:
        raise TokenForbidden("a banned account cannot make API tokens")
    if not user.verified:
        raise TokenForbidden(
            "confirm your e-mail address first (open the link in the mail we sent you): "
            "an unconfirmed account cannot make API tokens"
        )
    name, chosen = _checked(name, scopes)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(30)
    now = now_utc()
    with write_transaction(engine) as conn:
        live = [token for token in store.user_tokens(conn, user.id) if token.revoked_at is None]
        if len(live) >= MAX_TOKENS:
            raise TokenError(f"an account can hold {MAX_TOKENS} tokens: revoke one first")
        token_id = store.insert_token(
            conn,
            user_id=user.id,
            name=name,
            token_hash=token_digest(plaintext),
            prefix=plaintext[:_VISIBLE],
            scopes=" ".join(chosen),
            now=now,
        )
    token = ApiToken(token_id, user.id, name, plaintext[:_VISIBLE], frozenset(chosen), now, None, None)
    return NewToken(token, plaintext)


def create_token_for(engine: Engine, name: str, token_name: str, scopes: list[str]) -> NewToken:
    """`create_token` for the account named `name` (the command line's `admin create-token`);
    an unnamed token is called after the moment it was made. TokenError for an unknown account."""
    with engine.connect() as conn:
        user = users_store.user_by_name(conn, name.strip()[:64].lower())
    if user is None:
        raise TokenError(f"no account is named {name[:64]!r}")
    label = token_name or f"command line {now_utc():%Y-%m-%d %H:%M}"
    return create_token(engine, user, label, scopes)


def list_tokens(engine: Engine, user: User) -> list[ApiToken]:
    with engine.connect() as conn:
        return store.user_tokens(conn, user.id)


def revoke_token(engine: Engine, user: User, token_id: int) -> bool:
    """Revoke one of the user's tokens; False when there was no such live token."""
    with write_transaction(engine) as conn:
        return store.revoke_token(conn, user.id, token_id, now_utc())


def revoke_all_tokens(engine: Engine, user: User) -> int:
    """Revoke every live token of the account; how many there were."""
    with write_transaction(engine) as conn:
        return store.revoke_user_tokens(conn, user.id, now_utc())


def authenticate_token(engine: Engine, plaintext: str) -> TokenUser | None:
    """The account and scopes of a live API token; None for an unknown, revoked or banned one, and
    for a feed token, which opens its private feed and nothing else."""
    found = _live_token(engine, plaintext)
    return found if found is not None and FEED_SCOPE not in found.scopes else None


def user_for_feed_token(engine: Engine, plaintext: str) -> User | None:
    """The account of a feed token (the `feed` scope alone), for a private feed URL; else None."""
    found = _live_token(engine, plaintext)
    return found.user if found is not None and found.scopes == {FEED_SCOPE} else None


def _live_token(engine: Engine, plaintext: str) -> TokenUser | None:
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 100:
        return None
    with engine.connect() as conn:
        found = store.token_with_user(conn, token_digest(plaintext))
    if found is None or found[1].banned:
        return None
    token, user = found
    now = now_utc()
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        with write_transaction(engine) as conn:
            store.touch_token(conn, token.id, now)
    return TokenUser(user, token.scopes, token.id)


def _checked(name: str, scopes: list[str]) -> tuple[str, list[str]]:
    name = " ".join(name.split())
    if not name:
        raise TokenError("give the token a name, such as the script that will use it")
    if len(name) > MAX_NAME:
        raise TokenError(f"a token's name has at most {MAX_NAME} characters")
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise TokenError(f"unknown scope {unknown[0][:20]!r}: choose among {', '.join(ALL_SCOPES)}")
    if not scopes:
        raise TokenError("choose at least one scope")
    if FEED_SCOPE in scopes and len(set(scopes)) > 1:
        raise TokenError(
            f"the {FEED_SCOPE!r} scope stands alone: a feed address is read by feed readers and their "
            "services, so make one token for the feed and another for the other scopes"
        )
    return name, [scope for scope in ALL_SCOPES if scope in scopes]
