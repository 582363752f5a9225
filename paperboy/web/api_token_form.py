"""The settings page's "API tokens" section: its data (the routes are web/api_tokens.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from paperboy.domain.users import User
from paperboy.services.api_tokens import ALL_SCOPES, NewToken, list_tokens

SCOPE_HELP = {
    "read": "read your account and library (GET /api/v1/me)",
    "vote": "upvote and withdraw upvotes",
    "submit": "submit papers",
    "comment": "write comments",
    "feed": "read your private feed",
}


def tokens_section(
    engine: Engine, user: User, *, new_token: NewToken | None = None, error: str | None = None
) -> dict[str, Any]:
    return {
        "tokens": list_tokens(engine, user),
        "new_token": new_token,
        "error": error,
        "scopes": [(scope, SCOPE_HELP[scope]) for scope in ALL_SCOPES],
    }
