"""Search by meaning for one process: the embedder (loaded once, a few seconds for MiniLM) and
the vector index of its model (services/vector_index.py), and the two questions services/search.py
asks them: a query's nearest papers that meet its requirements, and a paper's nearest papers.

A query's neighbours pass the query's requirements (phrases, authors, exclusions, filters) in
SQL (storage/lexical.py), so `cat:` or a "phrase" holds for them too. When the embedder cannot
be loaded (no `search` extra), no paper is embedded yet or the model is still loading, the
answers are None and `unavailable` says why, for the reader; `status` says where it stands for
monitors (web/health.py), without loading anything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine

from paperboy.domain.models import Paper
from paperboy.domain.search_query import SearchQuery
from paperboy.integrations.embedder import (
    Embedder,
    EmbedderUnavailable,
    make_embedder,
    model_id_for,
    paper_text,
)
from paperboy.services.loading import loading
from paperboy.services.search_index import count_papers_to_embed
from paperboy.services.vector_search import Vectors, open_vectors
from paperboy.storage import lexical
from paperboy.storage.engine import now_utc
from paperboy.storage.neighbours import stored_neighbours

log = logging.getLogger(__name__)

Ranking = tuple[list[int], list[float]]  # paper ids best first, and their scores
EMBEDDER_RETRY_S = 60.0  # an embedder that failed to load (a broken install being fixed) is tried again
QUERY_VECTORS_KEPT = 512  # paging re-asks the same query: its vector is not computed again
WAITING_KEPT_S = 10.0  # health checks reuse the count of papers waiting for embedding this long

State = Literal["live", "loading", "idle", "no vectors yet", "off"]


@dataclass(frozen=True, slots=True)
class SemanticStatus:
    """Where search by meaning stands in one process, for monitors (docs/operations.md)."""

    state: State
    model: str  # the model id its vectors are stored under
    vectors: int | None  # in memory; None before the first load
    waiting: int  # papers the model has not embedded at their latest version
    failure: str | None  # why the model last failed to load (kept after a later success)
    failed_at: datetime | None
    retry_in_s: float | None  # while off: until a search may try again (0: the next one does)

    @property
    def live(self) -> bool:
        return self.state == "live"


class SemanticRanker:
    """The embedder and the vector index of one process. Thread-safe; both are loaded on first
    use (or by `warm_up`, which `serve` runs before a process answers: app.py)."""

    def __init__(
        self,
        engine: Engine,
        embedder_name: str,
        *,
        embedder: Embedder | None = None,
        refresh_seconds: float = 2.0,
        ann_directory: Path | None = None,
        vector_search: str = "auto",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """An embedder that failed to load is tried again `EMBEDDER_RETRY_S` later, by `clock`."""
        self.engine = engine
        self._embedder_name = embedder_name
        self._embedder: Embedder | None = embedder
        self._model_id = embedder.model_id if embedder else model_id_for(embedder_name)
        self._refresh_seconds = refresh_seconds
        self._ann_directory = ann_directory
        self._vector_search = vector_search
        self._embedder_error: str | None = None
        self._embedder_failed_at = 0.0
        self._last_failure: tuple[str, datetime] | None = None  # what monitors are shown
        self._warming = False  # a warm-up thread runs (or is about to)
        self._closed = False  # the process is stopping
        self._waiting: tuple[float, int] | None = None  # (when counted, papers waiting)
        self._clock = clock
        self._index: Vectors | None = None
        self._lock = threading.Lock()  # the index and the query cache
        self._loading = threading.Lock()  # one thread loads the model; the others do not wait
        self._query_vectors: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()

    # --- the pieces, loaded once ---

    def embedder(self, *, wait: bool = True) -> Embedder | None:
        """The embedder, or None when it cannot be loaded here (`embedder_error` says why; it is
        tried again after EMBEDDER_RETRY_S) or, with `wait=False`, while another thread is still
        loading it (MiniLM takes seconds)."""
        if self._embedder is not None or not self._may_load():
            return self._embedder
        if not self._loading.acquire(blocking=wait):
            return None
        try:
            if self._embedder is None and self._may_load():
                self._load_embedder()
            return self._embedder
        finally:
            self._loading.release()

    def _may_load(self) -> bool:
        """No failure yet, or the last one is old enough to try again."""
        failed = self._embedder_error is not None
        return not failed or self._clock() - self._embedder_failed_at >= EMBEDDER_RETRY_S

    def _load_embedder(self) -> None:
        try:
            # One torch thread: a query is one short text, and with a thread per core it waited
            # for every core to be free (median 31 ms against 15 ms on a busy machine,
            # bench/search_quality.py); other requests keep the other cores.
            self._embedder = make_embedder(self._embedder_name, threads=1)
            self._embedder_error = None
        except EmbedderUnavailable as exc:
            log.warning("search by meaning is off for now (tried again in %.0f s): %s", EMBEDDER_RETRY_S, exc)
            self._embedder_error = str(exc)
            self._embedder_failed_at = self._clock()
            self._last_failure = (str(exc), now_utc())

    @property
    def embedder_error(self) -> str | None:
        return self._embedder_error

    def vector_index(self) -> Vectors:
        """The vector index of the embedder's model. Its stored vectors need no model: similar
        papers work while the model loads, and while it cannot be loaded."""
        with self._lock:
            if self._index is None:
                self._index = open_vectors(
                    self.engine,
                    self._model_id,
                    search=self._vector_search,
                    refresh_seconds=self._refresh_seconds,
                    directory=self._ann_directory,
                )
            return self._index

    def unavailable(self) -> str | None:
        """Why search by meaning cannot answer now, for the reader; None when it can."""
        embedder = self.embedder(wait=False)
        if self._embedder_error:
            return f"Search by meaning is off on this server for now ({self._embedder_error})."
        if len(self.vector_index()) == 0:
            return "Search by meaning is not ready: no paper has been embedded yet (paperboy index)."
        if embedder is None:
            return "Search by meaning is starting up (the model is loading); try again in a few seconds."
        return None

    def state(self) -> State:
        """Where search by meaning stands, without loading anything: off (the model failed to
        load), loading (by the warm-up, or by a first search), idle (nothing loaded and nothing
        loading: warm-up is off and no search has asked yet), no vectors yet, or live."""
        return self._state(self.vector_index().loaded_size())

    def _state(self, vectors: int | None) -> State:
        """The state, given the vectors in memory (None: not loaded yet)."""
        if self._embedder_error is not None:
            return "off"
        if self._embedder is None or vectors is None:
            return "loading" if self._warming or self._loading.locked() else "idle"
        return "live" if vectors else "no vectors yet"

    def status(self) -> SemanticStatus:
        """The state with its details; the count of papers waiting is at most WAITING_KEPT_S old."""
        vectors = self.vector_index().loaded_size()  # read once: a refresh may land meanwhile
        state = self._state(vectors)
        retry_in = None
        if state == "off":
            retry_in = max(0.0, EMBEDDER_RETRY_S - (self._clock() - self._embedder_failed_at))
        failure, failed_at = self._last_failure or (None, None)
        return SemanticStatus(
            state, self._model_id, vectors, self._papers_waiting(), failure, failed_at, retry_in
        )

    def _papers_waiting(self) -> int:
        now = self._clock()
        with self._lock:
            if self._waiting is not None and now - self._waiting[0] < WAITING_KEPT_S:
                return self._waiting[1]
        waiting = count_papers_to_embed(self.engine, self._model_id)
        with self._lock:
            self._waiting = (now, waiting)
        return waiting

    def close(self) -> None:
        """Let a background refresh of the vectors finish (briefly), so the engine can be
        disposed; a warm-up not yet at the model stops there."""
        self._closed = True
        index = self._index
        if index is not None:
            index.close()

    def warm_up(self) -> None:
        """Load the vectors and the embedder now, so the first search does not wait for them;
        what is not loaded yet once closed (the process is stopping) is not."""
        if not self._closed:
            len(self.vector_index())
        if not self._closed and self.embedder() is not None:
            self._embed_query("warm up")

    def start_warm_up(self, first: Callable[[], None] | None = None) -> threading.Thread:
        """`warm_up` in a background thread (what `serve` does at start), after `first` (the
        keyword index's) when given; the state says loading from now until it ends."""
        self._warming = True
        thread = threading.Thread(
            target=self._warm_up_in_background, args=(first,), name="search-warm-up", daemon=True
        )
        thread.start()
        return thread

    def _warm_up_in_background(self, first: Callable[[], None] | None) -> None:
        try:
            with loading():  # on what requests leave (services/loading.py)
                if first is not None:
                    first()
                self.warm_up()
        except Exception:  # a search will try again, and report what is wrong
            log.exception("loading the search model and vectors failed")
        finally:
            self._warming = False

    # --- the questions ---

    def nearest(self, conn: Connection, query: SearchQuery, depth: int) -> Ranking | None:
        """The nearest papers to the query's words that meet its requirements, or None when
        semantic search is unavailable (no embedder, or no paper embedded yet)."""
        index = self.vector_index()
        if len(index) == 0 or self.embedder(wait=False) is None:
            return None  # empty, the model unavailable or still loading (unavailable)
        vector = self._embed_query(query.semantic_text())
        if not lexical.has_constraints(query):
            return index.nearest(vector, depth, conn=conn)
        # Over-fetch, then keep those meeting the requirements; when the filters are too narrow
        # for that, search among the papers that meet them.
        ids, scores = index.nearest(vector, depth * 4, conn=conn)
        allowed = lexical.constrained_ids(conn, query, ids)
        kept = [(i, s) for i, s in zip(ids, scores, strict=True) if i in allowed][:depth]
        if len(kept) < depth and len(ids) == depth * 4:
            within = lexical.all_constrained_ids(conn, query)
            return index.nearest(vector, depth, within=within, conn=conn)
        return [i for i, _ in kept], [s for _, s in kept]

    def neighbours(self, paper: Paper, limit: int, conn: Connection | None = None) -> Ranking | None:
        """The `limit` papers nearest to `paper` by meaning (its own vector, or its text embedded
        now when it has none yet); None when search by meaning cannot answer. Read on `conn`,
        when given, from the lists stored ahead (services/paper_neighbours.py) while they are
        current: one statement instead of a search."""
        index = self.vector_index()
        if conn is not None:
            kept = index.kept_neighbours(paper.id, limit)  # read again: no statement
            if kept is not None:
                return kept
            stored = stored_neighbours(conn, self._model_id, paper.id, limit)
            if stored is not None:
                index.keep_neighbours(paper.id, limit, stored)
                return stored
        if len(index) == 0:
            return None
        found = index.neighbours_of(paper.id, limit)
        if found is not None:
            return found
        embedder = self.embedder(wait=False)  # not embedded yet: its text, now, if the model is ready
        if embedder is None:
            return None
        vector = embedder.embed([paper_text(paper.title, paper.abstract)])[0]
        return index.nearest(vector, limit, exclude={paper.id})

    def _embed_query(self, text: str) -> npt.NDArray[np.float32]:
        """The query's vector; the last few hundred are kept (paging re-asks the same query)."""
        key = text.lower()
        with self._lock:
            cached = self._query_vectors.get(key)
            if cached is not None:
                self._query_vectors.move_to_end(key)
                return cached
        embedder = self.embedder()
        assert embedder is not None  # callers checked vector_index()
        vector: npt.NDArray[np.float32] = embedder.embed([text])[0]
        with self._lock:
            self._query_vectors[key] = vector
            if len(self._query_vectors) > QUERY_VECTORS_KEPT:
                self._query_vectors.popitem(last=False)
        return vector
