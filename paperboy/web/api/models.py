"""The JSON API's models: pydantic classes that document /openapi.json, for this site's /api/v1,
Hugging Face's routes and the errors of both. Answers are written with orjson from the dicts of
web/api/shapes.py, not through these classes; tests/functional/test_api_schemathesis.py checks
that the two agree."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from paperboy.domain.markup import MAX_COMMENT_LENGTH

MAX_ID = 2**63 - 1  # ids are 64-bit: a larger one is a 422, never a database error
# Ids in JSON bodies: above 2**53 a JSON number is not exact in most clients (RFC 7493, I-JSON),
# so the schema cannot promise a larger one means what was sent.
JSON_MAX_ID = 2**53 - 1
# A character that is not whitespace as Python's str.strip() sees it (nor NUL, which is dropped):
# a comment of nothing else is empty.
NOT_BLANK = (
    "[^\\x00\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0"
    "\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
)


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
        min_length=1,
        max_length=MAX_COMMENT_LENGTH,
        description="Markdown (see the comment form).",
        json_schema_extra={"pattern": NOT_BLANK},  # declared here, checked by domain/markup.py
    )
    parent_id: int | None = Field(None, ge=1, le=JSON_MAX_ID, description="The comment this one replies to.")


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
    saved: list[LibraryEntry] = Field(description="Saved to the library, the latest first; `at`: when.")
    saved_total: int
    upvoted: list[LibraryEntry]
    upvoted_total: int
    submitted: list[LibraryEntry]
    submitted_total: int


class FeedbackIn(BaseModel):
    signal: Literal["not_interested"] = Field(description="not_interested: hide it from the account's feeds.")


class FeedbackOut(BaseModel):
    arxiv_id: str
    signal: str | None = Field(description="The account's feedback on the paper now (null: none).")


class SavedOut(BaseModel):
    arxiv_id: str
    saved: bool = Field(description="Whether the paper is now in the account's library.")


class HfErrorBody(BaseModel):
    """An error on Hugging Face's routes, as huggingface.co writes one."""

    error: str = Field(description="What went wrong, as a sentence (also in X-Error-Message).")
    code: str = Field(description="not_found, invalid_parameter, invalid_query, ...")
    parameter: str | None = Field(None, description="The parameter at fault, when one is.")


# --- Hugging Face's shapes (web/api/shapes.py writes them) ---


class _Shape(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class HfAuthor(_Shape):
    id: str = Field(alias="_id", description="A stable id of this author of this paper.")
    name: str
    hidden: bool = Field(description="Always false: authors have no accounts here.")


class HfUser(_Shape):
    id: str = Field(alias="_id")
    avatar_url: str | None = Field(alias="avatarUrl", description="Always null: no avatars here.")
    is_pro: bool = Field(alias="isPro")
    fullname: str
    user: str = Field(description="The member's name.")
    type: str
    name: str


class HfPaper(_Shape):
    id: str = Field(description="Canonical arXiv id, without a version.")
    authors: list[HfAuthor]
    published_at: str | None = Field(alias="publishedAt", description="arXiv v1 submission time.")
    submitted_on_daily_at: str | None = Field(
        alias="submittedOnDailyAt", description="Midnight UTC of the day it was listed on the feed."
    )
    submitted_on_daily_by: HfUser | None = Field(None, alias="submittedOnDailyBy")
    title: str
    summary: str
    upvotes: int = Field(description="This site's upvotes.")
    num_comments: int = Field(alias="numComments", description="This site's visible comments.")
    discussion_id: str = Field(
        alias="discussionId", description="A stable 24-hex-digit id (no Hub discussion here)."
    )
    github_repo: str | None = Field(None, alias="githubRepo")
    github_stars: int | None = Field(None, alias="githubStars")
    project_page: str | None = Field(None, alias="projectPage")


class HfDailyPaper(_Shape):
    paper: HfPaper
    published_at: str | None = Field(alias="publishedAt", description="When it reached the feed.")
    title: str
    summary: str
    thumbnail: str | None = Field(description="Always null.")
    num_comments: int = Field(alias="numComments")
    submitted_by: HfUser | None = Field(None, alias="submittedBy")
    is_author_participating: bool = Field(
        alias="isAuthorParticipating", description="Always false: authors have no accounts here."
    )


class HfSearchItem(HfDailyPaper):
    highlighted_title: str = Field(alias="highlightedTitle", description="HTML: matches in <mark>.")
    highlighted_summary: str = Field(
        alias="highlightedSummary", description="HTML: the whole abstract, matches in <mark>."
    )


# --- search and similar papers ---


class ResultOut(BaseModel):
    arxiv_id: str
    url: str
    title: str
    title_html: str
    snippet_html: str | None
    abstract: str
    authors: list[str]
    categories: list[str]
    published_at: str | None
    updated_at: str | None
    first_listed: str | None
    upvotes: int
    comments: int
    voted: bool
    score: float
    matched_by: list[str]
    links: list[LinkOut]


class QueryOut(BaseModel):
    text: str
    description: str
    terms: list[str]
    phrases: list[str]
    excluded: dict[str, list[str]]
    authors: list[str]
    categories: list[str]
    after: str | None
    before: str | None
    has_code: bool
    browse: bool


class SearchOut(BaseModel):
    query: QueryOut
    mode: str
    used: list[str]
    sort: str
    page: int
    limit: int
    total: int
    pages: int
    capped: bool
    took_ms: float
    notice: str | None
    results: list[ResultOut]


class SimilarPaperOut(BaseModel):
    arxiv_id: str
    url: str
    title: str


class SimilarOut(BaseModel):
    paper: SimilarPaperOut
    sort: str
    limit: int
    notice: str | None
    results: list[ResultOut]


class RecommendedPaper(BaseModel):
    id: str = Field(description="The arXiv id.")
    title: str
    score: float = Field(
        description="Its place value in the reader's order (higher first); comparable within one answer."
    )
    reason: str = Field(description='Why it is there, as a sentence ("close to X in your library").')
    reason_kind: Literal[
        "followed_author", "library_author", "saved_search", "close_to", "category", "trending"
    ]


class Recommendations(BaseModel):
    period: str
    kind: str
    total: int = Field(
        description="Papers of the period ranked for the account (saved, upvoted and hidden ones left out)."
    )
    limit: int
    personal_share: int = Field(
        description="Percent of the order that is the account's own relevance; the rest is trending."
    )
    cold: bool = Field(
        description="True while nothing trains the account's model yet: the order is trending."
    )
    items: list[RecommendedPaper]


# --- follows and alerts (web/api/follows.py) ---


class FollowIn(BaseModel):
    kind: Literal["author", "category", "search", "paper"] = Field(
        description="author: a name (matched after normalisation); category: an arXiv category this "
        "catalogue has papers in; search: a query in the search language; paper: an arXiv id."
    )
    value: str = Field(min_length=1, max_length=500, pattern="^[^\x00]*$", description="What to follow.")


class FollowOut(BaseModel):
    id: int
    kind: str
    value: str = Field(description="Normalised: the name's key, the category, the query, the arXiv id.")
    label: str = Field(description="As given: the name as written, the query as typed.")
    created_at: str
    created: bool | None = Field(None, description="On POST: whether this call made the follow.")


class Follows(BaseModel):
    follows: list[FollowOut] = Field(description="The account's follows, the latest first.")
    total: int
    max: int = Field(description="How many follows an account may have.")


class NotificationOut(BaseModel):
    id: int
    kind: str = Field(description="author, category, search, version, code, journal or activity.")
    arxiv_id: str
    url: str
    title: str
    text: str = Field(description="Why the account gets it, in a line.")
    detail: str
    follow_id: int | None = Field(description="The follow that made it (null: a saved paper, or unfollowed).")
    created_at: str
    seen: bool = Field(
        description="Shown already: seen on the site, mailed in a digest, or in the private feed."
    )


class Notifications(BaseModel):
    notifications: list[NotificationOut] = Field(description="The newest first.")
    total: int
    unseen: int


class SeenIn(BaseModel):
    ids: list[int] | None = Field(
        None, max_length=1000, description="Alerts to mark seen; absent or null: all."
    )


class SeenOut(BaseModel):
    marked: int = Field(description="How many were not seen before.")


class LibraryImportIn(BaseModel):
    """arXiv ids or links to import into the library (or send a file as multipart `file`)."""

    ids: list[Annotated[str, Field(max_length=300, json_schema_extra={"pattern": NOT_BLANK})]] = Field(
        min_length=1,
        max_length=5_000,
        description="arXiv ids or links in any spelling, one an item; what is none is listed as not matched.",
    )
    collection: Annotated[int, Field(ge=1, le=JSON_MAX_ID)] | Literal["new"] | None = Field(
        None,
        description='Also put the papers in this collection of the account\'s, or "new": one named "ids".',
    )


class LibraryImportOut(BaseModel):
    id: int
    collection_id: int | None = Field(description="The collection it fills, if any.")
    url: str = Field(description="The import's page on the site: progress and what was not matched.")
    kind: str = Field(description="bibtex, ris, csl_json, csv, ids or paperboy.")
    filename: str
    status: str = Field(description="queued, running, done or failed.")
    total: int = Field(description="Entries in the file (each arXiv id once).")
    matched: int = Field(description="Papers this site held, saved at once.")
    fetched: int = Field(description="Papers fetched from arXiv and saved so far.")
    waiting: int = Field(description="Papers still to fetch.")
    unmatched: list[str] = Field(description="Entries not found: titles, or ids arXiv does not know.")
    message: str | None = Field(description="Why it failed, or the last failure it is retrying.")
    created_at: str
    finished_at: str | None
