"""POST /papers/{id}/vote end to end, in-process: the plain form (no JavaScript) redirects back,
the script's fetch gets JSON; who may vote, CSRF, and rate limits."""

from __future__ import annotations

import pytest
from app_client import open_client
from community import log_in_as, make_member
from conftest import make_record
from sqlalchemy import select

from paperboy.storage.engine import now_utc
from paperboy.storage.paper_stats import stats_of
from paperboy.storage.schema import papers
from paperboy.storage.transactions import write_transaction
from paperboy.storage.users import update_user
from paperboy.storage.votes import count_votes

PAPER = "2506.12229"
JSON = {"Accept": "application/json"}


@pytest.fixture
def catalogue(add_papers):
    add_papers(make_record(PAPER), make_record("hep-th/9901001"))


def _counts(engine, arxiv_id=PAPER):
    """(paper_stats.upvotes, vote rows)."""
    with engine.connect() as conn:
        paper_id = conn.execute(select(papers.c.id).where(papers.c.arxiv_id == arxiv_id)).scalar_one()
        return stats_of(conn, paper_id)[0], count_votes(conn, paper_id)


def _vote_json(client, csrf, action="up", arxiv_id=PAPER):
    headers = {**JSON, "X-CSRF-Token": csrf}
    return client.post(f"/papers/{arxiv_id}/vote", data={"action": action}, headers=headers)


def test_the_plain_form_votes_and_goes_back_to_the_page_it_came_from(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        form = {"csrf_token": csrf, "action": "up", "next": "/papers/date/2025-06-12?sort=trending"}
        response = client.post(f"/papers/{PAPER}/vote", data=form)
        assert response.status_code == 303
        assert response.headers["location"] == "/papers/date/2025-06-12?sort=trending"
    assert _counts(engine) == (1, 1)


@pytest.mark.parametrize(
    ("next_path", "referer", "back_to"),
    [
        ("", "http://testserver/papers/week/2025-W24?page=2", "/papers/week/2025-W24?page=2"),
        ("", "https://elsewhere.example/page", f"/papers/{PAPER}"),
        ("", None, f"/papers/{PAPER}"),
        ("//elsewhere.example/page", None, f"/papers/{PAPER}"),
        ("https://elsewhere.example/page", None, f"/papers/{PAPER}"),
        ("/\\elsewhere.example", "http://testserver/papers/date/2025-06-12", "/papers/date/2025-06-12"),
    ],
)
def test_the_way_back_is_always_a_page_of_this_site(settings, engine, catalogue, next_path, referer, back_to):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        headers = {"Referer": referer} if referer else {}
        form = {"csrf_token": csrf, "action": "up", "next": next_path}
        response = client.post(f"/papers/{PAPER}/vote", data=form, headers=headers)
        assert (response.status_code, response.headers["location"]) == (303, back_to)


def test_the_scripts_fetch_gets_the_new_count_and_state(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        response = _vote_json(client, csrf)
        assert response.status_code == 200
        assert response.json() == {"arxiv_id": PAPER, "upvotes": 1, "voted": True}
        other = open_client(settings)
        with other as second:
            second_csrf = log_in_as(second, make_member(engine, "bob"))
            assert _vote_json(second, second_csrf).json()["upvotes"] == 2


def test_a_vote_toggles_off_and_on_and_counts_once(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        states = [
            _vote_json(client, csrf, action).json() for action in ("up", "up", "remove", "remove", "up")
        ]
    assert [(state["upvotes"], state["voted"]) for state in states] == [
        (1, True),
        (1, True),
        (0, False),
        (0, False),
        (1, True),
    ]
    assert _counts(engine) == (1, 1)


def test_old_style_ids_and_versioned_ids_vote_for_the_paper(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        assert _vote_json(client, csrf, arxiv_id="hep-th/9901001").json()["arxiv_id"] == "hep-th/9901001"
        assert _vote_json(client, csrf, arxiv_id=f"{PAPER}v2").json()["arxiv_id"] == PAPER
    assert _counts(engine, "hep-th/9901001") == (1, 1)


def test_anonymous_visitors_are_asked_to_log_in(settings, catalogue):
    with open_client(settings) as client:
        client.cookies.set("paperboy_csrf", "anonymous-token")  # a valid double-submit token
        response = _vote_json(client, "anonymous-token")
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "You need to log in to do that."
        page = client.post(f"/papers/{PAPER}/vote", data={"csrf_token": "anonymous-token", "action": "up"})
        assert page.status_code == 401
        assert 'href="/login"' in page.text


def test_an_expired_session_is_asked_to_log_in_not_told_the_form_expired(settings, catalogue):
    """The script sends the token of a session that has ended meanwhile (logged out in another tab)."""
    with open_client(settings) as client:
        client.cookies.set("paperboy_session", "a-session-that-ended")
        assert _vote_json(client, "its-old-csrf-token").status_code == 401


def test_unverified_accounts_may_not_vote(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada", verified=False))
        response = _vote_json(client, csrf)
        assert response.status_code == 403
        assert "verify your address" in response.json()["error"]["message"]
    assert _counts(engine) == (0, 0)


def test_banned_accounts_may_not_vote(settings, engine, catalogue):
    ada = make_member(engine, "ada")
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        with write_transaction(engine) as conn:
            update_user(conn, ada.id, banned_at=now_utc(), ban_reason="spam")
        response = _vote_json(client, csrf)
        assert response.status_code == 403
        assert response.json()["error"]["title"] == "Account banned"
    assert _counts(engine) == (0, 0)


@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_a_vote_without_the_sessions_csrf_token_is_refused(settings, engine, catalogue, token):
    with open_client(settings) as client:
        log_in_as(client, make_member(engine, "ada"))
        data = {"action": "up"} | ({"csrf_token": token} if token else {})
        response = client.post(f"/papers/{PAPER}/vote", data=data, headers=JSON)
        assert response.status_code == 403
        assert response.json()["error"]["title"] == "Form expired"
    assert _counts(engine) == (0, 0)


def test_a_vote_from_another_site_is_refused(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        headers = {**JSON, "X-CSRF-Token": csrf, "Origin": "https://elsewhere.example"}
        response = client.post(f"/papers/{PAPER}/vote", data={"action": "up"}, headers=headers)
        assert response.status_code == 403
    assert _counts(engine) == (0, 0)


def test_too_many_votes_get_429_with_retry_after(settings, engine, catalogue):
    with open_client(settings.replace(rate_limit_vote="2/hour")) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        assert [_vote_json(client, csrf, action).status_code for action in ("up", "remove")] == [200, 200]
        refused = _vote_json(client, csrf)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 3600
        assert refused.json()["error"]["message"].startswith("Too many votes: try again in")
        page = client.post(f"/papers/{PAPER}/vote", data={"csrf_token": csrf, "action": "up"})
        assert page.status_code == 429
        assert "Too many votes" in page.text
    assert _counts(engine) == (0, 0)


def test_unknown_papers_and_actions_are_refused_with_a_reason(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        unknown = _vote_json(client, csrf, arxiv_id="2506.99999")
        assert unknown.status_code == 404
        assert "2506.99999 is not in this catalogue" in unknown.json()["error"]["message"]
        assert _vote_json(client, csrf, arxiv_id="nonsense").status_code == 404
        bad = _vote_json(client, csrf, action="down")
        assert bad.status_code == 400
        assert "up or remove" in bad.json()["error"]["message"]
        assert client.get(f"/papers/{PAPER}/vote").status_code in (404, 405)


def test_every_page_loads_the_vote_script(settings, catalogue):
    with open_client(settings) as client:
        page = client.get(f"/papers/{PAPER}")
        assert '<script src="/static/paperboy.js?v=' in page.text
        script = client.get("/static/paperboy.js")
        assert script.status_code == 200
        assert "X-CSRF-Token" in script.text
