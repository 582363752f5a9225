"""/ on an empty catalogue: a welcome page that follows the first sync's state; /healthz."""

from __future__ import annotations

from datetime import date

import pytest
from app_client import open_client
from conftest import make_record
from sqlalchemy import insert

from paperboy.storage.engine import now_utc
from paperboy.storage.schema import sync_state

IMPORT_COMMAND = "paperboy import papers.jsonl.gz --listings listings.tsv.gz"
REFRESH = '<meta http-equiv="refresh" content="10">'


@pytest.fixture
def client(settings):
    with open_client(settings) as client:
        yield client


def set_sync(engine, **values):
    with engine.begin() as conn:
        for key, value in values.items():
            conn.execute(insert(sync_state).values(key=f"sync:{key}", value=value, updated_at=now_utc()))


def test_no_sync_yet_explains_how_to_import(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Welcome to paperboy" in response.text
    assert IMPORT_COMMAND in response.text
    assert "docs/importing.md" in response.text
    assert REFRESH not in response.text


def test_running_sync_refreshes_every_ten_seconds(client, engine):
    set_sync(engine, state="running")
    html = client.get("/").text
    assert "A first sync is fetching papers" in html
    assert REFRESH in html
    assert IMPORT_COMMAND not in html


def test_failed_sync_shows_its_message_and_the_import_way(client, engine):
    set_sync(engine, state="failed", message="arxiv.org: network is unreachable <offline>")
    html = client.get("/").text
    assert "The first sync failed" in html
    assert "arxiv.org: network is unreachable &lt;offline&gt;" in html
    assert IMPORT_COMMAND in html
    assert REFRESH not in html


def test_finished_sync_without_listings_still_offers_import(client, engine):
    set_sync(engine, state="done")
    html = client.get("/").text
    assert "finished without finding any listed papers" in html
    assert IMPORT_COMMAND in html


def test_period_pages_of_an_empty_catalogue_say_it_is_empty(client):
    response = client.get("/papers/week/2025-W24")
    assert response.status_code == 200
    assert "The catalogue has no listings yet." in response.text


def test_healthz_counts_papers(client, add_papers):
    assert client.get("/healthz").json() == {
        "status": "ok",
        "papers": 0,
        "search_by_meaning": "no vectors yet",
        "keyword_index": "current",
    }
    add_papers(make_record("2506.00001"), make_record("2506.00002"))
    body = client.get("/healthz").json()
    # The keyword index follows the new papers within seconds: behind until it has.
    assert body.pop("keyword_index") in ("behind", "current")
    assert body == {"status": "ok", "papers": 2, "search_by_meaning": "no vectors yet"}


def test_the_first_listing_replaces_the_welcome_page(client, add_papers):
    add_papers(make_record("2506.00001", title="The very first paper"))
    html = client.get("/").text
    assert "Welcome" not in html
    assert "The very first paper" in html
    assert date(2025, 6, 12).isoformat() in html


def test_a_sync_whose_process_died_is_shown_as_interrupted(client, engine):
    from datetime import timedelta

    with engine.begin() as conn:
        stale = now_utc() - timedelta(minutes=30)
        conn.execute(insert(sync_state).values(key="sync:state", value="running", updated_at=stale))
    html = client.get("/").text
    assert "stopped before it finished" in html
    assert REFRESH not in html
    assert IMPORT_COMMAND in html
