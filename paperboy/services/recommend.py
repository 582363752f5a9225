""" "For you": a period's papers ranked for one reader, each with the reason it is there
(domain/recommend.py scores, domain/recommend_reasons.py explains), and the reader's settings:
the blend with trending and the reset. The pages, the API and the benchmark call these.

Per request: the reader's signals, settings and follows and the versions (one statement,
storage/for_you_reads.py), the period's trending signals (one, kept per community version);
the candidates and the reader's personal scores come from the process's caches
(services/recommend_cache.py) unless the catalogue, the vectors or the reader's signals
changed, when they are made again: the candidates in three statements, the scores read from
the database when another process fitted them (services/recommend_store.py), else fitted
(three statements and the model's fit: docs/for-you.md has the timings) and stored.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine

from paperboy.domain.calendar import Period, day_period
from paperboy.domain.recommend import (
    DEFAULT_WEIGHTS,
    NO_BACKGROUND,
    SCORING,
    Background,
    Candidates,
    Contribution,
    Known,
    Personal,
    Reader,
    Scored,
    Weights,
    background_model,
    blend,
    personal_scores,
)
from paperboy.domain.recommend_reasons import Reason, reason_for
from paperboy.domain.term_vectors import (
    IDF_POWER,
    NO_REFERENCE,
    DocumentFrequencies,
    document_frequencies,
    term_matrix,
    words_of,
)
from paperboy.domain.trending import TrendingParams, rank, reference_time
from paperboy.services.feed import DEFAULT_TRENDING
from paperboy.services.hydrate import PerEngine
from paperboy.services.recommend_cache import CANDIDATE_ROWS, PERSONAL_ROWS, Kept, OrderCache, RowBudgetCache
from paperboy.services.recommend_signals import Follows, follows_from
from paperboy.services.recommend_store import scope_of, shared_personal, version_of
from paperboy.services.vector_search import Vectors
from paperboy.storage import reader_preferences, sync_state, trending_queries
from paperboy.storage.engine import now_utc, read_connection
from paperboy.storage.for_you_reads import for_you_reads
from paperboy.storage.queries import latest_listing_day, paper_by_arxiv_id
from paperboy.storage.reader_signals import ReaderSignals
from paperboy.storage.recommend_papers import PaperText, period_texts, texts_of
from paperboy.storage.transactions import write_transaction

BACKGROUND_PAPERS = 5_000  # the classifier's other class: random papers of the catalogue
BACKGROUND_SEED = 20261207
MAX_KNOWN = 500  # the latest positives (and negatives) a model learns from
TRENDING_KEPT = 64  # periods' trending scores (a few KB each)
# The model's weights (bench/recommendations_product.py turns the author term off for its
# content-only row; nothing else changes them).
WEIGHTS: Weights = DEFAULT_WEIGHTS


@dataclass(frozen=True, slots=True)
class Recommended:
    paper_id: int
    arxiv_id: str
    title: str
    score: float
    reason: Reason


@dataclass(frozen=True, slots=True)
class Recommendations:
    """A period's papers for one reader, best first (saved, upvoted and hidden ones left out)."""

    period: Period
    category: str | None
    scored: Scored
    rows: npt.NDArray[np.int64]  # candidate rows in order
    signals: ReaderSignals
    follows: Follows
    versions: tuple[str, str] = ("", "")  # the catalogue and community versions it was made at

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def cold(self) -> bool:
        return self.scored.personal.reader.cold

    def ranking(self) -> tuple[list[int], list[float]]:
        """(paper ids, scores), best first: the ranker's answer."""
        ids, final = self.scored.candidates.ids, self.scored.final
        return [int(ids[row]) for row in self.rows], [float(final[row]) for row in self.rows]

    def page(self, offset: int, limit: int) -> list[Recommended]:
        """Those ranked offset+1 to offset+limit, with their reasons."""
        candidates, final = self.scored.candidates, self.scored.final
        return [
            Recommended(
                int(candidates.ids[row]),
                candidates.arxiv_ids[row],
                candidates.titles[row],
                float(final[row]),
                reason_for(self.scored.personal, row),
            )
            for row in self.rows[offset : offset + limit]
        ]


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why one paper is where it is in its first listing day's "For you"."""

    arxiv_id: str
    title: str
    period: Period
    rank: int | None  # None: left out (saved, upvoted or hidden)
    total: int
    reason: Reason
    contributions: list[Contribution]
    personal: float
    trending: float
    final: float
    personal_share: float
    signals: ReaderSignals


_candidates = PerEngine(lambda: RowBudgetCache[Candidates](CANDIDATE_ROWS))
_personal = PerEngine(lambda: RowBudgetCache[Personal](PERSONAL_ROWS))


def recommend_papers(
    engine: Engine,
    index: Vectors | None,
    user_id: int,
    period: Period,
    *,
    category: str | None = None,
    trending: TrendingParams = DEFAULT_TRENDING,
    now: datetime | None = None,
    store: bool = True,
    conn: Connection | None = None,
) -> Recommendations:
    """The period's papers ranked for the member `user_id`. With `store` False (a digest's
    run over every member) scores fitted here are not stored for other processes. Read on
    `conn` when given (a page that reads more on it), else on a read connection of its own."""
    if conn is None:
        with read_connection(engine) as own:
            return _recommend(engine, own, index, user_id, period, category, trending, now, store)
    return _recommend(engine, conn, index, user_id, period, category, trending, now, store)


def _recommend(
    engine: Engine,
    conn: Connection,
    index: Vectors | None,
    user_id: int,
    period: Period,
    category: str | None,
    trending: TrendingParams,
    now: datetime | None,
    store: bool,
) -> Recommendations:
    reads = for_you_reads(conn, user_id)  # signals, follows and versions: one statement
    signals, follows = reads.signals, follows_from(conn, reads.follows)
    catalogue, community = reads.versions
    candidates, key = candidates_of(engine, conn, index, period, catalogue, category)
    generation = key[3]  # the candidates' own: asked once, so scores never outlive them
    personal_key = (user_id, signals, follows, key)
    # The idf's power and the scoring's version are part of the model: scores stored
    # under others are not read.
    made_from = version_of(signals, follows, catalogue, generation, WEIGHTS, IDF_POWER, SCORING)
    where = (scope_of(period, category), made_from)
    personal = _personal(engine).get_or_make(
        personal_key,
        lambda: shared_personal(
            engine,
            conn,
            user_id,
            where,
            candidates,
            lambda: _make_personal(conn, index, candidates, signals, follows),
            store=store,
        ),
    )
    reference = period_reference(period, now or datetime.now(UTC))
    order_key = (user_id, key, community, signals.personal_share, reference, trending)
    kept = _orders(engine).get(order_key, personal)
    if kept is None:
        scores = _trending(engine).get_or_make(
            (key, community, reference, trending),
            lambda: trending_scores(conn, candidates, period, category, trending, reference),
        )
        kept = order_for(personal, scores, signals)
        _orders(engine).put(order_key, personal, kept)
    scored, rows = kept
    return Recommendations(period, category, scored, rows, signals, follows, (catalogue, community))


def warm_recommendations(engine: Engine, index: Vectors | None) -> Period | None:
    """What every reader's first "For you" page in a process would make, made before the process
    answers (`serve`, app.py): the classifier's background and the words' idf sample (~1 s of a
    core together: bench/README.md, "personal"), and the latest listing day's candidates. The
    day warmed, None when nothing is listed."""
    model_background(index)
    with read_connection(engine) as conn:
        _idf_reference(conn, index, WEIGHTS.author_words)
        latest = latest_listing_day(conn)
        if latest is None:
            return None
        period = day_period(latest)
        catalogue, _ = sync_state.page_versions(conn)
        candidates_of(engine, conn, index, period, catalogue)
    return period


def candidates_of(
    engine: Engine,
    conn: Connection,
    index: Vectors | None,
    period: Period,
    catalogue: str,
    category: str | None = None,
) -> tuple[Candidates, tuple[Hashable, ...]]:
    """The period's candidates (kept per process) and the key they are kept under."""
    generation = index.generation() if index is not None else -1
    names = WEIGHTS.author_words
    key = (period, category, catalogue, generation, names)
    found = _candidates(engine).get_or_make(
        key, lambda: _make_candidates(conn, index, period, category, names=names)
    )
    return found, key


def kept_personal(
    engine: Engine, user_id: int, signals: ReaderSignals, follows: Follows, key: tuple[Hashable, ...]
) -> Personal | None:
    """The member's model this process keeps for these signals and candidates, if any."""
    return _personal(engine).get((user_id, signals, follows, key))


def explain_recommendation(
    engine: Engine,
    index: Vectors | None,
    user_id: int,
    arxiv_id: str,
    *,
    trending: TrendingParams = DEFAULT_TRENDING,
    now: datetime | None = None,
) -> Explanation | None:
    """The paper's place in "For you" of its first listing day, and every part of its score;
    None when the paper is not in the catalogue or was never listed."""
    with engine.connect() as conn:
        paper = paper_by_arxiv_id(conn, arxiv_id)
    if paper is None or paper.first_listed is None:
        return None
    period = day_period(paper.first_listed)
    found = recommend_papers(engine, index, user_id, period, trending=trending, now=now)
    scored, ids = found.scored, found.scored.candidates.ids
    matches = np.flatnonzero(ids == paper.id)
    if not len(matches):
        return None
    row = int(matches[0])
    places = np.flatnonzero(found.rows == row)
    rank = int(places[0]) + 1 if len(places) else None
    personal = scored.personal
    return Explanation(
        paper.arxiv_id,
        paper.title,
        period,
        rank,
        found.total,
        reason_for(personal, row),
        personal.contributions(row),
        float(personal.personal[row]),
        float(scored.trending[row]),
        float(scored.final[row]),
        scored.personal_share,
        found.signals,
    )


def set_personal_share(engine: Engine, user_id: int, percent: int) -> int:
    """How much of the member's "For you" order is their own relevance (0-100; the rest is
    trending). ValueError outside 0-100."""
    if not 0 <= percent <= 100:
        raise ValueError(f"the blend must be from 0 to 100 percent, not {percent}")
    with write_transaction(engine) as conn:
        reader_preferences.set_personal_share(conn, user_id, percent, now_utc())
    return percent


def reset_recommendations(engine: Engine, user_id: int) -> None:
    """Forget what the member's model learned: signals given before now (saves, upvotes, "not
    interested") stop training it. Nothing is deleted: the library, the upvotes and the hidden
    papers stay (hidden ones stay hidden); follows, being explicit, still count."""
    with write_transaction(engine) as conn:
        reader_preferences.set_reset_at(conn, user_id, now_utc())


def _make_candidates(
    conn: Connection, index: Vectors | None, period: Period, category: str | None, *, names: bool
) -> Candidates:
    texts = period_texts(conn, period.start, period.end, category)
    ids = np.array([t.paper_id for t in texts], dtype=np.int64)
    return Candidates(
        ids,
        [t.arxiv_id for t in texts],
        [t.title for t in texts],
        [t.authors for t in texts],
        [t.categories for t in texts],
        term_matrix([_text(t, names=names) for t in texts], _idf_reference(conn, index, names)),
        _vectors_in_order(index, ids),
        [_padded(_text(t)) for t in texts],  # saved searches match titles and abstracts
    )


def _vectors_in_order(index: Vectors | None, ids: np.ndarray) -> np.ndarray:
    """Unit vectors of `ids` in their order (zeros where a paper has none); (n, 0) with none."""
    if index is None or len(ids) == 0:
        return np.zeros((len(ids), 0), dtype=np.float32)
    found, rows = index.vectors_of(ids.tolist())
    if len(found) == 0:
        return np.zeros((len(ids), 0), dtype=np.float32)
    out = np.zeros((len(ids), rows.shape[1]), dtype=np.float32)
    positions = np.searchsorted(found, ids)
    hit = (positions < len(found)) & (found[np.minimum(positions, len(found) - 1)] == ids)
    out[hit] = rows[positions[hit]]
    return out


def _make_personal(
    conn: Connection,
    index: Vectors | None,
    candidates: Candidates,
    signals: ReaderSignals,
    follows: Follows,
) -> Personal:
    positives, negatives = known_ids(signals, follows)
    texts = {t.paper_id: t for t in texts_of(conn, positives + negatives)}
    vectors = vectors_by_id(index, list(texts))
    reader = reader_of(signals, follows, texts, vectors)
    return personal_scores(candidates, reader, model_background(index), WEIGHTS)


def known_ids(signals: ReaderSignals, follows: Follows) -> tuple[list[int], list[int]]:
    """The papers a reader's model learns from: (positives, negatives), the latest MAX_KNOWN."""
    positives = sorted(set(signals.positives) | set(follows.papers))[-MAX_KNOWN:]
    return positives, list(signals.not_interested[-MAX_KNOWN:])


def reader_of(
    signals: ReaderSignals, follows: Follows, texts: dict[int, PaperText], vectors: dict[int, np.ndarray]
) -> Reader:
    """The reader as the model sees them, from their papers' texts and vectors (by row id)."""
    positives, negatives = known_ids(signals, follows)
    return Reader(
        positives=[_known(texts[i], vectors.get(i)) for i in positives if i in texts],
        negatives=[_known(texts[i], vectors.get(i)) for i in negatives if i in texts],
        followed_authors=follows.authors,
        followed_categories=follows.categories,
        followed_searches=follows.searches,
    )


def vectors_by_id(index: Vectors | None, ids: list[int]) -> dict[int, np.ndarray]:
    if index is None or not ids:
        return {}
    found, rows = index.vectors_of(ids)
    return {int(i): rows[n] for n, i in enumerate(found)}


def _known(text: PaperText, vector: np.ndarray | None) -> Known:
    return Known(
        text.paper_id,
        text.arxiv_id,
        text.title,
        _text(text, names=WEIGHTS.author_words),
        text.authors,
        vector,
    )


def _text(paper: PaperText, *, names: bool = False) -> str:
    """What the words feature reads: title and abstract, and with `names` the authors' names
    (arxiv-sanity's tf-idf reads them too: co-authors and namesakes then count as words)."""
    text = f"{paper.title} {paper.abstract}"
    return f"{text} {' '.join(paper.authors)}" if names else text


def _padded(text: str) -> str:
    """The words a saved search is matched against (domain.recommend.search_matches)."""
    return f" {' '.join(words_of(text))} "


IDF_REFRESH = 0.05  # the samples are drawn again once the catalogue's vectors grew or shrank by 5%
_backgrounds: dict[int, tuple[int, Background]] = {}
_background_lock = threading.Lock()


def model_background(index: Vectors | None) -> Background:
    """The catalogue's model for the classifier, from a fixed random sample of its vectors
    (about 50 ms to make), kept while the catalogue's size moves by less than IDF_REFRESH, as
    the idf's sample is: a sync's papers do not change a 5,000-paper background, and a new
    vectors generation then reads no sample again (on pgvector: every id of the catalogue)."""
    if index is None:
        return NO_BACKGROUND
    size = len(index)
    with _background_lock:
        kept = _backgrounds.get(id(index))
    if kept is not None and abs(size - kept[0]) <= IDF_REFRESH * kept[0]:
        return kept[1]
    found = background_model(index.sample_vectors(BACKGROUND_PAPERS, BACKGROUND_SEED))
    with _background_lock:
        _backgrounds.clear()  # one index kept: the newest
        _backgrounds[id(index)] = (size, found)
    return found


_idf_references: dict[tuple[int, bool], tuple[int, DocumentFrequencies]] = {}


def _idf_reference(conn: Connection, index: Vectors | None, names: bool) -> DocumentFrequencies:
    """The words' document frequencies over the classifier's background papers (the same
    seeded sample of the catalogue), which every period's idf counts beside its own papers.
    Made once per process (5,000 papers read and split into words: ~0.8 s of a core) and kept
    while the catalogue's size moves by less than IDF_REFRESH: a sync's few hundred papers
    do not change a 5,000-paper estimate of the words' rarity, and a new vectors generation
    then costs the next "For you" page no second of words."""
    if index is None:
        return NO_REFERENCE
    key, size = (id(index), names), len(index)
    with _background_lock:
        kept = _idf_references.get(key)
    if kept is not None and abs(size - kept[0]) <= IDF_REFRESH * kept[0]:
        return kept[1]
    sample = index.sample_ids(BACKGROUND_PAPERS, BACKGROUND_SEED).tolist()
    found = document_frequencies([_text(t, names=names) for t in texts_of(conn, sample)])
    with _background_lock:
        for old in [k for k in _idf_references if k[0] != key[0]]:
            del _idf_references[old]  # one index kept: the newest
        _idf_references[key] = (size, found)
    return found


def period_reference(period: Period, now: datetime) -> datetime:
    """The moment trending ranks the period at: its end once over, else now to the minute (an
    order is kept for up to a minute while nothing else changes, as the feed's is)."""
    reference = reference_time(period.end, now)
    return reference.replace(second=0, microsecond=0) if reference == now else reference


def order_for(
    personal: Personal, trending: np.ndarray, signals: ReaderSignals
) -> tuple[Scored, npt.NDArray[np.int64]]:
    """The blend and the rows shown: saved, upvoted and hidden papers left out."""
    scored = blend(personal, trending, signals.personal_share / 100)
    left_out = np.asarray(sorted(set(signals.positives) | set(signals.hidden)), dtype=np.int64)
    ids = personal.candidates.ids[scored.order]
    keep = ~np.isin(ids, left_out) if len(left_out) else np.ones(len(ids), dtype=bool)
    rows: npt.NDArray[np.int64] = scored.order[keep].astype(np.int64)
    return scored, rows


_orders = PerEngine(OrderCache)


# The period's trending scores, the same for every reader at a community version and minute:
# a reader's first page in a process then runs no trending statement either (~1.5 ms, py-spy).
_trending = PerEngine(lambda: Kept[np.ndarray](TRENDING_KEPT))


def trending_scores(
    conn: Connection,
    candidates: Candidates,
    period: Period,
    category: str | None,
    params: TrendingParams,
    reference: datetime,
) -> np.ndarray:
    """Each candidate's trending score (0 for papers without a signal), one statement."""
    found = trending_queries.listed_candidates(conn, period.start, period.end, category, signalled_only=True)
    ids, scores = rank((row.candidate for row in found), params, reference)
    by_id = dict(zip(ids, scores, strict=True))
    return np.array([by_id.get(int(i), 0.0) for i in candidates.ids], dtype=np.float32)
