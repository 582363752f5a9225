"""The "For you" model of domain/recommend.py for many readers at once (a digest run's members):
the same features, the same points, the same reasons, with each step done for the whole batch.

What a reader costs alone is mostly per-call overhead: their library's words tokenised text by
text, a handful of small matrix-vector products. Here every library paper of the batch is read
once (`TermMatrix.text_scores`: a reader's words feature is the mean of their papers' rows, as
the profile of several texts is the mean of theirs), and the vector features are products of
the candidates' matrix with every reader's positives, centroids and classifier directions at
once (candidates x readers). The features that read names, categories and saved searches, and
the points, are `personal_from`'s, as for one reader. Equal to `personal_scores` reader by
reader up to float rounding (tests/unit/domain/test_recommend_model_many.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from paperboy.domain.recommend import (
    DEFAULT_WEIGHTS,
    Background,
    Candidates,
    Floats,
    Known,
    Personal,
    Reader,
    Weights,
    personal_from,
)

KEPT_WORD_VALUES = 16_000_000  # WordRows' budget: 64 MB of float32 (~50,000 papers of a day)


class WordRows:
    """Library papers' rows of `text_scores` against one period's candidates, kept from batch
    to batch of a run: the same papers are in many members' libraries, and reading a text is
    most of what a member's words cost. Up to `max_values` floats; then new rows are not kept.
    Not thread-safe (a run makes one batch at a time)."""

    def __init__(self, max_values: int = KEPT_WORD_VALUES) -> None:
        self.max_values = max_values
        self.candidates: Candidates | None = None
        self.rows: dict[int, Floats] = {}

    def of(self, candidates: Candidates, texts: dict[int, str]) -> dict[int, Floats]:
        """Each paper's row (paper id -> its text given): kept ones looked up, the others made."""
        if candidates is not self.candidates:
            self.candidates, self.rows = candidates, {}
        missing = [paper_id for paper_id in texts if paper_id not in self.rows]
        made = candidates.terms.text_scores([texts[paper_id] for paper_id in missing])
        found = {paper_id: self.rows[paper_id] for paper_id in texts if paper_id in self.rows}
        room = max(0, self.max_values // max(1, len(candidates)) - len(self.rows))
        for n, paper_id in enumerate(missing):
            found[paper_id] = made[n]
            if n < room:
                self.rows[paper_id] = made[n].copy()
        return found


def personal_scores_many(
    candidates: Candidates,
    readers: Sequence[Reader],
    background: Background,
    weights: Weights = DEFAULT_WEIGHTS,
    words_kept: WordRows | None = None,
) -> list[Personal]:
    """`personal_scores(candidates, reader, background, weights)` for each of `readers`;
    `words_kept` keeps library papers' words for the next call."""
    words = _words(candidates, readers, words_kept or WordRows(0))
    vectors = _VectorFeatures(candidates, readers, background)
    out = []
    for n, reader in enumerate(readers):
        content = {"words": words[n]} if reader.positives else {}
        content.update(vectors.features(n))
        out.append(personal_from(candidates, reader, content, vectors.nearest(n), weights))
    return out


def _words(candidates: Candidates, readers: Sequence[Reader], kept: WordRows) -> list[Floats]:
    """Each reader's words feature: the mean of their positives' rows of `text_scores`, each
    distinct paper read once."""
    texts = {known.paper_id: known.text for reader in readers for known in reader.positives}
    rows = kept.of(candidates, texts)
    return [
        np.mean([rows[k.paper_id] for k in reader.positives], axis=0, dtype=np.float32)
        if reader.positives
        else np.zeros(len(candidates), dtype=np.float32)
        for reader in readers
    ]


def _stacked(groups: Sequence[Sequence[Known]]) -> tuple[Floats, npt.NDArray[np.int64]]:
    """The vectors of every group's papers that have one, stacked, and where each group starts
    (bounds[g]:bounds[g + 1])."""
    rows = [[k.vector for k in group if k.vector is not None] for group in groups]
    bounds = np.zeros(len(groups) + 1, dtype=np.int64)
    bounds[1:] = np.cumsum([len(r) for r in rows])
    flat = [v for r in rows for v in r]
    return (np.vstack(flat).astype(np.float32) if flat else np.zeros((0, 0), dtype=np.float32)), bounds


class _VectorFeatures:
    """nearest, centroid, classifier and not_interested for every reader, from one product of
    the candidates with all positives (and one with all negatives)."""

    def __init__(self, candidates: Candidates, readers: Sequence[Reader], background: Background) -> None:
        self.readers, self.size = readers, len(candidates)
        matrix = candidates.vectors
        self.on = bool(len(candidates) and matrix.shape[1])
        positives, self.bounds = _stacked([r.positives for r in readers])
        negatives, self.negative_bounds = _stacked([r.negatives for r in readers])
        self.on = self.on and len(positives) > 0 and positives.shape[1] == matrix.shape[1]
        if not self.on:
            return
        self.similarity = matrix @ positives.T
        self.negative = matrix @ negatives.T if len(negatives) else np.zeros((len(candidates), 0), np.float32)
        has = np.diff(self.bounds) > 0
        means = np.zeros((len(readers), matrix.shape[1]), dtype=np.float32)
        means[has] = (
            np.add.reduceat(positives, self.bounds[:-1][has], axis=0) / np.diff(self.bounds)[has, None]
        )
        norms = np.maximum(np.linalg.norm(means, axis=1), 1e-9).astype(np.float32)
        self.centroid = matrix @ (means / norms[:, None]).T
        self.classifier: Floats | None = None
        if not background.empty and background.mean.shape[0] == matrix.shape[1]:
            self.classifier = matrix @ (background.inverse @ (means - background.mean).T)

    def features(self, n: int) -> dict[str, Floats]:
        start, end = self.bounds[n], self.bounds[n + 1]
        if not self.on or start == end:
            return {}
        found = {
            "nearest": self.similarity[:, start:end].max(axis=1),
            "centroid": self.centroid[:, n],
        }
        if self.classifier is not None:
            found["classifier"] = self.classifier[:, n]
        low, high = self.negative_bounds[n], self.negative_bounds[n + 1]
        if high > low:
            found["not_interested"] = -self.negative[:, low:high].max(axis=1)
        return {name: np.ascontiguousarray(values, dtype=np.float32) for name, values in found.items()}

    def nearest(self, n: int) -> npt.NDArray[np.intp]:
        """As domain.recommend's `_nearest_positive`: per candidate, the index in the reader's
        positives of the nearest by vector."""
        positives = self.readers[n].positives
        start, end = self.bounds[n], self.bounds[n + 1]
        if not self.on or start == end:
            return np.full(self.size, 0 if positives else -1, dtype=np.intp)
        with_vectors = np.asarray([i for i, k in enumerate(positives) if k.vector is not None], dtype=np.intp)
        found: npt.NDArray[np.intp] = with_vectors[self.similarity[:, start:end].argmax(axis=1)]
        return found
