"""The four lexical engines, each built over the same papers and asked through one function:
`search(text, k)` -> arXiv ids best first.

- product FTS5 / PostgreSQL: storage.lexical.search_lexical on a database filled by `paperboy
  import` (the query parsed by the product's parser, one pooled connection per query, as a request
  takes it); the build time is storage.lexical_index's rebuild of every paper, timed afterwards.
- tantivy, two ways: a title and an abstract field (BM25 per field, summed; no boost), or one field
  of title + abstract. Tokenised simple → lower case → the product's stop words (PostgreSQL's) →
  English Snowball stemmer; a query is the flat OR of its distinct tokens over the fields (top-k by
  block-max WAND), built from term queries so that no word is query syntax.
- bm25s: title + abstract in one text, its English stop words, PyStemmer's English stemmer.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text

from bench.common import BenchError, child_env, paperboy_command, run_measured, tail
from bench.workspace import Target
from paperboy.domain.search_query import parse_search_query
from paperboy.storage import lexical, lexical_index
from paperboy.storage.engine import make_engine
from paperboy.storage.schema import papers

Search = Callable[[str, int], list[str]]
TOKENIZER = "en_stop_stem"


@dataclass
class Built:
    name: str
    search: Search
    build_s: float
    size_mib: float
    close: Callable[[], None] = lambda: None


def import_corpus(target: Target, papers_file: Path, listings: Path, log_dir: Path) -> float:
    """`paperboy import` into `target`; the wall seconds it took."""
    command = paperboy_command("import", str(papers_file), "--listings", str(listings))
    measured = run_measured(command, child_env(**target.env), log_dir)
    if measured.returncode != 0:
        raise BenchError(f"import into {target.label} failed: {tail(measured.stderr, 3)}")
    return measured.wall_s


def product_engine(name: str, url: str, arxiv_of: Mapping[int, str] | None = None) -> Built:
    """The product's own ranking on an imported database (latency measured on the index the import
    left; the build time is a full rebuild, so call `rebuild_seconds` after the queries).
    `arxiv_of`: paper id -> arXiv id, for a database without a catalogue (fts5_table's)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))  # what autovacuum does soon after an import
        if arxiv_of is None:
            arxiv_of = dict(conn.execute(select(papers.c.id, papers.c.arxiv_id)).all())

    def search(query_text: str, k: int) -> list[str]:
        query = parse_search_query(query_text)
        with engine.connect() as conn:
            ids, _ = lexical.search_lexical(conn, query, limit=k)
        return [arxiv_of[i] for i in ids]

    return Built(name, search, float("nan"), _product_size_mib(engine), engine.dispose)


def rebuild_seconds(url: str) -> float:
    """Seconds to empty the product's lexical index and index every paper again, one transaction."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            ids = [row[0] for row in conn.execute(select(papers.c.id))]
            started = time.perf_counter()
            lexical_index.clear_index(conn)
            lexical_index.index_papers(conn, ids)
        return time.perf_counter() - started
    finally:
        engine.dispose()


def _product_size_mib(engine: Engine) -> float:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            size = conn.execute(text("SELECT pg_total_relation_size('paper_search')")).scalar_one()
        else:  # dbstat: every page of the FTS5 shadow tables
            size = conn.execute(
                text("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'paper_fts%'")
            ).scalar_one()
    return int(size) / 2**20


def fts5_table(url: str, records: Iterable[tuple[int, str, str, str]]) -> float:
    """The product's FTS5 table (its migrations' DDL) filled directly with (rowid, title, abstract,
    authors), for a corpus too big to import in the time given; the seconds it took."""
    from paperboy.storage.migrate import upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
        insert = text("INSERT INTO paper_fts(rowid, title, abstract, authors) VALUES (:i, :t, :a, :w)")
        started = time.perf_counter()
        with engine.begin() as conn:
            for chunk in _chunks(records, 5000):
                conn.execute(insert, [{"i": i, "t": t, "a": a, "w": w} for i, t, a, w in chunk])
        return time.perf_counter() - started
    finally:
        engine.dispose()


def tantivy_engine(
    folder: Path, records: Iterable[tuple[str, str]], ids: Sequence[str], *, one_field: bool = False
) -> Built:
    """tantivy over (title, abstract) records, record i being paper ids[i]: a title and an abstract
    field (BM25 per field, summed), or with `one_field` a single field of title + abstract."""
    tantivy = _bench_package("tantivy")

    fields = ("text",) if one_field else ("title", "abstract")
    analyzer = _tantivy_analyzer()
    builder = tantivy.SchemaBuilder()
    for field in fields:
        builder.add_text_field(field, tokenizer_name=TOKENIZER)
    builder.add_integer_field("line", fast=True)
    schema = builder.build()
    folder.mkdir(parents=True)
    started = time.perf_counter()
    index = tantivy.Index(schema, path=str(folder))
    index.register_tokenizer(TOKENIZER, analyzer)
    writer = index.writer(heap_size=512_000_000, num_threads=1)
    for line, (title, abstract) in enumerate(records):
        texts = {"text": f"{title}\n{abstract}"} if one_field else {"title": title, "abstract": abstract}
        writer.add_document(tantivy.Document(**texts, line=line))
    writer.commit()
    writer.wait_merging_threads()
    build_s = time.perf_counter() - started
    index.reload()
    searcher = index.searcher()

    def search(query_text: str, k: int) -> list[str]:
        tokens = dict.fromkeys(analyzer.analyze(query_text))
        clauses = [
            (tantivy.Occur.Should, tantivy.Query.term_query(schema, field, token))
            for token in tokens
            for field in fields
        ]
        if not clauses:
            return []
        hits = searcher.search(tantivy.Query.boolean_query(clauses), limit=k, count=False).hits
        lines = searcher.fast_field_values("line", [address for _, address in hits])
        return [ids[int(line)] for line in lines if line is not None]

    name = "tantivy, one field" if one_field else "tantivy, 2 fields"
    return Built(name, search, build_s, _folder_mib(folder))


def keyword_index_engine(
    folder: Path, records: Iterable[tuple[str, str, str]], ids: Sequence[str], *, weights: Any = None
) -> Built:
    """The product's keyword index (storage/keyword_index.py: its fields, analysis and weights)
    over (title, abstract, authors) records, record i being paper ids[i], asked as search asks it:
    all words, then any word when none match all (services/search.py)."""
    from paperboy.storage.keyword_index import KeywordDocument, KeywordIndex, Weights

    started = time.perf_counter()
    index = KeywordIndex(folder)
    index.acquire_writer()
    index.put(
        (
            KeywordDocument(n, title, abstract, authors)
            for n, (title, abstract, authors) in enumerate(records)
        ),
        replace=False,
    )
    index.commit()
    index.release_writer()
    build_s = time.perf_counter() - started
    index.reload()
    searcher = index.searcher()
    chosen = weights or Weights()

    def search(query_text: str, k: int) -> list[str]:
        query = parse_search_query(query_text)
        words = [*query.terms, *query.phrases]
        hits = index.search(searcher, words, k, all_words=True, weights=chosen)
        if not hits.ids and len(words) > 1:
            hits = index.search(searcher, words, k, all_words=False, weights=chosen)
        return [ids[i] for i in hits.ids]

    return Built("keyword index (product)", search, build_s, _folder_mib(folder))


def _tantivy_analyzer() -> Any:
    """simple tokenizer → lower case → the product's stop words (PostgreSQL's) → Snowball English."""
    tantivy = _bench_package("tantivy")
    from paperboy.domain.stop_words import STOP_WORDS

    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.custom_stopword(sorted(STOP_WORDS)))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def bm25s_engine(folder: Path, records: Sequence[tuple[str, str]], ids: Sequence[str]) -> Built:
    """bm25s over title + abstract, stemmed, its English stop words; the size is its saved index."""
    bm25s, stemmers = _bench_package("bm25s"), _bench_package("Stemmer")

    stemmer = stemmers.Stemmer("english")
    started = time.perf_counter()
    tokens = bm25s.tokenize(
        [f"{title} {abstract}" for title, abstract in records], stemmer=stemmer, show_progress=False
    )
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    build_s = time.perf_counter() - started
    retriever.save(str(folder), show_progress=False)

    def search(query_text: str, k: int) -> list[str]:
        query: Any = bm25s.tokenize([query_text], stemmer=stemmer, return_ids=False, show_progress=False)
        if not query[0]:
            return []
        docs, scores = retriever.retrieve(query, k=k, n_threads=1, show_progress=False)
        return [ids[int(d)] for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    return Built("bm25s", search, build_s, _folder_mib(folder))


def _bench_package(name: str) -> Any:
    """A package only the benchmarks use (the dev extra installs it), or a BenchError saying so."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise BenchError(f"{name} is not installed: pip install -e '.[dev]'") from exc


def _folder_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def _chunks(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
