"""SciFact in a real paperboy database: the documents written through the product's write path, their
embeddings (cached), the vectors through the vector store, and the train/test split."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from bench.common import SHARED
from bench.retrieval_metrics import Scifact, load_scifact
from paperboy.domain.models import PaperRecord, Version
from paperboy.integrations.embedder import Embedder
from paperboy.storage.papers import upsert_papers
from paperboy.storage.schema import papers
from paperboy.storage.transactions import write_transaction
from paperboy.storage.vectors import load_vectors, store_embeddings

DATA = SHARED / "data" / "scifact"
CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache"


@dataclass(frozen=True, slots=True)
class Split:
    train: dict[str, dict[str, int]]  # query id -> judged relevant SciFact ids
    test: dict[str, dict[str, int]]


def synthetic_arxiv_id(n: int) -> str:
    """A valid new-style id for the n-th document (n from 1): 2001.00001, 2001.00002, …"""
    return f"{2001 + (n - 1) // 99_999}.{(n - 1) % 99_999 + 1:05d}"


def load_catalogue(engine: Engine, corpus: dict[str, tuple[str, str]]) -> dict[int, str]:
    """Write every document as a paper through the product's write path; paper id -> SciFact id."""
    by_arxiv = {synthetic_arxiv_id(n): doc for n, doc in enumerate(corpus, start=1)}
    version = (Version(1, datetime(2020, 1, 1, tzinfo=UTC)),)
    records = [
        PaperRecord(arxiv_id, title=corpus[doc][0], abstract=corpus[doc][1], versions=version)
        for arxiv_id, doc in by_arxiv.items()
    ]
    for start in range(0, len(records), 1000):
        with write_transaction(engine) as conn:
            upsert_papers(conn, records[start : start + 1000])
    with engine.connect() as conn:
        rows = conn.execute(select(papers.c.id, papers.c.arxiv_id)).all()
    return {row.id: by_arxiv[row.arxiv_id] for row in rows}


def embed_cached(embedder: Embedder, texts: list[str], cache: Path | None) -> tuple[np.ndarray, float | None]:
    """The embeddings of `texts`, from `cache` when a file for this model and these texts is
    there; with the docs/s measured when they were computed (None when unknown)."""
    key = hashlib.sha256("\0".join([embedder.model_id, *texts]).encode()).hexdigest()[:20]
    path = cache / f"{embedder.model_id}-{key}.npy" if cache else None
    if path and path.is_file():
        meta = path.with_suffix(".json")
        rate = json.loads(meta.read_text())["docs_per_s"] if meta.is_file() else None
        return np.load(path), rate
    start = time.perf_counter()
    vectors = embedder.embed(texts)
    rate = len(texts) / (time.perf_counter() - start)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        path.with_suffix(".json").write_text(
            json.dumps({"docs_per_s": rate, "texts": len(texts), "load_average": os.getloadavg()})
        )
    return vectors, rate


def store_and_load_vectors(engine: Engine, model: str, paper_ids: list[int], vectors: np.ndarray) -> Any:
    """Through the vector store, so the float16 storage is part of what is measured."""
    with write_transaction(engine) as conn:
        store_embeddings(conn, model, [(paper_id, 1) for paper_id in paper_ids], vectors)
    with engine.connect() as conn:
        return load_vectors(conn, model)


def load_subset(quick: bool) -> tuple[Scifact, Split]:
    """SciFact; with `quick`, 40 train and 40 test queries over their judged documents plus 800 others."""
    data = load_scifact(DATA)
    split = Split(dict(data.train), dict(data.test))
    if not quick:
        return data, split
    split = Split(dict(sorted(split.train.items())[:40]), dict(sorted(split.test.items())[:40]))
    judged = {doc for qrels in (split.train, split.test) for relevant in qrels.values() for doc in relevant}
    keep = judged | set(list(data.corpus)[:800])
    corpus = {doc: text for doc, text in data.corpus.items() if doc in keep}
    return replace(data, corpus=corpus), split
