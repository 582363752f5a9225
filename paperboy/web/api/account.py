"""The JSON API's writes and the account's own data: votes, comments, submissions, /me.

Writes need a token with the scope (`Authorization: Bearer`: 401 without one, 403 without the
scope) or a logged-in session with its CSRF token (X-CSRF-Token), as the site's own forms do.
The account must be a verified member that is not banned (403). The same services as the pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response

from paperboy.domain.comments import DiscussionError
from paperboy.domain.markup import InvalidComment
from paperboy.domain.models import PaperActivity
from paperboy.domain.users import User
from paperboy.services.comments import post_comment
from paperboy.services.feedback import give_feedback
from paperboy.services.library import library_page, save_paper
from paperboy.services.profiles import user_profile
from paperboy.services.submissions import ArxivBusy, ArxivUnavailable, SubmissionRefused, submit_paper
from paperboy.services.votes import PaperNotFound, VoteResult, remove_upvote, upvote_paper
from paperboy.web.api.errors import API_ERRORS, ApiError, api_error_response, error_doc, invalid
from paperboy.web.api.models import (
    CommentIn,
    CommentOut,
    FeedbackIn,
    FeedbackOut,
    Library,
    SavedOut,
    SubmissionIn,
    SubmissionOut,
    UserOut,
    VoteOut,
)
from paperboy.web.api.params import ArxivId
from paperboy.web.api.shapes import iso
from paperboy.web.auth import checked_viewer, client_ip, loaded_viewer, require_member, viewer_of
from paperboy.web.conditional import conditional_json
from paperboy.web.context import app_context
from paperboy.web.urls import paper_url

router = APIRouter(prefix="/api/v1", tags=["account"], responses=API_ERRORS)
LIBRARY_LIMIT = 100


def _scoped(scope: str) -> Callable[[Request], Awaitable[User]]:
    async def member_with(request: Request) -> User:
        viewer = await loaded_viewer(request)
        if viewer.user is None:
            message = f"Send Authorization: Bearer <token> with the {scope!r} scope (make one in /settings)."
            raise ApiError(401, "unauthorized", message)
        if viewer.scopes is None:  # a session: the site's CSRF and Origin checks
            await checked_viewer(request)
        elif scope not in viewer.scopes:
            raise ApiError(403, "insufficient_scope", f"This token lacks the {scope!r} scope.")
        # Reading and keeping one's own library take part in nothing: any account may.
        return require_member(viewer) if scope not in ("read", "library") else viewer.user

    return member_with


Voter = Annotated[User, Depends(_scoped("vote"))]
Commenter = Annotated[User, Depends(_scoped("comment"))]
Submitter = Annotated[User, Depends(_scoped("submit"))]
Reader = Annotated[User, Depends(_scoped("read"))]
Keeper = Annotated[User, Depends(_scoped("library"))]


@router.put("/papers/{arxiv_id:path}/vote", response_model=VoteOut, summary="Upvote a paper")
def put_vote(request: Request, arxiv_id: ArxivId, user: Voter) -> Response:
    """Add the account's upvote (again is fine). Scope: vote."""
    return _vote(request, arxiv_id, user, upvote_paper)


@router.delete("/papers/{arxiv_id:path}/vote", response_model=VoteOut, summary="Withdraw an upvote")
def delete_vote(request: Request, arxiv_id: ArxivId, user: Voter) -> Response:
    """Withdraw the account's upvote (none is fine). Scope: vote."""
    return _vote(request, arxiv_id, user, remove_upvote)


@router.post(
    "/papers/{arxiv_id:path}/comments",
    response_model=CommentOut,
    status_code=201,
    summary="Comment on a paper",
    responses={409: error_doc("The comment replied to was deleted, hidden, or is another paper's.")},
)
def create_comment(request: Request, arxiv_id: ArxivId, comment: CommentIn, user: Commenter) -> Response:
    """A new comment, or a reply when parent_id is given. Scope: comment."""
    ctx = app_context(request)
    try:
        made = post_comment(
            ctx.engine, ctx.settings, user, arxiv_id, comment.body, comment.parent_id, client_ip(request)
        )
    except InvalidComment as exc:
        raise invalid("body", str(exc)) from None
    except DiscussionError as exc:  # a parent deleted, hidden or of another paper: its state rules it out
        status = 409 if exc.status == 400 else exc.status
        raise ApiError(status, exc.title.lower().replace(" ", "_"), str(exc)) from None
    body: dict[str, object] = {
        "id": made.id,
        "parent_id": made.parent_id,
        "depth": 0,
        "author": made.author,
        "body": made.body,
        "body_html": made.body_html,
        "created_at": iso(made.created_at),
        "edited_at": None,
        "placeholder": None,
        "replies": [],
    }
    return JSONResponse(body, status_code=201)


@router.post("/submissions", response_model=SubmissionOut, status_code=201, summary="Submit a paper")
def create_submission(request: Request, submission: SubmissionIn, user: Submitter) -> Response:
    """Put a paper on today's feed with the account's upvote; 200 with submitted=false when it
    already was on a feed. Scope: submit."""
    ctx = app_context(request)
    try:
        result = submit_paper(ctx.engine, ctx.settings, user, submission.paper, client_ip(request))
    except SubmissionRefused as exc:
        raise ApiError(422, "submission_refused", str(exc), "paper") from None
    except ArxivBusy as exc:
        busy = ApiError(503, "arxiv_busy", str(exc))
        return api_error_response(busy, {"Retry-After": str(exc.retry_after)})
    except ArxivUnavailable as exc:
        raise ApiError(503, "arxiv_unavailable", str(exc)) from None
    body = {
        "arxiv_id": result.arxiv_id,
        "submitted": result.submitted,
        "day": result.day.isoformat() if result.day else None,
        "url": ctx.settings.public_url + paper_url(result.arxiv_id),
    }
    return JSONResponse(body, status_code=201 if result.submitted else 200)


@router.get("/me", response_model=UserOut, summary="The token's account")
def me(request: Request, user: Reader) -> Response:
    """Who the token or session acts as, and the token's scopes. Scope: read."""
    scopes = viewer_of(request).scopes
    body = {
        "name": user.name,
        "role": user.role,
        "verified": user.verified,
        "created_at": iso(user.created_at),
        "scopes": sorted(scopes) if scopes is not None else None,
    }
    return JSONResponse(body)


@router.get("/me/library", response_model=Library, summary="The account's library")
def library(request: Request, user: Reader) -> Response:
    """The papers the account saved, upvoted and submitted, newest first (up to 100 of each).
    Scope: read."""
    ctx = app_context(request)
    profile = user_profile(ctx.engine, user.name, limit=LIBRARY_LIMIT)
    if profile is None:  # deleted since the token was read
        raise ApiError(401, "unauthorized", "This account no longer exists.")
    public_url = ctx.settings.public_url
    saved = library_page(ctx.engine, user, page_size=LIBRARY_LIMIT)
    body = {
        "saved": [
            {
                "arxiv_id": item.view.paper.arxiv_id,
                "url": public_url + paper_url(item.view.paper.arxiv_id),
                "title": item.view.paper.title,
                "at": iso(item.saved_at),
            }
            for item in saved.items
        ],
        "saved_total": saved.total,
        "upvoted": [_entry(item, public_url) for item in profile.upvoted.items],
        "upvoted_total": profile.upvoted.total,
        "submitted": [_entry(item, public_url) for item in profile.submitted.items],
        "submitted_total": profile.submitted.total,
    }
    return conditional_json(request, body, max_age=0)


@router.put("/me/library/{arxiv_id:path}", response_model=SavedOut, summary="Save a paper to the library")
def put_saved(request: Request, arxiv_id: ArxivId, user: Keeper) -> Response:
    """Save the paper to the account's library (again is fine). Scope: library."""
    return _save(request, arxiv_id, user, save=True)


@router.delete(
    "/me/library/{arxiv_id:path}", response_model=SavedOut, summary="Remove a paper from the library"
)
def delete_saved(request: Request, arxiv_id: ArxivId, user: Keeper) -> Response:
    """Remove the paper from the account's library (not there is fine). Scope: library."""
    return _save(request, arxiv_id, user, save=False)


@router.put("/me/feedback/{arxiv_id:path}", response_model=FeedbackOut, summary="Give feedback on a paper")
def put_feedback(request: Request, arxiv_id: ArxivId, body: FeedbackIn, user: Keeper) -> Response:
    """`{"signal": "not_interested"}` hides the paper from the account's feeds. Scope: library."""
    return _feedback(request, arxiv_id, user, body.signal)


@router.delete("/me/feedback/{arxiv_id:path}", response_model=FeedbackOut, summary="Withdraw feedback")
def delete_feedback(request: Request, arxiv_id: ArxivId, user: Keeper) -> Response:
    """Forget the account's feedback on the paper (none is fine). Scope: library."""
    return _feedback(request, arxiv_id, user, None)


def _feedback(request: Request, arxiv_id: str, user: User, signal: str | None) -> Response:
    ctx = app_context(request)
    try:
        result = give_feedback(ctx.engine, ctx.settings, user, arxiv_id, client_ip(request), signal)
    except PaperNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return JSONResponse({"arxiv_id": result.arxiv_id, "signal": result.signal})


def _save(request: Request, arxiv_id: str, user: User, *, save: bool) -> Response:
    ctx = app_context(request)
    try:
        result = save_paper(ctx.engine, ctx.settings, user, arxiv_id, client_ip(request), save=save)
    except PaperNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return JSONResponse({"arxiv_id": result.arxiv_id, "saved": result.saved})


def _vote(request: Request, arxiv_id: str, user: User, cast: Callable[..., VoteResult]) -> Response:
    ctx = app_context(request)
    try:
        result = cast(ctx.engine, ctx.settings, user, arxiv_id, client_ip(request))
    except PaperNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return JSONResponse({"arxiv_id": result.arxiv_id, "upvotes": result.upvotes, "voted": result.voted})


def _entry(item: PaperActivity, public_url: str) -> dict[str, object]:
    url = public_url + paper_url(item.arxiv_id)
    return {"arxiv_id": item.arxiv_id, "url": url, "title": item.title, "at": iso(item.at)}
