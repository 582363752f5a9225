"""A paper's page read in one database connection: the paper with its counts and the reader's
vote, its discussion as the reader may see it, and its similar papers. Three connections cost
three BEGINs and ROLLBACKs more, and on a busy server each statement is also a wait for the GIL
(py-spy: a third of the page's wall time went to the BEGIN of its connections)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from paperboy.domain.comments import CommentNode
from paperboy.domain.models import Community, Paper
from paperboy.domain.users import User
from paperboy.services.comments import thread_in
from paperboy.services.hydrate import PaperView, hydrate_paper
from paperboy.storage.engine import read_connection
from paperboy.storage.sync_state import catalogue_version

# A paper's similar papers, and when there are none, why (web/similar.py's similar_section).
Similar = tuple[list[PaperView], str | None]
# How a page finds them: on its connection, for its paper, at the catalogue version it read.
FindSimilar = Callable[[Connection, Paper, str], Similar]


@dataclass(frozen=True, slots=True)
class PaperPage:
    paper: Paper
    community: Community
    thread: list[CommentNode]
    similar: list[PaperView]
    similar_unavailable: str | None


def read_paper_page(
    engine: Engine,
    arxiv_id: str,
    viewer: User | None,
    similar: FindSimilar,
) -> PaperPage | None:
    """The page of `arxiv_id` (canonical, no version) as `viewer` sees it, or None when the
    paper is not in the catalogue; `similar` finds its similar papers on the same connection.
    The catalogue version is read once, first, for the paper and its similar papers alike."""
    with read_connection(engine) as conn:
        version = catalogue_version(conn)
        view = hydrate_paper(conn, arxiv_id, None if viewer is None else viewer.id, version)
        if view is None:
            return None
        thread = thread_in(conn, view.paper.id, viewer)
        hits, unavailable = similar(conn, view.paper, version)
    return PaperPage(view.paper, view.community, thread, hits, unavailable)
