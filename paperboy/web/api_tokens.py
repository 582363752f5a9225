"""The settings page's "API tokens" section: create (the token is shown once), list, revoke.

Both POSTs are CSRF-protected forms of a logged-in account (web/auth.py); the page itself is
web/accounts.py's settings page, which shows this section through web/api_token_form.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from paperboy.services.api_tokens import TokenError, create_token, revoke_token
from paperboy.web.accounts import settings_response
from paperboy.web.api_models import MAX_ID
from paperboy.web.api_token_form import tokens_section
from paperboy.web.auth import LOGGED_IN, CheckedViewer, require_user
from paperboy.web.context import app_context

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)


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
        return settings_response(request, user, tokens=section, status=400)
    return settings_response(request, user, tokens=tokens_section(engine, user, new_token=made))


@router.post("/settings/tokens/{token_id}/revoke", dependencies=LOGGED_IN)
def revoke(
    request: Request, token_id: Annotated[int, Path(ge=1, le=MAX_ID)], viewer: CheckedViewer
) -> Response:
    revoke_token(app_context(request).engine, require_user(viewer), token_id)
    return RedirectResponse("/settings?done=token-revoked#api-tokens", status_code=303)
