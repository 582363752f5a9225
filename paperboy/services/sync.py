"""`paperboy sync`: fetch what is new upstream and merge it into the catalogue.

Three sources, each optional and independent, so one failing never stops the others and
never deletes anything already stored:
- arXiv's daily RSS listing for the followed categories: which papers were announced on
  which day, as new / cross-list / replacement (the source of truth for listing days);
- arXiv OAI-PMH, incrementally from the last harvested datestamp: full metadata (versions,
  DOI, licence). Papers it finds that no listing feed covered get their listing day
  estimated from arXiv's announcement schedule (domain/schedule.py);
- Hugging Face daily papers for each day of the window: upvotes, GitHub repository, stars.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import Engine

from paperboy.config import Settings
from paperboy.domain.arxiv_ids import parse_arxiv_id
from paperboy.domain.iterables import batched
from paperboy.domain.models import Listing, PaperRecord
from paperboy.domain.schedule import expected_listing_day
from paperboy.integrations import arxiv_api, arxiv_oai, arxiv_rss, hf_daily
from paperboy.integrations.embedder import EmbedderUnavailable
from paperboy.integrations.http import HttpClient, UpstreamError
from paperboy.services.alerts import alert_on_activity, alert_on_changes
from paperboy.storage.engine import now_utc
from paperboy.storage.hf import upsert_hf_signals
from paperboy.storage.papers import UpsertResult, ids_with_listings, write_papers
from paperboy.storage.queries import count_papers
from paperboy.storage.sync_state import (
    RUNNING_GOES_STALE,
    SYNC_MESSAGE_KEY,
    SYNC_STATE_KEY,
    SYNC_SUCCEEDED_KEY,
    claim_running,
    get_state,
    get_state_age,
    set_state,
)
from paperboy.storage.transactions import write_transaction

BATCH = 1000
Progress = Callable[[str], None]


class SyncBusy(RuntimeError):
    """Another process's sync is running: this one did not start."""


@dataclass(slots=True)
class SyncReport:
    written: UpsertResult = field(default_factory=UpsertResult)
    fetched: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    embedded: int | None = None  # papers embedded at the end (None: embedding was not run)
    alerts: int = 0  # alerts made for members (services/alerts.py)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def failure(self) -> str:
        return "; ".join(self.failures)

    def summary(self) -> str:
        fetched = ", ".join(f"{n} from {source}" for source, n in self.fetched.items()) or "nothing fetched"
        w = self.written
        embedded = "" if self.embedded is None else f"; {self.embedded} embedded for search"
        written = f"{w.inserted} new, {w.updated} updated, {w.unchanged} unchanged papers"
        return f"sync: {fetched}; {written}{embedded}"


def sync_catalogue(
    engine: Engine,
    settings: Settings,
    *,
    client: HttpClient | None = None,
    today: date | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Run every enabled source once; record the outcome in sync_state for the web pages.

    Raises SyncBusy, doing nothing, when another sync holds the claim (several hosts, cron and
    `serve` may all try at the same moment: exactly one of them runs)."""
    claim_sync(engine)
    today = today or now_utc().date()
    report = SyncReport()

    def say(line: str) -> None:
        _set(engine, "running", line.removeprefix("sync: "))  # a heartbeat, shown on the front page
        if progress:
            progress(line)

    say("sync: fetching papers from arXiv and Hugging Face")
    http = client or HttpClient.from_settings(settings)
    try:
        _run_source(report, "arXiv RSS", lambda: _sync_rss(engine, settings, http, report), say)
        _run_source(
            report, "arXiv OAI-PMH", lambda: _sync_oai(engine, settings, http, today, report, say), say
        )
        if settings.sync_hf:
            _run_source(
                report, "Hugging Face", lambda: _sync_hf(engine, settings, http, today, report, say), say
            )
        _alert(engine, settings, report, say)
        if settings.embed_on_sync:
            _embed(engine, settings, report, say)
    except Exception as exc:  # a bug or a database failure: the front page must not say "done"
        report.failures.append(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if client is None:
            http.close()
        _set(engine, "failed" if report.failures else "done", report.failure or report.summary())
    return report


def _alert(engine: Engine, settings: Settings, report: SyncReport, say: Progress) -> None:
    """Alerts for what this sync changed, and for watched papers' activity, for every member."""
    say("sync: alerts…")
    report.alerts = alert_on_changes(engine, report.written.changes).total
    report.alerts += alert_on_activity(engine, settings.alert_activity_threshold).total


def _embed(engine: Engine, settings: Settings, report: SyncReport, say: Progress) -> None:
    """Embed what this sync (or anything before it) added or changed, for search by meaning."""
    from paperboy.services.search_index import embed_new_papers  # loads numpy only when needed

    say("sync: embedding new papers for search…")
    try:
        report.embedded = embed_new_papers(engine, settings).embedded
    except EmbedderUnavailable as exc:
        report.failures.append(f"embedding: {exc}")
        say(f"sync: embedding failed: {exc}")


def _run_source(report: SyncReport, name: str, run: Callable[[], int], say: Progress) -> None:
    say(f"sync: {name}…")  # also the heartbeat of the "running" state
    try:
        report.fetched[name] = run()
    except UpstreamError as exc:
        report.failures.append(f"{name}: {exc}")
        say(f"sync: {name} failed: {exc}")


def _sync_rss(engine: Engine, settings: Settings, http: HttpClient, report: SyncReport) -> int:
    records = arxiv_rss.fetch_listing(http, settings.arxiv_rss_url, settings.categories)
    _write(engine, records, report.written)
    return len(records)


def _sync_oai(
    engine: Engine, settings: Settings, http: HttpClient, today: date, report: SyncReport, say: Progress
) -> int:
    total = 0
    for set_spec in sorted({oai_set(category) for category in settings.categories}):
        key = f"oai:{set_spec}:harvested_until"
        with engine.connect() as conn:
            known = get_state(conn, key)
        start = date.fromisoformat(known) if known else today - timedelta(days=settings.sync_days)
        harvested = arxiv_oai.harvest(
            http,
            settings.arxiv_oai_url,
            metadata_prefix="arXiv",
            set_spec=set_spec,
            from_date=start,
            until_date=today,
        )
        for batch in batched((item.record for item in harvested), BATCH):
            _write(engine, _with_estimated_listings(engine, batch, settings, start, today), report.written)
            total += len(batch)
            say(f"sync: {set_spec}: {total} records")
        with write_transaction(engine) as conn:  # only a completed harvest moves the mark forward
            set_state(conn, key, today.isoformat())
    return total


def oai_set(category: str) -> str:
    """cs.AI -> cs:cs:AI, math.GT -> math:math:GT, the setSpecs of arXiv's OAI-PMH service."""
    archive, _, _ = category.partition(".")
    group = archive if archive in _GROUPS else "physics"
    return f"{group}:{category.replace('.', ':')}" if "." in category else f"{group}:{archive}"


_GROUPS = {"cs", "econ", "eess", "math", "q-bio", "q-fin", "stat", "physics"}


def _with_estimated_listings(
    engine: Engine, records: list[PaperRecord], settings: Settings, start: date, today: date
) -> list[PaperRecord]:
    """Give papers that no listing feed covered the day arXiv's schedule says they appeared."""
    with engine.connect() as conn:
        listed = ids_with_listings(conn, [r.arxiv_id for r in records])
    followed = set(settings.categories)
    out = []
    for record in records:
        first = record.versions[0] if record.versions and record.versions[0].number == 1 else None
        if record.listings or record.arxiv_id in listed or first is None or first.created is None:
            out.append(record)
            continue
        day = expected_listing_day(first.created)
        kind = "new" if record.categories and record.categories[0] in followed else "cross"
        out.append(replace(record, listings=(Listing(day, kind),)) if start <= day <= today else record)
    return out


def _sync_hf(
    engine: Engine, settings: Settings, http: HttpClient, today: date, report: SyncReport, say: Progress
) -> int:
    total = 0
    for offset in range(settings.sync_days, -1, -1):
        day = today - timedelta(days=offset)
        say(f"sync: Hugging Face daily papers of {day.isoformat()}")
        response = http.get(
            f"{settings.hf_api_url.rstrip('/')}/daily_papers", params={"date": day.isoformat()}
        )
        pairs = hf_daily.parse_daily_papers(response.content)
        _write(engine, [record for record, _ in pairs], report.written)
        with write_transaction(engine) as conn:
            upsert_hf_signals(conn, [signal for _, signal in pairs])
        total += len(pairs)
    return total


def _write(engine: Engine, records: list[PaperRecord], written: UpsertResult) -> None:
    for batch in batched(records, BATCH):
        written.add(write_papers(engine, batch))


def _set(engine: Engine, state: str, message: str) -> None:
    with write_transaction(engine) as conn:
        set_state(conn, SYNC_STATE_KEY, state)
        set_state(conn, SYNC_MESSAGE_KEY, message[:2000])
        if state == "done":
            set_state(conn, SYNC_SUCCEEDED_KEY, "done")  # its updated_at: /metrics' sync lag


def claim_sync(engine: Engine) -> None:
    """Mark a sync running, atomically; SyncBusy when another one already is (and is not stale)."""
    with write_transaction(engine) as conn:
        won = claim_running(conn, SYNC_STATE_KEY, RUNNING_GOES_STALE)
        if won:
            set_state(conn, SYNC_MESSAGE_KEY, "starting")
    if not won:
        raise SyncBusy("another sync is running (try again when it has finished)")


def sync_is_running(engine: Engine) -> bool:
    """A "running" mark older than an hour was left by a process that died mid-sync."""
    with engine.connect() as conn:
        state = get_state_age(conn, SYNC_STATE_KEY)
    return state is not None and state[0] == "running" and state[1] < RUNNING_GOES_STALE


def catalogue_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return count_papers(conn) == 0


@dataclass(slots=True)
class FetchReport:
    written: UpsertResult
    missing: list[str]  # ids arXiv does not know


def fetch_papers_by_id(
    engine: Engine, settings: Settings, ids: list[str], *, client: HttpClient | None = None
) -> FetchReport:
    """Look papers up in the arXiv API and merge them in (for ids a listing did not bring).

    Raises InvalidArxivId before any request when an id is malformed, UpstreamError when arXiv fails.
    """
    wanted = list(dict.fromkeys(parse_arxiv_id(text).base for text in ids))
    http = client or HttpClient.from_settings(settings)
    try:
        records = arxiv_api.fetch_papers(http, settings.arxiv_api_url, wanted)
    finally:
        if client is None:
            http.close()
    written = UpsertResult()
    _write(engine, records, written)
    alert_on_changes(engine, written.changes)
    found = {record.arxiv_id for record in records}
    return FetchReport(written, [arxiv_id for arxiv_id in wanted if arxiv_id not in found])
