"""Ranked paper ids into what a page or an answer shows: each paper with all its links, and what
the community did with it. Feeds, search, trending, the catalogue, changes and digests all load
their papers here, in one query per table whatever the number of ids, never one per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection

from paperboy.domain.links import with_all_links
from paperboy.domain.models import NO_COMMUNITY, Community, Paper
from paperboy.storage import queries, votes


@dataclass(frozen=True, slots=True)
class PaperView:
    """A paper with all its links, and what the community did with it."""

    paper: Paper
    community: Community


def hydrate_papers(conn: Connection, ids: Sequence[int], viewer_id: int | None = None) -> list[PaperView]:
    """The papers of `ids` in that order (ids deleted since they were ranked are skipped), with
    whether the reader (`viewer_id`) voted for each."""
    papers = queries.papers_by_ids(conn, ids)
    community = _community_of(conn, [paper.id for paper in papers], viewer_id)
    return [PaperView(with_all_links(paper), community.get(paper.id, NO_COMMUNITY)) for paper in papers]


def hydrate_paper(conn: Connection, arxiv_id: str, viewer_id: int | None = None) -> PaperView | None:
    """One paper by canonical arXiv id (no version), with versions and every listing; None if unknown."""
    paper = queries.paper_by_arxiv_id(conn, arxiv_id)
    if paper is None:
        return None
    community = _community_of(conn, [paper.id], viewer_id).get(paper.id, NO_COMMUNITY)
    return PaperView(with_all_links(paper), community)


def _community_of(conn: Connection, ids: Sequence[int], viewer_id: int | None) -> dict[int, Community]:
    """Counts and submitters of `ids`, with the reader's votes: two queries at most."""
    found = queries.community_of(conn, ids)
    if viewer_id is None:
        return found
    for paper_id in votes.voted_among(conn, viewer_id, ids):
        found[paper_id] = replace(found.get(paper_id, NO_COMMUNITY), voted=True)
    return found
