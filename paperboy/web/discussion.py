"""Discussion routes: post, edit and delete comments; moderators hide comments and ban accounts.

Every POST passes the CSRF and Origin checks (CheckedViewer) and the role check, calls one
service function and redirects to where the change shows (303). The threads themselves render
on paper pages through the `discussion` macro in templates/_comments.html.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.comments import Comment, DiscussionError
from paperboy.domain.markup import MAX_COMMENT_LENGTH, InvalidComment
from paperboy.services import comments, moderation
from paperboy.web.auth import (
    LOGGED_IN,
    CheckedViewer,
    client_ip,
    local_path,
    require_member,
    require_moderator,
    viewer_of,
)
from paperboy.web.context import app_context
from paperboy.web.errors import PageError
from paperboy.web.urls import paper_url

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

TextField = Annotated[str, Form()]
_MAX_ID = 2**63 - 1  # the largest BIGINT: beyond it no comment exists


@router.post("/papers/{arxiv_id:path}/comments", dependencies=LOGGED_IN)
def post_comment(
    request: Request, viewer: CheckedViewer, arxiv_id: str, body: TextField = "", parent_id: TextField = ""
) -> Response:
    user = require_member(viewer)
    canonical = _arxiv_id(arxiv_id)
    ctx = app_context(request)
    with _discussion_errors("Comment not posted"):
        comment = comments.post_comment(
            ctx.engine, ctx.settings, user, canonical, body, _optional_id(parent_id), client_ip(request)
        )
    return _to_comment(comment)


@router.get("/comments/{comment_id}/edit")
def edit_form(request: Request, comment_id: str) -> Response:
    user = require_member(viewer_of(request))
    with _discussion_errors():
        comment = comments.comment_for_editing(app_context(request).engine, user, _comment_id(comment_id))
    return _edit_page(request, comment, comment.body)


@router.post("/comments/{comment_id}/edit", dependencies=LOGGED_IN)
def edit_comment(request: Request, viewer: CheckedViewer, comment_id: str, body: TextField = "") -> Response:
    user = require_member(viewer)
    ctx = app_context(request)
    number = _comment_id(comment_id)
    with _discussion_errors():
        try:
            comment = comments.edit_comment(ctx.engine, ctx.settings, user, number, body, client_ip(request))
        except InvalidComment as exc:
            # The author keeps the text they typed, with the reason it was not saved.
            original = comments.comment_for_editing(ctx.engine, user, number)
            return _edit_page(request, original, body[: MAX_COMMENT_LENGTH * 2], error=str(exc))
    return _to_comment(comment)


@router.post("/comments/{comment_id}/delete", dependencies=LOGGED_IN)
def delete_comment(request: Request, viewer: CheckedViewer, comment_id: str) -> Response:
    user = require_member(viewer)
    with _discussion_errors():
        comment = comments.delete_comment(app_context(request).engine, user, _comment_id(comment_id))
    return _redirect(f"{paper_url(comment.arxiv_id)}#comments")


@router.post("/comments/{comment_id}/hide", dependencies=LOGGED_IN)
def hide_comment(
    request: Request, viewer: CheckedViewer, comment_id: str, reason: TextField = ""
) -> Response:
    user = require_moderator(viewer)
    with _discussion_errors():
        comment = moderation.hide_comment(app_context(request).engine, user, _comment_id(comment_id), reason)
    return _to_comment(comment)


@router.post("/comments/{comment_id}/unhide", dependencies=LOGGED_IN)
def unhide_comment(
    request: Request, viewer: CheckedViewer, comment_id: str, reason: TextField = ""
) -> Response:
    user = require_moderator(viewer)
    with _discussion_errors():
        comment = moderation.unhide_comment(
            app_context(request).engine, user, _comment_id(comment_id), reason
        )
    return _to_comment(comment)


@router.post("/users/{name}/ban", dependencies=LOGGED_IN)
def ban_user(
    request: Request,
    viewer: CheckedViewer,
    name: str,
    reason: TextField = "",
    hide_comments: TextField = "",
    next_url: Annotated[str, Form(alias="next")] = "",
) -> Response:
    user = require_moderator(viewer)
    with _discussion_errors():
        banned = moderation.ban_user(
            app_context(request).engine, user, name, reason, hide_comments=bool(hide_comments)
        )
    return _redirect(local_path(next_url) or f"/users/{quote(banned.name)}")


@router.post("/users/{name}/unban", dependencies=LOGGED_IN)
def unban_user(
    request: Request,
    viewer: CheckedViewer,
    name: str,
    reason: TextField = "",
    next_url: Annotated[str, Form(alias="next")] = "",
) -> Response:
    user = require_moderator(viewer)
    with _discussion_errors():
        unbanned = moderation.unban_user(app_context(request).engine, user, name, reason)
    return _redirect(local_path(next_url) or f"/users/{quote(unbanned.name)}")


# --- helpers --------------------------------------------------------------------------------------


@contextmanager
def _discussion_errors(invalid_title: str = "Comment not saved") -> Iterator[None]:
    """The services' refusals as error pages that say why (JSON for scripts)."""
    try:
        yield
    except DiscussionError as exc:
        raise PageError(exc.status, exc.title, str(exc)) from None
    except InvalidComment as exc:
        raise PageError(400, invalid_title, str(exc)) from None


def _edit_page(request: Request, comment: Comment, body: str, error: str | None = None) -> Response:
    context = {"comment": comment, "body": body, "error": error, "max_length": MAX_COMMENT_LENGTH}
    status = 400 if error else 200
    return app_context(request).templates.TemplateResponse(
        request, "comment_edit.html", context, status_code=status
    )


def _arxiv_id(text: str) -> str:
    try:
        return parse_arxiv_id(text).base
    except InvalidArxivId as exc:
        raise PageError(404, "Not an arXiv id", str(exc)) from None


def _comment_id(text: str) -> int:
    """The id in a /comments/{id}/… path; anything that cannot be an id is a comment not found."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > _MAX_ID:
        raise PageError(404, "Comment not found", f"There is no comment {text[:20]!r}.")
    return int(text)


def _optional_id(text: str) -> int | None:
    """A comment id from a form or a path; "" is none, anything but digits is a 400."""
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise PageError(400, "Bad comment id", f"A comment id is a whole number, not {text[:20]!r}.")
    if int(text) > _MAX_ID:
        raise PageError(404, "No such comment", f"There is no comment {text}.")
    return int(text)


def _to_comment(comment: Comment) -> Response:
    return _redirect(f"{paper_url(comment.arxiv_id)}#comment-{comment.id}")


def _redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)
