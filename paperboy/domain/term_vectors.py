"""Words of papers as tf-idf vectors for "For you" (domain/recommend.py), in numpy alone.

A period's candidates are tokenised once into a sparse matrix (CSR kept as three arrays) over
their own vocabulary of word unigrams and bigrams (English stop words out, as arxiv-sanity's
tf-idf drops them), with sublinear term frequency and an idf from the period's documents. A
reader's library papers are weighed with the same idf; only terms the candidates have can
score, so the library's profile is a dense array over the period's vocabulary: a candidate's
score is a gather and a sum (`np.add.reduceat`), a few milliseconds for a month.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from paperboy.domain.stop_words import STOP_WORDS

_WORD = re.compile(r"[a-z][a-z0-9]+")
MAX_DF_SHARE = 0.1  # terms in more of the period's papers than this say little (arxiv-sanity's max_df)
Floats = npt.NDArray[np.float32]


def terms_of(text: str) -> list[str]:
    """Lower-case words of two characters or more, stop words out, then the adjacent pairs."""
    words = [word for word in _WORD.findall(text.lower()) if word not in STOP_WORDS]
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


@dataclass(frozen=True, slots=True)
class TermMatrix:
    """One row per document: row n's terms are indices[indptr[n]:indptr[n+1]] with weights
    (l2-normalised tf-idf) in `weights`; `vocabulary` maps a term to its column and `idf` its
    weight (0 for the terms too common to count)."""

    vocabulary: dict[str, int]
    idf: Floats
    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int64]
    weights: Floats

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    def profile(self, texts: Sequence[str]) -> Floats:
        """The mean of the texts' l2-normalised tf-idf vectors, over this vocabulary (terms
        the candidates lack cannot score and are left out; they still count in each norm)."""
        total = np.zeros(len(self.vocabulary), dtype=np.float32)
        unseen_idf = float(self.idf.max()) if len(self.idf) else 1.0
        for text in texts:
            counts = Counter(terms_of(text))
            columns, values, norm = [], [], 0.0
            for term, count in counts.items():
                column = self.vocabulary.get(term)
                weight = (1.0 + math.log(count)) * (
                    float(self.idf[column]) if column is not None else unseen_idf
                )
                norm += weight * weight
                if column is not None and weight > 0:
                    columns.append(column)
                    values.append(weight)
            if columns and norm > 0:
                total[np.asarray(columns)] += np.asarray(values, dtype=np.float32) / np.float32(
                    math.sqrt(norm)
                )
        mean: Floats = total / np.float32(max(1, len(texts)))
        return mean

    def scores(self, profile: Floats) -> Floats:
        """Each row's dot product with `profile` (cosine with a centroid of unit rows, unscaled)."""
        out = np.zeros(self.rows, dtype=np.float32)
        if len(self.indices) == 0:
            return out
        products = self.weights * profile[self.indices]
        filled = np.flatnonzero(np.diff(self.indptr) > 0)
        out[filled] = np.add.reduceat(products, self.indptr[filled])
        return out


def term_matrix(texts: Sequence[str]) -> TermMatrix:
    """The tf-idf matrix of `texts` over their own vocabulary (smoothed idf, sublinear tf, rows
    of norm 1; terms in more than MAX_DF_SHARE of the texts, when there are 20 or more, weigh 0)."""
    counted = [Counter(terms_of(text)) for text in texts]
    frequency: Counter[str] = Counter()
    for counts in counted:
        frequency.update(counts.keys())
    vocabulary = {term: n for n, term in enumerate(frequency)}
    documents = len(texts)
    idf = np.array(
        [math.log((1 + documents) / (1 + df)) + 1.0 for df in frequency.values()], dtype=np.float32
    )
    if documents >= 20:
        idf[np.array([df > MAX_DF_SHARE * documents for df in frequency.values()], dtype=bool)] = 0.0
    indptr = np.zeros(documents + 1, dtype=np.int64)
    indices: list[int] = []
    weights: list[float] = []
    for n, counts in enumerate(counted):
        columns = [vocabulary[term] for term in counts]
        values = np.array([1.0 + math.log(c) for c in counts.values()], dtype=np.float32)
        values *= idf[np.asarray(columns, dtype=np.int64)] if columns else values
        norm = float(np.linalg.norm(values))
        indices.extend(columns)
        weights.extend((values / norm).tolist() if norm > 0 else values.tolist())
        indptr[n + 1] = len(indices)
    return TermMatrix(
        vocabulary,
        idf,
        indptr,
        np.asarray(indices, dtype=np.int64),
        np.asarray(weights, dtype=np.float32),
    )
