"""The keyword index that ranks: BM25 with block-max WAND (tantivy) in a folder of its own.

The database's own full-text index (storage/lexical.py: FTS5 or PostgreSQL's tsvector) stays the
record and answers what needs SQL (phrases, authors, exclusions, filters) and whenever this index
is not current; this one ranks a query's words, in about a millisecond whatever the query's length
(bench/lexical_engines: FTS5 and PostgreSQL score every paper matching any word of a question).

One document per paper, three text fields analysed alike (simple tokenizer, words under 40 bytes,
lower case, diacritics folded, the English stop words of domain/stop_words.py, Snowball English
stemmer):
- `text`: title and abstract together (one BM25 field: a title field of its own has its own IDF
  and length and outweighs abstracts, bench/README.md "lexical_engines");
- `title` and `authors`: added to a word's score with the weights in `Weights`, chosen on the
  tuning half of the question set (bench/questions_tuning.py, bench/README.md);
- `paper_id`: indexed and fast, to replace or remove a paper and to map hits back.

Any number of processes may search one folder; one at a time may write it (tantivy's lock file,
released when that process ends). The writer is given whole documents: a paper is deleted by id
and added again. docs/search.md ("Keyword index") says who writes and when.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy

from paperboy.domain.stop_words import STOP_WORDS

TOKENIZER = "paperboy_english"
WRITER_HEAP = 64_000_000  # bytes the writer buffers before it writes a segment
MAX_TOKEN_CHARS = 40  # UTF-8 bytes, before folding: words this long or longer are not indexed


class KeywordIndexBusy(RuntimeError):
    """Another process (or another writer in this one) is writing the index."""


@dataclass(frozen=True, slots=True)
class KeywordDocument:
    paper_id: int
    title: str
    abstract: str
    authors: str  # names joined with ", "


@dataclass(frozen=True, slots=True)
class Weights:
    """How much a word found in the title, or among the authors, adds beside its BM25 in the title
    and abstract together (0: the field is not asked). bench/questions_tuning.py tried title 0 to
    1 and authors 0 to 1 on the question set's tuning half: any title weight lowers it (a query
    word in another paper's short title outweighs the target's abstract); the author weight moves
    no question and is kept for readers who type a name."""

    title: float = 0.0
    authors: float = 1.0


@dataclass(frozen=True, slots=True)
class KeywordHits:
    ids: list[int]  # best first
    scores: list[float]
    count: int | None  # every match, when counted (all_words); None when not


def _schema() -> Any:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("paper_id", indexed=True, fast=True, stored=False)
    for field in ("text", "title", "authors"):
        builder.add_text_field(field, stored=False, tokenizer_name=TOKENIZER, index_option="freq")
    return builder.build()


def _analyzer() -> Any:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_CHARS))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.custom_stopword(sorted(STOP_WORDS)))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


class KeywordIndex:
    """One tantivy index: in `directory` (made when missing), or in memory when None. Searching is
    safe from any thread; writing needs `acquire_writer` first."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._schema = _schema()
        self._analyzer = _analyzer()
        self._splitter = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).build()
        if directory is None:
            self._index = tantivy.Index(self._schema)
        else:
            directory.mkdir(parents=True, exist_ok=True)
            self._index = tantivy.Index(self._schema, path=str(directory), reuse=True)
        self._index.register_tokenizer(TOKENIZER, self._analyzer)
        self._writer: Any = None

    @staticmethod
    def wipe(directory: Path) -> None:
        """Delete an index folder (one of another schema, or a database's that is not this one)."""
        shutil.rmtree(directory, ignore_errors=True)

    # --- writing ---

    def acquire_writer(self) -> bool:
        """Take the index's write lock; False when another writer holds it."""
        if self._writer is not None:
            return True
        try:
            self._writer = self._index.writer(heap_size=WRITER_HEAP, num_threads=1)
        except ValueError as exc:
            if "LockBusy" in str(exc):
                return False
            raise
        return True

    @property
    def is_writer(self) -> bool:
        return self._writer is not None

    def release_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.wait_merging_threads()  # consumes the writer: its lock goes with it

    def put(self, documents: Iterable[KeywordDocument], *, replace: bool = True) -> int:
        """Add these papers, first removing what the index held for them unless `replace` is
        False (an index known to hold none of them). Seen by searches after `commit`."""
        writer = self._require_writer()
        added = 0
        for doc in documents:
            if replace:
                writer.delete_documents_by_term("paper_id", doc.paper_id)
            writer.add_document(
                tantivy.Document(
                    paper_id=doc.paper_id,
                    text=f"{doc.title}\n{doc.abstract}",
                    title=doc.title,
                    authors=doc.authors,
                )
            )
            added += 1
        return added

    def clear(self) -> None:
        self._require_writer().delete_all_documents()

    def commit(self) -> None:
        self._require_writer().commit()

    def rollback(self) -> None:
        """Forget what was put or cleared since the last commit; the write lock is kept."""
        self._require_writer().rollback()

    def _require_writer(self) -> Any:
        if self._writer is None:
            raise KeywordIndexBusy("the keyword index is written by another process")
        return self._writer

    # --- reading ---

    def reload(self) -> None:
        """See what was committed since (here or by another process)."""
        self._index.reload()

    def searcher(self) -> Any:
        """A snapshot of the index as last reloaded: later commits do not change it."""
        return self._index.searcher()

    def tokens(self, text: str) -> list[str]:
        """The distinct index terms of `text`, in order (stop words and overlong words dropped)."""
        return list(dict.fromkeys(self._analyzer.analyze(text)))

    def has_overlong_words(self, text: str) -> bool:
        """True when `text` has a word the index leaves out for its length (a run of 14 CJK
        characters is one): the index cannot require such a word, the database can."""
        return any(len(word.encode()) >= MAX_TOKEN_CHARS for word in self._splitter.analyze(text))

    def search(
        self,
        searcher: Any,
        words: Sequence[str],
        limit: int,
        *,
        all_words: bool,
        weights: Weights,
    ) -> KeywordHits:
        """The `limit` papers scoring best for `words` (analysed here): with `all_words` only
        papers having every word in some field (and then counted), otherwise any of them."""
        return self.search_tokens(
            searcher, self.tokens(" ".join(words)), limit, all_words=all_words, weights=weights
        )

    def search_tokens(
        self,
        searcher: Any,
        tokens: Sequence[str],
        limit: int,
        *,
        all_words: bool,
        weights: Weights,
    ) -> KeywordHits:
        """`search` for words already analysed (`tokens`), so that a query asked twice (every
        word, then any) is analysed once."""
        if not tokens or limit <= 0:
            return KeywordHits([], [], 0)
        if all_words:
            must = [(tantivy.Occur.Must, self._token_query(token, weights)) for token in tokens]
            query = tantivy.Query.boolean_query(must)
        else:
            # Any word: one flat union of every field's term, which tantivy ranks by block-max
            # WAND, where a union of per-word unions is scored in full (about 1.4x the CPU for a
            # question; the same papers in the same order, scores summed in another order).
            query = tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, q) for token in tokens for q in self._field_queries(token, weights)]
            )
        result = searcher.search(query, limit=limit, count=all_words)
        addresses = [address for _, address in result.hits]
        ids = searcher.fast_field_values("paper_id", addresses) if addresses else []
        return KeywordHits(
            [int(i) for i in ids],
            [float(score) for score, _ in result.hits],
            int(result.count) if all_words and result.count is not None else None,
        )

    def _token_query(self, token: str, weights: Weights) -> Any:
        queries = self._field_queries(token, weights)
        return (
            queries[0]
            if len(queries) == 1
            else tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])
        )

    def _field_queries(self, token: str, weights: Weights) -> list[Any]:
        """The token in the title and abstract, and in each weighted field with its weight."""
        queries = [tantivy.Query.term_query(self._schema, "text", token)]
        for field, weight in (("title", weights.title), ("authors", weights.authors)):
            if weight > 0:
                term = tantivy.Query.term_query(self._schema, field, token)
                queries.append(tantivy.Query.boost_query(term, weight))
        return queries
