""" "For you" for many members at once: a digest run ranks its members' editions in batches
(services/digest_personal.py) rather than one by one.

`recommend_papers_many` answers what `recommend_papers` (services/recommend.py) answers for each
member of the batch — the same model, order and reasons — in a fixed number of statements for
the whole batch (the members' signals, follows, their papers' texts, the versions and the
period's trending scores, each once) and with the models made together
(domain/recommend_many.py). A member whose model this process keeps already (they opened
"For you" since it last changed, in the process that runs the digests) has it reused, not made
again; the models made here are not kept (a run's thousands of members would push the page
readers' out).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine

from paperboy.domain.calendar import Period
from paperboy.domain.recommend import Candidates, Personal
from paperboy.domain.recommend_many import WordRows, personal_scores_many
from paperboy.domain.trending import TrendingParams
from paperboy.services.feed import DEFAULT_TRENDING
from paperboy.services.recommend import (
    WEIGHTS,
    Recommendations,
    candidates_of,
    kept_personal,
    known_ids,
    model_background,
    order_for,
    period_reference,
    reader_of,
    trending_scores,
    vectors_by_id,
)
from paperboy.services.recommend_signals import Follows, follows_for_members
from paperboy.services.vector_search import Vectors
from paperboy.storage import sync_state
from paperboy.storage.reader_signals import ReaderSignals, readers_signals
from paperboy.storage.recommend_papers import texts_of


def recommend_papers_many(
    engine: Engine,
    index: Vectors | None,
    user_ids: Sequence[int],
    period: Period,
    *,
    trending: TrendingParams = DEFAULT_TRENDING,
    now: datetime | None = None,
    words_kept: WordRows | None = None,
) -> dict[int, Recommendations]:
    """`recommend_papers(engine, index, user, period, trending=…, now=…)` for each member;
    `words_kept` keeps library papers' words from one call to the next (a run's batches)."""
    with engine.connect() as conn:
        signals = readers_signals(conn, user_ids)
        follows = follows_for_members(conn, user_ids)
        versions = sync_state.page_versions(conn)
        candidates, key = candidates_of(engine, conn, index, period, versions[0])
        kept = {user: kept_personal(engine, user, signals[user], follows[user], key) for user in user_ids}
        missing = [user for user in user_ids if kept[user] is None]
        made = _make_many(conn, index, candidates, missing, (signals, follows), words_kept)
        reference = period_reference(period, now or datetime.now(UTC))
        scores = trending_scores(conn, candidates, period, None, trending, reference)
    found = {}
    for user in user_ids:
        personal = kept[user] or made[user]
        scored, rows = order_for(personal, scores, signals[user])
        found[user] = Recommendations(period, None, scored, rows, signals[user], follows[user], versions)
    return found


def _make_many(
    conn: Connection,
    index: Vectors | None,
    candidates: Candidates,
    user_ids: list[int],
    known: tuple[dict[int, ReaderSignals], dict[int, Follows]],
    words_kept: WordRows | None,
) -> dict[int, Personal]:
    """The members' models, made together: their papers' texts and vectors read once."""
    if not user_ids:
        return {}
    signals, follows = known
    wanted = sorted({i for user in user_ids for ids in known_ids(signals[user], follows[user]) for i in ids})
    texts = {t.paper_id: t for t in texts_of(conn, wanted)}
    vectors = vectors_by_id(index, list(texts))
    readers = [reader_of(signals[user], follows[user], texts, vectors) for user in user_ids]
    made = personal_scores_many(candidates, readers, model_background(index), WEIGHTS, words_kept)
    return dict(zip(user_ids, made, strict=True))
