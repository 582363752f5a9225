""" "For you" end to end, in-process: the pages (day, week, month, the latest ones, the feed's
"For you" sort, each card's reason and its why page), the blend and the reset forms, anonymous
readers sent to log in, and GET /api/v1/me/recommendations (shape, scopes, periods, and that
another account's signals are never used). The model itself: tests/unit/services/test_recommend.py."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from app_client import counted_checkouts, counted_statements, listed_ids, open_client
from community import log_in_as, make_member, stored_token
from conftest import make_record

from paperboy.domain.models import Listing
from paperboy.services.api_tokens import create_token
from paperboy.services.pgvector_index import PgVectorIndex

DAY = date(2025, 6, 12)
TOPICS = {
    "2506.00001": (
        "Surface codes for quantum error correction",
        "Qubits decoding surface codes fault tolerance.",
    ),
    "2506.00002": (
        "Decoding quantum surface codes faster",
        "Surface codes qubits decoding with neural decoders.",
    ),
    "2506.00003": (
        "Speech recognition for spoken dialects",
        "Acoustic models transcription of spoken dialects.",
    ),
    "2506.00004": (
        "Robot grasping with reinforcement learning",
        "Policies for manipulation and grasping robots.",
    ),
    "2506.00005": (
        "Graph neural networks for molecules",
        "Message passing over molecular graphs, node embeddings.",
    ),
}
SAVED = "2506.09001"  # listed the day before: a quantum paper


@pytest.fixture
def catalogue(add_papers):
    add_papers(
        *(
            make_record(
                arxiv_id,
                title=title,
                abstract=abstract,
                authors=(f"Author {arxiv_id[-1]}",),
                listings=(Listing(DAY, "new"),),
            )
            for arxiv_id, (title, abstract) in TOPICS.items()
        ),
        make_record(
            SAVED,
            title="Quantum surface codes revisited",
            abstract="Surface codes, qubits and decoding, revisited.",
            authors=("Someone Else",),
            listings=(Listing(date(2025, 6, 11), "new"),),
        ),
    )


def _save(client, csrf, arxiv_id):
    return client.post(f"/papers/{arxiv_id}/save", data={"csrf_token": csrf, "action": "save"})


def test_anonymous_readers_are_sent_to_log_in(settings, catalogue):
    with open_client(settings) as client:
        for path in ("/for-you", "/for-you/week/2025-W24", "/for-you/why/2506.00001"):
            answer = client.get(path)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/login?next=/for-you")
        assert (
            client.get("/papers/date/2025-06-12?sort=for-you").headers["location"]
            == "/for-you/date/2025-06-12"
        )
        assert 'href="/for-you' not in client.get("/papers/date/2025-06-12").text  # no sort or link for them


def test_a_save_reorders_the_day_and_every_card_says_why(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        feed = client.get("/papers/date/2025-06-12").text
        assert 'href="/for-you/date/2025-06-12"' in feed
        assert 'href="/for-you">For you</a>' in feed
        cold = client.get("/for-you/date/2025-06-12")
        assert cold.status_code == 200
        assert cold.headers["cache-control"] == "private, no-store"
        assert sorted(listed_ids(cold.text)) == sorted(TOPICS)  # never empty for a new member
        assert "popular in your categories while we learn" in cold.text
        assert _save(client, csrf, SAVED).status_code == 303
        page = client.get("/for-you/date/2025-06-12").text
        assert set(listed_ids(page)[:2]) == {"2506.00001", "2506.00002"}
        reasons = re.findall(r'<p class="reason">For you: (.*?) · <a href="(/for-you/why/[^"]+)"', page)
        assert len(reasons) == len(TOPICS)
        assert reasons[0][0] == "close to <em>Quantum surface codes revisited</em> in your library"
        why = client.get(reasons[0][1])
        assert why.status_code == 200
        assert why.headers["cache-control"] == "private, no-store"
        assert "Words in common with your library" in why.text
        assert "#1 of 5" in why.text
        for path in ("/for-you", "/for-you/week", "/for-you/month", "/for-you/month/2025-06"):
            answer = client.get(path)
            assert answer.status_code == 200, path
            assert listed_ids(answer.text)[0] in ("2506.00001", "2506.00002"), path
        assert (
            client.get("/papers/week/2025-W24?sort=for-you").headers["location"] == "/for-you/week/2025-W24"
        )


def test_not_interested_takes_a_paper_out_at_once(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        _save(client, csrf, SAVED)
        hide = {"csrf_token": csrf, "action": "hide"}
        assert client.post("/papers/2506.00001/not-interested", data=hide).status_code == 303
        assert "2506.00001" not in listed_ids(client.get("/for-you/date/2025-06-12").text)


def test_a_page_holds_for_you_page_size_papers_and_the_next_pages_the_rest(settings, engine, catalogue):
    """A short first page (each is ranked and rendered for one reader), the rest behind "Next";
    kept cards never carry one reader's marks to another, and a hide shows on the next answer."""
    settings = replace(settings, for_you_page_size=2)  # 5 papers: 3 pages
    with open_client(settings) as client:
        ada = log_in_as(client, make_member(engine, "ada"))
        _save(client, ada, SAVED)
        pages = [listed_ids(client.get(f"/for-you/date/2025-06-12?page={n}").text) for n in (1, 2, 3)]
        assert [len(ids) for ids in pages] == [2, 2, 1]
        assert sorted(id_ for ids in pages for id_ in ids) == sorted(TOPICS)
        first = client.get("/for-you/date/2025-06-12").text
        assert 'rel="next" href="/for-you/date/2025-06-12?page=2"' in first
        assert "Page 1 of 3" in first
        hide = {"csrf_token": ada, "action": "hide"}
        assert client.post(f"/papers/{pages[0][0]}/not-interested", data=hide).status_code == 303
        assert pages[0][0] not in listed_ids(client.get("/for-you/date/2025-06-12").text)
        _save(client, ada, pages[1][0])  # saved: seen, out of her For you
        left = [listed_ids(client.get(f"/for-you/date/2025-06-12?page={n}").text) for n in (1, 2)]
        assert sorted(id_ for ids in left for id_ in ids) == sorted(set(TOPICS) - {pages[0][0], pages[1][0]})
        client.cookies.clear()
        bob = log_in_as(client, make_member(engine, "bob"))
        shown = [client.get(f"/for-you/date/2025-06-12?page={n}").text for n in (1, 2, 3)]
        assert sorted(id_ for text in shown for id_ in listed_ids(text)) == sorted(TOPICS)  # hers alone
        assert all(ada not in text and bob in text for text in shown)  # each reader's CSRF token
        assert not any('class="save-button saved"' in text for text in shown)


def test_the_blend_and_the_reset_forms(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        _save(client, csrf, SAVED)
        here = "/for-you/date/2025-06-12"
        answer = client.post("/for-you/blend", data={"csrf_token": csrf, "personal": "0", "next": here})
        assert answer.status_code == 303
        assert answer.headers["location"] == here
        assert '<option value="0" selected>0% yours, 100% trending</option>' in client.get(here).text
        bad = client.post("/for-you/blend", data={"csrf_token": csrf, "personal": "101"})
        assert bad.status_code == 400
        assert "0 to 100" in bad.text
        client.post("/for-you/blend", data={"csrf_token": csrf, "personal": "100"})
        assert client.post("/for-you/reset", data={"csrf_token": csrf, "next": here}).status_code == 303
        page = client.get(here).text
        assert "You reset your For you once" in page
        assert "while we learn" in page
        assert SAVED in listed_ids(client.get("/library").text)  # the library is untouched


def test_bad_periods_and_pages_say_why(settings, engine, catalogue):
    with open_client(settings) as client:
        log_in_as(client, make_member(engine, "ada"))
        assert client.get("/for-you/date/2025-13-45").status_code == 404
        assert client.get("/for-you/date/2025-06-12?page=9").status_code == 404
        assert client.get("/for-you/why/not-an-id").status_code == 404


def test_the_for_you_page_runs_a_fixed_number_of_statements(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        _save(client, csrf, SAVED)
        client.get("/for-you/date/2025-06-12")  # the candidates and the model, made and kept
        with counted_statements(client) as statements, counted_checkouts(client) as checkouts:
            assert client.get("/for-you/date/2025-06-12").status_code == 200
        # the session with the header's unseen alerts; the reader's signals, follows and the
        # versions (storage/for_you_reads.py); the reader's marks (the candidates, the model, the
        # order, the counts, the listing days and facet are kept)
        # and with pgvector its index's generation, on a connection of its own
        # (services/pgvector_index.py)
        index = client.app.state.paperboy.searcher.meaning.vector_index()
        pgvector = int(isinstance(index, PgVectorIndex))
        assert len(statements) <= 3 + pgvector, statements
        # the session's connection and one for all the page's reads: on PostgreSQL each is
        # round trips of its own
        assert len(checkouts) <= 2 + pgvector, checkouts


def test_the_api_ranks_for_the_token_account_only(settings, engine, catalogue):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    ada_token = create_token(engine, ada, "script", ["read"]).plaintext
    bob_token = stored_token(engine, bob, "read library", plaintext="pb_" + "c" * 40)
    with open_client(settings) as client:
        url = "/api/v1/me/recommendations?date=2025-06-12&limit=3"
        assert (
            client.put(
                f"/api/v1/me/library/{SAVED}", headers={"Authorization": f"Bearer {bob_token}"}
            ).status_code
            == 200
        )
        mine = client.get(url, headers={"Authorization": f"Bearer {ada_token}"})
        assert mine.status_code == 200
        assert mine.headers["cache-control"] == "private, no-store"
        body = mine.json()
        assert body["cold"] is True
        assert body["total"] == 5
        assert len(body["items"]) == 3
        assert {item["reason_kind"] for item in body["items"]} == {"trending"}
        theirs = client.get(url, headers={"Authorization": f"Bearer {bob_token}"}).json()
        assert theirs["cold"] is False
        first = theirs["items"][0]
        assert first["id"] in ("2506.00001", "2506.00002")
        assert first["reason_kind"] == "close_to"
        assert set(first) == {"id", "title", "score", "reason", "reason_kind"}
        assert first["reason"] == "close to Quantum surface codes revisited in your library"
        week = client.get(
            "/api/v1/me/recommendations?week=2025-W24", headers={"Authorization": f"Bearer {bob_token}"}
        )
        assert week.json()["kind"] == "week"
        assert week.json()["total"] == 6 - 1


def test_the_api_needs_the_read_scope(settings, engine, catalogue):
    ada = make_member(engine, "ada")
    token = create_token(engine, ada, "votes only", ["vote"]).plaintext
    with open_client(settings) as client:
        assert client.get("/api/v1/me/recommendations").status_code == 401
        refused = client.get("/api/v1/me/recommendations", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "insufficient_scope"
        reader = create_token(engine, ada, "reader", ["read"]).plaintext
        bad = client.get(
            "/api/v1/me/recommendations?date=2025-02-30", headers={"Authorization": f"Bearer {reader}"}
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["parameter"] == "date"
        latest = client.get("/api/v1/me/recommendations", headers={"Authorization": f"Bearer {reader}"})
        assert latest.json()["period"] == "2025-06-12"
