"""Submissions: a member puts a recent arXiv paper on today's feed.

- Any spelling of an id is accepted: 2506.12229, arXiv:2506.12229v2, hep-th/9901001, and abs /
  pdf / html links. A paper the catalogue does not hold is looked up in the arXiv API.
- Only papers whose first version is at most `submission_window_days` old can be submitted.
- A paper already on a feed (listed on some day, or submitted before) is not submitted again:
  the answer says so, and is not an error.
- A submission is a `submissions` row plus a listing of today (announce type "submitted"), so
  that the day's feed shows the paper through the ordinary feed queries; the submitter's upvote
  comes with it. All of it is one transaction: it happens completely or not at all.
- The arXiv look-up goes through the process's one shared client (integrations/arxiv_api.py):
  a request waits at most `arxiv_lookup_wait` seconds for it. Past that, or while arXiv has asked
  us to hold off, the member is told "arXiv is busy; try again in N s" (ArxivBusy) and nothing is
  written: a submission is never left half done for a background job to finish.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from paperboy.config import Settings
from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.models import Listing, PaperRecord
from paperboy.domain.users import User
from paperboy.integrations import arxiv_api
from paperboy.integrations.http import HttpClient, UpstreamBusy, UpstreamError
from paperboy.services import rate_limits
from paperboy.storage import submissions as store
from paperboy.storage.engine import now_utc
from paperboy.storage.paper_stats import add_to_stats
from paperboy.storage.papers import upsert_papers
from paperboy.storage.transactions import mark_catalogue_changed, write_transaction
from paperboy.storage.votes import insert_vote

log = logging.getLogger(__name__)

Fetch = Callable[[str], PaperRecord | None]  # canonical arXiv id -> its record, None if unknown
_ATTEMPTS = 3  # a transaction that lost a race (PostgreSQL) runs again and sees the winner's rows
_MAX_INPUT = 300


class SubmissionRefused(ValueError):
    """The member must change something (the id) or cannot submit this paper; says why (HTTP 400)."""


class ArxivUnavailable(Exception):
    """The arXiv API could not be asked about the paper; nothing was written (HTTP 502)."""


class ArxivBusy(ArxivUnavailable):
    """arXiv asked us to hold off, or would not answer within the wait; nothing was written
    (HTTP 503 with Retry-After: `retry_after` seconds)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    arxiv_id: str  # canonical, no version
    submitted: bool  # False: the paper was already on a feed, and nothing changed
    day: date | None = None  # the feed day it was submitted to

    @property
    def notice(self) -> str:
        """The notice the paper page shows after the redirect."""
        return "submitted" if self.submitted else "already-on-feed"


def submit_paper(
    engine: Engine,
    settings: Settings,
    user: User,
    text: str,
    ip: str,
    *,
    fetch: Fetch | None = None,
    now: datetime | None = None,
) -> SubmissionResult:
    """Put the paper `text` names on today's feed (UTC) with the member's upvote.

    SubmissionRefused (bad id, unknown to arXiv, too old), ArxivUnavailable, RateLimited.
    """
    arxiv_id = parse_submission(text)
    limits = rate_limits.member_limits(
        "submit", user.id, ip, settings.rate_limit_submit, settings.rate_limit_ip_factor
    )
    rate_limits.hit(engine, *limits, what="submissions")
    moment = now or now_utc()
    with engine.connect() as conn:
        target = store.submission_target(conn, arxiv_id)
    if target is not None and target.on_feed:
        return SubmissionResult(arxiv_id, submitted=False)
    record = None
    published = target.published_at if target else None
    if published is None:  # not in the catalogue, or without the date of its first version
        record = _look_up(fetch or arxiv_fetcher(settings), arxiv_id)
        published = first_version_date(record)
    check_window(arxiv_id, published, moment, settings.submission_window_days)
    return _record(engine, user, arxiv_id, record, moment)


def parse_submission(text: str) -> str:
    """The canonical id (no version) in what the member typed or pasted; SubmissionRefused if none."""
    raw = text.strip()[:_MAX_INPUT]
    if not raw:
        raise SubmissionRefused(
            "Enter an arXiv id or link, like 2506.12229 or https://arxiv.org/abs/2506.12229."
        )
    raw = raw.split("#", 1)[0].split("?", 1)[0]  # a link's query and anchor: ids have neither
    try:
        return parse_arxiv_id(raw).base
    except InvalidArxivId as exc:
        reason = str(exc)
        raise SubmissionRefused(reason if reason.endswith(".") else f"{reason}.") from None


def first_version_date(record: PaperRecord) -> datetime | None:
    first = record.versions[0] if record.versions else None
    return first.created if first is not None and first.number == 1 else None


def check_window(arxiv_id: str, published: datetime | None, now: datetime, days: int) -> None:
    """Refuse papers whose first version is older than the window (or of unknown age)."""
    if published is None:
        raise SubmissionRefused(
            f"arXiv does not say when {arxiv_id} first appeared, so it cannot be submitted."
        )
    age = now - published
    if age > timedelta(days=days):
        raise SubmissionRefused(
            f"{arxiv_id} is too old to submit: its first version appeared on {published:%Y-%m-%d}, "
            f"{_days(age.days)} ago. Only papers whose first version is at most {_days(days)} old "
            "can be submitted."
        )


def arxiv_fetcher(settings: Settings, client: HttpClient | None = None) -> Fetch:
    """Look a paper up in the arXiv API through the process's shared client (or `client`)."""
    if client is None:
        return arxiv_api.shared_lookup(settings).paper
    lookup = arxiv_api.ArxivLookup(client, settings.arxiv_api_url, settings.arxiv_lookup_wait)
    return lookup.paper


def _look_up(fetch: Fetch, arxiv_id: str) -> PaperRecord:
    try:
        record = fetch(arxiv_id)
    except UpstreamBusy as exc:
        log.info("arXiv look-up of %s not made or not finished: %s", arxiv_id, exc)
        seconds = max(1, math.ceil(exc.retry_after))
        raise ArxivBusy(
            f"arXiv is busy; try again in {seconds} s. {arxiv_id} is not in our catalogue yet, so "
            "we have to ask arXiv about it, and nothing was saved.",
            seconds,
        ) from exc
    except UpstreamError as exc:
        log.warning("arXiv look-up of %s failed: %s", arxiv_id, exc)
        raise ArxivUnavailable(
            f"arXiv did not answer our look-up of {arxiv_id}, so it could not be submitted. "
            "Nothing was saved: try again in a few minutes."
        ) from exc
    if record is None:
        raise SubmissionRefused(f"arXiv has no paper {arxiv_id}: check the id.")
    return record


def _record(
    engine: Engine, user: User, arxiv_id: str, record: PaperRecord | None, moment: datetime
) -> SubmissionResult:
    """Write the submission, running the transaction again if it lost a race with another writer."""
    for attempt in range(_ATTEMPTS):
        try:
            with write_transaction(engine) as conn:
                return _record_in(conn, user, arxiv_id, record, moment)
        except DBAPIError as exc:
            if attempt + 1 == _ATTEMPTS or not store.lost_a_race(exc):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _record_in(
    conn: Connection, user: User, arxiv_id: str, record: PaperRecord | None, moment: datetime
) -> SubmissionResult:
    if record is not None:
        upsert_papers(conn, [record])
    # Checked again under the lock: another member may have submitted it since the first look.
    target = store.submission_target(conn, arxiv_id, lock=True)
    if target is None:
        raise SubmissionRefused(f"arXiv's record of {arxiv_id} is incomplete (no title or abstract).")
    day = moment.date()
    if target.on_feed or not store.insert_submission(conn, target.paper_id, user.id, day, moment):
        return SubmissionResult(arxiv_id, submitted=False)
    # Through the catalogue's own merge: first_listed and the content hash stay right, and later
    # syncs of the paper keep this listing (listings are unions).
    upsert_papers(conn, [PaperRecord(arxiv_id, listings=(Listing(day, store.SUBMITTED),))])
    if insert_vote(conn, target.paper_id, user.id, moment):
        add_to_stats(conn, target.paper_id, upvotes=1)
    mark_catalogue_changed(conn)
    return SubmissionResult(arxiv_id, submitted=True, day=day)


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"
