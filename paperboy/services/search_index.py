"""Building the search indexes from the catalogue: what `paperboy index` runs.

New and changed papers are indexed as they are written (storage/papers.py); a build is needed
once, for papers stored before the index existed, or to start over. It indexes only the papers
the index does not hold (so after an import, which indexes as it writes, it has nothing to do),
in batches, each its own transaction, so a build stopped half-way continues where it stopped,
and searches keep working meanwhile.

Embeddings (`embed_papers`) need no stored bookmark: the vector store knows which papers an
embedder has not embedded at their latest version, and each batch is read, embedded with no
transaction open (the slow part: never holding SQLite's write lock meanwhile), then stored in its
own short write transaction. Within a run, each batch is read after the last paper of the one
before (by id), so a batch costs the same at the end as at the start; a paper changed meanwhile
behind that point is embedded by the next run (the next sync's, or `serve`'s next round).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from paperboy.config import Settings
from paperboy.integrations.embedder import Embedder, make_embedder, model_id_for, paper_text
from paperboy.services.paper_neighbours import stores_neighbours, update_paper_neighbours
from paperboy.services.vector_index import ANN_DIRECTORY
from paperboy.services.vector_search import ensure_database_index
from paperboy.storage.lexical_index import (
    clear_index,
    count_unindexed_papers,
    index_papers,
    indexed_count,
    unindexed_paper_ids,
)
from paperboy.storage.neighbours import delete_neighbour_lists
from paperboy.storage.transactions import write_transaction
from paperboy.storage.vectors import (
    count_embeddings,
    count_papers_needing_embeddings,
    delete_embeddings,
    papers_needing_embeddings,
    store_embeddings,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 2000

Progress = Callable[[int, int], None]  # (papers just indexed, papers this run indexes in all)


@dataclass(frozen=True, slots=True)
class IndexReport:
    indexed: int  # papers indexed by this run
    already: int  # papers the index held when this run started (a previous run's, or written since)
    in_index: int  # papers in the index at the end

    def summary(self) -> str:
        already = f" ({self.already} were indexed already)" if self.already else ""
        return f"lexical index: {self.indexed} papers indexed{already}; {self.in_index} in the index"


def rebuild_lexical_index(
    engine: Engine, *, progress: Progress | None = None, rebuild: bool = False, batch_size: int = BATCH_SIZE
) -> IndexReport:
    """Index every paper the index does not hold (all of them with `rebuild`, which empties the
    index first). Re-indexing what it holds would change nothing but the keyword index's
    generation, which then re-reads every paper (an import indexes as it writes)."""
    with write_transaction(engine) as conn:
        if rebuild:
            clear_index(conn)
        total = count_unindexed_papers(conn)
        already = indexed_count(conn)
    last, done = 0, 0
    while batch := _index_batch(engine, last, batch_size):
        last, done = batch[-1], done + len(batch)
        if progress:
            progress(len(batch), total)
    with engine.connect() as conn:
        return IndexReport(indexed=done, already=already, in_index=indexed_count(conn))


def _index_batch(engine: Engine, after: int, size: int) -> list[int]:
    """Index the next `size` papers after id `after` that the index does not hold."""
    with write_transaction(engine) as conn:
        ids = unindexed_paper_ids(conn, after, size)
        if ids:
            index_papers(conn, ids)
    return ids


@dataclass(frozen=True, slots=True)
class EmbedReport:
    model: str  # the embedder's model id
    embedded: int  # papers embedded by this run
    seconds: float  # how long this run took
    stored: int  # vectors of this model in the store at the end

    def summary(self) -> str:
        return (
            f"embeddings ({self.model}): {self.embedded} papers embedded in {self.seconds:.1f} s; "
            f"{self.stored} stored"
        )


def count_papers_to_embed(engine: Engine, model_id: str) -> int:
    """Papers `embed_papers` would embed now with this model (new, or changed since they were
    embedded)."""
    with engine.connect() as conn:
        return count_papers_needing_embeddings(conn, model_id)


def count_papers_waiting(engine: Engine, settings: Settings) -> int:
    """The same for the embedder the settings name, without loading its model."""
    return count_papers_to_embed(engine, model_id_for(settings.embedder))


def clear_embeddings(engine: Engine, embedder: Embedder) -> int:
    """Delete the embedder's vectors (other models' stay), so that every paper is embedded again,
    and the neighbours stored from them."""
    with write_transaction(engine) as conn:
        delete_neighbour_lists(conn, embedder.model_id)
        return delete_embeddings(conn, embedder.model_id)


def embed_papers(
    engine: Engine,
    embedder: Embedder,
    *,
    batch_size: int,
    progress: Progress | None = None,
    limit: int | None = None,
    stop: threading.Event | None = None,
) -> EmbedReport:
    """Embed every paper the embedder has not embedded at its latest version (at most `limit`),
    `batch_size` papers at a time, each batch stored in its own transaction; `stop`, once set,
    ends the run after the batch in hand (a server stopping: the next run goes on from there)."""
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    started = time.perf_counter()
    model = embedder.model_id
    with engine.connect() as conn:
        total = count_papers_needing_embeddings(conn, model)
    if limit is not None:
        total = min(total, limit)
    done = after = 0
    while (limit is None or done < limit) and not (stop and stop.is_set()):
        size = batch_size if limit is None else min(batch_size, limit - done)
        with engine.connect() as conn:
            todo = papers_needing_embeddings(conn, model, size, after_id=after)
        if not todo:
            break
        vectors = embedder.embed([paper_text(p.title, p.abstract) for p in todo])
        try:
            with write_transaction(engine) as conn:
                store_embeddings(conn, model, [(p.paper_id, p.version) for p in todo], vectors)
        except IntegrityError:  # another process (a sync, `paperboy index`) stored some of them
            continue  # first: ask again what is still missing (from the same place)
        done, after = done + len(todo), todo[-1].paper_id
        if progress:
            progress(len(todo), max(total, done))
    with engine.connect() as conn:
        stored = count_embeddings(conn, model)
    return EmbedReport(model=model, embedded=done, seconds=time.perf_counter() - started, stored=stored)


_embedders: dict[tuple[str, int, int | None], Embedder] = {}
_embedders_lock = threading.Lock()


def settings_embedder(settings: Settings, *, threads: int | None = None) -> Embedder:
    """The embedder the settings name, loaded once per process (MiniLM takes seconds to load).
    EmbedderUnavailable when it cannot be loaded here."""
    key = (settings.embedder, settings.embed_batch_size, threads)
    with _embedders_lock:
        if key not in _embedders:
            _embedders[key] = make_embedder(
                settings.embedder, batch_size=settings.embed_batch_size, threads=threads
            )
        return _embedders[key]


def embed_new_papers(
    engine: Engine,
    settings: Settings,
    *,
    threads: int | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> EmbedReport:
    """Embed the papers added or changed since the last run (what a sync and `serve` do), then
    store the nearest neighbours that are missing or out of date (services/paper_neighbours.py)."""
    embedder = settings_embedder(settings, threads=threads)
    report = embed_papers(
        engine, embedder, batch_size=settings.embed_batch_size, progress=progress, stop=stop
    )
    if not report.embedded or (stop and stop.is_set()):
        return report
    try:  # the papers are embedded either way: pages search the vectors meanwhile, the next run tries again
        if settings.vector_search == "auto":  # a new site's first vectors: its index
            ensure_database_index(engine, embedder.model_id)
        if stores_neighbours(engine, settings.vector_search):
            update_paper_neighbours(engine, embedder.model_id, settings.data_dir / ANN_DIRECTORY)
    except Exception:
        log.exception("the vector index or the nearest neighbours of new papers failed")
    return report


def embed_waiting_papers(
    engine: Engine, settings: Settings, *, threads: int | None = None, stop: threading.Event | None = None
) -> EmbedReport | None:
    """`embed_new_papers` when some paper waits; None, without loading the model, when none
    does (what `serve`'s background embedding asks every few minutes: loading MiniLM for nothing
    is seconds of importing torch, holding the interpreter's lock while requests are served)."""
    if not count_papers_waiting(engine, settings):
        return None
    return embed_new_papers(engine, settings, threads=threads, stop=stop)
