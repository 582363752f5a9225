"""Alerts: what members hear about the things they follow and the papers they saved.

Kinds (each a row of `notifications`, unique per member, kind, paper and dedupe key, so the same
alert is never made twice, however often a pass runs over the same papers):

- `author`, `category`, `search`: a new paper (inserted by this write) is by a followed author
  (matched on the normalised name, domain/follows.py), in a followed category, or matches a
  followed saved search (every word, phrase and filter: storage/lexical.matching_ids).
- `version` (key `v<N>`), `code`, `journal`: a followed or saved paper got a new version, a code
  link in its abstract or comments, or a journal reference (one code and one journal alert per
  paper and member).
- `activity` (key `a<N>`): a followed or saved paper's upvotes plus comments, here and on
  Hugging Face, grew by `alert_activity_threshold` (10 by default) since its mark: the activity
  when it was first watched, or at its last activity alert.

`alert_on_changes` runs after each import and sync over the papers the write changed
(`UpsertResult.changes`), for every member at once: one INSERT … SELECT per kind, and each
distinct saved search evaluated once against the new papers only, never once per member.

Shown once ("never twice across web, mail and feed"): an alert is *new* until one channel shows
it — the notifications page (it marks what it lists seen), the digest (mailed_at), or the private
feed (fed_at). Mailing or feeding marks it seen too, so the page lists it as already seen, the
header does not count it, and no other channel takes it as new. The private feed keeps listing
the alerts it fed itself (same guid each time: a feed reader shows each once).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from paperboy.domain.search_query import InvalidSearchQuery, parse_search_query
from paperboy.storage import notifications as store
from paperboy.storage.engine import now_utc
from paperboy.storage.lexical import matching_ids
from paperboy.storage.papers import PaperChange
from paperboy.storage.transactions import write_transaction

__all__ = ["AlertReport", "alert_on_activity", "alert_on_changes"]


@dataclass(slots=True)
class AlertReport:
    made: dict[str, int] = field(default_factory=dict)  # kind -> alerts created
    searches: int = 0  # distinct saved searches evaluated
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.made.values())


def alert_on_changes(engine: Engine, changes: Sequence[PaperChange]) -> AlertReport:
    """Make the alerts these catalogue changes call for, for every member, in one transaction
    (after the saved searches were evaluated on a read connection)."""
    started = time.perf_counter()
    report = AlertReport()
    new = sorted({c.paper_id for c in changes if c.new})
    matches = _search_matches(engine, new, report)
    by_kind = {
        "version": [c.paper_id for c in changes if c.version is not None and not c.new],
        "code": [c.paper_id for c in changes if c.code and not c.new],
        "journal": [c.paper_id for c in changes if c.journal_ref and not c.new],
    }
    if new or any(by_kind.values()):
        now = now_utc()
        with write_transaction(engine) as conn:
            report.made["author"] = store.add_author_alerts(conn, new, now)
            report.made["category"] = store.add_category_alerts(conn, new, now)
            report.made["search"] = sum(
                store.add_search_alerts(conn, q, ids, now) for q, ids in matches.items()
            )
            for kind, ids in by_kind.items():
                report.made[kind] = store.add_paper_alerts(conn, kind, ids, now)
    report.seconds = time.perf_counter() - started
    return report


def _search_matches(engine: Engine, new: list[int], report: AlertReport) -> dict[str, list[int]]:
    if not new:
        return {}
    matches: dict[str, list[int]] = {}
    with engine.connect() as conn:
        for text in store.followed_searches(conn):
            try:
                query = parse_search_query(text)
            except InvalidSearchQuery:  # saved under an older parser: it alerts nobody
                continue
            report.searches += 1
            found = matching_ids(conn, query, new)
            if found:
                matches[text] = sorted(found)
    return matches


def alert_on_activity(engine: Engine, threshold: int) -> AlertReport:
    """Give watched papers without a mark their first one, and alert their watchers of those
    whose activity grew by `threshold` since; run after each sync."""
    started = time.perf_counter()
    report = AlertReport()
    with write_transaction(engine) as conn:
        now = now_utc()
        store.mark_watched_papers(conn, now)
        report.made["activity"] = store.add_activity_alerts(conn, threshold, now)
    report.seconds = time.perf_counter() - started
    return report
