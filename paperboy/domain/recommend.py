"""The "For you" model, the pure part: a period's papers scored for one reader, with the reason
each is there. No I/O: services/recommend.py reads the signals and the papers, and keeps results.

Features of each candidate (every paper of the period), each turned into a z-score over the
period's candidates as bench/recommendations.py's fusion does (docs/for-you.md has the measured
figures behind the weights). The mean and spread of every z-score are taken over the candidates
the reader's model did not learn from (`offered`): a saved or hidden paper of the period is
trivially close to itself (the nearest positive at cosine 1, its own words in the profile), and
counted in, it raised the "average" that every other paper is measured against, so in a small
period a paper plainly like the library scored below it (a day of 8 papers, 3 of them saved:
tests/browser/test_reader_flow.py).

- `classifier`: a linear discriminant on MiniLM vectors (Fisher's, with a shrunk covariance):
  the reader's positives (saves, upvotes, followed papers) against a fixed sample of the
  catalogue, whose covariance is inverted once per process (`Background`), so a reader's model
  is one matrix-vector product; it ranked as well as logistic regression in the benchmark's
  tuning cases (MRR 0.323 against 0.316) at 0.5 ms instead of 86 ms (docs/for-you.md);
- `words`: cosine of the candidate's tf-idf words (title, abstract and authors' names) to the
  centroid of the positives' words, the idf over the period's papers and a sample of the
  catalogue's (domain/term_vectors.py, `DocumentFrequencies`);
- `nearest`: cosine to the nearest positive's vector ("close to X in your library");
- `centroid`: cosine to the mean of the positives' vectors;
- `not_interested`: minus the cosine to the nearest "not interested" paper's vector, pushing
  papers like the ones the reader hid down;
- `authors`: for each of the candidate's authors, how many of the reader's positives are theirs,
  plus one when the reader follows them, summed; added raw (times `AUTHOR_WEIGHT`): a shared
  author outweighs every content feature, as the benchmark's shared-author count does, and an
  author met often outweighs one met once (MRR 0.997 against 0.960 on the benchmark's tuning
  half, bench/README.md);
- `searches`: how many of the reader's saved searches the candidate matches (their words and
  phrases in its title and abstract, none of their exclusions, their `author:` and `cat:`;
  dates and `has:code` are not checked here), added raw (times `SEARCH_WEIGHT`);
- `categories`: the candidate's share of the reader's followed categories (primary counts
  double), which with no other signal is the cold start.

The personal score's z-score is blended with the period's trending z-score by the reader's
`personal_share` (0 to 1); with no personal signal at all the order is trending alone.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from paperboy.domain.follows import author_key
from paperboy.domain.search_query import InvalidSearchQuery, SearchQuery, parse_search_query
from paperboy.domain.term_vectors import TermMatrix, words_of

Floats = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]

FEATURES = ("classifier", "words", "nearest", "centroid", "not_interested")  # as z-scores
RAW_FEATURES = ("authors", "searches", "categories")  # as they are, times their weight
AUTHOR_WEIGHT = 16.0
SEARCH_WEIGHT = 4.0
CATEGORY_WEIGHT = 1.0
SHRINKAGE = 0.01  # added to the covariance's diagonal (chosen on the benchmark's tuning half)
# Raised whenever the same signals and settings give other scores, so that scores stored by
# an earlier release are not read (services/recommend.py's version of a reader's scores).
# 2: the z-scores' mean and spread over the `offered` candidates.
SCORING = 2


@dataclass(frozen=True, slots=True)
class Background:
    """The catalogue as the classifier's other class: a sample's mean and the inverse of its
    covariance plus SHRINKAGE on the diagonal."""

    mean: Floats
    inverse: Floats

    @property
    def empty(self) -> bool:
        return len(self.mean) == 0


NO_BACKGROUND = Background(np.zeros(0, dtype=np.float32), np.zeros((0, 0), dtype=np.float32))


def background_model(sample: Floats, shrinkage: float = SHRINKAGE) -> Background:
    """The `Background` of a sample of the catalogue's unit vectors (rows); fewer than 2 rows
    give none (the classifier is then left out)."""
    if len(sample) < 2:
        return NO_BACKGROUND
    rows = sample.astype(np.float64)
    covariance = np.cov(rows.T) + shrinkage * np.eye(rows.shape[1])
    return Background(rows.mean(axis=0).astype(np.float32), np.linalg.inv(covariance).astype(np.float32))


@dataclass(frozen=True, slots=True)
class Weights:
    """Each content feature's weight on its z-score (bench/recommendations.py's content fusion,
    the tf-idf svm and max-sim's shares moved to `words`, the one lexical feature kept here)."""

    classifier: float = 0.4
    words: float = 0.3
    nearest: float = 0.2
    centroid: float = 0.1
    not_interested: float = 0.2
    authors: float = AUTHOR_WEIGHT
    searches: float = SEARCH_WEIGHT
    categories: float = CATEGORY_WEIGHT
    # Whether the authors' names are among a paper's words (`words`), as arxiv-sanity's tf-idf
    # has them: MRR 0.960 against 0.951 on the benchmark's tuning half. Off, the model has no
    # author signal at all when `authors` is 0 too (the benchmark's content-only row).
    author_words: bool = True

    def of(self, feature: str) -> float:
        value: float = getattr(self, feature)
        return value


DEFAULT_WEIGHTS = Weights()


@functools.lru_cache(maxsize=1 << 16)
def normalise_name(name: str) -> str:
    """An author's name as follows match it (domain.follows.author_key: accents dropped, case
    folded, dots and hyphens as spaces); it cannot tell two people of one name apart. Kept per
    name: every library's authors are read again for each reader (a digest run's thousands)."""
    return author_key(name)


@dataclass(frozen=True, slots=True)
class Candidates:
    """A period's papers, the same for every reader (rows in one order)."""

    ids: Ids
    arxiv_ids: list[str]
    titles: list[str]
    authors: list[tuple[str, ...]]
    categories: list[tuple[str, ...]]
    terms: TermMatrix
    vectors: Floats  # unit rows; zeros for a paper not embedded yet
    words: list[str] = field(default_factory=list)  # each paper's words (words_of), " "-padded
    author_keys: list[frozenset[str]] = field(init=False)

    def __post_init__(self) -> None:
        keys = [frozenset(normalise_name(name) for name in names) for names in self.authors]
        object.__setattr__(self, "author_keys", keys)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class Known:
    """A paper the reader acted on: its text, authors and vector (None: not embedded)."""

    paper_id: int
    arxiv_id: str
    title: str
    text: str
    authors: tuple[str, ...]
    vector: Floats | None


@dataclass(frozen=True, slots=True)
class Reader:
    positives: Sequence[Known] = ()  # saved, upvoted, followed papers
    negatives: Sequence[Known] = ()  # not interested
    followed_authors: Sequence[str] = ()
    followed_categories: Sequence[str] = ()
    followed_searches: Sequence[str] = ()  # query texts

    @property
    def cold(self) -> bool:
        return not (
            self.positives or self.followed_authors or self.followed_categories or self.followed_searches
        )


@dataclass(frozen=True, slots=True)
class Contribution:
    feature: str
    value: float  # the raw feature value
    points: float  # what it added to the personal score


@dataclass(frozen=True, slots=True)
class Personal:
    """Every candidate's personal relevance for one reader (what a kept model holds)."""

    candidates: Candidates
    reader: Reader
    personal: Floats
    raw: dict[str, Floats]
    points: dict[str, Floats]
    nearest_positive: npt.NDArray[np.intp]  # per candidate, the index in reader.positives (-1: none)
    searches_matched: npt.NDArray[np.bool_]  # saved searches x candidates
    # Each row's reason once asked (domain/recommend_reasons.py), as a tuple of strings that the
    # garbage collector stops tracking: a kept model's page shown again explains nothing anew.
    reasons: dict[int, tuple[str, str, str, str, str | None]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def contributions(self, row: int) -> list[Contribution]:
        """What made the candidate's personal score, largest part first."""
        parts = [
            Contribution(name, float(self.raw[name][row]), float(self.points[name][row]))
            for name in self.points
        ]
        return sorted(parts, key=lambda part: -abs(part.points))


@dataclass(frozen=True, slots=True)
class Scored:
    """The personal scores blended with trending; `order` ranks the candidates, best first."""

    personal: Personal
    trending: Floats
    final: Floats
    order: npt.NDArray[np.intp]
    personal_share: float  # the share used (0 when the reader has no signal yet)

    @property
    def candidates(self) -> Candidates:
        return self.personal.candidates


def score_candidates(
    candidates: Candidates,
    reader: Reader,
    trending: Floats,
    background: Background,
    *,
    personal_share: float = 0.75,
    weights: Weights = DEFAULT_WEIGHTS,
) -> Scored:
    """Score the period's `candidates` for `reader`; `trending` is each one's trending score and
    `background` the catalogue as the classifier's other class."""
    return blend(personal_scores(candidates, reader, background, weights), trending, personal_share)


def personal_scores(
    candidates: Candidates, reader: Reader, background: Background, weights: Weights = DEFAULT_WEIGHTS
) -> Personal:
    content = _content_features(candidates, reader, background)
    return personal_from(candidates, reader, content, _nearest_positive(candidates, reader), weights)


def personal_from(
    candidates: Candidates,
    reader: Reader,
    content: dict[str, Floats],
    nearest: npt.NDArray[np.intp],
    weights: Weights = DEFAULT_WEIGHTS,
) -> Personal:
    """The reader's `Personal` from their content features and nearest positives, made here or
    for many readers at once (domain/recommend_many.py): the other features and the points."""
    raw = dict(content)
    raw["authors"] = _author_counts(candidates, reader)
    matched = search_matches(candidates, reader.followed_searches)
    raw["searches"] = matched.sum(axis=0).astype(np.float32)
    raw["categories"] = _category_shares(candidates, reader.followed_categories)
    among = offered(candidates, reader)
    points = {name: _points(name, values, weights, among) for name, values in raw.items()}
    personal = np.sum(list(points.values()), axis=0).astype(np.float32)
    return Personal(candidates, reader, personal, raw, points, nearest, matched)


def blend(personal: Personal, trending: Floats, personal_share: float) -> Scored:
    """final = share * z(personal) + (1 - share) * z(trending), plus share * the shared-author
    points (a followed author stays near the top whatever the blend); ties by trending, then
    candidate order. A reader with no signal at all gets trending alone. Both z-scores are over
    the `offered` candidates, as the features' are."""
    share = 0.0 if personal.reader.cold else min(1.0, max(0.0, personal_share))
    among = offered(personal.candidates, personal.reader)
    final = (share * _z(personal.personal, among) + (1.0 - share) * _z(trending, among)).astype(np.float32)
    if share > 0:
        final += np.float32(share) * personal.points["authors"]
    order = np.lexsort((np.arange(len(final)), -trending, -final))
    return Scored(personal, trending, final, order, share)


def offered(candidates: Candidates, reader: Reader) -> npt.NDArray[np.bool_]:
    """The candidates whose mean and spread every z-score takes: those the reader's model did
    not learn from (not a positive, not a "not interested"); all of them when that leaves none."""
    known = [k.paper_id for k in (*reader.positives, *reader.negatives)]
    among: npt.NDArray[np.bool_] = ~np.isin(candidates.ids, known)
    return among if among.any() else np.ones(len(candidates), dtype=bool)


def _points(name: str, values: Floats, weights: Weights, among: npt.NDArray[np.bool_]) -> Floats:
    if name in RAW_FEATURES:
        return (weights.of(name) * values).astype(np.float32)
    return (weights.of(name) * _z(values, among)).astype(np.float32)


def _zeros(candidates: Candidates) -> Floats:
    return np.zeros(len(candidates), dtype=np.float32)


def _z(values: Floats, among: npt.NDArray[np.bool_] | None = None) -> Floats:
    """Per-period z-score, the mean and spread those of `values[among]` (all: None); all of
    those equal gives zeros."""
    pool = values if among is None else values[among]
    spread = float(pool.std()) if len(pool) else 0.0
    if spread <= 1e-12:
        return np.zeros(len(values), dtype=np.float32)
    scaled: Floats = ((values - pool.mean()) / spread).astype(np.float32)
    return scaled


def _vectors(known: Sequence[Known]) -> Floats:
    rows = [k.vector for k in known if k.vector is not None]
    return np.vstack(rows).astype(np.float32) if rows else np.zeros((0, 0), dtype=np.float32)


def _content_features(candidates: Candidates, reader: Reader, background: Background) -> dict[str, Floats]:
    if not reader.positives:
        return {}
    features: dict[str, Floats] = {}
    profile = candidates.terms.profile([k.text for k in reader.positives])
    features["words"] = candidates.terms.scores(profile)
    positives, negatives = _vectors(reader.positives), _vectors(reader.negatives)
    embedded = len(candidates) and candidates.vectors.shape[1] and len(positives)
    if not embedded:
        return features
    matrix = candidates.vectors
    similarity = matrix @ positives.T
    features["nearest"] = similarity.max(axis=1)
    centroid = positives.mean(axis=0)
    features["centroid"] = matrix @ (centroid / max(float(np.linalg.norm(centroid)), 1e-9))
    if not background.empty and background.mean.shape[0] == matrix.shape[1]:
        features["classifier"] = matrix @ (background.inverse @ (positives.mean(axis=0) - background.mean))
    if len(negatives):
        features["not_interested"] = -(matrix @ negatives.T).max(axis=1)
    return {name: values.astype(np.float32) for name, values in features.items()}


def search_matches(candidates: Candidates, searches: Sequence[str]) -> npt.NDArray[np.bool_]:
    """One row per saved search: which candidates it matches (see the module's `searches`).
    A query that does not parse matches nothing."""
    out = np.zeros((len(searches), len(candidates)), dtype=bool)
    for n, text in enumerate(searches):
        try:
            query = parse_search_query(text)
        except InvalidSearchQuery:
            continue
        out[n] = [_matches(query, candidates, row) for row in range(len(candidates))]
    return out


def _padded(text: str) -> str:
    return f" {' '.join(words_of(text))} "


def _matches(query: SearchQuery, candidates: Candidates, row: int) -> bool:
    if not (query.terms or query.phrases or query.authors or query.categories):
        return False
    words = candidates.words[row] if row < len(candidates.words) else " "
    wanted = [_padded(t) for t in query.terms + query.phrases]
    unwanted = [_padded(t) for t in query.excluded_terms + query.excluded_phrases]
    if any(w.strip() and w not in words for w in wanted) or any(w.strip() and w in words for w in unwanted):
        return False
    keys = candidates.author_keys[row]
    if any(not any(normalise_name(a) in key for key in keys) for a in query.authors):
        return False
    cats = candidates.categories[row]
    return not query.categories or any(c.startswith(q) for q in query.categories for c in cats)


def _author_counts(candidates: Candidates, reader: Reader) -> Floats:
    """Per candidate, the sum over its authors of how often the reader met that author: once
    per positive paper of theirs, once more when followed (an author in five of the library's
    papers counts five times one in a single paper's author list)."""
    seen: Counter[str] = Counter({normalise_name(name) for name in reader.followed_authors})
    for known in reader.positives:
        seen.update({normalise_name(name) for name in known.authors})
    if not seen:
        return _zeros(candidates)
    names = seen.keys()
    return np.array(
        [sum(map(seen.__getitem__, keys & names)) for keys in candidates.author_keys], dtype=np.float32
    )


def _category_shares(candidates: Candidates, followed: Sequence[str]) -> Floats:
    wanted = set(followed)
    if not wanted:
        return _zeros(candidates)
    return np.array(
        [
            (2.0 * (cats[0] in wanted) + sum(c in wanted for c in cats[1:])) / (len(cats) + 1)
            if cats
            else 0.0
            for cats in candidates.categories
        ],
        dtype=np.float32,
    )


def _nearest_positive(candidates: Candidates, reader: Reader) -> npt.NDArray[np.intp]:
    """Per candidate, which positive paper is nearest by vector (or by shared words when
    none has a vector); -1 without positives."""
    with_vectors = [n for n, k in enumerate(reader.positives) if k.vector is not None]
    if not with_vectors or not candidates.vectors.shape[1]:
        return np.full(len(candidates), 0 if reader.positives else -1, dtype=np.intp)
    rows = np.vstack([reader.positives[n].vector for n in with_vectors])  # type: ignore[misc]
    best = (candidates.vectors @ rows.T).argmax(axis=1)
    nearest: npt.NDArray[np.intp] = np.asarray(with_vectors, dtype=np.intp)[best]
    return nearest
