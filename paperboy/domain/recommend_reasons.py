"""Why a "For you" paper is there, in words: the strongest of its signals as one reason.
Pure code: reads a `Personal` (domain/recommend.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from paperboy.domain.recommend import FEATURES, Personal, normalise_name

FOLLOWED_AUTHOR = "followed_author"
LIBRARY_AUTHOR = "library_author"
CLOSE_TO = "close_to"
SAVED_SEARCH = "saved_search"
CATEGORY = "category"
TRENDING = "trending"


@dataclass(frozen=True, slots=True)
class Reason:
    """`before` + `subject` (emphasised on pages) + `after` is the sentence; `kind` says which."""

    kind: str
    before: str
    subject: str
    after: str = ""
    arxiv_id: str | None = None  # the library paper a "close to" reason names

    @property
    def text(self) -> str:
        return f"{self.before}{self.subject}{self.after}"


def reason_for(scored: Personal, row: int) -> Reason:
    """The reason of candidate `row`: an author the reader follows or keeps, then a saved search
    it matches, then the library paper it is closest to, then a followed category, else the
    community's trending. Kept in `scored.reasons` once made (the same for every page of it)."""
    kept = scored.reasons.get(row)
    if kept is None:
        made = _reason_for(scored, row)
        kept = scored.reasons[row] = (made.kind, made.before, made.subject, made.after, made.arxiv_id)
    return Reason(*kept)


def _reason_for(scored: Personal, row: int) -> Reason:
    reader, candidates = scored.reader, scored.candidates
    if scored.raw["authors"][row] > 0:
        return _author_reason(scored, row)
    if scored.raw["searches"][row] > 0:
        query = reader.followed_searches[int(np.flatnonzero(scored.searches_matched[:, row])[0])]
        return Reason(SAVED_SEARCH, "matches your saved search ", query)
    content = sum(float(points[row]) for name, points in scored.points.items() if name in FEATURES)
    nearest = int(scored.nearest_positive[row])
    if reader.positives and nearest >= 0 and content > 0:
        known = reader.positives[nearest]
        return Reason(CLOSE_TO, "close to ", known.title, " in your library", known.arxiv_id)
    followed = [c for c in candidates.categories[row] if c in set(reader.followed_categories)]
    if followed:
        return Reason(CATEGORY, "popular in ", followed[0], ", a category you follow")
    if reader.positives and nearest >= 0:
        known = reader.positives[nearest]
        return Reason(CLOSE_TO, "nearest to ", known.title, " in your library", known.arxiv_id)
    return Reason(TRENDING, "", "trending", " with the community")


def _author_reason(scored: Personal, row: int) -> Reason:
    followed = {normalise_name(name) for name in scored.reader.followed_authors}
    names = scored.candidates.authors[row]
    for name in names:
        if normalise_name(name) in followed:
            return Reason(FOLLOWED_AUTHOR, "by an author you follow: ", name)
    kept: set[str] = set()
    for known in scored.reader.positives:
        kept.update(normalise_name(name) for name in known.authors)
    for name in names:
        if normalise_name(name) in kept:
            return Reason(LIBRARY_AUTHOR, "by ", name, ", an author in your library")
    return Reason(TRENDING, "", "trending", " with the community")  # unreachable with a count > 0
