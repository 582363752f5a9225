"""The JSON API's follows and alerts: GET/POST /api/v1/me/follows, DELETE /api/v1/me/follows/{id},
GET /api/v1/me/notifications, POST /api/v1/me/notifications/seen. Reads need the `read` scope,
writes the `library` scope (or a session with its CSRF token); any account may keep its own, as
with the library. The same services as the pages (services/follows.py, services/notifications.py).

A follow the service refuses for what no schema can state (a category this catalogue has no
paper in, a search the query language cannot run, a name without a letter, an id that is no
arXiv id) is 422 `invalid_follow` with the reason; a paper not in the catalogue is 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import JSONResponse, Response

from paperboy.domain.follows import Follow
from paperboy.services.follows import (
    FollowNotFound,
    InvalidFollow,
    PaperNotFound,
    follow_thing,
    follows_list,
    unfollow_by_id,
)
from paperboy.services.notifications import (
    Notification,
    describe,
    mark_alerts_seen,
    notifications_page,
    unseen_count,
)
from paperboy.web.api.account import Keeper, Reader
from paperboy.web.api.errors import API_ERRORS, ApiError, error_doc
from paperboy.web.api.models import FollowIn, FollowOut, Follows, Notifications, SeenIn, SeenOut
from paperboy.web.api.params import integer_schema, whole_number
from paperboy.web.api.shapes import iso
from paperboy.web.auth import client_ip
from paperboy.web.context import app_context
from paperboy.web.urls import paper_url

router = APIRouter(prefix="/api/v1/me", tags=["follows"], responses=API_ERRORS)
MAX_LIMIT = 100
FollowId = Annotated[int, Path(ge=1, le=2**62, description="A follow's id, from GET /api/v1/me/follows.")]
Limit = Annotated[str | None, integer_schema(1, MAX_LIMIT)]
PageNumber = Annotated[str | None, integer_schema(1, 100_000)]


def _follow(item: Follow) -> dict[str, object]:
    return {
        "id": item.id,
        "kind": item.kind,
        "value": item.value,
        "label": item.label,
        "created_at": iso(item.created_at),
    }


@router.get("/follows", response_model=Follows, summary="The account's follows")
def list_follows(request: Request, user: Reader) -> Response:
    """Authors, categories, saved searches and papers the account follows, the latest first. Scope: read."""
    ctx = app_context(request)
    found = follows_list(ctx.engine, user)
    body = {"follows": [_follow(f) for f in found], "total": len(found), "max": ctx.settings.follows_max}
    return JSONResponse(body, headers={"Cache-Control": "private, no-store"})


@router.post(
    "/follows",
    response_model=FollowOut,
    status_code=201,
    summary="Follow an author, category, saved search or paper",
    responses={200: {"model": FollowOut, "description": "Followed already: the existing follow."}},
)
def create_follow(request: Request, body: FollowIn, user: Keeper) -> Response:
    """201 with the new follow, 200 with the existing one. Scope: library."""
    ctx = app_context(request)
    try:
        result = follow_thing(ctx.engine, ctx.settings, user, body.kind, body.value, client_ip(request))
    except InvalidFollow as exc:
        raise ApiError(422, "invalid_follow", str(exc), "value") from None
    except PaperNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    assert result.follow is not None  # a follow, made or found
    return JSONResponse(_follow(result.follow), status_code=201 if result.created else 200)


@router.delete(
    "/follows/{follow_id}",
    status_code=204,
    summary="Unfollow",
    responses={404: error_doc("The account has no follow with this id.")},
)
def delete_follow(request: Request, follow_id: FollowId, user: Keeper) -> Response:
    """Stop following; 404 when the account has no such follow (another account's ids
    included). Scope: library."""
    ctx = app_context(request)
    try:
        unfollow_by_id(ctx.engine, ctx.settings, user, follow_id, client_ip(request))
    except FollowNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return Response(status_code=204)


def _notification(item: Notification, public_url: str) -> dict[str, object]:
    return {
        "id": item.id,
        "kind": item.kind,
        "arxiv_id": item.arxiv_id,
        "url": public_url + paper_url(item.arxiv_id),
        "title": item.title,
        "text": describe(item),
        "detail": item.detail,
        "follow_id": item.follow_id,
        "created_at": iso(item.created_at),
        "seen": item.shown,
    }


@router.get("/notifications", response_model=Notifications, summary="The account's alerts")
def list_notifications(
    request: Request, user: Reader, limit: Limit = None, page: PageNumber = None
) -> Response:
    """The account's alerts, the newest first, `limit` a page; reading marks nothing (POST …/seen
    does). Scope: read."""
    size = whole_number("limit", limit, default=50, low=1, high=MAX_LIMIT)
    number = whole_number("page", page, default=1, low=1, high=100_000)
    ctx = app_context(request)
    found = notifications_page(ctx.engine, user, page=number, page_size=size, mark_seen=False)
    body = {
        "notifications": [_notification(n, ctx.settings.public_url) for n in found.items],
        "total": found.total,
        "unseen": unseen_count(ctx.engine, user),
    }
    return JSONResponse(body, headers={"Cache-Control": "private, no-store"})


@router.post("/notifications/seen", response_model=SeenOut, summary="Mark alerts seen")
def mark_seen(request: Request, user: Keeper, body: SeenIn | None = None) -> Response:
    """Mark these alerts (`ids`), or all, seen: no digest or feed shows them after. Scope: library."""
    ids = body.ids if body is not None else None
    return JSONResponse({"marked": mark_alerts_seen(app_context(request).engine, user, ids)})
