"""The import queue's claim: queued imports first come first, one put back after arXiv failed only
once it has waited, one whose worker stopped beating taken over, and none twice; and an import
whose collection the member deleted meanwhile still finishes."""

from __future__ import annotations

from datetime import timedelta

from arxiv_fake import fake_arxiv
from community import make_member

from paperboy.services import collections
from paperboy.services.library_imports import import_ids, import_progress, run_library_imports
from paperboy.storage import library_imports as store
from paperboy.storage.engine import now_utc
from paperboy.storage.transactions import write_transaction

IP = "127.0.0.1"


def _claim(engine, now):
    with write_transaction(engine) as conn:
        return store.claim_next(conn, now, now - timedelta(minutes=10), now - timedelta(minutes=5))


def test_the_claim_takes_each_import_once_and_in_turn(engine, settings):
    ada = make_member(engine, "ada")
    first = import_ids(engine, settings, ada, ["2512.00001"], IP)
    second = import_ids(engine, settings, ada, ["2512.00002"], IP)
    now = now_utc()
    assert _claim(engine, now).id == first.id
    assert _claim(engine, now).id == second.id
    assert _claim(engine, now) is None  # both running, their workers alive
    with write_transaction(engine) as conn:
        store.put_back(conn, first.id, "arXiv failed", now)
    assert _claim(engine, now + timedelta(minutes=1)) is None  # put back: it waits
    assert _claim(engine, now + timedelta(minutes=6)).id == first.id
    taken_over = _claim(engine, now + timedelta(minutes=11))  # second's worker stopped beating
    assert taken_over.id == second.id
    assert taken_over.attempts == 0


def test_an_import_whose_collection_was_deleted_still_finishes(engine, settings):
    ada = make_member(engine, "ada")
    reading = collections.create_collection(engine, settings, ada, IP, "Reading")
    queued = import_ids(engine, settings, ada, ["1605.08386"], IP, reading.id)
    collections.delete_collection(engine, settings, ada, IP, reading.id)
    with fake_arxiv() as (url, _):
        assert run_library_imports(engine, settings.replace(arxiv_api_url=url)) == 1
    progress = import_progress(engine, ada, queued.id)
    assert (progress.status, progress.fetched, progress.collection_id) == ("done", 1, None)
