""" "Not interested" end to end, in-process: a member hides a paper from their own feeds (a form
without JavaScript, JSON for the script), other readers still see it, the library page lists it
with an undo that brings it back; bad requests change nothing; the API's /api/v1/me/feedback."""

from __future__ import annotations

from datetime import date

import pytest
from app_client import listed_ids, open_client
from community import log_in_as, make_member, stored_token
from conftest import make_record

from paperboy.domain.models import Listing
from paperboy.services.api_tokens import create_token

DAY = "/papers/date/2025-06-12"
PAPERS = ("2506.00001", "2506.00002", "2506.00003")
JSON = {"Accept": "application/json"}


@pytest.fixture
def catalogue(add_papers):
    add_papers(*(make_record(arxiv_id, listings=(Listing(date(2025, 6, 12), "new"),)) for arxiv_id in PAPERS))


def _hide(client, csrf, arxiv_id, action="hide", **extra):
    return client.post(
        f"/papers/{arxiv_id}/not-interested", data={"csrf_token": csrf, "action": action, **extra}
    )


def test_a_hidden_paper_leaves_only_that_readers_feeds_and_undo_brings_it_back(settings, engine, catalogue):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    with open_client(settings) as client:
        ada_csrf = log_in_as(client, ada)
        assert sorted(listed_ids(client.get(DAY).text)) == sorted(PAPERS)
        answer = _hide(client, ada_csrf, PAPERS[1], next=DAY)
        assert answer.status_code == 303
        assert answer.headers["location"] == DAY
        assert _hide(client, ada_csrf, PAPERS[1]).status_code == 303  # again: nothing more
        assert sorted(listed_ids(client.get(DAY).text)) == [PAPERS[0], PAPERS[2]]
        assert sorted(listed_ids(client.get(DAY).text)) == [PAPERS[0], PAPERS[2]]  # and stays gone
        library = client.get("/library").text
        assert "Not interested" in library
        assert f'action="/papers/{PAPERS[1]}/not-interested"' in library
        assert 'value="undo"' in library
        client.cookies.clear()
        log_in_as(client, bob)
        assert sorted(listed_ids(client.get(DAY).text)) == sorted(PAPERS)  # bob's feed is his own
        assert "Not interested</h2>" not in client.get("/library").text
        client.cookies.clear()
        assert sorted(listed_ids(client.get(DAY, headers={"Cache-Control": "no-cache"}).text)) == sorted(
            PAPERS
        )
        ada_csrf = log_in_as(client, ada)
        assert _hide(client, ada_csrf, PAPERS[1], action="undo").status_code == 303
        assert sorted(listed_ids(client.get(DAY).text)) == sorted(PAPERS)
        assert "Not interested</h2>" not in client.get("/library").text


def test_a_script_gets_the_new_state_as_json(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        headers = {**JSON, "X-CSRF-Token": csrf}
        url = f"/papers/{PAPERS[0]}/not-interested"
        assert client.post(url, data={"action": "hide"}, headers=headers).json() == {
            "arxiv_id": PAPERS[0],
            "not_interested": True,
        }
        assert client.post(url, data={"action": "undo"}, headers=headers).json() == {
            "arxiv_id": PAPERS[0],
            "not_interested": False,
        }


@pytest.mark.parametrize(
    ("arxiv_id", "form", "status"),
    [
        (PAPERS[0], {"action": "hide"}, 403),  # no CSRF token
        (PAPERS[0], {"action": "bury"}, 400),
        ("2506.99999", {"action": "hide"}, 404),
    ],
)
def test_bad_requests_are_refused_and_hide_nothing(settings, engine, catalogue, arxiv_id, form, status):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        data = form if status == 403 else {**form, "csrf_token": csrf}
        assert client.post(f"/papers/{arxiv_id}/not-interested", data=data).status_code == status
        assert sorted(listed_ids(client.get(DAY).text)) == sorted(PAPERS)


def test_the_api_takes_feedback_with_the_library_scope(settings, engine, catalogue):
    ada = make_member(engine, "ada")
    keeper = create_token(engine, ada, "library", ["library"]).plaintext
    reader = stored_token(engine, ada, "read")
    url = f"/api/v1/me/feedback/{PAPERS[2]}"
    body = {"signal": "not_interested"}
    with open_client(settings) as client:
        assert client.put(url, json=body).status_code == 401
        assert client.put(url, json=body, headers={"Authorization": f"Bearer {reader}"}).status_code == 403
        auth = {"Authorization": f"Bearer {keeper}"}
        assert client.put(url, json={"signal": "boring"}, headers=auth).status_code == 422
        assert client.put(url, json=body, headers=auth).json() == {
            "arxiv_id": PAPERS[2],
            "signal": "not_interested",
        }
        log_in_as(client, ada)  # the same account's feed, in the browser
        assert PAPERS[2] not in listed_ids(client.get(DAY).text)
        assert client.delete(url, headers=auth).json() == {"arxiv_id": PAPERS[2], "signal": None}
        assert PAPERS[2] in listed_ids(client.get(DAY).text)
