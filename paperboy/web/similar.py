"""Similar papers: a paper's nearest neighbours by meaning, for its page and for the API."""

from __future__ import annotations

import logging

from sqlalchemy import Connection

from paperboy.domain.models import Paper
from paperboy.services.hydrate import PaperView
from paperboy.services.search import SIMILAR_SORTS, Searcher, SearchHit, SearchRequestError

log = logging.getLogger(__name__)

SIMILAR_LIMIT = 10
SIMILAR_LABELS = {"similarity": "Most similar", "date": "Newest", "upvotes": "Most upvoted"}


def similar_papers(
    searcher: Searcher,
    paper: Paper,
    sort: str,
    viewer_id: int | None,
    limit: int = SIMILAR_LIMIT,
    conn: Connection | None = None,
) -> tuple[list[SearchHit], str | None]:
    """The `limit` papers nearest to `paper` in meaning, ordered by `sort`; when there are
    none, why, for the reader. Read on `conn` when given."""
    hits = searcher.similar(paper, sort=sort, limit=limit, viewer_id=viewer_id, conn=conn)
    return hits, None if hits else similar_unavailable(searcher)


def similar_section(
    searcher: Searcher,
    paper: Paper,
    sort: str,
    viewer_id: int | None,
    conn: Connection | None = None,
    version: str | None = None,
) -> tuple[list[PaperView], str | None]:
    """similar_papers for a paper page, without the hits' marked-up title and snippet (the page
    shows neither), which must show even when they fail: the error is logged and the section
    says they could not be found just now. `version`: the catalogue version read on `conn`."""
    try:
        found = searcher.similar_views(
            paper, sort=sort, limit=SIMILAR_LIMIT, viewer_id=viewer_id, conn=conn, version=version
        )
        views = [view for view, _ in found]
        return views, None if views else similar_unavailable(searcher)
    except SearchRequestError:
        raise
    except Exception:  # the model or the vectors: a paper page never fails for its neighbours
        log.exception("similar papers of %s failed", paper.arxiv_id)
        return [], "Similar papers could not be found just now."


def similar_unavailable(searcher: Searcher) -> str:
    """Why a paper has no similar papers: search by meaning is off, loading or not built yet, or
    no other paper is close enough."""
    reason = searcher.semantic_unavailable()
    if reason is None:
        return "No other paper is similar enough yet."
    return f"Similar papers are not available: {reason[0].lower()}{reason[1:]}"


def similar_sort(value: str | None) -> str:
    """The order asked for (absent or empty: by similarity); SearchRequestError otherwise."""
    sort = value or SIMILAR_SORTS[0]
    if sort not in SIMILAR_SORTS:
        raise SearchRequestError(f"similar papers sort by {', '.join(SIMILAR_SORTS)}, not {sort[:30]!r}")
    return sort
