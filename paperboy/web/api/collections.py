"""The JSON API of a member's collections, `/api/v1/me/collections`: list and create, read,
change and delete one, put papers in and take them out. Reads need the `read` scope, writes
`library` (or a session with its CSRF token). Another member's collection is a 404, exactly as
one that does not exist. The same services as the library page (services/collections.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from paperboy.domain.collections import (
    MAX_DESCRIPTION,
    MAX_NAME,
    NAME_PATTERN,
    TEXT_PATTERN,
    CollectionFull,
    CollectionNotFound,
    InvalidCollection,
)
from paperboy.services import collections as service
from paperboy.services.collections import CollectionPage, CollectionRow, ItemResult
from paperboy.services.votes import PaperNotFound
from paperboy.web.api.account import Keeper, Reader
from paperboy.web.api.errors import API_ERRORS, ApiError, error_doc, invalid
from paperboy.web.api.params import ArxivId, integer_schema, whole_number
from paperboy.web.api.shapes import iso
from paperboy.web.auth import client_ip
from paperboy.web.context import app_context
from paperboy.web.urls import collection_url, paper_url

router = APIRouter(prefix="/api/v1/me/collections", tags=["collections"], responses=API_ERRORS)
PAGE_SIZE = 500
MAX_ID = 2**53
FULL: dict[int | str, dict[str, Any]] = {
    409: error_doc("A limit reached: 200 collections per member, 10,000 papers per collection.")
}

CollectionId = Annotated[
    str, integer_schema(1, MAX_ID), Path(description="The collection's id (its `id` in the list).")
]
PageParam = Annotated[
    str | None, integer_schema(1, 100_000), Query(description=f"Which {PAGE_SIZE} papers (1: the first).")
]


class CollectionIn(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_NAME, pattern=NAME_PATTERN)
    description: str = Field("", max_length=MAX_DESCRIPTION, pattern=TEXT_PATTERN)
    is_public: bool = Field(False, description="Public: a page and feeds anyone may open.")


class CollectionChange(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=MAX_NAME, pattern=NAME_PATTERN)
    description: str | None = Field(None, max_length=MAX_DESCRIPTION, pattern=TEXT_PATTERN)
    is_public: bool | None = None


class CollectionOut(BaseModel):
    id: int
    name: str
    slug: str
    description: str
    is_public: bool
    position: int = Field(description="Its place in the member's order of collections, 1 first.")
    papers_total: int
    url: str = Field(description="Its page (a 404 for everyone but the owner while it is private).")
    created_at: str
    updated_at: str


class CollectionPaperOut(BaseModel):
    arxiv_id: str
    url: str
    title: str
    position: int
    added_at: str


class CollectionDetail(CollectionOut):
    papers: list[CollectionPaperOut] = Field(description=f"In the collection's order, {PAGE_SIZE} a page.")
    page: int


class CollectionList(BaseModel):
    collections: list[CollectionOut]


class CollectionItemOut(BaseModel):
    collection_id: int
    arxiv_id: str
    in_collection: bool = Field(description="Whether the paper is in the collection now.")


@router.get("", response_model=CollectionList, summary="The account's collections")
def list_collections(request: Request, user: Reader) -> Response:
    """The account's collections in their order, private ones too. Scope: read."""
    ctx = app_context(request)
    found = service.collections_of(ctx.engine, user)
    return JSONResponse({"collections": [_collection(c, ctx.settings.public_url) for c in found]})


@router.post("", response_model=CollectionOut, status_code=201, summary="Create a collection", responses=FULL)
def create_collection(request: Request, body: CollectionIn, user: Keeper) -> Response:
    """A new collection, last in the account's order. Scope: library."""
    ctx = app_context(request)
    with _answers():
        made = service.create_collection(
            ctx.engine,
            ctx.settings,
            user,
            client_ip(request),
            body.name,
            body.description,
            is_public=body.is_public,
        )
    return JSONResponse(_collection(made, ctx.settings.public_url), status_code=201)


@router.get("/{collection_id}", response_model=CollectionDetail, summary="One collection and its papers")
def get_collection(
    request: Request, collection_id: CollectionId, user: Reader, page: PageParam = None
) -> Response:
    """The collection and its papers in its order. Scope: read."""
    ctx = app_context(request)
    number = whole_number("page", page, default=1, low=1, high=100_000)
    with _answers():
        found = service.collection_page(
            ctx.engine, user, _id(collection_id), page=number, page_size=PAGE_SIZE
        )
        if not found.is_owner:  # public, but another's: this API is the account's own
            raise CollectionNotFound("You have no such collection.")
    return JSONResponse(_detail(found, ctx.settings.public_url))


@router.patch("/{collection_id}", response_model=CollectionOut, summary="Rename, describe, publish")
def patch_collection(
    request: Request, collection_id: CollectionId, body: CollectionChange, user: Keeper
) -> Response:
    """Change what is given: the name (and so the slug), the description, public or not. Scope: library."""
    ctx = app_context(request)
    with _answers():
        changed = service.update_collection(
            ctx.engine,
            ctx.settings,
            user,
            client_ip(request),
            _id(collection_id),
            name=body.name,
            description=body.description,
            is_public=body.is_public,
        )
    return JSONResponse(_collection(changed, ctx.settings.public_url))


@router.delete("/{collection_id}", status_code=204, response_class=Response, summary="Delete a collection")
def delete_collection(request: Request, collection_id: CollectionId, user: Keeper) -> Response:
    """Delete the collection; its papers stay in the library. Scope: library."""
    ctx = app_context(request)
    with _answers():
        service.delete_collection(ctx.engine, ctx.settings, user, client_ip(request), _id(collection_id))
    return Response(status_code=204)


@router.put(
    "/{collection_id}/papers/{arxiv_id:path}",
    response_model=CollectionItemOut,
    summary="Add a paper to a collection",
    responses=FULL,
)
def put_paper(request: Request, collection_id: CollectionId, arxiv_id: ArxivId, user: Keeper) -> Response:
    """Put the paper last in the collection and in the library (again is fine). Scope: library."""
    ctx = app_context(request)
    with _answers():
        done = service.add_to_collection(
            ctx.engine, ctx.settings, user, client_ip(request), _id(collection_id), arxiv_id
        )
    return _item(done)


@router.delete(
    "/{collection_id}/papers/{arxiv_id:path}", response_model=CollectionItemOut, summary="Remove a paper"
)
def delete_paper(request: Request, collection_id: CollectionId, arxiv_id: ArxivId, user: Keeper) -> Response:
    """Take the paper out of the collection; it stays in the library (absent is fine). Scope: library."""
    ctx = app_context(request)
    with _answers():
        done = service.remove_from_collection(
            ctx.engine, ctx.settings, user, client_ip(request), _id(collection_id), arxiv_id
        )
    return _item(done)


@contextmanager
def _answers() -> Iterator[None]:
    """The services' refusals as the API's errors."""
    try:
        yield
    except (CollectionNotFound, PaperNotFound) as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except CollectionFull as exc:
        raise ApiError(409, "limit_reached", str(exc)) from None
    except InvalidCollection as exc:
        raise invalid("body", str(exc)) from None


def _id(text: str) -> int:
    return whole_number("collection_id", text, default=0, low=1, high=MAX_ID)


def _collection(found: CollectionRow, public_url: str) -> dict[str, Any]:
    return {
        "id": found.id,
        "name": found.name,
        "slug": found.slug,
        "description": found.description,
        "is_public": found.is_public,
        "position": found.position,
        "papers_total": found.papers,
        "url": public_url + collection_url(found.id, found.slug),
        "created_at": iso(found.created_at),
        "updated_at": iso(found.updated_at),
    }


def _detail(found: CollectionPage, public_url: str) -> dict[str, Any]:
    papers = [
        {
            "arxiv_id": entry.view.paper.arxiv_id,
            "url": public_url + paper_url(entry.view.paper.arxiv_id),
            "title": entry.view.paper.title,
            "position": entry.position,
            "added_at": iso(entry.added_at),
        }
        for entry in found.entries
    ]
    return _collection(found.collection, public_url) | {"papers": papers, "page": found.page}


def _item(done: ItemResult) -> Response:
    return JSONResponse(
        {"collection_id": done.collection_id, "arxiv_id": done.arxiv_id, "in_collection": done.present}
    )
