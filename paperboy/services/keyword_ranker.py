"""The keyword ranking of one process: the tantivy index (storage/keyword_index.py) kept current
with the database, and the database's own full-text search whenever it is not.

Who writes. The index lives in data_dir/keywords, one folder per host, which every process of the
host searches; whichever process holds its write lock (tantivy's lock file, freed when the process
ends; the others try again every `WRITER_RETRY_S`) builds it and keeps it current. On PostgreSQL
each app host builds its own from the shared database (5 s for 74,728 papers, about 70 s for 1M)
and follows the same changes, so hosts share the database, not a file.

How it follows. Every write of a paper's indexed text adds one to the counter
`lexical:generation` in the writer's transaction (storage/lexical_index.py). The writer reads the
counter, then every paper whose `changed_at` is later than the last one it indexed less
`LAG_S` (a transaction that stamped its papers earlier may commit later; the overlap's papers
already indexed at that `changed_at` are skipped), indexes them, commits, and publishes that it is
current as of the counter it read first: in memory, and in `state.json` for the other processes,
which reload the index when it moves.

When it answers. A query reads the counter (one indexed row) and is ranked here only when the
index is complete and current as of it; the writer process catches up first if it is behind (a
few papers: milliseconds). Otherwise, while the first build runs or another process's writes are
not yet indexed, `search` returns None and the caller asks the database (storage/lexical.py), so
a search never misses a paper the database has.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine

from paperboy.domain.search_query import SearchQuery
from paperboy.services.loading import lower_this_thread
from paperboy.storage.changes import changed_paper_ids
from paperboy.storage.keyword_index import KeywordHits, KeywordIndex, Weights
from paperboy.storage.lexical_index import database_identity, keyword_documents, lexical_generation

log = logging.getLogger(__name__)

KEYWORD_DIRECTORY = "keywords"  # under data_dir
SCHEMA_VERSION = 1  # of storage/keyword_index.py's documents: a folder of another is rebuilt
LAG_S = 60.0  # how much later than its papers' changed_at a transaction may commit
WRITER_RETRY_S = 10.0  # how often a process that is not the writer tries to become it
BATCH = 5000  # papers read and indexed at a time; a stop waits for at most one batch
CLOSE_WAIT_S = 0.5  # how long `close` waits for a round in progress

State = Literal["current", "building", "behind", "off"]


@dataclass(frozen=True, slots=True)
class KeywordStatus:
    """Where the keyword index stands in one process, for monitors (web/health.py)."""

    state: State  # current; building (first build); behind (changes not yet indexed); off (failed)
    papers: int  # documents in the index this process searches
    writer: bool  # this process keeps it
    failure: str | None


@dataclass(frozen=True, slots=True)
class KeywordSearch:
    """A query's words analysed, and the index snapshot that ranks them (`KeywordRanker.ready`)."""

    index: KeywordIndex
    searcher: Any  # a tantivy snapshot
    tokens: tuple[str, ...]
    weights: Weights

    def search(self, limit: int, *, all_words: bool) -> KeywordHits:
        return self.index.search_tokens(
            self.searcher, self.tokens, limit, all_words=all_words, weights=self.weights
        )


@dataclass(frozen=True, slots=True)
class _Published:
    searcher: Any  # a tantivy snapshot
    generation: int  # the index holds every write up to this one


class KeywordRanker:
    """The keyword index of one process; thread-safe. `directory` None keeps it in memory (one
    process only: tests, tools)."""

    def __init__(
        self,
        engine: Engine,
        directory: Path | None,
        *,
        weights: Weights | None = None,
        refresh_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.directory = directory
        self.weights = weights or Weights()
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._index: KeywordIndex | None = None
        self._published: _Published | None = None  # None until a complete index is published
        self._watermark: datetime | None = None  # the latest changed_at indexed
        self._recent: dict[int, datetime] = {}  # papers indexed within LAG_S of the watermark
        self._failure: str | None = None
        self._lock = threading.Lock()  # one catch-up or reload at a time
        self._next_writer_try = 0.0
        self._background: threading.Thread | None = None
        self._starting = threading.Lock()
        self._stop = threading.Event()
        self._database = ""

    # --- answering ---

    def search(
        self, conn: Connection, query: SearchQuery, limit: int, *, all_words: bool
    ) -> KeywordHits | None:
        """The query's words ranked by the index, or None when it cannot answer for all of the
        database now (the caller asks the database instead)."""
        ready = self.ready(conn, query)
        return None if ready is None else ready.search(limit, all_words=all_words)

    def ready(self, conn: Connection, query: SearchQuery) -> KeywordSearch | None:
        """The query analysed for the index as it is now, to be ranked once or more (every word,
        then any); None when the index cannot answer for all of the database now."""
        published = self._published
        if published is None:
            self._check_soon()
            return None
        generation = lexical_generation(conn)
        if generation != published.generation:
            published = self._catch_up_now(generation)
            if published is None:
                return None
        index = self._index
        assert index is not None
        text = " ".join([*query.terms, *query.phrases])
        tokens = index.tokens(text)
        if not tokens or index.has_overlong_words(text):
            return None  # stop words only, or a word too long to index: the database matches them
        return KeywordSearch(index, published.searcher, tuple(tokens), self.weights)

    def _catch_up_now(self, generation: int) -> _Published | None:
        """The writer indexes what changed before answering; another process waits for it."""
        index = self._index
        if index is not None and index.is_writer and self._lock.acquire(timeout=1.0):
            try:
                self._step()
            except Exception as exc:  # the database answers instead; logged once per cause
                self._fail(exc)
            finally:
                self._lock.release()
            published = self._published
            if published is not None and published.generation >= generation:
                return published
            return None
        self._check_soon()
        return None

    def status(self) -> KeywordStatus:
        published, index = self._published, self._index
        if self._failure is not None and published is None:
            state: State = "off"
        elif published is None:
            state = "building"
        else:
            try:
                with self.engine.connect() as conn:
                    behind = lexical_generation(conn) != published.generation
            except Exception:  # the health check says the database is down elsewhere
                behind = True
            state = "behind" if behind else "current"
        papers = int(published.searcher.num_docs) if published is not None else 0
        return KeywordStatus(state, papers, bool(index and index.is_writer), self._failure)

    # --- keeping current ---

    def refresh(self) -> None:
        """Open the index, build or follow it (if this process may write it) or reload it, now
        (unless closed: a server stopping while it warmed up)."""
        with self._lock:
            if self._stop.is_set():
                return
            try:
                self._step()
            except Exception as exc:
                self._failure = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                self._let_go_if_closed()

    def update(self, *, rebuild: bool = False) -> str:
        """Bring the index up to date in this process (all of it again with `rebuild`), for
        `paperboy index`; a summary line. A running `serve` that holds the index is left to it."""
        try:
            with self._lock:
                index = self._open()
                if not index.acquire_writer():
                    return f"keyword index: kept current by the running server ({self.directory})"
                self._take_over(index)
                if rebuild:
                    index.clear()
                    self._watermark, self._recent, self._published = None, {}, None
                self._follow(index)
                papers = int(index.searcher().num_docs)
        finally:
            self.close()
        return f"keyword index: {papers} papers in {self.directory or 'memory'}"

    def start(self) -> threading.Thread | None:
        """Keep the index current in a background thread, a round every `refresh_seconds` (the
        first builds it); started by `serve`'s warm-up or the first search. Idempotent; None
        once closed."""
        with self._starting:
            running = self._background
            if self._stop.is_set() or (running is not None and running.is_alive()):
                return running
            thread = threading.Thread(target=self._run, name="keyword-index", daemon=True)
            self._background = thread
            thread.start()
            return thread

    def close(self, timeout: float = CLOSE_WAIT_S) -> None:
        """Stop the background work (a build stops after its batch in hand, dropping what it
        added), then let go of the write lock. A round still busy after `timeout` keeps the lock
        (tantivy frees it when the process ends) and is left to end with the process."""
        with self._starting:
            self._stop.set()
        deadline = time.monotonic() + timeout
        background = self._background
        if background is not None and background is not threading.current_thread():
            background.join(timeout)
        if not self._lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            log.warning("keyword index: busy after %.1f s; its write lock goes with the process", timeout)
            return
        try:
            if self._index is not None:
                self._index.release_writer()
        finally:
            self._lock.release()

    def _check_soon(self) -> None:
        self.start()

    def _run(self) -> None:
        lower_this_thread()  # building and following the index run on what requests leave
        while not self._stop.is_set():
            with self._lock:
                if self._stop.is_set():
                    break
                try:
                    self._step()
                except Exception as exc:  # the database answers meanwhile; tried again next round
                    self._fail(exc)
                self._let_go_if_closed()
            self._stop.wait(self._refresh_seconds)

    def _let_go_if_closed(self) -> None:
        """Under `_lock`, after a round: if `close` came meanwhile (and could not wait for the
        round), the write lock goes now."""
        if self._stop.is_set() and self._index is not None:
            self._index.release_writer()

    def _fail(self, exc: Exception) -> None:
        cause = f"{type(exc).__name__}: {exc}"
        if cause != self._failure:
            log.exception("keyword index: %s (searches use the database's full-text index meanwhile)", cause)
        self._failure = cause

    def _step(self) -> None:
        """One round, under `_lock`."""
        index = self._open()
        now = self._clock()
        if not index.is_writer and now >= self._next_writer_try:
            self._next_writer_try = now + WRITER_RETRY_S
            if index.acquire_writer():
                self._take_over(index)
        if index.is_writer:
            try:
                self._follow(index)
            except BaseException:
                # The next round reads the same papers again: a first build adds them without
                # deleting, so what this one put must not reach its commit twice.
                index.rollback()
                raise
        else:
            self._reload_from_state(index)
        self._failure = None

    def _open(self) -> KeywordIndex:
        if self._index is not None:
            return self._index
        with self.engine.begin() as conn:
            database = database_identity(conn, uuid.uuid4().hex)
        if self.directory is not None:
            saved = _read_state(self.directory)
            if saved and (saved.get("schema") != SCHEMA_VERSION or saved.get("database") != database):
                KeywordIndex.wipe(self.directory)  # another schema's, or another database's
        self._database = database
        self._index = KeywordIndex(self.directory)
        return self._index

    def _take_over(self, index: KeywordIndex) -> None:
        """This process became the writer: carry on from what the last writer recorded."""
        saved = _read_state(self.directory) if self.directory is not None else None
        self._recent = {}
        if saved and saved.get("complete"):
            self._watermark = datetime.fromisoformat(saved["watermark"]) if saved.get("watermark") else None
            index.reload()
            self._published = _Published(index.searcher(), int(saved["generation"]))
        else:  # never finished: start again from nothing
            index.clear()
            index.commit()
            self._watermark = None
            self._published = None

    def _follow(self, index: KeywordIndex) -> None:
        """Index every paper changed since the watermark (all of them the first time)."""
        with self.engine.connect() as conn:
            generation = lexical_generation(conn)
        published = self._published
        if published is not None and published.generation == generation:
            return
        if published is not None and generation < published.generation:  # the database was restored
            log.warning("keyword index: the database is older than the index; building it again")
            index.clear()
            self._watermark, self._recent, self._published = None, {}, None
            published = None
        building = published is None
        cursor = None if self._watermark is None else (self._watermark - timedelta(seconds=LAG_S), 0)
        recent, watermark, changed = dict(self._recent), self._watermark, 0
        while True:
            with self.engine.connect() as conn:
                rows = changed_paper_ids(conn, cursor, BATCH)
                todo = [paper_id for paper_id, at in rows if recent.get(paper_id) != at]
                documents = keyword_documents(conn, todo)
            changed += index.put(documents, replace=not (building and watermark is None))
            for paper_id, at in rows:
                recent[paper_id] = at
                watermark = at if watermark is None or at > watermark else watermark
            if len(rows) < BATCH:
                break
            if self._stop.is_set():  # closing: a build takes seconds; the next process redoes this round
                index.rollback()
                return
            cursor = (rows[-1][1], rows[-1][0])
        if changed or building:
            index.commit()
            index.reload()
        if watermark is not None:
            horizon = watermark - timedelta(seconds=LAG_S)
            recent = {paper_id: at for paper_id, at in recent.items() if at > horizon}
        self._watermark, self._recent = watermark, recent
        self._published = _Published(index.searcher(), generation)
        if self.directory is not None:
            _write_state(
                self.directory,
                {
                    "schema": SCHEMA_VERSION,
                    "database": self._database,
                    "generation": generation,
                    "watermark": watermark.isoformat() if watermark else None,
                    "complete": True,
                },
            )
        if building:
            log.info("keyword index: %d papers indexed", index.searcher().num_docs)

    def _reload_from_state(self, index: KeywordIndex) -> None:
        """Not the writer: reload when the writer has published a newer state."""
        saved = _read_state(self.directory) if self.directory is not None else None
        if not saved or not saved.get("complete"):
            return
        published = self._published
        if published is not None and published.generation == int(saved["generation"]):
            return
        index.reload()
        self._published = _Published(index.searcher(), int(saved["generation"]))


_STATE_FILE = "state.json"


def _read_state(directory: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads((directory / _STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _write_state(directory: Path, state: dict[str, Any]) -> None:
    """Replace state.json in one rename, so a reader never sees half of it."""
    temporary = directory / f".{_STATE_FILE}.{os.getpid()}"
    temporary.write_text(json.dumps(state))
    temporary.replace(directory / _STATE_FILE)
