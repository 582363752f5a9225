"""Words of papers as tf-idf vectors for "For you" (domain/recommend.py), in numpy alone.

A period's candidates are tokenised once into a sparse matrix (CSR kept as three arrays) over
their own vocabulary of word unigrams and bigrams (English stop words out, as arxiv-sanity's
tf-idf drops them), with sublinear term frequency and an idf (to IDF_POWER) from the period's
documents (and a reference sample of the catalogue's, `DocumentFrequencies`). Words become
integers as they are read and every later step (bigrams, counts, document frequencies, weights,
norms) is array arithmetic, so a month of ~7,000 abstracts takes a few seconds rather than the
tens that Python counters took. A reader's library papers are weighed with the same
idf; only terms the candidates have can score, so the library's profile is a dense array over
the period's vocabulary: a candidate's score is a gather and a sum (`np.add.reduceat`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from paperboy.domain.stop_words import STOP_WORDS

_WORD = re.compile(r"[a-z][a-z0-9]+")
MAX_DF_SHARE = 0.1  # terms in more of the period's papers than this say little (arxiv-sanity's max_df)
MIN_DOCUMENTS_FOR_MAX_DF = 20
# The idf's power: squared, a rare shared term weighs more; chosen on the benchmark's tuning
# half (content only, 0.411 against 0.397 plain; bench/README.md). term_matrix takes another
# power for the benchmark.
IDF_POWER = 2.0
TEXTS_AT_ONCE = 256  # text_scores' batch: its postings expanded stay in tens of MB
Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]
# Bigram (a, b) of word ids is the term PAIR_BASE + a * PAIR_BASE + b; unigram a is a. Every
# term id is below TERM_SPAN, so (document, term) pairs fit one int64 key up to 8 million rows.
PAIR_BASE = 1 << 20
TERM_SPAN = PAIR_BASE * (PAIR_BASE + 2)
_UNKNOWN_PAIRS = -(1 << 40)  # unknown bigrams count down from here, unknown words from -2


def words_of(text: str) -> list[str]:
    """Lower-case words of two characters or more, stop words out."""
    return [word for word in _WORD.findall(text.lower()) if word not in STOP_WORDS]


def terms_of(text: str) -> list[str]:
    """The words, then the adjacent pairs of them, as strings (for reading and tests)."""
    words = words_of(text)
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


@dataclass(frozen=True, slots=True)
class TermMatrix:
    """One row per document: row n's columns are indices[indptr[n]:indptr[n+1]] with weights
    (l2-normalised tf-idf) in `weights`; column c is term `terms[c]` (an integer over
    `word_ids`, see PAIR_BASE) weighing `idf[c]` (0 for the terms too common to count)."""

    word_ids: dict[str, int]
    terms: Ints  # ascending
    idf: Floats
    indptr: Ints
    indices: Ints
    weights: Floats
    # The reference's word ids (words the texts lack keep theirs: see `_word_ids`).
    reference_words: Mapping[str, int] = field(default_factory=dict)
    # Both, the texts' first: one look-up a word (made on first use; a digest run reads the
    # words of tens of thousands of library texts against one matrix).
    _either: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    def profile(self, texts: Sequence[str]) -> Floats:
        """The mean of the texts' l2-normalised tf-idf vectors over this vocabulary (terms the
        candidates lack cannot score and are left out; they still count in each norm)."""
        total = np.zeros(len(self.terms), dtype=np.float32)
        unseen_idf = float(self.idf.max()) if len(self.idf) else 1.0
        for text in texts:
            ids = _term_ids(self._word_ids(words_of(text)), known_only=False)
            if not len(ids):
                continue
            found, counts = np.unique(ids, return_counts=True)
            tf = 1.0 + np.log(counts.astype(np.float32))
            columns = np.minimum(np.searchsorted(self.terms, found), max(len(self.terms) - 1, 0))
            known = (
                (found >= 0) & (self.terms[columns] == found)
                if len(self.terms)
                else np.zeros(len(found), dtype=bool)
            )
            weight = tf * np.where(known, self.idf[columns] if len(self.terms) else 0.0, unseen_idf)
            norm = float(np.sqrt(np.sum(weight * weight)))
            if norm > 0 and known.any():
                np.add.at(total, columns[known], (weight[known] / norm).astype(np.float32))
        mean: Floats = total / np.float32(max(1, len(texts)))
        return mean

    def _word_ids(self, words: list[str]) -> list[int]:
        """Ids of the words (the texts', else the reference's: a pair of two such words is one
        term, unknown but counted as one); each word neither has gets its own id below -1."""
        return self._word_ids_in(words, {})

    def scores(self, profile: Floats) -> Floats:
        """Each row's dot product with `profile` (cosine with a centroid of unit rows, unscaled)."""
        out = np.zeros(self.rows, dtype=np.float32)
        if len(self.indices) == 0:
            return out
        products = self.weights * profile[self.indices]
        filled = np.flatnonzero(np.diff(self.indptr) > 0)
        out[filled] = np.add.reduceat(products, self.indptr[filled])
        return out

    def text_scores(self, texts: Sequence[str]) -> Floats:
        """Row t: `scores(profile([texts[t]]))`, every text's own profile scored against every
        row, for many texts at once (a digest run's libraries: domain/recommend_many.py). A
        reader's words feature is then the mean of their texts' rows, as profiles add up."""
        out = np.zeros((len(texts), self.rows), dtype=np.float32)
        if len(self.terms) and len(self.indices):
            postings = _postings(self)
            for start in range(0, len(texts), TEXTS_AT_ONCE):
                out[start : start + TEXTS_AT_ONCE] = self._text_scores(
                    texts[start : start + TEXTS_AT_ONCE], postings
                )
        return out

    def _text_scores(self, texts: Sequence[str], postings: tuple[Ints, Ints, Floats]) -> Floats:
        docs, columns, values = self._unit_entries(texts)
        pointers, rows_of, weights_of = postings
        starts, lengths = pointers[columns], pointers[columns + 1] - pointers[columns]
        total = int(lengths.sum())
        first = np.repeat(np.cumsum(lengths) - lengths, lengths)
        at = np.repeat(starts, lengths) + np.arange(total, dtype=np.int64) - first
        keys = np.repeat(docs, lengths) * self.rows + rows_of[at]
        products = np.repeat(values, lengths).astype(np.float64) * weights_of[at]
        flat = np.bincount(keys, weights=products, minlength=len(texts) * self.rows)
        return flat.reshape(len(texts), self.rows).astype(np.float32)

    def _unit_entries(self, texts: Sequence[str]) -> tuple[Ints, Ints, Floats]:
        """(text, column, weight) of each text's l2-normalised tf-idf vector, as `profile` makes
        it for one text: only the columns the rows have (the others still count in the norm)."""
        unknown: dict[str, int] = {}
        lists = [_term_ids(self._word_ids_in(words_of(text), unknown), known_only=False) for text in texts]
        doc_of = np.repeat(np.arange(len(texts), dtype=np.int64), [len(ids) for ids in lists])
        every = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
        found, code = np.unique(every, return_inverse=True)
        keys, counts = np.unique(doc_of * max(1, len(found)) + code, return_counts=True)
        docs, terms = keys // max(1, len(found)), found[keys % max(1, len(found))]
        columns = np.minimum(np.searchsorted(self.terms, terms), len(self.terms) - 1)
        known = (terms >= 0) & (self.terms[columns] == terms)
        tf = 1.0 + np.log(counts.astype(np.float32))
        weight = tf * np.where(known, self.idf[columns], np.float32(self.idf.max()))
        norms = np.sqrt(np.bincount(docs, weights=(weight * weight).astype(np.float64), minlength=len(texts)))
        keep = known & (norms[docs] > 0)
        values = (weight[keep] / norms[docs[keep]]).astype(np.float32)
        return docs[keep], columns[keep], values

    def _word_ids_in(self, words: list[str], unknown: dict[str, int]) -> list[int]:
        """As `_word_ids`, the unknown ids shared by the texts of one call (each text's terms
        are counted apart)."""
        if not self._either and (self.word_ids or self.reference_words):
            self._either.update(
                {**self.reference_words, **self.word_ids}
            )  # one step: threads see all or none
        either = self._either.get
        ids: list[int | None] = [either(word) for word in words]
        if None in ids:  # words neither knows, numbered in the order they come
            for n, found in enumerate(ids):
                if found is None:
                    ids[n] = unknown.setdefault(words[n], -2 - len(unknown))
        return ids  # type: ignore[return-value]  # no None is left


def _postings(matrix: TermMatrix) -> tuple[Ints, Ints, Floats]:
    """The matrix by column: (pointers, rows, weights), column c's entries at pointers[c]:pointers[c+1]."""
    rows = np.repeat(np.arange(matrix.rows, dtype=np.int64), np.diff(matrix.indptr))
    order = np.argsort(matrix.indices, kind="stable")
    pointers = np.zeros(len(matrix.terms) + 1, dtype=np.int64)
    pointers[1:] = np.cumsum(np.bincount(matrix.indices, minlength=len(matrix.terms)))
    return pointers, rows[order], matrix.weights[order].astype(np.float64)


def _term_ids(word_ids: Sequence[int], *, known_only: bool = True) -> Ints:
    """A document's term ids: its words' ids, then the pairs of adjacent ones. Ids below -1 are
    words the vocabulary lacks (with `known_only` False they make unknown terms, all < 0)."""
    words = np.asarray(word_ids, dtype=np.int64)
    if not len(words):
        return words
    pairs = PAIR_BASE + words[:-1] * PAIR_BASE + words[1:]
    unknown = (words[:-1] < 0) | (words[1:] < 0)
    pairs[unknown] = _UNKNOWN_PAIRS - np.arange(int(unknown.sum()), dtype=np.int64)
    if known_only:
        return np.concatenate([words, pairs[~unknown]])
    return np.concatenate([words, pairs])


@dataclass(frozen=True, slots=True)
class DocumentFrequencies:
    """How many of a reference set of documents (a random sample of the catalogue) hold each
    term: `terms` (ascending, over `word_ids`, see PAIR_BASE) in `counts` of `documents`."""

    word_ids: dict[str, int]
    terms: Ints
    counts: Ints
    documents: int

    def of(self, terms: Ints) -> Ints:
        """The reference's count of each term (0 where it has none)."""
        if not len(self.terms):
            return np.zeros(len(terms), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.terms, terms), len(self.terms) - 1)
        return np.where(self.terms[at] == terms, self.counts[at], 0).astype(np.int64)


NO_REFERENCE = DocumentFrequencies({}, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0)


def document_frequencies(texts: Sequence[str]) -> DocumentFrequencies:
    """The terms' document frequencies over `texts` (the reference `term_matrix` adds)."""
    word_ids: dict[str, int] = {}
    lists = [
        np.unique(_term_ids([word_ids.setdefault(w, len(word_ids)) for w in words_of(t)])) for t in texts
    ]
    every = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
    terms, counts = np.unique(every, return_counts=True)
    return DocumentFrequencies(word_ids, terms.astype(np.int64), counts.astype(np.int64), len(texts))


def _numbered(texts: Sequence[str], known: Mapping[str, int]) -> tuple[dict[str, int], list[Ints], int]:
    """The texts' words as ids (a word `known` has keeps its id there; new ones are numbered
    after them), each text's term ids, and the count of ids used. The ids of the texts' own
    words alone are kept: a word they lack could not score anyway."""
    word_ids: dict[str, int] = {}
    fresh = len(known)
    term_lists = []
    for text in texts:
        ids = []
        for word in words_of(text):
            found = word_ids.get(word)
            if found is None:
                found = known.get(word)
                if found is None:
                    found, fresh = fresh, fresh + 1
                word_ids[word] = found
            ids.append(found)
        term_lists.append(_term_ids(ids))
    return word_ids, term_lists, fresh


def term_matrix(
    texts: Sequence[str], reference: DocumentFrequencies = NO_REFERENCE, idf_power: float = IDF_POWER
) -> TermMatrix:
    """The tf-idf matrix of `texts` over their own vocabulary (smoothed idf to `idf_power`,
    sublinear tf, rows of norm 1; terms in more than MAX_DF_SHARE of the documents, when there are 20 or more,
    weigh 0). The idf counts the `reference` documents too: a period's few hundred papers alone
    cannot tell a rare term from one merely absent that day (bench/README.md)."""
    word_ids, term_lists, words = _numbered(texts, reference.word_ids)
    if words >= PAIR_BASE or len(texts) >= (1 << 63) // TERM_SPAN:
        raise ValueError(f"{words:,} distinct words in {len(texts):,} texts: more than term ids hold")
    documents = len(texts)
    lengths = np.array([len(ids) for ids in term_lists], dtype=np.int64)
    doc_of = np.repeat(np.arange(documents, dtype=np.int64), lengths)
    every = np.concatenate(term_lists) if documents else np.zeros(0, dtype=np.int64)
    # One (document, term) key each: unique gives the counts, sorted by document then term.
    keys, counts = np.unique(doc_of * TERM_SPAN + every, return_counts=True)
    docs = keys // TERM_SPAN
    term_of_key = keys - docs * TERM_SPAN
    terms, columns, df = np.unique(term_of_key, return_inverse=True, return_counts=True)
    df = df + reference.of(terms)
    counted = documents + reference.documents
    idf = ((np.log((1.0 + counted) / (1.0 + df)) + 1.0) ** idf_power).astype(np.float32)
    if counted >= MIN_DOCUMENTS_FOR_MAX_DF:
        idf[df > MAX_DF_SHARE * counted] = 0.0
    weights = ((1.0 + np.log(counts.astype(np.float32))) * idf[columns]).astype(np.float32)
    norms = np.sqrt(np.bincount(docs, weights=weights.astype(np.float64) ** 2, minlength=documents))
    weights /= np.maximum(norms[docs], 1e-12).astype(np.float32)
    indptr = np.zeros(documents + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(np.bincount(docs, minlength=documents))
    return TermMatrix(
        word_ids, terms.astype(np.int64), idf, indptr, columns.astype(np.int64), weights, reference.word_ids
    )
