""" "Seen" and "hide seen" end to end, in-process: a paper a member opened, saved or was mailed
counts as seen; with "hide seen" on (a plain form, or JSON for a script), their day page, the
all-time top and search results leave it out, other readers' pages do not, and "show" brings it
back; bad requests change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from app_client import listed_ids, open_client
from community import log_in_as, make_member
from conftest import make_record
from digest_fixtures import add_subscribers
from mail_sink import running_smtp_sink
from sqlalchemy import select, update

from paperboy.domain.digest import Preferences, daily_edition
from paperboy.domain.models import Listing
from paperboy.services.digests import send_edition
from paperboy.storage.schema import digest_subscriptions, seen_papers, users
from paperboy.storage.transactions import write_transaction

DAY = "/papers/date/2025-06-12"
PAPERS = ("2506.00001", "2506.00002", "2506.00003", "2506.00004")
JSON = {"Accept": "application/json"}


@pytest.fixture
def catalogue(add_papers):
    add_papers(*(make_record(arxiv_id, listings=(Listing(date(2025, 6, 12), "new"),)) for arxiv_id in PAPERS))


def _switch(client, csrf, action, **extra):
    return client.post("/seen/hide", data={"csrf_token": csrf, "action": action, **extra})


def _seen(engine, user_id):
    with engine.connect() as conn:
        rows = conn.execute(
            select(seen_papers.c.paper_id, seen_papers.c.how).where(seen_papers.c.user_id == user_id)
        )
        return {int(paper_id): how for paper_id, how in rows}


def test_opened_and_saved_papers_leave_only_that_readers_listings_while_hidden(settings, engine, catalogue):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    with open_client(settings) as client:
        bob_csrf = log_in_as(client, bob)
        assert _switch(client, bob_csrf, "hide").status_code == 303  # bob hides seen, has seen nothing
        client.cookies.clear()
        csrf = log_in_as(client, ada)
        day = client.get(DAY).text
        assert sorted(listed_ids(day)) == sorted(PAPERS)
        assert "Hide seen papers" in day
        assert client.get(f"/papers/{PAPERS[0]}").status_code == 200  # opened
        assert client.get(f"/papers/{PAPERS[0]}").status_code == 200  # again: still one row
        saved = client.post(f"/papers/{PAPERS[1]}/save", data={"csrf_token": csrf, "action": "save"})
        assert saved.status_code == 303
        assert sorted(listed_ids(client.get(DAY).text)) == sorted(PAPERS)  # seen, but shown
        answer = _switch(client, csrf, "hide", next=DAY)
        assert (answer.status_code, answer.headers["location"]) == (303, DAY)
        hidden = client.get(DAY).text
        assert sorted(listed_ids(hidden)) == sorted(PAPERS[2:])
        assert "Papers you have seen are hidden." in hidden
        assert "Show seen papers" in hidden
        client.cookies.clear()
        log_in_as(client, bob)  # bob hides seen too, but his seen papers are his own
        assert sorted(listed_ids(client.get(DAY).text)) == sorted(PAPERS)
        client.cookies.clear()
        assert sorted(listed_ids(client.get(DAY, headers={"Cache-Control": "no-cache"}).text)) == sorted(
            PAPERS
        )
        csrf = log_in_as(client, ada)
        assert _switch(client, csrf, "show").status_code == 303
        shown = client.get(DAY).text
        assert sorted(listed_ids(shown)) == sorted(PAPERS)
        assert "Hide seen papers" in shown
    assert sorted(_seen(engine, ada.id).values()) == ["opened"]  # saved ones are seen through the library


def test_hide_seen_covers_search_results_and_a_script_gets_json(settings, engine, catalogue):
    ada = make_member(engine, "ada")
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        client.get(f"/papers/{PAPERS[2]}")
        assert client.post(
            "/seen/hide", data={"action": "hide"}, headers={**JSON, "X-CSRF-Token": csrf}
        ).json() == {"hide_seen": True}
        found = client.get("/search", params={"q": "study", "mode": "lexical"}).text
        assert PAPERS[2] not in found
        assert PAPERS[3] in found


def test_papers_mailed_to_a_members_subscription_count_as_seen(settings, engine, catalogue):
    ada = make_member(engine, "ada")
    (subscription_id,) = add_subscribers(engine, 1, make=lambda rng: Preferences(top_n=2)).values()
    with write_transaction(engine) as conn:
        conn.execute(
            update(digest_subscriptions)
            .where(digest_subscriptions.c.id == subscription_id)
            .values(user_id=ada.id)
        )
    with running_smtp_sink() as sink:
        send_edition(engine, sink.settings_for(settings), daily_edition(date(2025, 6, 12)))
        sink.wait_for(1)
    mailed = _seen(engine, ada.id)
    assert len(mailed) == 2
    assert set(mailed.values()) == {"mailed"}
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        _switch(client, csrf, "hide")
        assert len(listed_ids(client.get(DAY).text)) == len(PAPERS) - 2


@pytest.mark.parametrize(("form", "status"), [({"action": "hide"}, 403), ({"action": "bury"}, 400)])
def test_bad_requests_are_refused_and_change_nothing(settings, engine, catalogue, form, status):
    ada = make_member(engine, "ada")
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        data = form if status == 403 else {**form, "csrf_token": csrf}
        assert client.post("/seen/hide", data=data).status_code == status
    with engine.connect() as conn:
        assert conn.execute(select(users.c.hide_seen).where(users.c.id == ada.id)).scalar_one() is False


def test_anonymous_readers_have_no_switch(settings, engine, catalogue):
    with open_client(settings) as client:
        assert "Hide seen papers" not in client.get(DAY).text
        assert client.post("/seen/hide", data={"action": "hide"}).status_code in (401, 403)


def test_hide_seen_covers_for_you_and_author_pages(settings, engine, catalogue):
    ada = make_member(engine, "ada")
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        pages = ("/for-you/date/2025-06-12", "/authors/Ada%20Lovelace")
        for path in pages:
            assert sorted(listed_ids(client.get(path).text)) == sorted(PAPERS)
        client.get(f"/papers/{PAPERS[0]}")
        assert _switch(client, csrf, "hide").status_code == 303
        for path in pages:
            html = client.get(path).text
            assert sorted(listed_ids(html)) == sorted(PAPERS[1:]), path
            assert "Show seen papers" in html
