"""Author pages: an author's papers (the newest first, a page at a time), co-authors and
categories, found by the normalised name (domain/follows.py `author_key`: exact match after
NFKD, accents dropped, case folded, dots and hyphens as spaces). Two people who share a name are
one page; one person whose papers spell the name differently (initials, transliterations) is
several. The page says so."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from paperboy.domain.follows import author_key
from paperboy.domain.users import User
from paperboy.services.hydrate import PaperView, hydrate_papers
from paperboy.storage import authors as store
from paperboy.storage.authors import Coauthor, Spelling
from paperboy.storage.follows import followed_values

__all__ = ["AuthorPage", "Coauthor", "Spelling", "author_page"]

COAUTHORS_SHOWN = 30


@dataclass(frozen=True, slots=True)
class AuthorPage:
    key: str
    name: str  # the most frequent spelling, or the name asked for when no paper has it
    spellings: list[Spelling]
    items: list[PaperView]
    total: int
    page: int
    page_size: int
    coauthors: list[Coauthor]
    categories: list[tuple[str, int]]
    follow_id: int | None  # the reader's follow of this author

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def author_page(
    engine: Engine, name: str, viewer: User | None, *, page: int = 1, page_size: int = 50
) -> AuthorPage:
    """The author page of `name` (any spelling); an author without papers has an empty page.
    Co-authors and categories are of all the author's papers, not only this page's."""
    key = author_key(name)
    page, page_size = max(1, page), max(1, page_size)
    with engine.connect() as conn:
        spellings = store.spellings(conn, key) if key else []
        total = store.count_author_papers(conn, key) if spellings else 0
        ids = (
            store.author_paper_ids(conn, key, limit=page_size, offset=(page - 1) * page_size) if total else []
        )
        items = hydrate_papers(conn, ids, viewer.id if viewer else None)
        coauthors = store.coauthors(conn, key, COAUTHORS_SHOWN) if total else []
        categories = store.author_categories(conn, key) if total else []
        followed = followed_values(conn, viewer.id, "author", [key]) if viewer and key else {}
    shown = spellings[0].name if spellings else name.strip()
    return AuthorPage(
        key, shown, spellings, items, total, page, page_size, coauthors, categories, followed.get(key)
    )
