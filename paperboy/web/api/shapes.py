"""Papers in huggingface.co's JSON shape: the paper object of `/api/papers/{id}` and the daily
papers item around it, with the field names and nesting huggingface.co uses (recorded in
../shared/fixtures/hf_api), so that huggingface_hub's `PaperInfo` parses them unchanged.

What this site has no value for is null where huggingface.co always sends the field and its
clients accept null (thumbnail, avatarUrl) and left out where it sometimes omits it (githubRepo,
githubStars, projectPage, submittedOnDailyBy, ai_summary, organization). Strictly typed clients
require discussionId to be a non-empty string and isAuthorParticipating a boolean: a stable id
and false. Upvotes and comments are this site's members'. One shape serves /api/daily_papers,
/api/papers and /api/papers/search (which adds the highlighted title and summary).
docs/api-huggingface.md maps every field.

The pydantic models describe the shapes in /openapi.json; the handlers write the dicts.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from paperboy.services.feed import FeedItem
from paperboy.web.filters import oneline


def hf_time(moment: datetime | None) -> str | None:
    """2025-06-11T17:00:00.000Z, as huggingface.co writes times."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def day_time(day: date | None) -> str | None:
    return hf_time(datetime.combine(day, time(), tzinfo=UTC)) if day else None


def object_id(*parts: str) -> str:
    """A stable 24-hex-digit id where huggingface.co has a database id (`_id`) and this site has
    none: the same author of the same paper, or the same member, always gets the same one."""
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


def hf_user(name: str) -> dict[str, Any]:
    """A member as huggingface.co writes a user (`user` is what huggingface_hub reads as username)."""
    return {
        "_id": object_id("user", name),
        "avatarUrl": None,
        "isPro": False,
        "fullname": name,
        "user": name,
        "type": "user",
        "name": name,
    }


def hf_paper(item: FeedItem) -> dict[str, Any]:
    """The paper object of `/api/papers/{id}` (and `paper` inside a daily papers item).
    `item.listing` is the day it was on the feed: submittedOnDailyAt."""
    paper, community = item.paper, item.community
    listed = item.listing.day if item.listing else paper.first_listed
    body: dict[str, Any] = {
        "id": paper.arxiv_id,
        "authors": [
            {"_id": object_id(paper.arxiv_id, str(n)), "name": name, "hidden": False}
            for n, name in enumerate(paper.authors)
        ],
        "publishedAt": hf_time(paper.published_at),
        "submittedOnDailyAt": day_time(listed),
        "title": oneline(paper.title),
    }
    if community.submitted_by:
        body["submittedOnDailyBy"] = hf_user(community.submitted_by)
    body |= {
        "summary": paper.abstract,
        "upvotes": community.upvotes,
        "numComments": community.comments,
        "discussionId": object_id("discussion", paper.arxiv_id),
    }
    code = next((link.url for link in paper.links if link.kind == "code"), None)
    project = next((link.url for link in paper.links if link.kind == "project"), None)
    if code:
        body["githubRepo"] = code
    if paper.hf and paper.hf.github_stars is not None:
        body["githubStars"] = paper.hf.github_stars
    if project:
        body["projectPage"] = project
    return body


def hf_daily_item(item: FeedItem) -> dict[str, Any]:
    """A daily papers entry: the paper, and around it when it reached the feed and who put it there."""
    inner = hf_paper(item)
    entry: dict[str, Any] = {
        "paper": inner,
        "publishedAt": inner["submittedOnDailyAt"] or inner["publishedAt"],
        "title": inner["title"],
        "summary": inner["summary"],
        "thumbnail": None,
        "numComments": inner["numComments"],
    }
    if item.community.submitted_by:
        entry["submittedBy"] = hf_user(item.community.submitted_by)
    entry["isAuthorParticipating"] = False  # authors have no accounts here
    return entry


def hf_search_item(item: FeedItem, highlighted_title: str, highlighted_summary: str) -> dict[str, Any]:
    """A search result: the daily papers entry, with the title and abstract as HTML, escaped,
    the query's words in <mark>."""
    return hf_daily_item(item) | {
        "highlightedTitle": highlighted_title,
        "highlightedSummary": highlighted_summary,
    }


# --- the shapes for /openapi.json ---


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
