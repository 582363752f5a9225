"""Follows and alerts on the site: the follow button's endpoint (POST /follow, a plain form
with the CSRF token, or JSON for a script), /following (the reader's follows, each with an
unfollow), /authors/{name} (an author's papers, co-authors and categories), /notifications (the
reader's alerts; listing them marks them seen) and POST /notifications/seen.

/following and /notifications are their owner's alone: `private, no-store`, never cached. Author
pages are public, but a logged-in reader's copy carries their follow state and is never in the
shared page cache (logged-in requests bypass it).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.responses import Response

from paperboy.services.authors import author_page
from paperboy.services.follows import (
    InvalidFollow,
    PaperNotFound,
    follow_thing,
    follows_list,
    unfollow_thing,
)
from paperboy.services.notifications import describe, mark_alerts_seen, notifications_page
from paperboy.web.auth import LOGGED_IN, CheckedViewer, client_ip, local_path, require_user, viewer_of
from paperboy.web.context import app_context
from paperboy.web.errors import PageError, wants_json
from paperboy.web.urls import author_url

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

Field = Annotated[str, Form(max_length=2000)]
NextField = Annotated[str, Form(alias="next", max_length=2000)]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PRIVATE = {"Cache-Control": "private, no-store"}
_ACTIONS = ("follow", "unfollow")


@router.post("/follow", dependencies=LOGGED_IN)
def follow(
    request: Request,
    viewer: CheckedViewer,
    kind: Field = "",
    value: Field = "",
    action: Field = "follow",
    next_path: NextField = "",
) -> Response:
    """kind=author|category|search|paper, value, action=follow|unfollow. Scripts (Accept:
    application/json) get `{"kind", "value", "following", "id"}`; forms go back to `next`."""
    user = require_user(viewer)
    if action not in _ACTIONS:
        raise PageError(400, "Bad request", f"action must be follow or unfollow, not {action[:20]!r}")
    ctx = app_context(request)
    try:
        if action == "follow":
            result = follow_thing(ctx.engine, ctx.settings, user, kind, value, client_ip(request))
        else:
            result = unfollow_thing(ctx.engine, ctx.settings, user, kind, value, client_ip(request))
    except InvalidFollow as exc:
        raise PageError(400, "Cannot follow that", str(exc)) from None
    except PaperNotFound as exc:
        raise PageError(404, "Paper not in this catalogue", str(exc)) from None
    made = result.follow
    if wants_json(request):
        body = {"kind": kind, "value": made.value if made else value, "following": made is not None}
        return JSONResponse({**body, "id": made.id if made else None})
    return RedirectResponse(local_path(next_path) or "/following", status_code=303)


@router.get("/following")
def following(request: Request) -> Response:
    """The reader's follows, the latest first, each with an unfollow button."""
    user = viewer_of(request).user
    if user is None:
        return RedirectResponse(f"/login?next={quote('/following')}", status_code=303)
    ctx = app_context(request)
    found = follows_list(ctx.engine, user)
    context = {"follows": found, "follows_max": ctx.settings.follows_max, "author_url": author_url}
    return ctx.templates.TemplateResponse(request, "following.html", context, headers=PRIVATE)


@router.get("/authors/{name:path}")
def author(request: Request, name: str, page: PageNumber = 1) -> Response:
    """An author's papers (the newest first), co-authors and categories; 404 when no paper has
    the name (the page says how names are matched)."""
    if not name.strip() or len(name) > 300:
        raise PageError(404, "No such author", "Author names are 1 to 300 characters.")
    ctx = app_context(request)
    found = author_page(ctx.engine, name, viewer_of(request).user, page=page, page_size=50)
    context = {"author": found, "author_url": author_url}
    status = 200 if found.total else 404
    return ctx.templates.TemplateResponse(request, "author.html", context, status_code=status)


@router.get("/notifications")
def notifications(request: Request, page: PageNumber = 1) -> Response:
    """The reader's alerts, the newest first; the ones no channel showed before are marked new
    here and seen from now on (never mailed nor fed after)."""
    user = viewer_of(request).user
    if user is None:
        return RedirectResponse(f"/login?next={quote('/notifications')}", status_code=303)
    ctx = app_context(request)
    found = notifications_page(ctx.engine, user, page=page, page_size=50)
    request.state.alerts_changed = True  # marked seen just now: the header counts them again
    context = {"alerts": found, "describe": describe}
    return ctx.templates.TemplateResponse(request, "notifications.html", context, headers=PRIVATE)


@router.post("/notifications/seen", dependencies=LOGGED_IN)
def notifications_seen(request: Request, viewer: CheckedViewer, next_path: NextField = "") -> Response:
    """Mark all the reader's alerts seen (the header's count goes to 0)."""
    user = require_user(viewer)
    marked = mark_alerts_seen(app_context(request).engine, user)
    if wants_json(request):
        return JSONResponse({"marked": marked})
    return RedirectResponse(local_path(next_path) or "/notifications", status_code=303)
