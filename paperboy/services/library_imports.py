"""Importing into a member's library: a reference manager's export, a list of arXiv ids, or a
paperboy library file (from this site or another one).

`import_library` reads the file (domain/reference_formats.py), then in one write transaction
saves every paper the catalogue already holds (by arXiv id, else by exact title), records the
import with what could not be matched, and queues the papers to fetch: a file that cannot be
read writes nothing. `run_library_imports` (the background of `serve`, services/background.py)
fetches queued papers from the arXiv API through the process's shared, polite client, 100 ids a
request, writes them through the catalogue's one write path and saves them, batch by batch, so
that the import's page shows its progress. arXiv failing puts the import back in the queue;
after `MAX_ATTEMPTS` failed turns it is marked failed, with what it had saved kept.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from paperboy.config import Settings
from paperboy.domain.library_document import LibraryDocument, dump_document, load_document
from paperboy.domain.library_import import (
    KIND_NAMES,
    ImportEntry,
    ImportFileError,
    canonical_or_none,
    checked_entries,
    find_arxiv_id,
    title_spellings,
)
from paperboy.domain.reference_formats import Upload, read_upload
from paperboy.domain.users import User
from paperboy.integrations import arxiv_api
from paperboy.integrations.http import HttpClient, UpstreamError
from paperboy.services import rate_limits
from paperboy.services.library_restore import Filing, Found, apply_found, prepare_filing
from paperboy.storage import library_imports as store
from paperboy.storage.engine import now_utc
from paperboy.storage.library_imports import ImportRow, WaitingItem
from paperboy.storage.papers import write_papers
from paperboy.storage.queries import paper_ids_by_arxiv_ids
from paperboy.storage.transactions import write_transaction

__all__ = [
    "ImportFileError",
    "ImportProgress",
    "ImportRefused",
    "import_ids",
    "import_library",
    "import_progress",
    "imports_waiting",
    "progress_of",
    "recent_imports",
    "run_library_imports",
]

log = logging.getLogger(__name__)
Choice = int | str | None  # a collection to import into: one of the member's ids, "new", or none
MAX_UNFINISHED = 3  # imports a member may have queued or running at once
MAX_ATTEMPTS = 3  # failed turns with arXiv before an import is marked failed
FETCH_BATCH = arxiv_api.CHUNK_SIZE
RETRY_AFTER = timedelta(minutes=5)  # an import put back after arXiv failed waits this long
STALE_AFTER = timedelta(minutes=10)  # a running import without a heartbeat this long is taken over


class ImportRefused(Exception):
    """The member may not start this import now; says why (HTTP 429 with `retry_after`)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ImportProgress:
    id: int
    kind: str
    filename: str
    status: str  # queued | running | done | failed
    total: int
    matched: int
    fetched: int
    unmatched: list[str]
    message: str | None
    created_at: datetime
    finished_at: datetime | None
    collection_id: int | None

    @property
    def waiting(self) -> int:
        return max(0, self.total - self.matched - self.fetched - len(self.unmatched))

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind)


def import_library(
    engine: Engine,
    settings: Settings,
    user: User,
    data: bytes,
    filename: str,
    ip: str,
    collection: Choice = None,
) -> ImportProgress:
    """Import an uploaded file, into `collection` too when given (one of the member's ids, or
    "new": one named after the file; a paperboy library file brings its own). ImportFileError
    (nothing written), ImportRefused, RateLimited, CollectionNotFound, CollectionFull."""
    return _start(engine, settings, user, read_upload(data, filename), filename, ip, collection)


def import_ids(
    engine: Engine, settings: Settings, user: User, ids: Sequence[str], ip: str, collection: Choice = None
) -> ImportProgress:
    """Import a list of arXiv ids or links (the API's JSON form); as import_library."""
    texts = [" ".join(text.replace("\x00", "").split())[:300] for text in ids]
    entries = checked_entries(_id_entry(text) for text in texts if text)
    return _start(engine, settings, user, Upload("ids", entries), "ids", ip, collection)


def _id_entry(text: str) -> ImportEntry:
    found = canonical_or_none(text) or find_arxiv_id(text)
    return ImportEntry(found, None if found else text)


def import_progress(engine: Engine, user: User, import_id: int) -> ImportProgress | None:
    """The member's import; None for one that does not exist or is another member's."""
    with engine.connect() as conn:
        row = store.import_of(conn, import_id, user.id)
    return None if row is None else progress_of(row)


def recent_imports(engine: Engine, user: User, limit: int = 5) -> list[ImportProgress]:
    with engine.connect() as conn:
        return [progress_of(row) for row in store.recent_imports(conn, user.id, limit)]


def _start(
    engine: Engine, settings: Settings, user: User, upload: Upload, filename: str, ip: str, collection: Choice
) -> ImportProgress:
    name = " ".join(filename.split())[:200] or "upload"
    limits = rate_limits.member_limits(
        "library-import", user.id, ip, settings.rate_limit_library_import, settings.rate_limit_ip_factor
    )
    with write_transaction(engine) as conn:
        wait = rate_limits.count_in(conn, *limits)
        unfinished = store.count_unfinished(conn, user.id) if wait is None else 0
        allowed = wait is None and unfinished < MAX_UNFINISHED
        row = _record(conn, user, upload, name, collection) if allowed else None
    if wait is not None:
        raise rate_limits.refusal("library imports", wait)
    if row is None:
        raise ImportRefused(
            f"{MAX_UNFINISHED} of your imports are still running: wait for one to finish.", 60
        )
    return progress_of(row)


def _record(conn: Connection, user: User, upload: Upload, filename: str, collection: Choice) -> ImportRow:
    """Match the entries, save what the catalogue holds, queue the rest, record the import."""
    now = now_utc()
    entries = _distinct(upload.entries)
    found = _match(conn, entries)
    waiting, unmatched = [], []
    for position, entry in enumerate(entries):
        if position in found:
            continue
        if entry.arxiv_id:
            waiting.append(WaitingItem(position, entry.arxiv_id, entry.title))
        else:
            unmatched.append(entry.title or f"entry {position + 1} (no title, no arXiv id)")
    document = upload.document
    filing = prepare_filing(conn, user.id, collection, filename, len(entries), document, now)
    saves = [Found(position, entries[position].arxiv_id, paper_id) for position, paper_id in found.items()]
    apply_found(conn, user.id, saves, document, filing, now)
    import_id = store.insert_import(
        conn,
        user_id=user.id,
        collection_id=filing.collection_id,
        collection_offset=filing.offset,
        collections=list(filing.made) if document else None,
        kind=upload.kind,
        filename=filename,
        status="queued" if waiting else "done",
        total=len(entries),
        matched=len(found),
        fetched=0,
        unmatched=unmatched,
        document=dump_document(document) if document else None,
        message=None,
        attempts=0,
        created_at=now,
        updated_at=now,
        finished_at=None if waiting else now,
    )
    store.insert_items(conn, import_id, waiting)
    row = store.import_of(conn, import_id)
    assert row is not None  # written just above, in this transaction
    return row


def _distinct(entries: list[ImportEntry]) -> list[ImportEntry]:
    """Each arXiv id once (its first entry); entries without one are all kept."""
    seen: set[str] = set()
    kept = []
    for entry in entries:
        if entry.arxiv_id is None or entry.arxiv_id not in seen:
            kept.append(entry)
            seen.add(entry.arxiv_id or "")
    return kept


def _match(conn: Connection, entries: list[ImportEntry]) -> dict[int, int]:
    """Position in `entries` → paper id, for the papers the catalogue holds (by id, else title)."""
    by_id = paper_ids_by_arxiv_ids(conn, {e.arxiv_id for e in entries if e.arxiv_id})
    spellings = {e.title: title_spellings(e.title) for e in entries if not e.arxiv_id and e.title}
    by_title = store.paper_ids_by_titles(conn, (s for forms in spellings.values() for s in forms))
    found: dict[int, int] = {}
    taken: set[int] = set()
    for position, entry in enumerate(entries):
        if entry.arxiv_id:
            paper_id = by_id.get(entry.arxiv_id)
        else:
            ids = {by_title[s] for s in spellings.get(entry.title or "", []) if s in by_title}
            paper_id = ids.pop() if len(ids) == 1 else None
        if paper_id is not None and paper_id not in taken:
            found[position] = paper_id
            taken.add(paper_id)
    return found


def progress_of(row: ImportRow) -> ImportProgress:
    return ImportProgress(
        id=row.id,
        kind=row.kind,
        filename=row.filename,
        status=row.status,
        total=row.total,
        matched=row.matched,
        fetched=row.fetched,
        unmatched=row.unmatched,
        message=row.message,
        created_at=row.created_at,
        finished_at=row.finished_at,
        collection_id=row.collection_id,
    )


def run_library_imports(
    engine: Engine,
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = now_utc,
) -> int:
    """Work on queued imports until none is left (or `stop` is set); how many were taken up.
    arXiv is asked through the process's shared client (its politeness interval and hold-offs)."""
    http = arxiv_api.shared_lookup(settings).client
    taken = 0
    while stop is None or not stop.is_set():
        now = clock()
        with write_transaction(engine) as conn:
            row = store.claim_next(conn, now, now - STALE_AFTER, now - RETRY_AFTER)
        if row is None:
            return taken
        taken += 1
        _work_on(engine, settings, http, row, stop, clock)
    return taken


def imports_waiting(engine: Engine, now: datetime) -> bool:
    """Whether `run_library_imports` has an import to take up now (the job scheduler's question)."""
    with engine.connect() as conn:
        return store.any_claimable(conn, now - STALE_AFTER, now - RETRY_AFTER)


def _work_on(
    engine: Engine,
    settings: Settings,
    http: HttpClient,
    row: ImportRow,
    stop: threading.Event | None,
    clock: Callable[[], datetime],
) -> None:
    document = load_document(row.document) if row.document else None
    while stop is None or not stop.is_set():
        with engine.connect() as conn:
            items = store.waiting_items(conn, row.id, FETCH_BATCH)
        if not items:
            with write_transaction(engine) as conn:
                store.finish(conn, row.id, "done", clock())
            return
        try:
            records = arxiv_api.fetch_papers(http, settings.arxiv_api_url, [item.arxiv_id for item in items])
        except UpstreamError as exc:
            _failed_turn(engine, row, str(exc), clock())
            return
        write_papers(engine, records)
        with write_transaction(engine) as conn:
            _save_fetched(conn, row, items, document, clock())
    with write_transaction(engine) as conn:  # stopped between batches: the next worker goes on
        store.put_back(conn, row.id, None, clock(), failed=False)


def _save_fetched(
    conn: Connection,
    row: ImportRow,
    items: list[WaitingItem],
    document: LibraryDocument | None,
    now: datetime,
) -> None:
    found = paper_ids_by_arxiv_ids(conn, [item.arxiv_id for item in items])
    saves = [
        Found(item.position, item.arxiv_id, found[item.arxiv_id]) for item in items if item.arxiv_id in found
    ]
    # saved as of the import's start, so that the library lists the whole file in its order
    filing = Filing(row.collection_id, row.collection_offset, tuple(row.collections or ()))
    apply_found(conn, row.user_id, saves, document, filing, row.created_at)
    missing = [item for item in items if item.arxiv_id not in found]
    store.set_item_state(conn, row.id, [item.position for item in items if item.arxiv_id in found], "saved")
    store.set_item_state(conn, row.id, [item.position for item in missing], "missing")
    unmatched = [f"{item.arxiv_id}: {item.title or 'not known to arXiv'}" for item in missing]
    store.add_progress(conn, row, len(items) - len(missing), unmatched, now)


def _failed_turn(engine: Engine, row: ImportRow, reason: str, now: datetime) -> None:
    log.warning("library import %d: arXiv failed: %s", row.id, reason)
    with write_transaction(engine) as conn:
        if row.attempts + 1 >= MAX_ATTEMPTS:
            message = f"arXiv could not be reached ({reason[:300]}); the papers found so far are saved."
            store.finish(conn, row.id, "failed", now, message)
        else:
            store.put_back(conn, row.id, f"arXiv could not be reached; trying again ({reason[:300]})", now)
