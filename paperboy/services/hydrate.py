"""Ranked paper ids into what a page or an answer shows: each paper with all its links, and what
the community did with it. Feeds, search, trending, the catalogue, changes and digests all load
their papers here, in one query per table whatever the number of ids, never one per row.

Papers come from a per-process cache (`PaperCache`) while the catalogue version
(storage/sync_state.py: every write of papers or their signals changes it, in the writer's
transaction) is the one they were loaded at: a search or a page then costs two small queries
(the version, the community counts) instead of six. A paper's own page keeps its paper (with
versions and every listing) in a second such cache, by arXiv id: two queries instead of eight.
Community counts change without the catalogue version: they are kept only by a page that read
the community version too (`hydrate_papers_at`, "For you"), under both versions; the reader's
own votes, saves and marks are never kept.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

from paperboy.domain.links import with_all_links
from paperboy.domain.models import NO_COMMUNITY, Community, Paper
from paperboy.storage import queries
from paperboy.storage.engine import WRITER
from paperboy.storage.reader_marks import ReaderMarks, reader_marks
from paperboy.storage.sync_state import catalogue_version

# Papers kept per process and database: a week of listings, or a few hundred searches' worth.
# A paper with its authors and links takes about 6 KB of memory (tracemalloc over 4,000 real
# papers), so about 30 MB a process.
CACHED_PAPERS = 20_000
CACHED_PAGE_PAPERS = 2_000  # papers as their own pages show them (more listings and versions)
CACHED_COMMUNITIES = 20_000  # papers' counts (~200 bytes each) at the latest versions
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _row_id(paper: Paper) -> Hashable:
    return paper.id


@dataclass(frozen=True, slots=True)
class PaperView:
    """A paper with all its links, and what the community did with it."""

    paper: Paper
    community: Community


class VersionedCache(Generic[K, V]):
    """Values by key for one version of what they were read from (the catalogue's, or the
    catalogue's and the community's): another version empties it, and values read at an older
    one are refused. The least recently used go first past `capacity`. Thread-safe."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._version: Hashable | None = None
        self._kept: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        """Forget every value (the next reads load them again)."""
        with self._lock:
            self._kept.clear()

    def get_many(self, version: Hashable, keys: Sequence[K]) -> dict[K, V]:
        """The values of `keys` kept at `version` (a new dict); another version empties the cache."""
        with self._lock:
            if version != self._version:
                self._kept.clear()
                self._version = version
                return {}
            found = {}
            for key in keys:
                value = self._kept.get(key)
                if value is not None:
                    self._kept.move_to_end(key)
                    found[key] = value
            return found

    def put_many(self, version: Hashable, items: Iterable[tuple[K, V]]) -> None:
        """Keep `items`, read after the version was `version`, unless the cache has moved to
        another version meanwhile (they may be older than it)."""
        with self._lock:
            if version != self._version or self.capacity <= 0:
                return
            for key, value in items:
                self._kept[key] = value
                self._kept.move_to_end(key)
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)


class PaperCache(VersionedCache[Hashable, Paper]):
    """Papers with all their links (shared, never modified once made) by row id (or by what
    `key` gives), for one catalogue version."""

    def __init__(self, capacity: int = CACHED_PAPERS, key: Callable[[Paper], Hashable] = _row_id) -> None:
        super().__init__(capacity)
        self._key = key

    def put_papers(self, version: str, papers: Sequence[Paper]) -> None:
        """Keep `papers`, read after the catalogue version was `version`."""
        self.put_many(version, ((self._key(paper), paper) for paper in papers))


class CommunityCache(VersionedCache[int, Community]):
    """Papers' community counts and submitters by row id, for one pair of catalogue and
    community versions (every vote, comment and submission changes one)."""

    def __init__(self, capacity: int = CACHED_COMMUNITIES) -> None:
        super().__init__(capacity)


class PerEngine(Generic[T]):
    """One object per database engine in this process (a cache), made by `make` on first use."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._objects: weakref.WeakKeyDictionary[Engine, T] = weakref.WeakKeyDictionary()
        self._guard = threading.Lock()

    def __call__(self, engine: Engine) -> T:
        with self._guard:
            found = self._objects.get(engine)
            if found is None:
                found = self._objects[engine] = self._make()
            return found


def _arxiv_id(paper: Paper) -> Hashable:
    return paper.arxiv_id


paper_cache = PerEngine(PaperCache)  # this process's paper cache for an engine's database
# Papers as their own pages show them (with versions and every listing), by arXiv id.
page_paper_cache = PerEngine(lambda: PaperCache(CACHED_PAGE_PAPERS, key=_arxiv_id))
community_cache = PerEngine(CommunityCache)


def hydrate_papers(
    conn: Connection, ids: Sequence[int], viewer_id: int | None = None, version: str | None = None
) -> list[PaperView]:
    """The papers of `ids` in that order (ids deleted since they were ranked are skipped), with
    whether the reader (`viewer_id`) voted for each. `version`: the catalogue version, when the
    caller read it on `conn` before this (a statement less)."""
    papers = _papers(conn, ids, version)
    community = _community_of(conn, [paper.id for paper in papers], viewer_id)
    return [PaperView(paper, community.get(paper.id, NO_COMMUNITY)) for paper in papers]


def hydrate_papers_at(
    conn: Connection,
    ids: Sequence[int],
    viewer_id: int,
    versions: tuple[str, str],
    marks: ReaderMarks | None = None,
) -> list[PaperView]:
    """`hydrate_papers` for a page that read the catalogue and community versions (before
    this, so that nothing read here is older than them): the papers' counts and submitters
    are kept under both too, so a page shown again reads only the reader's own marks (or
    none: `marks`, when the page read them with its own statement)."""
    papers = _papers(conn, ids, versions[0])
    paper_ids = [paper.id for paper in papers]
    kept = community_cache(conn.engine)
    found = kept.get_many(versions, paper_ids)
    missing = [paper_id for paper_id in paper_ids if paper_id not in found]
    if missing:
        loaded = queries.community_of(conn, missing)
        kept.put_many(versions, loaded.items())
        found.update(loaded)
    community = with_reader_state(conn, found, viewer_id, paper_ids, marks)
    return [PaperView(paper, community.get(paper.id, NO_COMMUNITY)) for paper in papers]


def hydrate_paper(
    conn: Connection, arxiv_id: str, viewer_id: int | None = None, version: str | None = None
) -> PaperView | None:
    """One paper by canonical arXiv id (no version), with versions and every listing; None if
    unknown. Cached per catalogue version like `hydrate_papers`' (seven queries otherwise);
    `version` as there."""
    paper = _page_paper(conn, arxiv_id, version)
    if paper is None:
        return None
    community = _community_of(conn, [paper.id], viewer_id).get(paper.id, NO_COMMUNITY)
    return PaperView(paper, community)


def _page_paper(conn: Connection, arxiv_id: str, version: str | None = None) -> Paper | None:
    if conn.get_execution_options().get(WRITER):
        paper = queries.paper_by_arxiv_id(conn, arxiv_id)
        return None if paper is None else with_all_links(paper)
    cache = page_paper_cache(conn.engine)
    version = catalogue_version(conn) if version is None else version
    found = cache.get_many(version, [arxiv_id]).get(arxiv_id)
    if found is None:
        loaded = queries.paper_by_arxiv_id(conn, arxiv_id)
        if loaded is None:
            return None
        found = with_all_links(loaded)
        cache.put_papers(version, [found])
    return found


def _papers(conn: Connection, ids: Sequence[int], version: str | None = None) -> list[Paper]:
    """The papers of `ids` with all their links, in that order: cached ones from the cache, the
    rest from the database (then cached). The version is read first (or given, read before),
    so that what is cached under it is never older than it. A writer's connection may see its
    own uncommitted papers (the version changes only at commit): it reads the database and
    keeps nothing."""
    if not ids:
        return []
    if conn.get_execution_options().get(WRITER):
        return [with_all_links(paper) for paper in queries.papers_by_ids(conn, ids)]
    cache = paper_cache(conn.engine)
    version = catalogue_version(conn) if version is None else version
    found = cache.get_many(version, ids)
    missing = [paper_id for paper_id in dict.fromkeys(ids) if paper_id not in found]
    if missing:
        loaded = [with_all_links(paper) for paper in queries.papers_by_ids(conn, missing)]
        cache.put_papers(version, loaded)
        found.update((paper.id, paper) for paper in loaded)
    return [found[paper_id] for paper_id in ids if paper_id in found]


def _community_of(conn: Connection, ids: Sequence[int], viewer_id: int | None) -> dict[int, Community]:
    """Counts and submitters of `ids`, with the reader's votes, saves and feedback: two queries."""
    found = queries.community_of(conn, ids)
    if viewer_id is None:
        return found
    return with_reader_state(conn, found, viewer_id, ids)


def with_reader_state(
    conn: Connection,
    found: dict[int, Community],
    viewer_id: int,
    ids: Sequence[int],
    marks: ReaderMarks | None = None,
) -> dict[int, Community]:
    """`found` (community by paper row id) with what the reader did: voted, saved, marked not
    interested, seen (one query for all, unless `marks` were read already)."""
    if marks is None:
        marks = reader_marks(conn, viewer_id, ids)
    for paper_id in marks.any():
        found[paper_id] = replace(
            found.get(paper_id, NO_COMMUNITY),
            voted=paper_id in marks.voted,
            saved=paper_id in marks.saved,
            not_interested=paper_id in marks.not_interested,
            seen=paper_id in marks.seen,
        )
    return found
