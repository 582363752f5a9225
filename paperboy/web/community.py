"""Upvotes and submissions: the vote button's endpoint and the submit form.

Handlers are thin: check who is asking (CSRF, a verified member), call one service, then
redirect (303, so that reloading never posts twice) or answer JSON to the vote button's script.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.responses import Response

from paperboy.services.submissions import ArxivBusy, ArxivUnavailable, SubmissionRefused, submit_paper
from paperboy.services.votes import PaperNotFound, VoteResult, remove_upvote, upvote_paper
from paperboy.web.auth import (
    LOGGED_IN,
    CheckedViewer,
    client_ip,
    local_path,
    require_member,
    viewer_of,
)
from paperboy.web.context import app_context
from paperboy.web.errors import PageError, render_error, wants_json
from paperboy.web.urls import paper_url

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

Field = Annotated[str, Form()]  # "" when absent: this module's message, not a 422
NextField = Annotated[str, Form(alias="next")]  # where a form without JavaScript goes back to
_VOTES = {"up": upvote_paper, "remove": remove_upvote}


@router.post("/papers/{arxiv_id:path}/vote", dependencies=LOGGED_IN)
def vote(
    request: Request, arxiv_id: str, viewer: CheckedViewer, action: Field = "up", next_path: NextField = ""
) -> Response:
    """action=up|remove. Scripts (Accept: application/json) get the new count; forms go back."""
    user = require_member(viewer)
    cast = _VOTES.get(action)
    if cast is None:
        raise PageError(400, "Bad request", f"action must be up or remove, not {action[:20]!r}")
    ctx = app_context(request)
    try:
        result = cast(ctx.engine, ctx.settings, user, arxiv_id, client_ip(request))
    except PaperNotFound as exc:
        raise PageError(404, "Paper not in this catalogue", str(exc)) from None
    if wants_json(request):
        return JSONResponse(_vote_json(result))
    return RedirectResponse(back_to(request, next_path, result.arxiv_id), status_code=303)


def _vote_json(result: VoteResult) -> dict[str, object]:
    return {"arxiv_id": result.arxiv_id, "upvotes": result.upvotes, "voted": result.voted}


def back_to(request: Request, next_path: str, arxiv_id: str) -> str:
    """The page the vote came from: the form's `next`, the Referer on this site, or the paper."""
    for target in (next_path, _referer_path(request)):
        local = local_path(target)
        if local:
            return local
    return paper_url(arxiv_id)


def _referer_path(request: Request) -> str | None:
    referer = request.headers.get("referer")
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.headers.get("host", ""):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@router.get("/submit")
def submit_form(request: Request) -> Response:
    viewer = viewer_of(request)
    if viewer.user is None:  # require_member's 401, with a way back here after logging in
        links = [("Log in", "/login?next=/submit"), ("Sign up", "/signup")]
        raise PageError(401, "Log in first", "Log in to submit a paper to the daily feed.", links)
    require_member(viewer)
    return _render_form(request)


@router.post("/submit", dependencies=LOGGED_IN)
def submit(request: Request, viewer: CheckedViewer, paper: Field = "") -> Response:
    user = require_member(viewer)
    ctx = app_context(request)
    try:
        result = submit_paper(ctx.engine, ctx.settings, user, paper, client_ip(request))
    except SubmissionRefused as exc:
        return _render_form(request, paper=paper, error=str(exc), status_code=400)
    except ArxivBusy as exc:
        links, headers = [("Try again", "/submit")], {"Retry-After": str(exc.retry_after)}
        return render_error(request, 503, "arXiv is busy", str(exc), links, headers=headers)
    except ArxivUnavailable as exc:
        raise PageError(502, "arXiv is not answering", str(exc), [("Try again", "/submit")]) from None
    target = f"{paper_url(result.arxiv_id)}?notice={result.notice}"
    if wants_json(request):
        body = {"arxiv_id": result.arxiv_id, "submitted": result.submitted, "url": target}
        return JSONResponse(body, status_code=201 if result.submitted else 200)
    return RedirectResponse(target, status_code=303)


def _render_form(
    request: Request, *, paper: str = "", error: str | None = None, status_code: int = 200
) -> Response:
    ctx = app_context(request)
    context = {"paper": paper[:300], "error": error, "window_days": ctx.settings.submission_window_days}
    return ctx.templates.TemplateResponse(request, "submit.html", context, status_code=status_code)
