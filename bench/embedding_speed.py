"""`python -m bench embedding` (or `python -m bench.embedding_speed`): how fast `paperboy index`
embeds the shared corpus, and what each batch's time goes to (issue 14: ≤ 12 min on 2 cores).

1. The hashing embedder over the whole imported corpus, so that the model's cost does not hide
   the database's: papers/s over the first and the last 10,000 papers and in all, with the
   seconds spent inside the embedder and outside it (reading the next papers, storing vectors).
   "before" is the loop as it was until the keyset fix: every batch asked for the first papers
   without a vector, by id, so each scan walked past every paper already embedded and a batch
   cost in proportion to the vectors stored. "after" is `embed_papers` as `paperboy index` runs
   it. Both use the settings' batch size on the same database, after first; the vectors are
   cleared between them.
2. MiniLM (the search extra) on the corpus's first papers (`--embed-papers`, 2,000): papers/s as
   `paperboy index` feeds it (one database read of `embed_batch_size` papers per call, sorted by
   length within it) and sorted by length over larger reads, the time per forward pass, the
   projected time for the whole corpus, and the cosine of each paper with its reference row.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine

from bench.common import BenchError, Corpus, each_database, format_table, run_standalone, section
from bench.embeddings import first_papers
from bench.import_speed import imported_database
from bench.reference_vectors import REFERENCE
from bench.workspace import Workspace
from paperboy.config import load_settings
from paperboy.integrations.embedder import Embedder, Vectors, paper_text
from paperboy.services.search_index import clear_embeddings, embed_papers
from paperboy.storage.engine import make_engine
from paperboy.storage.transactions import write_transaction
from paperboy.storage.vectors import papers_needing_embeddings, store_embeddings

WINDOW = 10_000  # papers at the start and at the end whose rate is compared
CORPUS_PAPERS = 74_728
READS = (None, 512)  # papers per embed() call in the MiniLM rows (None: embed_batch_size)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--embed-papers", type=int, default=2000, help="papers MiniLM embeds per configuration (embedding)"
    )


class TimedEmbedder:
    """An embedder that adds up the seconds spent inside it."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimensions = inner.dimensions
        self.seconds = 0.0

    def embed(self, texts: Sequence[str]) -> Vectors:
        start = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - start


@dataclass(frozen=True, slots=True)
class Timeline:
    """When each batch was stored: (seconds since the start, papers done so far)."""

    points: list[tuple[float, int]]
    embedder_s: float

    @property
    def papers(self) -> int:
        return self.points[-1][1] if self.points else 0

    @property
    def seconds(self) -> float:
        return self.points[-1][0] if self.points else 0.0

    def first_rate(self) -> float:
        """Papers/s until the first batch that reaches WINDOW papers."""
        return _rate((0.0, 0), next(p for p in self.points if p[1] >= WINDOW))

    def last_rate(self) -> float:
        """Papers/s from the last batch done before the final WINDOW papers to the end."""
        start = max((p for p in self.points if p[1] <= self.papers - WINDOW), default=(0.0, 0))
        return _rate(start, self.points[-1])

    def as_json(self) -> dict[str, float]:
        return {
            "papers": self.papers,
            "seconds": self.seconds,
            "first_10k_papers_per_s": self.first_rate(),
            "last_10k_papers_per_s": self.last_rate(),
            "embedder_s": self.embedder_s,
            "outside_embedder_s": self.seconds - self.embedder_s,
        }


def _rate(start: tuple[float, int], end: tuple[float, int]) -> float:
    return (end[1] - start[1]) / max(end[0] - start[0], 1e-9)


Loop = Callable[[Engine, Embedder, int, Callable[[int, int], None]], Any]


def _keyset(engine: Engine, embedder: Embedder, batch_size: int, progress: Callable[[int, int], None]) -> Any:
    return embed_papers(engine, embedder, batch_size=batch_size, progress=progress)


def _from_the_start(
    engine: Engine, embedder: Embedder, batch_size: int, progress: Callable[[int, int], None]
) -> None:
    """embed_papers before the keyset fix: each batch scanned from the first paper."""
    while True:
        with engine.connect() as conn:
            todo = papers_needing_embeddings(conn, embedder.model_id, batch_size)  # after_id=0
        if not todo:
            return
        vectors = embedder.embed([paper_text(p.title, p.abstract) for p in todo])
        with write_transaction(engine) as conn:
            store_embeddings(conn, embedder.model_id, [(p.paper_id, p.version) for p in todo], vectors)
        progress(len(todo), 0)


def time_loop(engine: Engine, loop: Loop, embedder: Embedder, batch_size: int) -> Timeline:
    timed = TimedEmbedder(embedder)
    points: list[tuple[float, int]] = []
    start = time.perf_counter()

    def progress(papers: int, _total: int) -> None:
        points.append((time.perf_counter() - start, (points[-1][1] if points else 0) + papers))

    loop(engine, timed, batch_size, progress)
    return Timeline(points, timed.seconds)


def hashing_before_after(ws: Workspace, corpus: Corpus, label: str, batch_size: int) -> dict[str, Any]:
    from paperboy.integrations.embedder import HashingEmbedder

    engine = make_engine(imported_database(ws, corpus, label).url)
    embedder = HashingEmbedder()
    try:
        clear_embeddings(engine, embedder)
        runs: dict[str, Any] = {}
        for name, loop in (("after", _keyset), ("before", _from_the_start)):
            runs[name] = time_loop(engine, loop, embedder, batch_size).as_json()
            print(f"  {label} {name}: {runs[name]['seconds']:.0f} s", flush=True)
            clear_embeddings(engine, embedder)
        if runs["after"]["papers"] != runs["before"]["papers"]:
            raise BenchError(f"{label}: the two loops embedded {runs['after']} and {runs['before']} papers")
        return runs
    finally:
        engine.dispose()


def minilm_slice(papers: int, batch_size: int) -> list[dict[str, Any]]:
    from paperboy.integrations.embedder import EmbedderUnavailable, MiniLMEmbedder

    try:
        embedder = MiniLMEmbedder(batch_size=batch_size)
    except EmbedderUnavailable as exc:
        raise BenchError(str(exc)) from exc
    texts = first_papers(papers)
    reference = np.load(REFERENCE, mmap_mode="r")[: len(texts)].astype(np.float32)
    rows = []
    for read in READS:
        for model_batch in (batch_size, 2 * batch_size) if read else (batch_size,):
            rows.append(_minilm_row(embedder, texts, reference, read or batch_size, model_batch))
            print(f"  minilm read {rows[-1]['read']} batch {model_batch}: {rows[-1]['papers_per_s']:.1f}/s")
    return rows


def _minilm_row(
    embedder: Any, texts: list[str], reference: np.ndarray, read: int, model_batch: int
) -> dict[str, Any]:
    embedder.batch_size = model_batch
    start = time.perf_counter()
    vectors = np.concatenate([embedder.embed(texts[i : i + read]) for i in range(0, len(texts), read)])
    seconds = time.perf_counter() - start
    passes = sum(-(-len(texts[i : i + read]) // model_batch) for i in range(0, len(texts), read))
    cosines = np.sum(vectors * reference, axis=1) / np.linalg.norm(reference, axis=1)
    return {
        "read": read,
        "model_batch": model_batch,
        "papers_per_s": len(texts) / seconds,
        "ms_per_forward_pass": 1000 * seconds / passes,
        "corpus_minutes": CORPUS_PAPERS / (len(texts) / seconds) / 60,
        "min_cosine": float(cosines.min()),
        "median_cosine": float(np.median(cosines)),
    }


def run(ws: Workspace, corpus: Corpus, args: argparse.Namespace) -> dict[str, Any]:
    batch_size = load_settings().embed_batch_size
    section(f"Embedding, hashing embedder, the whole corpus, batches of {batch_size}: before/after keyset")
    hashing, errors = each_database(
        ws.labels(), lambda label: hashing_before_after(ws, corpus, label, batch_size)
    )
    _print_hashing(hashing)
    papers = getattr(args, "embed_papers", 2000)
    section(f"Embedding, MiniLM, the corpus's first {papers:,} papers")
    try:
        minilm = minilm_slice(papers, batch_size)
    except BenchError as exc:
        errors["minilm"] = str(exc)
        print(f"  MiniLM: could not run: {exc}")
        minilm = []
    _print_minilm(minilm)
    return {"hashing": hashing, "minilm": minilm, "errors": errors}


def _print_hashing(results: dict[str, dict[str, Any]]) -> None:
    headers = ["database, loop", "papers", "first 10k /s", "last 10k /s", "total s", "embedder s", "other s"]
    rows = [
        [
            f"{label}, {name}",
            r["papers"],
            r["first_10k_papers_per_s"],
            r["last_10k_papers_per_s"],
            r["seconds"],
            r["embedder_s"],
            r["outside_embedder_s"],
        ]
        for label, runs in results.items()
        for name, r in runs.items()
    ]
    print(format_table(headers, rows))


def _print_minilm(rows: list[dict[str, Any]]) -> None:
    headers = [
        "papers per embed()",
        "model batch",
        "papers/s",
        "ms/pass",
        "corpus min",
        "min cos",
        "median cos",
    ]
    table = [
        [
            r["read"],
            r["model_batch"],
            r["papers_per_s"],
            r["ms_per_forward_pass"],
            r["corpus_minutes"],
            f"{r['min_cosine']:.6f}",
            f"{r['median_cosine']:.6f}",
        ]
        for r in rows
    ]
    print(format_table(headers, table))


def main() -> int:
    from bench import postgres
    from bench.common import find_corpus

    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    args = parser.parse_args()
    pg_admin, pg_note = postgres.admin_url()
    if pg_note:
        print(pg_note)

    def run_all() -> dict[str, Any]:
        with Workspace(pg_admin, pg_note) as ws:
            return run(ws, find_corpus(), args)

    return run_standalone("embedding", "embedding-", run_all)


if __name__ == "__main__":
    raise SystemExit(main())
