"""The settings page's credentials: API tokens (create, shown once; revoke one or all) and
sessions (log one out, or log out everywhere, which revokes every token too).

Every POST is a CSRF-protected form of a logged-in account (web/auth.py); the page itself is
web/accounts.py's settings page, which shows these sections through web/api_token_form.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from paperboy.services.api_tokens import (
    TokenError,
    TokenForbidden,
    create_token,
    revoke_all_tokens,
    revoke_token,
)
from paperboy.services.credentials import end_session, log_out_everywhere
from paperboy.web.accounts import settings_response
from paperboy.web.api.models import MAX_ID
from paperboy.web.api_token_form import tokens_section
from paperboy.web.auth import LOGGED_IN, CheckedViewer, clear_session_cookie, require_user
from paperboy.web.context import app_context

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)
SessionId = Annotated[str, Path(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")]


@router.post("/settings/tokens", dependencies=LOGGED_IN)
def create(
    request: Request,
    viewer: CheckedViewer,
    name: Annotated[str, Form()] = "",
    scope: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """The settings page again, with the new token shown this once."""
    user = require_user(viewer)
    engine = app_context(request).engine
    try:
        made = create_token(engine, user, name[:200], scope or [])
    except TokenError as exc:
        section = tokens_section(engine, user, error=str(exc))
        status = 403 if isinstance(exc, TokenForbidden) else 400
        return settings_response(request, user, tokens=section, status=status)
    return settings_response(request, user, tokens=tokens_section(engine, user, new_token=made))


@router.post("/settings/tokens/{token_id}/revoke", dependencies=LOGGED_IN)
def revoke(
    request: Request, token_id: Annotated[int, Path(ge=1, le=MAX_ID)], viewer: CheckedViewer
) -> Response:
    revoke_token(app_context(request).engine, require_user(viewer), token_id)
    return _back("token-revoked", "api-tokens")


@router.post("/settings/tokens/revoke-all", dependencies=LOGGED_IN)
def revoke_all(request: Request, viewer: CheckedViewer) -> Response:
    revoke_all_tokens(app_context(request).engine, require_user(viewer))
    return _back("tokens-revoked", "api-tokens")


@router.post("/settings/sessions/{session_id}/end", dependencies=LOGGED_IN)
def end_one_session(request: Request, session_id: SessionId, viewer: CheckedViewer) -> Response:
    """Log out one session; this one's own goes to the home page without its cookie."""
    user = require_user(viewer)
    ended = end_session(app_context(request).engine, user, session_id, current=viewer.session_id)
    if ended.was_current:
        response = RedirectResponse("/", status_code=303)
        clear_session_cookie(response)
        return response
    return _back("session-ended", "sessions")


@router.post("/settings/sessions/end-all", dependencies=LOGGED_IN)
def end_all_sessions(request: Request, viewer: CheckedViewer) -> Response:
    """Log out everywhere: every session, this one too, and every API token."""
    log_out_everywhere(app_context(request).engine, require_user(viewer))
    response = RedirectResponse("/login?done=everywhere", status_code=303)
    clear_session_cookie(response)
    return response


def _back(done: str, section: str) -> Response:
    return RedirectResponse(f"/settings?done={done}#{section}", status_code=303)
