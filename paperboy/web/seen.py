"""The "hide seen" switch of listings (services/seen.py): a plain form (CSRF token; the server
redirects back, 303) or JSON for a script (`Accept: application/json`: `{"hide_seen"}`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.responses import Response

from paperboy.services.seen import set_hide_seen
from paperboy.web.auth import LOGGED_IN, CheckedViewer, client_ip, local_path, require_user
from paperboy.web.context import app_context
from paperboy.web.errors import PageError, wants_json

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

_ACTIONS = {"hide": True, "show": False}


@router.post("/seen/hide", dependencies=LOGGED_IN)
def hide_seen(
    request: Request,
    viewer: CheckedViewer,
    action: Annotated[str, Form()] = "hide",
    next_path: Annotated[str, Form(alias="next")] = "",
) -> Response:
    """action=hide|show: leave seen papers out of the reader's listings, or show them again."""
    user = require_user(viewer)
    hide = _ACTIONS.get(action)
    if hide is None:
        raise PageError(400, "Bad request", f"action must be hide or show, not {action[:20]!r}")
    ctx = app_context(request)
    hidden = set_hide_seen(ctx.engine, ctx.settings, user, client_ip(request), hide=hide)
    if wants_json(request):
        return JSONResponse({"hide_seen": hidden})
    return RedirectResponse(local_path(next_path) or "/", status_code=303)
