"""The settings page's credentials sections, API tokens and sessions: their data (the routes are
web/api_tokens.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from paperboy.domain.users import User
from paperboy.services.api_tokens import ALL_SCOPES, NewToken, list_tokens
from paperboy.services.credentials import list_sessions

SCOPE_HELP = {
    "read": "read your account and library (GET /api/v1/me)",
    "vote": "upvote and withdraw upvotes",
    "library": "save papers to your library, remove them, mark papers not interested",
    "submit": "submit papers",
    "comment": "write comments",
    "feed": "your private feed's address, and nothing else (choose it alone)",
}


def tokens_section(
    engine: Engine, user: User, *, new_token: NewToken | None = None, error: str | None = None
) -> dict[str, Any]:
    tokens = list_tokens(engine, user)
    return {
        "tokens": tokens,
        "live": sum(1 for token in tokens if token.revoked_at is None),
        "may_create": user.verified and not user.banned,
        "new_token": new_token,
        "error": error,
        "scopes": [(scope, SCOPE_HELP[scope]) for scope in ALL_SCOPES],
    }


def sessions_section(engine: Engine, user: User, *, current: str | None) -> dict[str, Any]:
    return {"sessions": list_sessions(engine, user), "current": current}
