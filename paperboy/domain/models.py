"""The catalogue's vocabulary: what importers produce and what pages show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")


@dataclass(frozen=True, slots=True)
class Version:
    """One arXiv version (v1, v2, ...) and when it was submitted (UTC)."""

    number: int
    created: datetime | None = None
    size: str | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """A paper appeared in arXiv's daily listing of `day` as `announce_type` (None: unknown)."""

    day: date
    announce_type: str | None = None


@dataclass(slots=True)
class PaperRecord:
    """One paper as an upstream source describes it.

    `None` (or an empty tuple) means "this source does not say": merging never erases
    a stored value with an unknown one.
    """

    arxiv_id: str
    title: str | None = None
    abstract: str | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # primary first
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    submitter: str | None = None
    versions: tuple[Version, ...] = ()
    listings: tuple[Listing, ...] = ()


@dataclass(frozen=True, slots=True)
class HfSignal:
    """What the Hugging Face daily papers API says about a paper."""

    arxiv_id: str
    upvotes: int
    submitted_on_daily_at: datetime | None = None
    submitted_by: str | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    num_comments: int | None = None


@dataclass(frozen=True, slots=True)
class Link:
    kind: str  # "abs", "pdf", "code", "project", "doi"
    url: str


@dataclass(slots=True)
class Paper:
    """A catalogue paper as pages and the API show it."""

    id: int
    arxiv_id: str
    title: str
    abstract: str
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    submitter: str | None = None
    published_at: datetime | None = None  # v1
    updated_at: datetime | None = None  # latest version
    latest_version: int | None = None
    first_listed: date | None = None
    versions: list[Version] = field(default_factory=list)
    listings: list[Listing] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    hf: HfSignal | None = None

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None


@dataclass(frozen=True, slots=True)
class Community:
    """What this site's members did with a paper: upvotes, visible comments, who submitted it,
    and whether the reader looking voted for it, saved it, marked it not interested or has seen it."""

    upvotes: int = 0
    comments: int = 0
    submitted_by: str | None = None
    voted: bool = False
    saved: bool = False  # in the reader's library
    not_interested: bool = False  # hidden from the reader's feeds
    seen: bool = False  # the reader opened it, saved it or was mailed it


NO_COMMUNITY = Community()


@dataclass(frozen=True, slots=True)
class PaperActivity:
    """A paper a member submitted or upvoted, and when (their profile, the API's `/me`)."""

    arxiv_id: str
    title: str
    at: datetime
