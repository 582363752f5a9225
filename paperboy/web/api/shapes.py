"""The JSON API's shapes: the dicts its answers are written from (web/api/models.py documents them).
This site's own paper, comment and search result; and papers in huggingface.co's JSON shape: the
paper object of `/api/papers/{id}` and the daily papers item around it, with the field names and
nesting huggingface.co uses (recorded in ../shared/fixtures/hf_api), so that huggingface_hub's
`PaperInfo` parses them unchanged.

What this site has no value for is null where huggingface.co always sends the field and its
clients accept null (thumbnail, avatarUrl) and left out where it sometimes omits it (githubRepo,
githubStars, projectPage, submittedOnDailyBy, ai_summary, organization). Strictly typed clients
require discussionId to be a non-empty string and isAuthorParticipating a boolean: a stable id
and false. Upvotes and comments are this site's members'. One shape serves /api/daily_papers,
/api/papers and /api/papers/search (which adds the highlighted title and summary).
docs/api-huggingface.md maps every field.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time
from typing import Any

from paperboy.domain.comments import CommentNode
from paperboy.domain.highlight import highlight
from paperboy.domain.models import Community, Paper
from paperboy.services.feed import FeedItem
from paperboy.services.search import SearchHit, SearchPage
from paperboy.web.filters import oneline
from paperboy.web.urls import paper_url

# --- this site's /api/v1 ---


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def paper_reference(paper: Paper, public_url: str) -> dict[str, Any]:
    """Which paper, and where its page is: what every paper the API writes starts with."""
    return {
        "arxiv_id": paper.arxiv_id,
        "url": public_url + paper_url(paper.arxiv_id),
        "title": oneline(paper.title),
    }


def paper_body(paper: Paper, community: Community, public_url: str) -> dict[str, Any]:
    """A paper as the API shows it (PaperOut); `paper` with all its links (services.feed)."""
    hf = paper.hf
    return paper_reference(paper, public_url) | {
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


def search_page_body(results: SearchPage, size: int) -> dict[str, Any]:
    query = results.query
    return {
        "query": {
            "text": results.text,
            "description": query.describe(),
            "terms": list(query.terms),
            "phrases": list(query.phrases),
            "excluded": {"terms": list(query.excluded_terms), "phrases": list(query.excluded_phrases)},
            "authors": list(query.authors),
            "categories": list(query.categories),
            "after": query.date_from.isoformat() if query.date_from else None,
            "before": query.date_to.isoformat() if query.date_to else None,
            "has_code": query.has_code,
            "browse": query.is_browse,
        },
        "mode": results.mode,
        "used": list(results.used),
        "sort": results.sort,
        "page": results.page,
        "limit": size,
        "total": results.total,
        "pages": results.pages,
        "capped": results.capped,
        "took_ms": round(results.took_ms, 1),
        "notice": results.notice,
    }


def result(hit: SearchHit, public_url: str) -> dict[str, Any]:
    """One paper of a result list (search or similar papers)."""
    paper = hit.paper  # hydrated by the searcher: every link a page shows
    community = hit.community
    return paper_reference(paper, public_url) | {
        "title_html": hit.title_html,
        "snippet_html": hit.snippet_html,
        "abstract": paper.abstract,
        "authors": paper.authors,
        "categories": paper.categories,
        "published_at": iso(paper.published_at),
        "updated_at": iso(paper.updated_at),
        "first_listed": paper.first_listed.isoformat() if paper.first_listed else None,
        "upvotes": community.upvotes,
        "comments": community.comments,
        "voted": community.voted,
        "score": round(hit.score, 6),
        "matched_by": list(hit.matched_by),
        "links": [{"kind": link.kind, "url": link.url} for link in paper.links],
    }


# --- huggingface.co's shape ---


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


def hf_search_result(hit: SearchHit, results: SearchPage) -> dict[str, Any]:
    """A search result: the daily papers entry, with the title and abstract as HTML, escaped,
    the query's words in <mark>."""
    paper = hit.paper  # hydrated by the searcher: code and project links from every source
    return hf_daily_item(FeedItem(paper, None, hit.community)) | {
        "highlightedTitle": hit.title_html,
        "highlightedSummary": highlight(paper.abstract, results.query),
    }
