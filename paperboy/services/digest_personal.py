"""The member's part of a digest: the main list in their "For you" order when they chose it, and
a short "For you" section of the edition's papers ranked highest for them that the main list
does not carry and no digest mailed them before, each with its reason.

Both come from the model the "For you" page uses, over the edition's listing days: its
candidates are made once per edition and process (they are kept per period), and a sending run
ranks its members BATCH_MEMBERS at a time, in the order it mails them, with
services/recommend_many.py (the batch's signals and papers read once, the models made together,
the same rankings and reasons as `recommend_papers` gives each alone); a preview or a member
the run did not expect is ranked alone. `python -m bench digest --digest-members N` measures
it. Its content features need the vectors: a sending run takes them from a `VectorSource`, the
index `serve` already holds (services/digest_vectors.py) or one loaded once for the run, never
one per mail.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from paperboy.domain.calendar import Period
from paperboy.domain.digest import (
    DigestPaper,
    Edition,
    EditionContent,
    PersonalPick,
    Subscription,
    personal_section,
)
from paperboy.domain.recommend_many import WordRows
from paperboy.domain.trending import TrendingParams
from paperboy.services.notifications import members_with_alerts
from paperboy.services.recommend import Recommendations, recommend_papers
from paperboy.services.recommend_many import recommend_papers_many
from paperboy.services.vector_search import Vectors

VectorSource = Callable[[], Vectors | None]
BATCH_MEMBERS = 256  # members ranked together: a few MB of scores, a few statements


def no_vectors() -> Vectors | None:
    """A source without vectors: the model then ranks by its lexical and author features."""
    return None


@dataclass(frozen=True, slots=True)
class MemberMail:
    """What one subscriber's mail carries: the main list, and (members) their section."""

    papers: list[DigestPaper]
    section: list[PersonalPick]
    alerts: bool = False  # whether the member may have alerts to mail (read when the mail is made)


def edition_period(edition: Edition) -> Period:
    """The listing days of an edition, as "For you" names a period."""
    return Period("day" if edition.frequency == "daily" else "week", edition.start, edition.end)


class PersonalDigests:
    """Picks each subscriber's papers for one sending run (thread-safe: the model's caches are)."""

    def __init__(
        self,
        engine: Engine,
        content: EditionContent,
        index: Vectors | None,
        trending: TrendingParams,
        now: datetime,
    ) -> None:
        self.engine, self.content, self.index = engine, content, index
        self.trending, self.now = trending, now
        self.period = edition_period(content.edition)
        self._members: list[int] = []  # the run's members, in the order it mails them
        self._position: dict[int, int] = {}
        self._made: set[int] = set()
        self._ready: dict[int, tuple[Recommendations, bool]] = {}
        self._words = WordRows()  # library papers' words, read once per run
        self._lock = threading.Lock()

    def expect(self, waiting: Sequence[Subscription]) -> None:
        """The run's subscribers, in the order it will mail them: members' rankings are then made
        BATCH_MEMBERS at a time as the run reaches them, each batch together."""
        self._members = list(dict.fromkeys(s.user_id for s in waiting if s.user_id is not None))
        self._position = {user: n for n, user in enumerate(self._members)}

    def _recommendations(self, user_id: int) -> tuple[Recommendations, bool]:
        """The member's ranking of the edition and whether they may have alerts: from the batch
        made for them, else alone (a preview, a retry, a member the run did not expect)."""
        with self._lock:
            found = self._ready.pop(user_id, None)
            if found is None and user_id in self._position and user_id not in self._made:
                start = self._position[user_id]
                batch = [u for u in self._members[start : start + BATCH_MEMBERS] if u not in self._made]
                self._made.update(batch)
                self._ready.update(self._batch(batch))
                found = self._ready.pop(user_id)
        if found is not None:
            return found
        alone = recommend_papers(  # not stored: a run over every member would write a row each
            self.engine,
            self.index,
            user_id,
            self.period,
            trending=self.trending,
            now=self.now,
            store=False,
        )
        return alone, True

    def _batch(self, user_ids: list[int]) -> dict[int, tuple[Recommendations, bool]]:
        found = recommend_papers_many(
            self.engine,
            self.index,
            user_ids,
            self.period,
            trending=self.trending,
            now=self.now,
            words_kept=self._words,
        )
        alerted = members_with_alerts(self.engine, user_ids)
        return {user: (found[user], user in alerted) for user in user_ids}

    def pick(self, subscription: Subscription, mailed: set[int]) -> MemberMail:
        """Anonymous subscribers get the trending pick; members with signals also a section,
        and those who chose "For you" their main list in its order."""
        if subscription.user_id is None:
            return MemberMail(self.content.pick(subscription, mailed), [])
        found, alerts = self._recommendations(subscription.user_id)
        ids, _ = found.ranking()
        order = ids if subscription.preferences.for_you else None
        papers = self.content.pick(subscription, mailed, order)
        if found.cold:
            return MemberMail(papers, [], alerts)
        passing = self.content.selector.passing(subscription.preferences)
        ranked = [paper_id for paper_id in ids if paper_id in passing]
        chosen = personal_section(ranked, (item.paper.id for item in papers), mailed)
        return MemberMail(papers, self._with_reasons(found, ids, chosen), alerts)

    def _with_reasons(
        self, found: Recommendations, ids: Sequence[int], chosen: list[int]
    ) -> list[PersonalPick]:
        position = {paper_id: n for n, paper_id in enumerate(ids)}
        picks = []
        for paper_id in chosen:
            (recommended,) = found.page(position[paper_id], 1)
            picks.append(PersonalPick(self.content.papers[paper_id], recommended.reason.text))
        return picks


def ready_index(source: VectorSource) -> Vectors | None:
    """The source's index with its vectors in memory (loaded now when nobody has yet), so that
    the run's first mails are ranked with them like the rest."""
    index = source()
    if index is not None and index.generation() < 0:
        index.refresh()
    return index
