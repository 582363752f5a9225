"""Searching the catalogue: lexical and semantic rankings fused into one, and similar papers.

A query is parsed (domain/search_query.py), then ranked by up to two rankers:
- lexical: the keyword index (services/keyword_ranker.py: BM25 in tantivy) ranks the query's
  words, and the database (storage/lexical.py) checks the candidates against the query's
  requirements; when that index cannot answer (being built, behind the database, or a filter too
  narrow for its candidates), the database's full-text index ranks and filters alone;
- semantic: the query's words embedded and compared with the stored paper embeddings
  (services/semantic.py); its neighbours then pass the query's requirements (phrases, authors,
  exclusions, filters) in SQL, so `cat:` or a "phrase" holds for them too.
The two rankings are fused by `domain.fusion` with the parameters in `Tuning`, which
bench/search_quality.py chose on SciFact's train split (docs/search.md, "Ranking").

One `Searcher` lives per web process: its `SemanticRanker` holds the embedder (loaded once, a
few seconds for MiniLM) and the in-memory vector index. When either is missing (no `search` extra, or no
embeddings built yet), hybrid search answers from the lexical ranker alone and says so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, Engine

from paperboy.domain.fusion import min_max_fusion, reciprocal_rank_fusion
from paperboy.domain.highlight import highlight, snippet
from paperboy.domain.models import Community, Paper
from paperboy.domain.search_query import InvalidSearchQuery, SearchQuery, parse_search_query
from paperboy.integrations.embedder import Embedder
from paperboy.services.hydrate import PaperView, hydrate_papers
from paperboy.services.keyword_ranker import KeywordRanker
from paperboy.services.semantic import Ranking, SemanticRanker
from paperboy.storage import lexical
from paperboy.storage.keyword_index import KeywordHits

log = logging.getLogger(__name__)

SORTS = ("relevance", "date", "upvotes")
MODES = ("hybrid", "lexical", "semantic")
SIMILAR_SORTS = ("similarity", "date", "upvotes")
MAX_RESULTS = 1000  # how deep any search pages, like the big engines: refine the query past that
MAX_PAGE_SIZE = 120  # as many as Hugging Face's /api/papers/search answers (web/api/search.py)

Sort = Literal["relevance", "date", "upvotes"]
Mode = Literal["hybrid", "lexical", "semantic"]


class SearchRequestError(ValueError):
    """The query or a parameter cannot be used; the message says why, for the reader (HTTP 400)."""


@dataclass(frozen=True, slots=True)
class Tuning:
    """How the rankings are fused: what bench/search_quality.py chose on SciFact's train split,
    checked against known-item look-ups on the arXiv corpus (bench/known_item.py) and kept by
    bench/questions_tuning.py on the question set's tuning half (no min-max weight, RRF setting
    or weight by query length beat it by its margin); docs/search.md ("Ranking") and
    bench/README.md have the figures."""

    fusion: Literal["rrf", "min_max"] = "min_max"
    rrf_k: float = 60.0  # for fusion = "rrf"
    lexical_weight: float = 0.6
    semantic_weight: float = 0.4
    lexical_depth: int = 1000  # candidates taken from each ranker before fusing
    semantic_depth: int = 200
    # Semantic neighbours less similar than this are not results: MiniLM puts a query and an
    # unrelated abstract around 0.0 to 0.2, so a list of results ends where meaning runs out.
    min_similarity: float = 0.3


DEFAULT_TUNING = Tuning()


@dataclass(frozen=True, slots=True)
class SearchHit:
    paper: Paper
    community: Community
    score: float  # the fused score (relevance), or the similarity (similar papers)
    query: SearchQuery  # what is marked in `title_html` and `snippet_html`
    matched_by: tuple[str, ...]  # "lexical", "semantic", or both

    # Marked when asked, not when found: the search page marks its cards itself, with math as
    # MathML (web/filters.py), and only the JSON API reads these (bench/search_cpu.py).
    @property
    def title_html(self) -> str:
        """The escaped title with the query's words in <mark>, TeX as written."""
        return highlight(self.paper.title, self.query)

    @property
    def snippet_html(self) -> str:
        """Part of the abstract around the first match, escaped and marked, TeX as written."""
        return snippet(self.paper.abstract, self.query)


@dataclass(frozen=True, slots=True)
class SearchPage:
    text: str
    query: SearchQuery
    sort: str
    mode: str  # the mode asked for
    used: tuple[str, ...]  # the rankers that actually ran
    page: int
    page_size: int
    total: int  # results in all, at most MAX_RESULTS
    hits: list[SearchHit]
    notice: str | None = None  # why a ranker did not run, or why there are no results
    took_ms: float = 0.0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def capped(self) -> bool:
        return self.total >= MAX_RESULTS


@dataclass(slots=True)
class _Ranked:
    ids: list[int]
    scores: dict[int, float]
    total: int
    used: tuple[str, ...]
    matched_by: dict[int, tuple[str, ...]] = field(default_factory=dict)
    notice: str | None = None


class Searcher:
    """Search and similar papers for one process. Thread-safe; the embedder and the vectors
    are loaded on first use, or by `warm_up` (`serve` loads them before a process answers and
    opens the keyword index in the background: app.py)."""

    def __init__(
        self,
        engine: Engine,
        embedder_name: str,
        *,
        tuning: Tuning = DEFAULT_TUNING,
        embedder: Embedder | None = None,
        refresh_seconds: float = 2.0,
        ann_directory: Path | None = None,
        vector_search: str = "auto",
        keywords: KeywordRanker | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`embedder_name` is the setting (auto, minilm, hashing); `embedder` an already loaded
        one, which wins. The vectors are checked for changes every `refresh_seconds`; an
        approximate index `paperboy index` built in `ann_directory` is used when there is one;
        `vector_search` (the setting) may ask the database's pgvector index instead.
        An embedder that failed to load is tried again `EMBEDDER_RETRY_S` later, by `clock`.
        `keywords`: the keyword index that ranks words (None: the database's full-text index)."""
        self.engine = engine
        self.tuning = tuning
        self.keywords = keywords
        self.meaning = SemanticRanker(
            engine,
            embedder_name,
            embedder=embedder,
            refresh_seconds=refresh_seconds,
            ann_directory=ann_directory,
            vector_search=vector_search,
            clock=clock,
        )

    def semantic_unavailable(self) -> str | None:
        """Why search by meaning cannot answer now, for the reader; None when it can."""
        return self.meaning.unavailable()

    def warm_up(self) -> None:
        """Build or open the keyword index, load the vectors and the embedder now, so the first
        search does not wait for them; the keyword index is then kept current in the background."""
        self._warm_keywords()
        self.meaning.warm_up()

    def start_warm_up(self) -> threading.Thread:
        """`warm_up` in a background thread, at the lowest priority (services/loading.py): the
        keyword index, then whatever of the model and the vectors is not loaded yet."""
        return self.meaning.start_warm_up(first=self._warm_keywords)

    def _warm_keywords(self) -> None:
        if self.keywords is None:
            return
        try:
            self.keywords.refresh()
        except Exception:  # logged; the database's full-text index answers meanwhile
            log.exception("keyword index: could not be built or opened")
        self.keywords.start()

    def close(self) -> None:
        """Let background refreshes finish, so the engine can be disposed."""
        if self.keywords is not None:
            self.keywords.close()
        self.meaning.close()

    # --- search ---

    def search(
        self,
        text: str,
        *,
        sort: str = "relevance",
        mode: str = "hybrid",
        page: int = 1,
        page_size: int = 20,
        viewer_id: int | None = None,
    ) -> SearchPage:
        """One page of results for a query as typed. SearchRequestError for a malformed query
        or parameter, with a message for the reader."""
        started = time.perf_counter()
        if sort not in SORTS:
            raise SearchRequestError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
        if mode not in MODES:
            raise SearchRequestError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise SearchRequestError(f"page size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
        if page < 1:
            raise SearchRequestError(f"page must be 1 or more, not {page}")
        try:
            query = parse_search_query(text)
        except InvalidSearchQuery as exc:
            raise SearchRequestError(str(exc)) from exc
        offset = (page - 1) * page_size
        if offset >= MAX_RESULTS:
            raise SearchRequestError(
                f"results stop at {MAX_RESULTS}: page {page} starts past them; narrow the query instead"
            )
        with self.engine.connect() as conn:
            if query.is_browse:
                ranked = self._browse(conn, query, "date" if sort == "relevance" else sort, offset, page_size)
            else:
                ranked = self._rank(conn, query, sort, mode, offset + page_size)
            page_ids = ranked.ids[offset : offset + page_size] if not query.is_browse else ranked.ids
            hits = self._hits(conn, query, page_ids, ranked, viewer_id)
        notice = ranked.notice
        if not hits and notice is None:
            notice = f"No {query.describe().removeprefix('all ')}." if page == 1 else None
        return SearchPage(
            text=text.strip(),
            query=query,
            sort=sort,
            mode=mode,
            used=ranked.used,
            page=page,
            page_size=page_size,
            total=min(ranked.total, MAX_RESULTS),
            hits=hits,
            notice=notice,
            took_ms=(time.perf_counter() - started) * 1000,
        )

    def rankings(self, text: str, depth: int) -> dict[str, Ranking]:
        """A query's rankings before fusion, `depth` deep: "lexical", and "semantic" when search
        by meaning is available (without the `min_similarity` cut). For the quality benchmarks,
        which fuse the product's own rankings in many ways."""
        query = parse_search_query(text)
        with self.engine.connect() as conn:
            ids, scores, _ = self._lexical(conn, query, depth, depth)
            found = {"lexical": (ids, scores)}
            semantic = self.meaning.nearest(conn, query, depth)
        if semantic is not None:
            found["semantic"] = semantic
        return found

    def _browse(self, conn: Connection, query: SearchQuery, sort: str, offset: int, limit: int) -> _Ranked:
        ids = lexical.browse_ids(conn, query, sort, limit, offset)
        total = lexical.count_matches(conn, query, MAX_RESULTS)
        return _Ranked(ids, {}, total, ("filters",))

    def _rank(self, conn: Connection, query: SearchQuery, sort: str, mode: str, wanted: int) -> _Ranked:
        tuning = self.tuning
        depth = min(MAX_RESULTS, max(tuning.lexical_depth, wanted))
        if sort != "relevance":
            depth = MAX_RESULTS  # every match can be the newest or the most upvoted
        rankings: list[tuple[str, tuple[list[int], list[float]]]] = []
        notice = None
        unfetched = 0  # lexical matches past the depth fetched: results too, on later pages
        if mode in ("hybrid", "lexical"):
            lexical_ids, lexical_scores, unfetched = self._lexical(conn, query, depth, wanted)
            rankings.append(("lexical", (lexical_ids, lexical_scores)))
        if mode in ("hybrid", "semantic"):
            semantic_depth = min(MAX_RESULTS, max(tuning.semantic_depth, wanted))
            semantic = self.meaning.nearest(conn, query, semantic_depth if sort == "relevance" else depth)
            if semantic is None:
                notice = self._semantic_off_notice(mode)
            else:
                near, similarity = semantic  # only close neighbours are results
                kept = [i for i, s in enumerate(similarity) if s >= tuning.min_similarity]
                semantic = ([near[i] for i in kept], [similarity[i] for i in kept])
                rankings.append(("semantic", semantic))
        if not rankings:
            return _Ranked([], {}, 0, (), notice=notice)
        fused_ids, fused_scores = self._fuse([ranking for _, ranking in rankings])
        total = len(fused_ids) + max(0, unfetched)
        scores = dict(zip(fused_ids, fused_scores, strict=True))
        if sort != "relevance":
            fused_ids = lexical.sorted_ids(conn, fused_ids, sort)
        found_by = [(name, set(ids)) for name, (ids, _) in rankings]
        matched_by = {  # for the pages up to the one asked: a search fuses about 1,200 papers
            id_: tuple(name for name, found in found_by if id_ in found) for id_ in fused_ids[:wanted]
        }
        used = tuple(name for name, _ in rankings)
        return _Ranked(fused_ids, scores, total, used, matched_by, notice)

    def _lexical(
        self, conn: Connection, query: SearchQuery, depth: int, wanted: int
    ) -> tuple[list[int], list[float], int]:
        """The lexical ranking `depth` deep, and how many more papers match past it. Words must
        all match; when together they match nothing, any of them may (storage/lexical.py; any word
        from the start ranks short queries worse: bench/questions_tuning.py)."""
        answered = self._keyword_ranking(conn, query, depth, wanted)
        if answered is not None:
            return answered
        ids, scores = lexical.search_lexical(conn, query, limit=depth)
        unfetched = lexical.count_matches(conn, query, MAX_RESULTS) - depth if len(ids) == depth else 0
        return ids, scores, unfetched

    def _keyword_ranking(
        self, conn: Connection, query: SearchQuery, depth: int, wanted: int
    ) -> tuple[list[int], list[float], int] | None:
        """The same from the keyword index, or None when it cannot answer for the whole catalogue."""
        ready = None if self.keywords is None else self.keywords.ready(conn, query)
        if ready is None:
            return None
        answered = self._keyword_matches(conn, query, ready.search(depth, all_words=True), depth, wanted)
        if answered is not None and not answered[0] and len(query.terms) + len(query.phrases) > 1:
            # As the database does: when no paper has every word *and* meets the requirements
            # (a `cat:` of its own, an author), papers with any of the words may. Any word or
            # any phrase: the index knows words, not phrases, so the database ranks that.
            if query.phrases:
                return None
            answered = self._keyword_matches(conn, query, ready.search(depth, all_words=False), depth, wanted)
        return answered

    def _keyword_matches(
        self, conn: Connection, query: SearchQuery, hits: KeywordHits, depth: int, wanted: int
    ) -> tuple[list[int], list[float], int] | None:
        """The hits that meet the query's requirements, and how many more match past them; None
        when too few of them pass for the page and more were not fetched."""
        ids, scores = hits.ids, hits.scores
        capped = len(ids) == depth  # more papers match than were fetched
        if lexical.has_constraints(query):
            passing = lexical.constrained_ids(conn, query, ids)
            kept = [i for i, id_ in enumerate(ids) if id_ in passing]
            ids, scores = [ids[i] for i in kept], [scores[i] for i in kept]
            if capped and len(ids) < wanted:
                return None  # too narrow for the candidates: the database filters every match
            if capped:
                return ids, scores, lexical.count_matches(conn, query, MAX_RESULTS) - len(ids)
            return ids, scores, 0
        if not capped:
            return ids, scores, 0
        more = MAX_RESULTS if hits.count is None else hits.count
        return ids, scores, max(0, more - depth)

    def _fuse(self, rankings: Sequence[tuple[list[int], list[float]]]) -> tuple[list[int], list[float]]:
        if len(rankings) == 1:
            return list(rankings[0][0]), list(rankings[0][1])
        tuning = self.tuning
        weights = [tuning.lexical_weight, tuning.semantic_weight]
        if tuning.fusion == "min_max":
            return min_max_fusion(rankings, weights)
        return reciprocal_rank_fusion(rankings, k=tuning.rrf_k, weights=weights)

    def _semantic_off_notice(self, mode: str) -> str:
        reason = self.semantic_unavailable() or "Search by meaning did not answer."
        return reason + (" Results are by keywords only." if mode == "hybrid" else "")

    def _hits(
        self, conn: Connection, query: SearchQuery, ids: list[int], ranked: _Ranked, viewer_id: int | None
    ) -> list[SearchHit]:
        return [
            SearchHit(
                paper=view.paper,
                community=view.community,
                score=ranked.scores.get(view.paper.id, 0.0),
                query=query,
                matched_by=ranked.matched_by.get(view.paper.id, ()),
            )
            for view in hydrate_papers(conn, ids, viewer_id)
        ]

    # --- similar papers ---

    def similar(
        self,
        paper: Paper,
        *,
        sort: str = "similarity",
        limit: int = 10,
        viewer_id: int | None = None,
        conn: Connection | None = None,
    ) -> list[SearchHit]:
        """The papers nearest to `paper` by meaning (its own vector, or its text embedded now
        when it has none yet), the `limit` closest, ordered by `sort`, as search hits (the
        title and a snippet as a search shows them). Empty when semantic search is
        unavailable. Read on `conn` when given (a page read in one connection)."""
        found = self.similar_views(paper, sort=sort, limit=limit, viewer_id=viewer_id, conn=conn)
        empty = SearchQuery()
        return [
            SearchHit(
                paper=view.paper,
                community=view.community,
                score=score,
                query=empty,
                matched_by=("semantic",),
            )
            for view, score in found
        ]

    def similar_views(
        self,
        paper: Paper,
        *,
        sort: str = "similarity",
        limit: int = 10,
        viewer_id: int | None = None,
        conn: Connection | None = None,
        version: str | None = None,
    ) -> list[tuple[PaperView, float]]:
        """`similar`'s papers with their similarity, nothing marked up: what a paper page shows
        of them (the title and snippet of ten hits were ~0.3 ms of each page, never shown).
        `version`: the catalogue version, when the caller read it on `conn`."""
        if sort not in SIMILAR_SORTS:
            raise SearchRequestError(f"sort must be one of {', '.join(SIMILAR_SORTS)}, not {sort!r}")
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise SearchRequestError(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}")
        with nullcontext(conn) if conn is not None else self.engine.connect() as reading:
            neighbours = self.meaning.neighbours(paper, limit, reading)
            if neighbours is None:
                return []
            ids, scores = neighbours
            similarity = dict(zip(ids, scores, strict=True))
            if sort != "similarity":
                ids = lexical.sorted_ids(reading, ids, sort)
            views = hydrate_papers(reading, ids, viewer_id, version if conn is not None else None)
        return [(view, similarity.get(view.paper.id, 0.0)) for view in views]
