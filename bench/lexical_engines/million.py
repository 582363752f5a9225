"""FTS5 and tantivy over 1,000,000 papers: the real ones and the synthetic copies that
bench/search_speed/synthetic.py makes (fresh ids, a title prefix, the abstract's sentences
rotated), generated in memory one paper at a time rather than imported (an import of a million
papers takes tens of minutes on 2 cores)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from bench.lexical_engines.engines import (
    Built,
    fts5_table,
    keyword_index_engine,
    product_engine,
    tantivy_engine,
)
from bench.search_speed.synthetic import MILLION, _synthetic, copy_id
from bench.workspace import Workspace


def million_papers(rows: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    real_ids = [row["id"] for row in rows]
    for n in range(MILLION):
        copy, line = divmod(n, len(rows))
        yield _synthetic(rows[line], copy_id(real_ids, copy, line), copy)


def million_engines(ws: Workspace, rows: Sequence[dict[str, Any]]) -> Iterator[Built]:
    started = time.perf_counter()
    ids = [paper["id"] for paper in million_papers(rows)]
    print(f"  {len(ids):,} papers generated in {time.perf_counter() - started:.0f} s", flush=True)
    url = f"sqlite:///{ws.root / 'million-fts5.sqlite3'}"
    build_s = fts5_table(
        url,
        (
            (n + 1, p["title"], p["abstract"], ", ".join(p["authors"]))
            for n, p in enumerate(million_papers(rows))
        ),
    )
    print(f"  FTS5: filled in {build_s:.0f} s", flush=True)
    built = product_engine("FTS5 (product table)", url, dict(enumerate(ids, start=1)))
    built.build_s = build_s
    yield built
    yield tantivy_engine(
        ws.root / "million-tantivy",
        ((p["title"], p["abstract"]) for p in million_papers(rows)),
        ids,
        one_field=True,
    )
    yield keyword_index_engine(
        ws.root / "million-keyword-index",
        ((p["title"], p["abstract"], ", ".join(p["authors"])) for p in million_papers(rows)),
        ids,
    )
