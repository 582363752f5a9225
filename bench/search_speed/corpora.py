"""The databases measured, built once and cached: the real corpus imported with the reference
vectors stored, or the million-paper one; each with its approximate index."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import BenchError, Corpus, child_env, paperboy_command, tail
from bench.search_speed.environment import CACHE, MODEL, REFERENCE, SERVER_ENV, open_engine, read_records
from bench.search_speed.synthetic import MILLION, copy_id, copy_vectors, generate


@dataclass(frozen=True, slots=True)
class Prepared:
    label: str
    data_dir: Path
    facts: dict[str, Any]


def prepare_real(corpus: Corpus, threads: int) -> Prepared:
    """The real corpus imported, with the reference vectors stored and the approximate index
    built (cached)."""

    def imported(root: Path, data_dir: Path) -> dict[str, Any]:
        return _import(data_dir, corpus.papers, corpus.listings, root)

    def finished(root: Path, data_dir: Path) -> dict[str, Any]:
        facts = _store_vectors(data_dir, corpus, papers=len(_reference_rows(corpus)))
        return facts | _build_ann(data_dir, threads)

    return _cached("real", imported, finished)


def prepare_million(corpus: Corpus, threads: int) -> Prepared:
    """The real corpus and 925,272 synthetic papers (module docstring), with vectors and the
    approximate index (cached)."""

    def imported(root: Path, data_dir: Path) -> dict[str, Any]:
        papers, listings = root / "papers-1m.jsonl.gz", root / "listings-1m.tsv.gz"
        started = time.perf_counter()
        generate(corpus, papers, listings)
        generated = time.perf_counter() - started
        print(f"  generated {MILLION:,} papers in {generated:.0f} s", flush=True)
        facts = _import(data_dir, papers, listings, root)
        papers.unlink()
        listings.unlink()
        return {"generate_s": generated, **facts}

    def finished(root: Path, data_dir: Path) -> dict[str, Any]:
        facts = _store_vectors(data_dir, corpus, papers=MILLION)
        return facts | _build_ann(data_dir, threads)

    return _cached("million", imported, finished)


Stage = Callable[[Path, Path], dict[str, Any]]


def _cached(name: str, imported: Stage, finished: Stage) -> Prepared:
    """The database `name`: reused when complete; otherwise made in two stages, the import
    (kept once done, in IMPORTED.json) and the rest (vectors, index: they replace what is there)."""
    root = CACHE / name
    ready, stage = root / "READY.json", root / "IMPORTED.json"
    if ready.is_file():
        print(f"  {name}: reusing {root} (delete it to rebuild)", flush=True)
        return Prepared(name, root / "data", json.loads(ready.read_text()))
    if not stage.is_file():
        shutil.rmtree(root, ignore_errors=True)
        (root / "data").mkdir(parents=True)
        print(f"  {name}: building the database in {root} …", flush=True)
        stage.write_text(json.dumps(imported(root, root / "data")) + "\n")
    facts = json.loads(stage.read_text()) | finished(root, root / "data")
    ready.write_text(json.dumps(facts, indent=2) + "\n")
    return Prepared(name, root / "data", facts)


def _import(data_dir: Path, papers: Path, listings: Path, root: Path) -> dict[str, Any]:
    # The hashing embedder: an import that embeds (embed_on_sync is off anyway) never loads MiniLM.
    env = child_env(PAPERBOY_DATA_DIR=str(data_dir), **{**SERVER_ENV, "PAPERBOY_EMBEDDER": "hashing"})
    started = time.perf_counter()
    command = paperboy_command("import", str(papers), "--listings", str(listings))
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=root)
    if done.returncode != 0:
        raise BenchError(f"paperboy import exited {done.returncode}: {tail(done.stderr or done.stdout)}")
    seconds = time.perf_counter() - started
    print(f"  imported in {seconds:.0f} s: {tail(done.stdout, 1)}", flush=True)
    return {"import_s": seconds}


def _store_vectors(data_dir: Path, corpus: Corpus, papers: int) -> dict[str, Any]:
    """Vectors for the first `papers` papers in generation order: the reference rows for the real
    papers (copy 0), those rows perturbed (SIGMA) for copy c >= 1."""
    from sqlalchemy import func, select

    from paperboy.storage.schema import papers as papers_table
    from paperboy.storage.transactions import write_transaction
    from paperboy.storage.vectors import store_embeddings

    reference = _reference_rows(corpus)
    source_ids = [record["id"] for record in read_records(corpus.papers)]
    engine = open_engine(data_dir)
    started = time.perf_counter()
    with engine.connect() as conn:
        version = func.coalesce(papers_table.c.latest_version, 0)
        statement = select(papers_table.c.arxiv_id, papers_table.c.id, version)
        known = {row[0]: (row[1], row[2]) for row in conn.execute(statement)}
    stored = 0
    for copy in range(-(-papers // len(source_ids))):
        vectors = copy_vectors(reference, copy)
        lines = min(len(source_ids), papers - copy * len(source_ids))
        for start in range(0, lines, 5000):
            rows = range(start, min(start + 5000, lines))
            with write_transaction(engine) as conn:
                pairs = [known[copy_id(source_ids, copy, i)] for i in rows]
                store_embeddings(conn, MODEL, pairs, vectors[list(rows)])
            stored += len(rows)
    seconds = time.perf_counter() - started
    engine.dispose()
    print(f"  stored {stored:,} vectors in {seconds:.0f} s", flush=True)
    return {"vectors": stored, "store_vectors_s": seconds}


def _reference_rows(corpus: Corpus) -> np.ndarray:
    reference = np.load(corpus.papers.parent / REFERENCE).astype(np.float32)
    return reference / np.linalg.norm(reference, axis=1, keepdims=True)


def _setting_default(name: str) -> Any:
    from paperboy.config import SETTINGS

    return next(setting.default for setting in SETTINGS if setting.name == name)


def _build_ann(data_dir: Path, threads: int) -> dict[str, Any]:
    from paperboy.services.vector_index import ANN_DIRECTORY, update_ann_index

    engine = open_engine(data_dir)
    started = time.perf_counter()
    threshold = _setting_default("vector_ann_threshold")
    summary = update_ann_index(engine, MODEL, data_dir / ANN_DIRECTORY, threshold=threshold, threads=threads)
    seconds = time.perf_counter() - started
    engine.dispose()
    print(f"  {summary} ({seconds:.0f} s with {threads} threads)", flush=True)
    return {"ann_build_s": seconds, "ann_summary": summary, "ann_threads": threads}
