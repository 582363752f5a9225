"""GET and POST /submit end to end, in-process; arXiv is a local server answering with recorded
API responses (../shared/fixtures)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from app_client import listed_ids, open_client
from community import csrf_from, log_in_as, make_member
from conftest import make_record, shared_path
from fixture_server import fixture_server
from sqlalchemy import func, select

from paperboy.domain.models import Version
from paperboy.storage.engine import now_utc
from paperboy.storage.schema import listings, papers, submissions, votes

BODIES = ("fixtures", "arxiv_api", "arxiv.py_golden_2026", "bodies")
RECORDED = {"1707.08567": "id_1707.08567_s0_m100_6a1afebfc6a3.xml"}  # v1 of 2017-07-27
PAPER = "2506.12229"


@pytest.fixture
def recent(add_papers):
    """A paper of yesterday that no listing brought."""
    add_papers(make_record(PAPER, versions=(Version(1, now_utc() - timedelta(days=1)),), listings=()))
    return PAPER


@pytest.fixture
def arxiv(settings):
    """Settings whose arXiv API is a local server: recorded answers, or 503 for `fail`."""
    answers = {"fail": False}

    def respond(path, query):
        if answers["fail"]:
            return 503, {}, b"Service Unavailable"
        body = shared_path(*BODIES, RECORDED[query["id_list"][0]]).read_bytes()
        return 200, {"Content-Type": "application/atom+xml"}, body

    with fixture_server(respond) as (base, requests):
        yield settings.replace(arxiv_api_url=f"{base}/api/query", http_retries=0), requests, answers


def _rows(engine, table):
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _submit(client, text, csrf=None, **headers):
    if csrf is None:
        csrf = csrf_from(client.get("/submit").text)
    return client.post("/submit", data={"csrf_token": csrf, "paper": text}, headers=headers)


def test_the_form_states_the_rule(settings, engine):
    with open_client(settings.replace(submission_window_days=10)) as client:
        log_in_as(client, make_member(engine, "ada"))
        page = client.get("/submit")
        assert page.status_code == 200
        assert "first version appeared in the last 10 days" in page.text
        assert 'name="paper"' in page.text


def test_anonymous_visitors_are_asked_to_log_in(settings):
    with open_client(settings) as client:
        page = client.get("/submit")
        assert page.status_code == 401
        assert 'href="/login?next=/submit"' in page.text
        assert client.post("/submit", data={"paper": PAPER}).status_code == 401


def test_unverified_accounts_are_asked_to_confirm_first(settings, engine):
    with open_client(settings) as client:
        log_in_as(client, make_member(engine, "ada", verified=False))
        assert client.get("/submit").status_code == 403
        # and posting is refused too, with nothing written
        assert _submit(client, PAPER, csrf=csrf_from(client.get("/").text)).status_code == 403


def test_a_submission_goes_to_the_paper_and_onto_todays_feed(settings, engine, recent):
    with open_client(settings) as client:
        log_in_as(client, make_member(engine, "ada"))
        response = _submit(client, f"https://arxiv.org/abs/{PAPER}v1")
        assert response.status_code == 303
        assert response.headers["location"] == f"/papers/{PAPER}?notice=submitted"
        day = client.get(f"/papers/date/{now_utc().date().isoformat()}")
        assert listed_ids(day.text) == [PAPER]
        assert 'class="badge badge-submitted">submitted<' in day.text
        log_in_as(client, make_member(engine, "bob"))
        again = _submit(client, PAPER)
        assert again.headers["location"] == f"/papers/{PAPER}?notice=already-on-feed"
    assert (_rows(engine, submissions), _rows(engine, votes)) == (1, 1)


def test_scripts_get_json(settings, engine, recent):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        headers = {"Accept": "application/json", "X-CSRF-Token": csrf}
        response = client.post("/submit", data={"paper": PAPER}, headers=headers)
        assert response.status_code == 201
        assert response.json() == {
            "arxiv_id": PAPER,
            "submitted": True,
            "url": f"/papers/{PAPER}?notice=submitted",
        }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Enter an arXiv id or link"),
        ("<b>not</b> an id", "&#39;&lt;b&gt;not&lt;/b&gt; an id&#39; is not an arXiv id"),
    ],
)
def test_input_errors_show_the_form_again_with_the_reason(settings, engine, text, reason):
    with open_client(settings) as client:
        log_in_as(client, make_member(engine, "ada"))
        response = _submit(client, text)
        assert response.status_code == 400
        assert reason in response.text
        assert 'name="paper"' in response.text
        assert "<b>not</b>" not in response.text


def test_an_unknown_paper_is_fetched_from_arxiv(arxiv, engine):
    settings, requests, _ = arxiv
    with open_client(settings.replace(submission_window_days=100_000)) as client:
        log_in_as(client, make_member(engine, "ada"))
        response = _submit(client, "https://arxiv.org/pdf/1707.08567v1")
        assert response.headers["location"] == "/papers/1707.08567?notice=submitted"
    assert len(requests) == 1
    assert "id_list=1707.08567" in requests[0]
    assert (_rows(engine, papers), _rows(engine, listings), _rows(engine, submissions)) == (1, 1, 1)


def test_a_paper_too_old_is_refused_with_its_age(arxiv, engine):
    settings, _, _ = arxiv
    with open_client(settings) as client:
        log_in_as(client, make_member(engine, "ada"))
        response = _submit(client, "1707.08567")
        assert response.status_code == 400
        assert "its first version appeared on 2017-07-27" in response.text
        assert 'value="1707.08567"' in response.text
    assert _rows(engine, papers) == 0


def test_arxiv_failing_gets_a_502_page_and_nothing_is_written(arxiv, engine):
    settings, _, answers = arxiv
    answers["fail"] = True
    with open_client(settings) as client:
        log_in_as(client, make_member(engine, "ada"))
        response = _submit(client, "1707.08567")
        assert response.status_code == 502
        assert "arXiv is not answering" in response.text
        assert "Nothing was saved" in response.text
    assert [_rows(engine, table) for table in (papers, listings, submissions, votes)] == [0, 0, 0, 0]


def test_a_submission_without_the_csrf_token_is_refused(settings, engine, recent):
    with open_client(settings) as client:
        log_in_as(client, make_member(engine, "ada"))
        response = client.post("/submit", data={"paper": PAPER})
        assert response.status_code == 403
    assert _rows(engine, submissions) == 0


def test_too_many_submissions_get_429(settings, engine, recent):
    with open_client(settings.replace(rate_limit_submit="1/day")) as client:
        log_in_as(client, make_member(engine, "ada"))
        assert _submit(client, PAPER).status_code == 303
        refused = _submit(client, "2506.00001")
        assert refused.status_code == 429
        assert "Retry-After" in refused.headers
