"""The library page and the search within a library, on real papers: `python -m bench.library_search`.

Imports the first N papers of ../shared/data/arxiv/papers.jsonl.gz (default 20,000) into a fresh
SQLite database (and PostgreSQL when PAPERBOY_BENCH_POSTGRES_URL names a server), saves 2,000 of
them, spread over the file, to one member's library with five collections of 400 and every third
paper marked read, then times `services.library.library_page` (what /library runs, rendering
aside): the plain page, a collection, unread only, and searches within the library (keywords, a
phrase, an author, a question-style query, a browse filter); and a public collection's page
(`services.collections.collection_page`, 100 papers, as an anonymous visitor). Prints the median
and the worst of `--repeat` runs each, in milliseconds. Never part of the test run's pass/fail.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from paperboy.config import Settings, load_settings
from paperboy.domain.users import User
from paperboy.services.collections import add_to_collection, collection_page, create_collection
from paperboy.services.ingest import import_files
from paperboy.services.library import LibraryFilter, library_page, mark_read, save_paper
from paperboy.storage.engine import make_engine, now_utc
from paperboy.storage.migrate import upgrade
from paperboy.storage.transactions import write_transaction
from paperboy.storage.users import insert_user

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv" / "papers.jsonl.gz"
LIBRARY = 2000
IP = "127.0.0.1"
QUERIES = {
    "keywords": "attention",
    "two words": "diffusion model",
    "phrase": '"large language models"',
    "author": "author:wang",
    "question": "how can we make transformers faster on long documents without losing accuracy",
    "browse": "cat:cs.CV",
}


def _subset(path: Path, count: int, into: Path) -> list[str]:
    ids = []
    with gzip.open(path, "rt") as source, into.open("w") as out:
        for line in source:
            ids.append(json.loads(line)["id"])
            out.write(line)
            if len(ids) == count:
                break
    return ids


def _member(engine: Engine) -> User:
    with write_transaction(engine) as conn:
        return insert_user(
            conn,
            email="reader@example.org",
            name="reader",
            password_hash="x",
            role="member",
            now=now_utc(),
            verified=True,
        )


def _fill(engine: Engine, settings: Settings, user: User, ids: list[str]) -> int:
    step = max(1, len(ids) // LIBRARY)
    kept = ids[::step][:LIBRARY]
    shelves = [
        create_collection(engine, settings, user, IP, f"Shelf {n}", is_public=True).id for n in range(5)
    ]
    for n, arxiv_id in enumerate(kept):
        save_paper(engine, settings, user, arxiv_id, IP, save=True)
        if n < len(shelves) * 400:
            add_to_collection(engine, settings, user, IP, shelves[n % 5], arxiv_id)
        if n % 3 == 0:
            mark_read(engine, settings, user, arxiv_id, IP, read=True)
    return shelves[0]


def _time(call, repeat: int) -> tuple[float, float, int]:
    took, total = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        total = call().total
        took.append((time.perf_counter() - started) * 1000)
    return statistics.median(took), max(took), total


def run(label: str, url: str, papers: int, repeat: int, work: Path) -> None:
    (work / label).mkdir(parents=True, exist_ok=True)
    settings: Settings = load_settings(
        {}, data_dir=str(work / label), database_url=url, rate_limit_library="100000000/hour"
    )
    engine = make_engine(url)
    upgrade(engine)
    subset = work / "subset.jsonl"
    ids = _subset(DATA, papers, subset)
    started = time.perf_counter()
    import_files(engine, [subset])
    print(f"{label}: imported {len(ids)} papers in {time.perf_counter() - started:.0f} s")
    user = _member(engine)
    started = time.perf_counter()
    shelf = _fill(engine, settings, user, ids)
    print(f"{label}: a library of {LIBRARY} papers, 5 collections, in {time.perf_counter() - started:.0f} s")
    cases = {
        "page 1": lambda: library_page(engine, user, page_size=20),
        "a collection": lambda: library_page(
            engine, user, page_size=20, chosen=LibraryFilter(collection_id=shelf)
        ),
        "unread": lambda: library_page(engine, user, page_size=20, chosen=LibraryFilter(read=False)),
        "collection page": lambda: collection_page(engine, None, shelf, page_size=100),
    }
    for name, query in QUERIES.items():
        cases[f"search: {name}"] = lambda query=query: library_page(engine, user, page_size=20, query=query)
    for name, call in cases.items():
        median, worst, total = _time(call, repeat)
        print(f"{label:10} {name:20} {total:5} papers  p50 {median:6.1f} ms  max {worst:6.1f} ms")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paperboy-library-") as root:
        work = Path(root)
        run("SQLite", f"sqlite:///{work}/library.sqlite3", args.papers, args.repeat, work)
        pg = os.environ.get("PAPERBOY_BENCH_POSTGRES_URL")
        if pg:
            database = "paperboy_library_bench"
            admin = create_engine(pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {database}"))
                conn.execute(text(f"CREATE DATABASE {database}"))
            try:
                run("PostgreSQL", pg.rsplit("/", 1)[0] + f"/{database}", args.papers, args.repeat, work)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))


if __name__ == "__main__":
    main()
