"""The JSON API's shapes: pydantic models that document /openapi.json (responses are written
with orjson, not through these models, and tests/functional/test_api_schemathesis.py checks that
they conform), and the functions that turn papers and comments into those shapes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field

from paperboy.domain.comments import CommentNode
from paperboy.domain.markup import MAX_COMMENT_LENGTH
from paperboy.domain.models import Paper
from paperboy.storage.queries import Community
from paperboy.web.filters import oneline
from paperboy.web.urls import paper_url

MAX_ID = 2**63 - 1  # ids are 64-bit: a larger one is a 422, never a database error


class ErrorDetail(BaseModel):
    code: str = Field(description="A stable, machine-readable code, e.g. invalid_parameter, not_found.")
    message: str = Field(description="What went wrong and what to change, for people.")
    parameter: str | None = Field(None, description="The parameter at fault, when it is one.")
    title: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class LinkOut(BaseModel):
    kind: str = Field(description="abs, pdf, code, project or doi.")
    url: str


class VersionOut(BaseModel):
    number: int
    created: str | None


class PaperOut(BaseModel):
    arxiv_id: str
    url: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    comment: str | None
    journal_ref: str | None
    doi: str | None
    license: str | None
    published_at: str | None
    updated_at: str | None
    latest_version: int | None
    first_listed: date | None
    listed: list[date] = Field(description="The arXiv listing days the paper appeared in.")
    versions: list[VersionOut]
    links: list[LinkOut]
    hf_upvotes: int | None = Field(description="Upvotes on Hugging Face's daily papers, if listed there.")
    github_stars: int | None
    upvotes: int
    comments: int
    submitted_by: str | None
    voted: bool = Field(description="Whether the token's or session's account upvoted it.")


class ChangedPaperOut(PaperOut):
    changed_at: str = Field(description="When paperboy last changed the paper's catalogue data.")


class PaperList(BaseModel):
    papers: list[ChangedPaperOut]
    next_cursor: str | None = Field(description="Pass as `since` for the papers changed after these.")
    limit: int


class ListingItem(BaseModel):
    paper: PaperOut
    listed_on: date | None
    announce_type: str | None
    score: float | None = Field(description="The trending score it was ranked by (sort=trending).")


class ListingPage(BaseModel):
    period: str
    kind: str
    start: date
    end: date
    category: str | None
    sort: str
    page: int
    limit: int
    total: int
    pages: int
    previous_period: str | None
    next_period: str | None
    notice: str | None
    items: list[ListingItem]


class CommentOut(BaseModel):
    id: int
    parent_id: int | None
    depth: int
    author: str | None = Field(description="None for a deleted or hidden comment kept for its replies.")
    body: str | None
    body_html: str | None
    created_at: str
    edited_at: str | None
    placeholder: str | None
    replies: list[CommentOut]


class CommentList(BaseModel):
    arxiv_id: str
    comments: list[CommentOut]


class CommentIn(BaseModel):
    body: str = Field(
        min_length=1, max_length=MAX_COMMENT_LENGTH, description="Markdown (see the comment form)."
    )
    parent_id: int | None = Field(None, ge=1, le=MAX_ID, description="The comment this one replies to.")


class VoteOut(BaseModel):
    arxiv_id: str
    upvotes: int
    voted: bool


class SubmissionIn(BaseModel):
    paper: str = Field(min_length=1, max_length=300, description="An arXiv id or URL, any spelling.")


class SubmissionOut(BaseModel):
    arxiv_id: str
    submitted: bool = Field(description="False: it was already on a feed and nothing changed.")
    day: date | None
    url: str


class UserOut(BaseModel):
    name: str
    role: str
    verified: bool
    created_at: str
    scopes: list[str] | None = Field(description="The token's scopes; None for a logged-in session.")


class LibraryEntry(BaseModel):
    arxiv_id: str
    url: str
    title: str
    at: str


class Library(BaseModel):
    upvoted: list[LibraryEntry]
    upvoted_total: int
    submitted: list[LibraryEntry]
    submitted_total: int


# --- shaping ---


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def paper_body(paper: Paper, community: Community, public_url: str) -> dict[str, Any]:
    """A paper as the API shows it (PaperOut); `paper` with all its links (services.feed)."""
    hf = paper.hf
    return {
        "arxiv_id": paper.arxiv_id,
        "url": public_url + paper_url(paper.arxiv_id),
        "title": oneline(paper.title),
        "abstract": paper.abstract,
        "authors": paper.authors,
        "categories": paper.categories,
        "comment": paper.comment,
        "journal_ref": paper.journal_ref,
        "doi": paper.doi,
        "license": paper.license,
        "published_at": iso(paper.published_at),
        "updated_at": iso(paper.updated_at),
        "latest_version": paper.latest_version,
        "first_listed": paper.first_listed.isoformat() if paper.first_listed else None,
        "listed": sorted({listing.day.isoformat() for listing in paper.listings}),
        "versions": [{"number": v.number, "created": iso(v.created)} for v in paper.versions],
        "links": [{"kind": link.kind, "url": link.url} for link in paper.links],
        "hf_upvotes": hf.upvotes if hf else None,
        "github_stars": hf.github_stars if hf else None,
        "upvotes": community.upvotes,
        "comments": community.comments,
        "submitted_by": community.submitted_by,
        "voted": community.voted,
    }


def comment_body(node: CommentNode) -> dict[str, Any]:
    comment = node.comment
    return {
        "id": node.id,
        "parent_id": comment.parent_id if comment else None,
        "depth": node.depth,
        "author": comment.author if comment else None,
        "body": comment.body if comment else None,
        "body_html": comment.body_html if comment else None,
        "created_at": iso(node.created_at),
        "edited_at": iso(comment.edited_at) if comment else None,
        "placeholder": node.placeholder or None,
        "replies": [comment_body(child) for child in node.children],
    }
