"""The digest use cases: sending the editions due, exactly once per subscriber; what an edition
offers; previewing a subscriber's next digest; where subscriptions and editions stand. The run
itself (the lease, the connections, the send log) is services/digest_sender.py's, the mail
services/digest_mail.py's.

An edition is sent by one run at a time (a lease on its row, kept alive by a heartbeat). For each
waiting subscriber the run picks the papers (domain/digest.py), hands the mail to the server and,
as soon as the server has accepted it, records it in the send log in one short transaction with
the papers it carried. A run that is killed and started again skips every recorded mail; only a
mail the server accepted in the last instant before the kill, before its record was written, can
go out twice, and then with the same Message-ID, which mail clients show once.

Refusals: a 4xx (or a dropped connection) is tried again after `digest_retry_seconds`, doubling,
up to `digest_retries` attempts, while the run goes on with the others; a mail still refused is
logged as deferred and retried by the next run of the edition (for a day). A 5xx marks the
address bouncing: it gets nothing more until its owner subscribes again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine

from paperboy.config import Settings
from paperboy.domain.calendar import day_period
from paperboy.domain.digest import (
    Candidate,
    DigestPaper,
    Edition,
    EditionContent,
    Preferences,
    Progress,
    Selector,
    SendReport,
    Subscription,
    candidate_text,
    daily_edition,
    due_editions,
    weekly_edition,
)
from paperboy.domain.trending import rank, reference_time, trending_params
from paperboy.integrations.mail import Delivery
from paperboy.services.digest_mail import DigestRenderer
from paperboy.services.digest_personal import PersonalDigests, VectorSource, ready_index
from paperboy.services.digest_processes import process_count, send_in_processes
from paperboy.services.digest_sender import SendingRun, hold_edition
from paperboy.services.digest_vectors import ProcessVectors
from paperboy.services.hydrate import hydrate_papers
from paperboy.services.recommend import recommend_papers
from paperboy.services.subscriptions import DigestLinks
from paperboy.services.vector_search import Vectors
from paperboy.storage import digests as store
from paperboy.storage import queries, trending_queries
from paperboy.storage.engine import now_utc

# --- sending --------------------------------------------------------------------------------------


def send_due_digests(
    engine: Engine,
    settings: Settings,
    *,
    today: date | None = None,
    now: Callable[[], datetime] = now_utc,
    deliveries: Callable[[], Delivery] | None = None,
    progress: Progress | None = None,
    vectors: VectorSource | None = None,
) -> list[SendReport]:
    """Send every edition due `today` (default: today, UTC) that has subscribers waiting."""
    day = today or now().date()
    own = ProcessVectors(engine, settings) if vectors is None else None  # loaded once, for every edition
    try:
        return [
            send_edition(
                engine,
                settings,
                edition,
                now=now,
                deliveries=deliveries,
                progress=progress,
                vectors=vectors or own,
            )
            for edition in editions_due(engine, day)
        ]
    finally:
        if own is not None:
            own.close()


def send_edition(
    engine: Engine,
    settings: Settings,
    edition: Edition,
    *,
    now: Callable[[], datetime] = now_utc,
    deliveries: Callable[[], Delivery] | None = None,
    progress: Progress | None = None,
    vectors: VectorSource | None = None,
) -> SendReport:
    """Send one edition to every subscriber still waiting for it, over `digest_connections`
    connections (`deliveries` makes each; default: SMTP or the outbox, as configured).
    Members' "For you" ranks with `vectors`' index (default: one loaded for this run), read
    only when members wait.
    EditionBusy when another run holds it; MailServerUnavailable (after recording what was sent)
    when the server is gone."""
    started = time.monotonic()
    report = SendReport(edition)
    with engine.connect() as conn:
        waiting = store.subscribers_waiting(conn, edition)
        report.already = sum(store.edition_counts(conn, edition.key).get(s, 0) for s in store.FINAL)
    if not waiting and report.already == 0:
        return report  # nobody subscribes to it: no edition row, nothing to claim
    with hold_edition(engine, edition, now) as lease:
        count = process_count(settings, len(waiting))
        if count > 1 and now is now_utc and deliveries is None:  # a clock or mailer given: this process
            send_in_processes(engine, settings, report, lease.sender, now(), waiting, count)
        elif waiting:
            moment = now()
            content = edition_content(engine, settings, edition, moment)
            members = any(subscription.user_id is not None for subscription in waiting)
            own = ProcessVectors(engine, settings) if members and vectors is None else None
            source = vectors or own
            index = ready_index(source) if members and source is not None else None
            personal = PersonalDigests(engine, content, index, trending_params(settings), moment)
            run = SendingRun(
                engine, settings, content, lease, report, now=now, personal=personal, deliveries=deliveries
            )
            try:
                run.send(waiting, progress)
            finally:
                if own is not None:
                    own.close()
        lease.finished = report.deferred == 0
        report.finished = lease.finished
    report.seconds = time.monotonic() - started
    return report


def editions_due(engine: Engine, today: date) -> list[Edition]:
    with engine.connect() as conn:
        latest = queries.latest_listing_day(conn)
    return due_editions(today, latest)


# --- what an edition offers -----------------------------------------------------------------------


def edition_content(engine: Engine, settings: Settings, edition: Edition, now: datetime) -> EditionContent:
    """Every paper listed in the edition's days (once, at its first listing among them), ranked as
    the trending page of those days ranks them. A paper listed again on a later day is offered
    again, as that day's page shows it; "only papers new to me" leaves it out."""
    with engine.connect() as conn:
        found = trending_queries.listed_candidates(conn, edition.start, edition.end)
        reference = reference_time(edition.end, now)
        ids, _ = rank((row.candidate for row in found), trending_params(settings), reference)
        papers = _digest_papers(conn, ids)
    candidates = [
        Candidate(
            pid,
            candidate_text(papers[pid].paper.title, papers[pid].paper.abstract),
            frozenset(papers[pid].paper.categories),
        )
        for pid in ids
        if pid in papers
    ]
    return EditionContent(edition, papers, Selector(candidates))


def _digest_papers(conn: Connection, ids: list[int]) -> dict[int, DigestPaper]:
    papers: dict[int, DigestPaper] = {}
    for start in range(0, len(ids), 1000):
        for view in hydrate_papers(conn, ids[start : start + 1000]):
            paper, counts = view.paper, view.community
            hf = paper.hf.upvotes if paper.hf else 0
            papers[paper.id] = DigestPaper(paper, counts.upvotes, counts.comments, hf)
    return papers


# --- previews -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Preview:
    edition: Edition
    papers: list[DigestPaper]
    html: str
    text: str
    subject: str


def next_edition(subscription: Subscription, today: date, latest_listing: date | None) -> Edition:
    """The edition a subscriber would get next, as far as the catalogue knows: the latest listing
    day for daily subscribers, their next weekday (today included) for weekly ones."""
    if subscription.preferences.frequency == "daily":
        return daily_edition(latest_listing or today)
    ahead = (subscription.preferences.weekday - today.weekday()) % 7
    return weekly_edition(today + timedelta(days=ahead))


def preview_digest(
    engine: Engine,
    settings: Settings,
    subscription: Subscription,
    *,
    today: date | None = None,
    now: datetime | None = None,
    index: Vectors | None = None,
) -> Preview:
    """The subscriber's next digest as it would be mailed now (papers already mailed left out),
    a member's "For you" ranked with `index`'s vectors."""
    moment = now or now_utc()
    with engine.connect() as conn:
        latest = queries.latest_listing_day(conn)
    edition = next_edition(subscription, today or moment.date(), latest)
    content = edition_content(engine, settings, edition, moment)
    with engine.connect() as conn:
        mailed = store.mailed_among(conn, content.paper_ids, [subscription.id])
    personal = PersonalDigests(engine, content, index, trending_params(settings), moment)
    mail = personal.pick(subscription, mailed.get(subscription.id, set()))
    mail_links = DigestLinks(engine, settings).mail_links(subscription)
    renderer = DigestRenderer(settings)
    digest = renderer.render(edition, subscription, mail.papers, mail_links, section=mail.section)
    return Preview(edition, mail.papers, digest.html, digest.text, digest.subject)


def personal_papers(
    engine: Engine,
    settings: Settings,
    preferences: Preferences,
    *,
    user_id: int | None = None,
    index: Vectors | None = None,
    now: datetime | None = None,
) -> tuple[Edition, list[DigestPaper]] | None:
    """The latest listing day's papers a reader's digest preferences select (categories, keywords,
    top N), in trending order, or in the member `user_id`'s "For you" order when their digest is
    ranked so (with `index`'s vectors), for their private feed; None while nothing is listed.
    Papers already mailed stay in: a feed shows the day as it is."""
    with engine.connect() as conn:
        latest = queries.latest_listing_day(conn)
    if latest is None:
        return None
    moment = now or now_utc()
    edition = daily_edition(latest)
    content = edition_content(engine, settings, edition, moment)
    everything = replace(preferences, only_new=False)
    order = None
    if preferences.for_you and user_id is not None:
        found = recommend_papers(
            engine, index, user_id, day_period(latest), trending=trending_params(settings), now=moment
        )
        order = found.ranking()[0]
    chosen = content.selector.select(everything, order=order)
    return edition, [content.papers[paper_id] for paper_id in chosen]


# --- where things stand ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestStatus:
    subscriptions: dict[str, int]  # by status
    editions: list[store.EditionRow]  # the latest first


def digest_status(engine: Engine) -> DigestStatus:
    """Subscriptions counted by status, and the latest editions with their sends counted."""
    with engine.connect() as conn:
        return DigestStatus(store.count_subscriptions(conn), store.recent_editions(conn))
