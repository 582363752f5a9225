"""A member's library end to end, in-process: the save button without JavaScript (a form that
goes back) and with it (JSON), the library page, each reader's own "saved" state on shared feed
pages, privacy, CSRF, bad ids, rate limits, and the API's PUT/DELETE /api/v1/me/library/{id}."""

from __future__ import annotations

import re
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
_SAVE_FORM = re.compile(
    r'<form class="save" method="post" action="/papers/([^"/]+)/save">(.*?)</form>', re.DOTALL
)


@pytest.fixture
def catalogue(add_papers):
    add_papers(*(make_record(arxiv_id, listings=(Listing(date(2025, 6, 12), "new"),)) for arxiv_id in PAPERS))


def _save_forms(html: str) -> dict[str, str]:
    return dict(_SAVE_FORM.findall(html))


def _saved_on(html: str) -> set[str]:
    return {arxiv_id for arxiv_id, form in _save_forms(html).items() if 'aria-pressed="true"' in form}


def _save(client, csrf, arxiv_id, action="save", **extra):
    return client.post(f"/papers/{arxiv_id}/save", data={"csrf_token": csrf, "action": action, **extra})


def test_saving_without_javascript_goes_back_and_the_library_lists_the_latest_first(
    settings, engine, catalogue
):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        assert _saved_on(client.get(DAY).text) == set()
        for arxiv_id in (PAPERS[2], PAPERS[0]):
            answer = _save(client, csrf, arxiv_id, next=DAY + "?sort=newest")
            assert answer.status_code == 303
            assert answer.headers["location"] == DAY + "?sort=newest"
        assert _save(client, csrf, PAPERS[0]).status_code == 303  # again: still one row
        assert _saved_on(client.get(DAY).text) == {PAPERS[0], PAPERS[2]}
        library = client.get("/library")
        assert library.status_code == 200
        assert library.headers["cache-control"] == "private, no-store"
        assert listed_ids(library.text) == [PAPERS[0], PAPERS[2]]  # the latest saved first
        assert "2 papers saved" in library.text
        assert _save(client, csrf, PAPERS[2], action="remove").status_code == 303
        assert listed_ids(client.get("/library").text) == [PAPERS[0]]
        assert _saved_on(client.get(DAY).text) == {PAPERS[0]}


def test_a_script_gets_the_new_state_as_json(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        headers = {**JSON, "X-CSRF-Token": csrf}
        saved = client.post(f"/papers/arXiv:{PAPERS[1]}v2/save", data={"action": "save"}, headers=headers)
        assert saved.json() == {"arxiv_id": PAPERS[1], "saved": True}
        removed = client.post(f"/papers/{PAPERS[1]}/save", data={"action": "remove"}, headers=headers)
        assert removed.json() == {"arxiv_id": PAPERS[1], "saved": False}


def test_each_reader_sees_only_their_own_saves_on_the_shared_feed_page(settings, engine, catalogue):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob", verified=False)
    with open_client(settings) as client:
        ada_csrf = log_in_as(client, ada)
        assert _save(client, ada_csrf, PAPERS[0]).status_code == 303
        ada_page = client.get(DAY).text
        client.cookies.clear()
        bob_csrf = log_in_as(client, bob)  # unconfirmed: may keep a library, may not vote
        assert _save(client, bob_csrf, PAPERS[1]).status_code == 303
        bob_page = client.get(DAY).text
        bob_library = client.get("/library").text
        client.cookies.clear()
        anonymous = client.get(DAY, headers={"Cache-Control": "no-cache"}).text
    assert _saved_on(ada_page) == {PAPERS[0]}
    assert _saved_on(bob_page) == {PAPERS[1]}
    assert listed_ids(bob_library) == [PAPERS[1]]
    assert all(f'value="{bob_csrf}"' in form for form in _save_forms(bob_page).values())
    assert ada_csrf not in bob_page
    assert _save_forms(anonymous) == {}


def test_the_library_is_its_owners_alone(settings, engine, catalogue):
    with open_client(settings) as client:
        anonymous = client.get("/library")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/login?next=/library"
        csrf = log_in_as(client, make_member(engine, "ada"))
        assert _save(client, csrf, PAPERS[0]).status_code == 303
        client.cookies.clear()
        log_in_as(client, make_member(engine, "eve", role="moderator"))
        assert listed_ids(client.get("/library").text) == []


@pytest.mark.parametrize(
    ("arxiv_id", "form", "status"),
    [
        (PAPERS[0], {"action": "save"}, 403),  # no CSRF token
        (PAPERS[0], {"action": "keep"}, 400),
        ("2506.99999", {"action": "save"}, 404),
        ("not-an-id", {"action": "save"}, 404),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(settings, engine, catalogue, arxiv_id, form, status):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        data = form if status == 403 else {**form, "csrf_token": csrf}
        assert client.post(f"/papers/{arxiv_id}/save", data=data).status_code == status
        assert listed_ids(client.get("/library").text) == []


def test_too_many_saves_get_429(settings, engine, catalogue):
    with open_client(settings.replace(rate_limit_library="2/hour")) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        assert [_save(client, csrf, arxiv_id).status_code for arxiv_id in PAPERS] == [303, 303, 429]
        assert listed_ids(client.get("/library").text) == [PAPERS[1], PAPERS[0]]


def test_the_api_saves_with_the_library_scope_only(settings, engine, catalogue):
    ada = make_member(engine, "ada")
    keeper = create_token(engine, ada, "library", ["library", "read"]).plaintext
    reader = stored_token(engine, ada, "read vote")
    with open_client(settings) as client:
        url = f"/api/v1/me/library/{PAPERS[2]}"
        assert client.put(url).status_code == 401
        refused = client.put(url, headers={"Authorization": f"Bearer {reader}"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "insufficient_scope"
        auth = {"Authorization": f"Bearer {keeper}"}
        assert client.put(url, headers=auth).json() == {"arxiv_id": PAPERS[2], "saved": True}
        assert client.put(url, headers=auth).json() == {"arxiv_id": PAPERS[2], "saved": True}
        assert client.put("/api/v1/me/library/2506.99999", headers=auth).status_code == 404
        library = client.get("/api/v1/me/library", headers=auth).json()
        assert [entry["arxiv_id"] for entry in library["saved"]] == [PAPERS[2]]
        assert library["saved_total"] == 1
        assert client.delete(url, headers=auth).json() == {"arxiv_id": PAPERS[2], "saved": False}
        assert client.get("/api/v1/me/library", headers=auth).json()["saved_total"] == 0
        assert "/api/v1/me/library/{arxiv_id}" in client.get("/openapi.json").json()["paths"]


def test_the_paper_page_saves_too_and_shows_the_readers_own_state(settings, engine, catalogue):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    page = f"/papers/{PAPERS[0]}"
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        assert _saved_on(client.get(page).text) == set()
        assert _save(client, csrf, PAPERS[0], next=page).headers["location"] == page
        assert _saved_on(client.get(page).text) == {PAPERS[0]}
        client.cookies.clear()
        log_in_as(client, bob)
        assert _saved_on(client.get(page).text) == set()
        client.cookies.clear()
        assert _save_forms(client.get(page).text) == {}
