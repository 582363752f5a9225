"""Everything the library page reads, in one call and one read transaction: the page of saved
papers (services/library.py: with their counts, the reader's votes, notes and collections), the
papers the reader marked not interested and their latest imports. One connection rather than
three: on PostgreSQL each checkout is a round trip or two of its own."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from paperboy.domain.users import User
from paperboy.services.feedback import HIDDEN_SHOWN, NOT_INTERESTED
from paperboy.services.library import EVERY_SAVED, LibraryFilter, LibraryPage, library_page_in
from paperboy.services.library_imports import ImportProgress, progress_of
from paperboy.storage import feedback as feedback_store
from paperboy.storage import library_imports as imports_store
from paperboy.storage.feedback import MarkedPaper

RECENT_IMPORTS = 3  # the library page names the latest few; web/library_io.py's page has them all


@dataclass(frozen=True, slots=True)
class LibraryOverview:
    library: LibraryPage
    hidden: list[MarkedPaper]  # not interested, the latest first (up to HIDDEN_SHOWN)
    hidden_total: int
    imports: list[ImportProgress]  # the latest first


def library_overview(
    engine: Engine,
    user: User,
    *,
    page: int = 1,
    page_size: int = 100,
    chosen: LibraryFilter = EVERY_SAVED,
    query: str = "",
) -> LibraryOverview:
    """The member's library page (`library_page`'s arguments and errors), with what they hid and
    their recent imports."""
    with engine.connect() as conn:
        found = library_page_in(conn, user, page=page, page_size=page_size, chosen=chosen, query=query)
        hidden, hidden_total = feedback_store.latest_with_signal(conn, user.id, NOT_INTERESTED, HIDDEN_SHOWN)
        imports = [progress_of(row) for row in imports_store.recent_imports(conn, user.id, RECENT_IMPORTS)]
    return LibraryOverview(found, hidden, hidden_total, imports)
