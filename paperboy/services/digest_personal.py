"""The member's part of a digest: the main list in their "For you" order when they chose it, and
a short "For you" section of the edition's papers ranked highest for them that the main list
does not carry and no digest mailed them before, each with its reason.

Both come from services/recommend.py's `recommend_papers` for the edition's listing days, the
model the "For you" page uses: its candidates are made once per edition and process (they are
kept per period), and each member costs their signals and the model's fit (bench/digest.py
`--members` measures it). Its content features need the vectors: a sending run takes them from a
`VectorSource`, the index `serve` already holds (services/digest_vectors.py) or one loaded once
for the run, never one per mail.
"""

from __future__ import annotations

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
from paperboy.domain.trending import TrendingParams
from paperboy.services.recommend import Recommendations, recommend_papers
from paperboy.services.vector_search import Vectors

VectorSource = Callable[[], Vectors | None]


def no_vectors() -> Vectors | None:
    """A source without vectors: the model then ranks by its lexical and author features."""
    return None


@dataclass(frozen=True, slots=True)
class MemberMail:
    """What one subscriber's mail carries: the main list, and (members) their section."""

    papers: list[DigestPaper]
    section: list[PersonalPick]


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

    def pick(self, subscription: Subscription, mailed: set[int]) -> MemberMail:
        """Anonymous subscribers get the trending pick; members with signals also a section,
        and those who chose "For you" their main list in its order."""
        if subscription.user_id is None:
            return MemberMail(self.content.pick(subscription, mailed), [])
        found = recommend_papers(
            self.engine, self.index, subscription.user_id, self.period, trending=self.trending, now=self.now
        )
        ids, _ = found.ranking()
        order = ids if subscription.preferences.for_you else None
        papers = self.content.pick(subscription, mailed, order)
        if found.cold:
            return MemberMail(papers, [])
        passing = self.content.selector.passing(subscription.preferences)
        ranked = [paper_id for paper_id in ids if paper_id in passing]
        chosen = personal_section(ranked, (item.paper.id for item in papers), mailed)
        return MemberMail(papers, self._with_reasons(found, ids, chosen))

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
