"""E-mail digests, the pure part: a subscriber's preferences, which editions are due on a day,
which papers of an edition each subscriber gets, and what a sending run reports.

A daily edition covers one listing day and goes out on weekdays once that day's listing is in; a
weekly edition goes out on the weekday a subscriber chose and covers the seven days before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from paperboy.domain.arxiv_ids import abs_url, pdf_url
from paperboy.domain.calendar import format_day, format_span
from paperboy.domain.categories import is_arxiv_category
from paperboy.domain.math_markup import cut_outside_math
from paperboy.domain.models import Paper

Frequency = Literal["daily", "weekly"]
FREQUENCIES: tuple[Frequency, ...] = ("daily", "weekly")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_TOP_N = 50
MAX_KEYWORDS = 20
MAX_KEYWORD_LENGTH = 60
MAX_CATEGORIES = 30
LATE_DAYS = 1  # a daily edition still goes out this many days after its listing day, never later
ABSTRACT_LENGTH = 420  # a mailed abstract is cut (at a word) to this many characters
AUTHORS_SHOWN = 4


FOR_YOU_MEMBERS_ONLY = (
    'Only a digest that belongs to an account can be ranked "For you": subscribe from your '
    "account's settings (log in, then Settings → Digest), so that it can learn what you read."
)


class InvalidPreferences(ValueError):
    """Preferences a subscriber must correct; the message says how (shown as is)."""


@dataclass(frozen=True, slots=True)
class Preferences:
    frequency: Frequency = "daily"
    weekday: int = 0  # weekly editions: 0 = Monday
    top_n: int = 10
    categories: tuple[str, ...] = ()  # empty: every category; "cs" means every cs.* category
    include: tuple[str, ...] = ()  # a paper must match one of these (empty: no requirement)
    exclude: tuple[str, ...] = ()  # a paper matching any of these is left out
    only_new: bool = True  # never mail a paper twice to the same subscriber
    for_you: bool = False  # members only: rank by the member's "For you" order instead of trending

    @property
    def schedule(self) -> str:
        if self.frequency == "daily":
            return "every weekday, once the day's papers are listed"
        return f"every {WEEKDAYS[self.weekday]}, covering the week before"

    @property
    def filters(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """What selects papers (the same for every subscriber who chose the same)."""
        return self.categories, self.include, self.exclude


def check_preferences(
    *,
    frequency: str,
    weekday: str | int,
    top_n: str | int,
    categories: str | Iterable[str],
    include: str | Iterable[str],
    exclude: str | Iterable[str],
    only_new: bool,
    for_you: bool = False,
    member: bool = False,
) -> Preferences:
    """Preferences from a form (text fields) or code; InvalidPreferences says what to fix.
    `member`: the subscription belongs to an account (only those can have "For you")."""
    if frequency not in FREQUENCIES:
        raise InvalidPreferences("Choose how often: daily or weekly.")
    if for_you and not member:
        raise InvalidPreferences(FOR_YOU_MEMBERS_ONLY)
    return Preferences(
        frequency=frequency,
        weekday=_number(weekday, "The weekday", 0, 6),
        top_n=_number(top_n, "The number of papers", 1, MAX_TOP_N),
        categories=_categories(categories),
        include=_keywords(include, "keywords to include"),
        exclude=_keywords(exclude, "keywords to leave out"),
        only_new=bool(only_new),
        for_you=bool(for_you),
    )


def _number(value: str | int, what: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidPreferences(f"{what} must be a whole number from {low} to {high}.") from None
    if not low <= number <= high:
        raise InvalidPreferences(f"{what} must be from {low} to {high}.")
    return number


def _split(value: str | Iterable[str], separators: str) -> list[str]:
    items = re.split(separators, value) if isinstance(value, str) else list(value)
    return list(dict.fromkeys(item.strip() for item in items if item.strip()))


def _categories(value: str | Iterable[str]) -> tuple[str, ...]:
    names = _split(value, r"[\s,;]+")
    bad = [name for name in names if not is_arxiv_category(name)]
    if bad:
        shown = ", ".join(repr(name[:40]) for name in bad[:3])
        raise InvalidPreferences(
            f"Not arXiv categories: {shown}. Write them like cs.LG, or cs for all of cs."
        )
    if len(names) > MAX_CATEGORIES:
        raise InvalidPreferences(f"Choose at most {MAX_CATEGORIES} categories.")
    return tuple(names)


def _keywords(value: str | Iterable[str], what: str) -> tuple[str, ...]:
    words = _split(value, r"[\n,;]+")
    if len(words) > MAX_KEYWORDS:
        raise InvalidPreferences(f"Give at most {MAX_KEYWORDS} {what}.")
    long = [word for word in words if len(word) > MAX_KEYWORD_LENGTH]
    if long:
        raise InvalidPreferences(f"Keep {what} under {MAX_KEYWORD_LENGTH} characters each.")
    return tuple(" ".join(word.split()) for word in words)


# --- editions ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Edition:
    """One mailing: every subscriber of `frequency` (and, weekly, of `weekday`) gets it once."""

    frequency: Frequency
    start: date  # the listing days it covers, inclusive
    end: date
    day: date  # the day it goes out for (the listing day, or the weekly subscribers' weekday)

    @property
    def key(self) -> str:
        return f"{self.frequency}:{self.day.isoformat()}"

    @property
    def weekday(self) -> int | None:
        return self.day.weekday() if self.frequency == "weekly" else None

    @property
    def label(self) -> str:
        if self.frequency == "daily":
            return format_day(self.day)
        return f"the week of {format_span(self.start, self.end)}"


def daily_edition(listing_day: date) -> Edition:
    return Edition("daily", listing_day, listing_day, listing_day)


def weekly_edition(day: date) -> Edition:
    """The weekly edition going out on `day`: the seven days before it."""
    return Edition("weekly", day - timedelta(days=7), day - timedelta(days=1), day)


def parse_edition_key(key: str) -> Edition:
    """An edition from its key ("daily:2026-11-27"); ValueError with a reason otherwise."""
    frequency, _, day_text = key.partition(":")
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise ValueError(
            f"{key[:40]!r} is not an edition: write daily:YYYY-MM-DD or weekly:YYYY-MM-DD"
        ) from None
    if frequency == "daily":
        return daily_edition(day)
    if frequency == "weekly":
        return weekly_edition(day)
    raise ValueError(f"{key[:40]!r} is not an edition: write daily:YYYY-MM-DD or weekly:YYYY-MM-DD")


def due_editions(today: date, latest_listing: date | None) -> list[Edition]:
    """The editions that should go out on `today`: the daily one once the day's listing is in (a
    day late at most, so a site that was down does not mail stale news), and the weekly one."""
    editions = []
    weekday = latest_listing is not None and latest_listing.weekday() < 5
    if weekday and latest_listing and today - timedelta(days=LATE_DAYS) <= latest_listing <= today:
        editions.append(daily_edition(latest_listing))
    editions.append(weekly_edition(today))
    return editions


# --- choosing papers -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A paper of the edition, in trending order, with what the filters look at."""

    paper_id: int
    text: str  # title and abstract, lower-cased, whitespace collapsed
    categories: frozenset[str]


@dataclass(slots=True)
class Selector:
    """Picks each subscriber's papers from one edition's candidates (in trending order).

    Subscribers who chose the same filters share the work: each keyword and category is matched
    against the candidates once, and each combination of filters is ranked once.
    """

    candidates: Sequence[Candidate]
    _keyword_hits: dict[str, frozenset[int]] = field(default_factory=dict)
    _ranked: dict[tuple[tuple[str, ...], ...], list[int]] = field(default_factory=dict)
    _passing: dict[tuple[tuple[str, ...], ...], frozenset[int]] = field(default_factory=dict)

    def select(
        self,
        preferences: Preferences,
        mailed: frozenset[int] | set[int] = frozenset(),
        order: Sequence[int] | None = None,
    ) -> list[int]:
        """The paper ids for one subscriber: the top N that pass the filters, skipping papers
        already mailed to them when they asked for new papers only. `order` (a member's "For
        you" ranking of the edition's papers) replaces the trending order."""
        ranked: Sequence[int] = self.ranked(preferences)
        if order is not None:
            passing = self.passing(preferences)
            ranked = [paper_id for paper_id in order if paper_id in passing]
        skip = mailed if preferences.only_new else frozenset()
        chosen: list[int] = []
        for paper_id in ranked:
            if paper_id not in skip:
                chosen.append(paper_id)
                if len(chosen) == preferences.top_n:
                    break
        return chosen

    def ranked(self, preferences: Preferences) -> list[int]:
        key = preferences.filters
        ranked = self._ranked.get(key)
        if ranked is None:
            ranked = self._ranked[key] = self._rank(*key)
        return ranked

    def passing(self, preferences: Preferences) -> frozenset[int]:
        """The ids that pass the preferences' filters (kept per combination of filters)."""
        key = preferences.filters
        found = self._passing.get(key)
        if found is None:
            found = self._passing[key] = frozenset(self.ranked(preferences))
        return found

    def _rank(
        self, categories: tuple[str, ...], include: tuple[str, ...], exclude: tuple[str, ...]
    ) -> list[int]:
        wanted = [i for i, c in enumerate(self.candidates) if in_categories(c.categories, categories)]
        if include:
            hits = frozenset().union(*(self._hits(word) for word in include))
            wanted = [i for i in wanted if i in hits]
        if exclude:
            misses = frozenset().union(*(self._hits(word) for word in exclude))
            wanted = [i for i in wanted if i not in misses]
        return [self.candidates[i].paper_id for i in wanted]

    def _hits(self, keyword: str) -> frozenset[int]:
        hits = self._keyword_hits.get(keyword)
        if hits is None:
            pattern = keyword_pattern(keyword)
            hits = frozenset(i for i, c in enumerate(self.candidates) if pattern.search(c.text))
            self._keyword_hits[keyword] = hits
        return hits


def in_categories(paper: frozenset[str], wanted: tuple[str, ...]) -> bool:
    """True when the paper is in one of `wanted` (cross-lists count); "cs" stands for all cs.*."""
    if not wanted:
        return True
    for name in wanted:
        if name in paper or ("." not in name and any(c.startswith(name + ".") for c in paper)):
            return True
    return False


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """A keyword matches where a word starts with it, whatever the case ("transformer" finds
    "Transformers"); a phrase matches its words in order, across any whitespace."""
    words = [re.escape(word) for word in keyword.lower().split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words))


def candidate_text(title: str, abstract: str) -> str:
    return " ".join(f"{title} {abstract}".lower().split())


# --- subscriptions -------------------------------------------------------------------------------

STATUSES = ("pending", "active", "unsubscribed", "bouncing")


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    email: str
    user_id: int | None
    status: str  # pending (not confirmed) | active | unsubscribed | bouncing (a permanent failure)
    nonce: str  # inside its signed links; a new one revokes every link sent before
    preferences: Preferences

    @property
    def active(self) -> bool:
        return self.status == "active"


# --- what an edition offers ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestPaper:
    """One paper as a digest shows it."""

    paper: Paper
    upvotes: int
    comments: int
    hf_upvotes: int

    @property
    def authors(self) -> str:
        names = self.paper.authors
        if len(names) <= AUTHORS_SHOWN + 1:
            return ", ".join(names)
        return f"{', '.join(names[:AUTHORS_SHOWN])} and {len(names) - AUTHORS_SHOWN} more"

    @property
    def abstract(self) -> str:
        return trim(self.paper.abstract, ABSTRACT_LENGTH)

    @property
    def code_url(self) -> str | None:
        return next((link.url for link in self.paper.links if link.kind == "code"), None)

    @property
    def abs_url(self) -> str:
        return abs_url(self.paper.arxiv_id)

    @property
    def pdf_url(self) -> str:
        return pdf_url(self.paper.arxiv_id)


def trim(text: str, length: int) -> str:
    """At most `length` characters, cut at a word boundary (and never inside a TeX formula,
    unless it is all one), with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    cut = text[: length - 1].rsplit(" ", 1)[0]
    cut = text[: cut_outside_math(text, len(cut))] or cut
    return cut.rstrip(",;:. ") + "…"


@dataclass(frozen=True, slots=True)
class EditionContent:
    """What an edition can offer: its papers in trending order, ready to pick from and render."""

    edition: Edition
    papers: dict[int, DigestPaper]
    selector: Selector

    @property
    def paper_ids(self) -> list[int]:
        return [candidate.paper_id for candidate in self.selector.candidates]

    def pick(
        self,
        subscription: Subscription,
        mailed: set[int] | frozenset[int],
        order: Sequence[int] | None = None,
    ) -> list[DigestPaper]:
        chosen = self.selector.select(subscription.preferences, mailed, order)
        return [self.papers[pid] for pid in chosen]


@dataclass(frozen=True, slots=True)
class PersonalPick:
    """A paper of the mail's "For you" section, and why (the reason the For you page shows)."""

    item: DigestPaper
    reason: str


PERSONAL_SECTION = 3  # papers in a member's "For you" section


def personal_section(
    ranked: Sequence[int], main: Iterable[int], mailed: Iterable[int], size: int = PERSONAL_SECTION
) -> list[int]:
    """The first `size` of a member's "For you" ranking of the edition that the mail's main list
    does not carry and that no digest mailed them before."""
    skip = set(main) | set(mailed)
    return [paper_id for paper_id in ranked if paper_id not in skip][:size]


@dataclass(frozen=True, slots=True)
class MailLinks:
    """The subscriber's own links in a digest: every one carries their signed token."""

    manage: str
    unsubscribe: str
    preview: str


# --- sending runs --------------------------------------------------------------------------------


class EditionBusy(RuntimeError):
    """Another run is sending this edition right now."""


@dataclass(slots=True)
class SendReport:
    """What one run of an edition did, counted mail by mail."""

    edition: Edition
    subscribers: int = 0  # waiting when the run started
    sent: int = 0
    skipped: int = 0  # nothing in the edition passed their filters
    bounced: int = 0
    deferred: int = 0  # still refused for now after every attempt: the next run tries again
    retries: int = 0  # attempts after a temporary refusal
    already: int = 0  # recorded by an earlier run
    processes: int = 1  # that sent it (services/digest_processes.py)
    seconds: float = 0.0
    finished: bool = False

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


Progress = Callable[[SendReport], None]
