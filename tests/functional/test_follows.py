"""Follows and alerts end to end, in-process: the follow button without JavaScript (a form that
goes back) and with it (JSON), /following with unfollow, validation and hostile input, author
pages, alerts after a write of changed records, the notifications page and the header's count,
and what one member's follows and alerts show to anyone else (nothing)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from app_client import counted_statements, listed_ids, open_client
from community import log_in_as, make_member
from conftest import make_record

from paperboy.domain.models import Listing, Version
from paperboy.services.alerts import alert_on_changes
from paperboy.storage.papers import upsert_papers
from paperboy.storage.transactions import write_transaction

JSON = {"Accept": "application/json"}
V1 = Version(1, datetime(2025, 6, 11, 17, 0, tzinfo=UTC))
V2 = Version(2, datetime(2025, 7, 1, 9, 0, tzinfo=UTC))


def _day(n: int) -> tuple[Listing, ...]:
    return (Listing(date(2025, 6, n), "new"),)


@pytest.fixture
def catalogue(add_papers):
    add_papers(
        make_record(
            "2506.00001",
            authors=("José-María Núñez", "Alan Turing"),
            categories=("cs.LG",),
            listings=_day(10),
        ),
        make_record(
            "2506.00002",
            authors=("Jose Maria Nunez", "Grace Hopper"),
            categories=("cs.AI",),
            listings=_day(11),
        ),
        make_record("2506.00003", authors=("J. M. Nunez",), categories=("cs.LG",), listings=_day(12)),
        make_record(
            "2506.00004", authors=("Alan Turing", "Grace Hopper"), categories=("math.LO",), listings=_day(12)
        ),
    )


def _write(engine, *records):
    with write_transaction(engine) as conn:
        result = upsert_papers(conn, list(records))
    return alert_on_changes(engine, result.changes)


def _follow(client, csrf, kind, value, action="follow", **headers):
    data = {"csrf_token": csrf, "kind": kind, "value": value, "action": action, "next": "/following"}
    return client.post("/follow", data=data, headers=headers)


def test_following_without_javascript_goes_back_and_lists_each_follow_once(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        answer = _follow(client, csrf, "author", "JOSE-MARIA  nunez")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/following"
        assert _follow(client, csrf, "author", "José María Núñez").status_code == 303  # the same key
        assert _follow(client, csrf, "category", "cs.LG").status_code == 303
        assert _follow(client, csrf, "search", 'transformers "sparse attention" -survey').status_code == 303
        assert _follow(client, csrf, "paper", "arXiv:2506.00004v2").status_code == 303
        page = client.get("/following")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "private, no-store"
        assert page.text.count('class="badge">author<') == 1
        for shown in ("cs.LG", "sparse attention", "arXiv:2506.00004", "/authors/JOSE-MARIA%20%20nunez"):
            assert shown in page.text.replace("&#34;", '"')
        made = _follow(client, csrf, "category", "cs.LG", **JSON).json()
        assert made["following"] is True
        gone = _follow(client, csrf, "category", "cs.LG", action="unfollow", **JSON).json()
        assert gone["following"] is False
        assert "cs.LG</a>" not in client.get("/following").text


@pytest.mark.parametrize(
    ("kind", "value", "status", "reason"),
    [
        ("category", "cs.XX", 400, "no paper of this catalogue is in the category"),
        ("category", "68T07", 400, "is not an arXiv category"),
        ("search", 'unclosed "quote', 400, "that search cannot be followed"),
        ("search", "x" * 501, 400, "at most 500 characters"),
        ("search", "words " * 60, 400, "longer than 250 characters"),
        ("author", " .-. ", 400, "at least one letter"),
        ("paper", "not-an-id", 400, ""),
        ("paper", "2401.99999", 404, "not in this catalogue"),
        ("planet", "Mars", 400, "kind must be one of"),
        ("author", "", 400, "required"),
        ("author", "<script>alert(1)</script>", 303, ""),
    ],
)
def test_bad_follows_get_a_clear_4xx(settings, engine, catalogue, kind, value, status, reason):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        answer = _follow(client, csrf, kind, value)
        assert answer.status_code == status
        assert reason in answer.text.replace("&#39;", "'").replace("&#34;", '"')
        assert "Traceback" not in answer.text


def test_follows_are_capped_and_need_a_login_and_csrf(settings, engine, catalogue):
    settings = settings.replace(follows_max=2)  # a small cap, to reach it in three requests
    with open_client(settings) as client:
        assert client.post("/follow", data={"kind": "category", "value": "cs.LG"}).status_code in (401, 403)
        csrf = log_in_as(client, make_member(engine, "ada"))
        assert client.post("/follow", data={"kind": "category", "value": "cs.LG"}).status_code == 403
        assert _follow(client, csrf, "category", "cs.LG").status_code == 303
        assert _follow(client, csrf, "category", "cs.AI").status_code == 303
        refused = _follow(client, csrf, "category", "math.LO")
        assert refused.status_code == 400
        assert "you follow 2 things already" in refused.text
        assert _follow(client, csrf, "category", "cs.LG").status_code == 303  # again: no new row


def test_the_author_page_matches_normalised_names_and_lists_coauthors_and_categories(
    settings, engine, catalogue
):
    with open_client(settings) as client:
        page = client.get("/authors/jose%20maria%20NUNEZ")
        assert page.status_code == 200
        assert listed_ids(page.text) == [
            "2506.00002",
            "2506.00001",
        ]  # the newest first; "J. M." is another name
        assert "Names are matched exactly after normalisation" in page.text
        assert "two people who share a name" in page.text
        assert '<a href="/authors/Alan%20Turing">Alan Turing</a> (1)' in page.text
        assert '<a href="/authors/Grace%20Hopper">Grace Hopper</a> (1)' in page.text
        assert "cs.AI</a> (1)" in page.text
        assert "cs.LG</a> (1)" in page.text
        paper = client.get("/papers/2506.00004")
        assert '<a href="/authors/Alan%20Turing">Alan Turing</a>' in paper.text
        assert client.get("/authors/Nobody%20Here").status_code == 404
        assert client.get("/authors/" + "x" * 400).status_code == 404
        assert client.get("/authors/a%2Fb%3Cscript%3E").status_code == 404
        assert client.get("/authors/Alan%20Turing?page=0").status_code == 400


def test_the_author_page_runs_a_fixed_number_of_statements(settings, engine, add_papers):
    add_papers(
        *(make_record(f"2506.{n:05d}", authors=("Ada Lovelace", f"Co Author {n}")) for n in range(1, 61))
    )
    with open_client(settings) as client:
        log_in_as(client, make_member(engine, "ada"))
        client.get("/authors/Ada%20Lovelace")
        with counted_statements(client) as statements:
            page = client.get("/authors/Ada%20Lovelace?page=1")
        assert len(listed_ids(page.text)) == 50
        assert len(statements) <= 14, statements


def test_alerts_show_once_on_the_page_and_in_the_header_count(settings, engine, catalogue):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        _follow(client, csrf, "author", "Grace Hopper")
        _follow(client, csrf, "paper", "2506.00001")
        _write(
            engine,
            make_record("2507.00001", authors=("Grace Hopper",), listings=_day(13)),
            make_record(
                "2506.00001",
                authors=("José-María Núñez", "Alan Turing"),
                categories=("cs.LG",),
                listings=_day(10),
                versions=(V1, V2),
            ),
        )
        header = client.get("/papers/2506.00004").text
        assert re.search(r'Alerts <span class="alert-count">2</span>', header)
        with counted_statements(client) as statements:
            page = client.get("/notifications")
        assert len(statements) <= 8, statements
        assert page.headers["cache-control"] == "private, no-store"
        assert page.text.count('class="new"') == 2
        assert 'class="alert-count"' not in page.text  # the header counts after the page marked them
        assert "New paper by Grace Hopper" in page.text
        assert "New version of a paper you follow or saved: version 2" in page.text
        assert 'class="alert-count"' not in client.get("/papers/2506.00004").text  # seen now
        again = client.get("/notifications").text
        assert again.count('class="new"') == 0
        assert again.count("<li") >= 2
        # Bob sees none of it, on the page or in his header.
        client.cookies.clear()
        log_in_as(client, bob)
        assert "No alerts yet" in client.get("/notifications").text
        assert "Grace Hopper" not in client.get("/following").text
        assert "You follow nothing yet" in client.get("/following").text


def test_sign_up_chooses_categories_and_authors_to_follow(settings, engine):
    from community import csrf_from
    from sqlalchemy import select

    from paperboy.storage.follows import follows_of
    from paperboy.storage.schema import users

    existing = make_member(engine, "bob")
    with open_client(settings) as client:

        def sign_up(email, name, categories, authors):
            csrf = csrf_from(client.get("/signup").text)
            data = {"csrf_token": csrf, "email": email, "name": name, "password": "a long passphrase"}
            return client.post(
                "/signup", data={**data, "follow_category": categories, "follow_authors": authors}
            )

        form = client.get("/signup").text
        first = settings.categories[0]
        assert f'name="follow_category" value="{first}"' in form
        bad = sign_up("ada@example.org", "ada", [first], "Grace Hopper\n .-. ")
        assert bad.status_code == 400
        assert "an author&#39;s name needs at least one letter" in bad.text
        assert "Grace Hopper" in bad.text  # kept for the next try
        assert (
            sign_up("ada@example.org", "ada", [first], "Grace Hopper\nAlan Turing; grace HOPPER").status_code
            == 303
        )
        # An address with an account already: the same answer, and that account gains nothing.
        assert sign_up(existing.email, "mallory", [first], "Alan Turing").status_code == 303
    with engine.connect() as conn:
        ada_id = conn.execute(select(users.c.id).where(users.c.name == "ada")).scalar_one()
        chosen = sorted((f.kind, f.value) for f in follows_of(conn, ada_id))
        assert chosen == [("author", "alan turing"), ("author", "grace hopper"), ("category", first)]
        assert follows_of(conn, existing.id) == []
