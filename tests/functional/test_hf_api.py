"""Hugging Face's paper endpoints (/api/daily_papers, /api/papers/{id}, /api/papers) in-process,
and huggingface_hub's own client and `hf papers` command against a running `paperboy serve`, with
a (fake) Hugging Face token saved, as every logged-in Hugging Face user has one."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from app_client import counted_statements, open_client
from community import make_member
from conftest import make_record
from huggingface_hub import HfApi
from huggingface_hub import constants as hub_constants
from huggingface_hub.errors import HfHubHTTPError
from live_server import live_server, site_env
from sqlalchemy import insert, select

from paperboy.domain.models import HfSignal, Listing
from paperboy.services.api_tokens import create_token
from paperboy.services.hydrate import paper_cache
from paperboy.storage.hf import upsert_hf_signals
from paperboy.storage.paper_stats import add_to_stats
from paperboy.storage.schema import listings, papers, submissions
from paperboy.storage.transactions import write_transaction

MONDAY, WEDNESDAY, THURSDAY, FRIDAY = (date(2025, 6, d) for d in (9, 11, 12, 13))
THURSDAY_IDS = ["2506.00004", "2506.00003", "2506.00002", "2506.00001"]  # newest first
POPULAR, LIKED, SUBMITTED, OLD = "2506.00002", "2506.00003", "2506.00030", "hep-th/9901001"
REPO, PROJECT = "https://github.com/example/popular", "https://popular.example.org"

PAPER_KEYS = {
    "id",
    "authors",
    "publishedAt",
    "submittedOnDailyAt",
    "title",
    "summary",
    "upvotes",
    "numComments",
    "discussionId",
}
ITEM_KEYS = {"paper", "publishedAt", "title", "summary", "thumbnail", "numComments", "isAuthorParticipating"}
HF_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
OBJECT_ID = re.compile(r"[0-9a-f]{24}")
HF_TOKEN = "hf_fakeTokenOfAHuggingFaceUser0123456789"  # the shape of a real one; unknown here
HF_ROUTES = ["/api/daily_papers", "/api/papers", f"/api/papers/{POPULAR}", "/api/papers/search?q=study"]


def listed(arxiv_id, day, **fields):
    return make_record(arxiv_id, listings=(Listing(day, "new"),), **fields)


def paper_id(conn, arxiv_id):
    return conn.execute(select(papers.c.id).where(papers.c.arxiv_id == arxiv_id)).scalar_one()


@pytest.fixture
def catalogue(add_papers, engine):
    """Four papers on Thursday 12 June 2025 (one popular with code, one liked), one on Monday and
    one on Friday, a paper maria submitted to Wednesday, and an old-style paper never listed."""
    add_papers(
        *(listed(arxiv_id, THURSDAY) for arxiv_id in THURSDAY_IDS),
        listed("2506.00020", MONDAY),
        listed("2506.00010", FRIDAY),
        make_record(SUBMITTED, listings=()),
        make_record(OLD, listings=(), authors=("Edward Witten",)),
    )
    maria = make_member(engine, "maria")
    signal = HfSignal(POPULAR, 40, github_repo=REPO, github_stars=321, project_page=PROJECT)
    with write_transaction(engine) as conn:
        upsert_hf_signals(conn, [signal])
        add_to_stats(conn, paper_id(conn, POPULAR), upvotes=5, comments=2)
        add_to_stats(conn, paper_id(conn, LIKED), upvotes=2)
        submitted = paper_id(conn, SUBMITTED)
        at = datetime(2025, 6, 11, 9, 30, tzinfo=UTC)
        conn.execute(
            insert(submissions).values(paper_id=submitted, user_id=maria.id, day=WEDNESDAY, submitted_at=at)
        )
        conn.execute(insert(listings).values(day=WEDNESDAY, paper_id=submitted, announce_type="submitted"))


@pytest.fixture
def client(settings, catalogue):
    with open_client(settings.replace(base_url="https://papers.example.org")) as client:
        yield client


def daily(client, **params):
    response = client.get("/api/daily_papers", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(items):
    return [item["paper"]["id"] if "paper" in item else item["id"] for item in items]


def error(response, parameter):
    """A 422 in huggingface.co's shape: the sentence in `error` and in X-Error-Message."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["code"], body["parameter"]) == ("invalid_parameter", parameter)
    assert response.headers["x-error-message"] == body["error"]
    assert response.headers["x-error-code"] == "invalid_parameter"
    return body["error"]


# --- /api/daily_papers ---


def test_a_day_lists_its_papers_in_hugging_faces_shape(client):
    items = daily(client, date="2025-06-12")
    assert ids(items) == THURSDAY_IDS  # publishedAt: newest first
    popular = items[2]
    assert set(popular) == ITEM_KEYS  # nobody here submitted it: no submittedBy
    assert popular["publishedAt"] == "2025-06-12T00:00:00.000Z"  # when it reached the feed
    assert popular["title"] == popular["paper"]["title"] == f"A study of {POPULAR}"
    assert popular["summary"] == f"We study paper {POPULAR} in depth."
    assert (popular["numComments"], popular["thumbnail"]) == (2, None)
    paper = popular["paper"]
    assert set(paper) == PAPER_KEYS | {"githubRepo", "githubStars", "projectPage"}
    assert (paper["upvotes"], paper["numComments"]) == (5, 2)
    assert OBJECT_ID.fullmatch(paper["discussionId"])  # strict clients require a non-empty string
    assert popular["isAuthorParticipating"] is False
    assert (paper["githubRepo"], paper["githubStars"], paper["projectPage"]) == (REPO, 321, PROJECT)
    assert paper["publishedAt"] == "2025-06-11T17:00:00.000Z"  # arXiv v1
    assert paper["submittedOnDailyAt"] == "2025-06-12T00:00:00.000Z"
    assert [(a["name"], a["hidden"]) for a in paper["authors"]] == [
        ("Ada Lovelace", False),
        ("Alan Turing", False),
    ]
    author_ids = [a["_id"] for a in paper["authors"]]
    assert all(re.fullmatch(r"[0-9a-f]{24}", i) for i in author_ids)
    assert len(set(author_ids)) == 2
    assert author_ids == [a["_id"] for a in daily(client, date="2025-06-12")[2]["paper"]["authors"]]  # stable
    assert set(items[0]["paper"]) == PAPER_KEYS  # no code, stars or project: left out, as HF does


def test_trending_puts_the_papers_with_points_first(client):
    assert ids(daily(client, date="2025-06-12", sort="trending")) == [
        POPULAR,
        LIKED,
        "2506.00004",
        "2506.00001",
    ]
    assert ids(daily(client, date="2025-06-12", sort="publishedAt")) == THURSDAY_IDS


def test_weeks_months_and_the_latest_day(client):
    week = ids(daily(client, week="2025-W24"))
    assert week == ["2506.00010", *THURSDAY_IDS, SUBMITTED, "2506.00020"]  # by day, then id
    assert ids(daily(client, month="2025-06")) == week
    assert ids(daily(client, week="2025-W25")) == []
    assert ids(daily(client)) == ["2506.00010"]  # the latest listing day, Friday
    assert ids(daily(client, date="2025-06-14")) == []  # a Saturday


def test_pages_are_numbered_from_zero(client):
    assert ids(daily(client, date="2025-06-12", limit="3")) == THURSDAY_IDS[:3]
    assert ids(daily(client, date="2025-06-12", limit="3", p="1")) == THURSDAY_IDS[3:]
    assert ids(daily(client, date="2025-06-12", limit="3", p="2")) == []  # past the end
    assert ids(daily(client, date="2025-06-12", p="0", sort="trending", limit="1")) == [POPULAR]
    assert len(daily(client, month="2025-06", limit="100")) == 7


def test_submitter_lists_a_members_submissions(client):
    items = daily(client, submitter="maria")
    assert ids(items) == [SUBMITTED]
    by = items[0]["submittedBy"]
    assert (by["user"], by["name"], by["fullname"], by["type"], by["avatarUrl"]) == (
        "maria",
        "maria",
        "maria",
        "user",
        None,
    )
    assert items[0]["paper"]["submittedOnDailyBy"] == by
    assert items[0]["paper"]["submittedOnDailyAt"] == "2025-06-11T00:00:00.000Z"
    assert ids(daily(client, submitter="Maria", week="2025-W24")) == [SUBMITTED]
    assert ids(daily(client, submitter="maria", date="2025-06-12")) == []
    assert ids(daily(client, submitter="maria", p="1")) == []
    assert ids(daily(client, submitter="nobody")) == []


@pytest.mark.parametrize(
    ("params", "parameter", "says"),
    [
        ({"limit": "0"}, "limit", "from 1 to 100"),
        ({"limit": "101"}, "limit", "from 1 to 100"),
        ({"limit": "ten"}, "limit", "'ten'"),
        ({"p": "-1"}, "p", "from 0"),
        ({"date": "2025-13-01"}, "date", "month 13 does not exist"),
        ({"date": "12/06/2025"}, "date", "expected YYYY-MM-DD"),
        ({"week": "2025-W60"}, "week", "W01 to W53"),
        ({"month": "2025-6"}, "month", "expected YYYY-MM"),
        ({"sort": "hot"}, "sort", "publishedAt, trending"),
        # Given empty is a value, not the default: the schema refuses it, and so does the server.
        ({"limit": ""}, "limit", "from 1 to 100, not ''"),
        ({"p": ""}, "p", "from 0"),
        ({"sort": ""}, "sort", "not ''"),
        ({"date": ""}, "date", "expected YYYY-MM-DD"),
        ({"p": "+1"}, "p", "'+1'"),
        ({"limit": " 5"}, "limit", "' 5'"),
        ({"p": "1" * 20}, "p", "from 0 to 1000000"),
    ],
)
def test_bad_parameters_are_422_with_the_reason(client, params, parameter, says):
    assert says in error(client.get("/api/daily_papers", params=params), parameter)


def test_several_periods_ask_for_the_papers_listed_in_all_of_them(client):
    thursday = ids(daily(client, date="2025-06-12"))
    assert ids(daily(client, date="2025-06-12", week="2025-W24")) == thursday
    assert ids(daily(client, date="2025-06-12", week="2025-W24", month="2025-06")) == thursday
    assert ids(daily(client, week="2025-W24", month="2025-06")) == ids(daily(client, week="2025-W24"))
    assert daily(client, date="2025-06-12", month="2025-07") == []
    assert daily(client, week="2025-W27", month="2025-06") == []  # 30 June to 6 July: not inside June


def test_a_week_the_year_lacks_is_404(client):
    response = client.get("/api/daily_papers", params={"week": "2025-W53"})
    assert response.status_code == 404
    assert response.json() == {
        "error": "week: 2025 has no week 53: it has 52 ISO weeks",
        "code": "not_found",
        "parameter": "week",
    }
    assert client.get("/api/daily_papers", params={"week": "2026-W53"}).status_code == 200


def test_answers_carry_an_etag_and_revalidate_to_304(client):
    for url in ("/api/daily_papers?date=2025-06-12", f"/api/papers/{POPULAR}", "/api/papers?limit=2"):
        first = client.get(url)
        tag = first.headers["etag"]
        again = client.get(url, headers={"If-None-Match": tag})
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


# --- /api/papers/{id} ---


def test_a_paper_by_any_spelling_of_its_id(client):
    paper = client.get(f"/api/papers/{POPULAR}").json()
    assert set(paper) == PAPER_KEYS | {"githubRepo", "githubStars", "projectPage"}
    assert (paper["id"], paper["upvotes"], paper["githubStars"]) == (POPULAR, 5, 321)
    assert paper["submittedOnDailyAt"] == "2025-06-12T00:00:00.000Z"
    assert client.get(f"/api/papers/{POPULAR}v2").json() == paper
    assert client.get(f"/api/papers/arXiv:{POPULAR}").json() == paper
    submitted = client.get(f"/api/papers/{SUBMITTED}").json()
    assert submitted["submittedOnDailyBy"]["user"] == "maria"
    old = client.get(f"/api/papers/{OLD}").json()
    assert (old["id"], old["submittedOnDailyAt"], [a["name"] for a in old["authors"]]) == (
        OLD,
        None,
        ["Edward Witten"],
    )


@pytest.mark.parametrize("arxiv_id", ["2506.99999", "not-an-id", "2506.00002/extra"])
def test_an_unknown_paper_is_a_json_404(client, arxiv_id):
    response = client.get(f"/api/papers/{arxiv_id}")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == response.headers["x-error-code"] == "not_found"
    assert isinstance(body["error"], str)
    assert body["error"] == response.headers["x-error-message"]


def test_errors_of_our_own_api_keep_their_shape_and_gain_the_header(client):
    response = client.get("/api/v1/papers/2506.99999")
    assert response.status_code == 404
    body = response.json()["error"]
    assert body["code"] == "not_found"
    assert response.headers["x-error-message"] == body["message"]
    unknown = client.get("/api/nothing/here")  # Hugging Face's side of /api/: its shape
    assert unknown.status_code == 404
    message = "There is no page at /api/nothing/here."
    assert unknown.json()["error"] == unknown.headers["x-error-message"] == message


def test_a_hugging_face_token_is_ignored_on_hugging_faces_routes(client, engine):
    """huggingface_hub sends the reader's saved Hugging Face token to any endpoint."""
    for url in HF_ROUTES:
        anonymous = client.get(url)
        with_token = client.get(url, headers={"Authorization": f"Bearer {HF_TOKEN}"})
        assert (with_token.status_code, with_token.json()) == (200, anonymous.json()), url
    refused = client.get("/api/v1/papers", headers={"Authorization": f"Bearer {HF_TOKEN}"})
    assert refused.status_code == 401  # this site's own API still refuses an unknown token
    assert refused.json()["error"]["code"] == "invalid_token"
    ours = create_token(engine, make_member(engine, "ada"), "t", ["read"]).plaintext
    mine = client.get(f"/api/papers/{POPULAR}", headers={"Authorization": f"Bearer {ours}"})
    assert mine.status_code == 200


def test_daily_papers_link_to_the_next_page(client):
    first = client.get("/api/daily_papers", params={"date": "2025-06-12", "limit": "3", "sort": "trending"})
    link = first.headers["link"]
    match = re.fullmatch(r'<https://papers\.example\.org(/api/daily_papers\?[^>]+)>; rel="next"', link)
    assert match, link
    second = client.get(match.group(1))
    assert ids(second.json()) == ["2506.00001"]  # the last of four, trending order kept
    assert "link" not in second.headers
    assert "link" not in client.get("/api/daily_papers", params={"date": "2025-06-12"}).headers
    by_maria = client.get("/api/daily_papers", params={"submitter": "maria", "limit": "1"})
    assert "link" not in by_maria.headers  # one submission: one page


def test_search_still_answers_its_own_path(client):
    response = client.get("/api/papers/search", params={"q": "study"})
    assert response.status_code == 200
    assert isinstance(response.json(), list)


# --- /api/papers?cursor= ---


def test_the_catalogue_pages_by_cursor_with_a_link_header(client):
    seen, url, pages = [], "/api/papers?limit=3", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += ids(response.json())
        pages += 1
        link = response.headers.get("link")
        if link is None:
            break
        match = re.fullmatch(
            r'<https://papers\.example\.org(/api/papers\?cursor=[0-9]+&limit=3)>; rel="next"', link
        )
        assert match, link
        url = match.group(1)
    assert pages == 3
    assert sorted(seen) == sorted([*THURSDAY_IDS, "2506.00020", "2506.00010", SUBMITTED, OLD])
    assert len(client.get("/api/papers").json()) == 8  # default limit 50


def test_a_cursor_this_site_did_not_give_is_422(client):
    for cursor in ("bm9wZQ", "", "-1", "1" * 19, "after:3"):
        assert "cursor" in error(client.get("/api/papers", params={"cursor": cursor}), "cursor")
    assert "limit" in error(client.get("/api/papers", params={"limit": "500"}), "limit")


def test_a_cursor_written_before_cursors_were_numbers_still_pages_on(client):
    link = client.get("/api/papers?limit=3").headers["link"]
    after = re.search(r"cursor=([0-9]+)", link).group(1)
    legacy = base64.urlsafe_b64encode(f"after:{after}".encode()).decode().rstrip("=")
    assert client.get("/api/papers", params={"cursor": legacy, "limit": "3"}).json() == (
        client.get("/api/papers", params={"cursor": after, "limit": "3"}).json()
    )


def test_openapi_describes_the_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/daily_papers", "/api/papers", "/api/papers/{arxiv_id}"):
        assert paths[path]["get"]["tags"] == ["huggingface"]
        assert paths[path]["get"]["summary"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/daily_papers?month=2025-06",
        "/api/daily_papers?month=2025-06&sort=trending",
        "/api/daily_papers?submitter=maria",
        "/api/papers",
    ],
)
def test_statements_do_not_grow_with_the_page(client, url):
    counts = []
    for limit in (1, 100):
        # Both sizes loaded from the database: no paper kept by an earlier request of the module.
        paper_cache(client.app.state.paperboy.engine).clear()
        with counted_statements(client) as statements:
            assert client.get(f"{url}{'&' if '?' in url else '?'}limit={limit}").status_code == 200
        # The page cache reads the catalogue version at most once a second, whatever the page.
        counts.append(len([s for s in statements if "sync_state" not in s]))
    assert counts[0] == counts[1] <= 12


# --- /papers/{id} as Markdown ---


def test_a_paper_page_answers_markdown_to_those_who_ask(client):
    exported = client.get(f"/papers/{POPULAR}.md")
    assert exported.status_code == 200
    html = client.get(f"/papers/{POPULAR}")  # kept by the page cache: must not answer the next
    assert html.headers["content-type"].startswith("text/html")
    for accept in ("text/markdown", "text/markdown, text/html;q=0.9", "text/plain;q=0.5, text/markdown"):
        response = client.get(f"/papers/{POPULAR}", headers={"Accept": accept})
        assert response.status_code == 200, accept
        assert response.headers["content-type"] == "text/markdown; charset=utf-8"
        assert response.text == exported.text
        assert "Accept" in response.headers["vary"]
    assert f"# A study of {POPULAR}" in exported.text
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for accept in (browser, "text/html, text/markdown;q=0.5", "text/markdown;q=0"):
        page = client.get(f"/papers/{POPULAR}", headers={"Accept": accept})
        assert page.headers["content-type"].startswith("text/html"), accept
        assert "Accept" in page.headers["vary"]
    moved = client.get(f"/papers/{POPULAR}v2", headers={"Accept": "text/markdown"})
    assert (moved.status_code, moved.headers["location"]) == (301, f"/papers/{POPULAR}")
    missing = client.get("/papers/2506.99999", headers={"Accept": "text/markdown"})
    assert (missing.status_code, missing.text) == (404, "arXiv paper 2506.99999 is not in this catalogue\n")


# --- the real clients ---


def _hub_env(tmp_path: Path, base: str) -> dict[str, str]:
    """A reader logged in to Hugging Face (a token file under HF_HOME) pointing the hub at us."""
    home = tmp_path / "hf-home"
    home.mkdir(exist_ok=True)
    (home / "token").write_text(HF_TOKEN)
    quiet = {"HF_HUB_OFFLINE": "0", "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1"}
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    return {**kept, **quiet, "HF_HOME": str(home), "HF_ENDPOINT": base, "NO_COLOR": "1"}


def _hf(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    hf = Path(sys.executable).with_name("hf")
    return subprocess.run(
        [str(hf), "papers", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def served(catalogue, database_url, tmp_path: Path):
    env = {
        **site_env(database_url, tmp_path),
    }
    with live_server(env, tmp_path / "server.log") as base:
        yield base


def test_huggingface_hubs_client_reads_this_site(served, monkeypatch):
    # The client only ever reaches this local server; offline mode would refuse even that.
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)  # a logged-in Hugging Face user: sent with every call
    api = HfApi(endpoint=served)
    thursday = list(api.list_daily_papers(date="2025-06-12"))
    assert [p.id for p in thursday] == THURSDAY_IDS
    popular = thursday[2]
    assert popular.title == f"A study of {POPULAR}"
    assert [a.name for a in popular.authors] == ["Ada Lovelace", "Alan Turing"]
    assert (popular.upvotes, popular.comments) == (5, 2)
    assert popular.published_at == datetime(2025, 6, 11, 17, 0, tzinfo=UTC)
    assert popular.submitted_at == datetime(2025, 6, 12, tzinfo=UTC)
    assert OBJECT_ID.fullmatch(popular.discussion_id)
    assert popular.isAuthorParticipating is False  # kept as sent: PaperInfo keeps unknown fields

    trending = list(api.list_daily_papers(week="2025-W24", sort="trending", limit=2))
    assert [p.id for p in trending] == [POPULAR, LIKED]
    by_maria = list(api.list_daily_papers(submitter="maria"))
    assert [p.id for p in by_maria] == [SUBMITTED]
    assert by_maria[0].submitted_by.username == "maria"

    info = api.paper_info(POPULAR)
    assert (info.id, info.title, info.upvotes, info.comments) == (POPULAR, f"A study of {POPULAR}", 5, 2)
    assert (info.github_repo, info.github_stars, info.project_page) == (REPO, 321, PROJECT)
    assert info.published_at == datetime(2025, 6, 11, 17, 0, tzinfo=UTC)
    assert info.submitted_at == datetime(2025, 6, 12, tzinfo=UTC)
    assert api.paper_info(SUBMITTED).submitted_by.username == "maria"

    found = list(api.list_papers(query="study", limit=120))
    assert POPULAR in [p.id for p in found]
    assert all(p.highlightedTitle.count("<mark>") >= 1 for p in found)

    text = api.read_paper(POPULAR)
    assert text.startswith(f"# A study of {POPULAR}\n")
    assert "**Authors:** Ada Lovelace, Alan Turing" in text
    assert f"We study paper {POPULAR} in depth." in text
    assert api.read_paper(f"{POPULAR}v2") == text  # any spelling of the id


def test_huggingface_hubs_errors_read_as_sentences(served, monkeypatch):
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    api = HfApi(endpoint=served)
    with pytest.raises(HfHubHTTPError) as missing:
        api.paper_info("2506.99999")
    assert missing.value.response.status_code == 404
    assert missing.value.server_message == "arXiv paper 2506.99999 is not in this catalogue"
    assert "{" not in str(missing.value)  # no dict written out
    with pytest.raises(HfHubHTTPError) as too_many:
        list(api.list_daily_papers(limit=500))
    assert too_many.value.server_message == "limit must be a whole number from 1 to 100, not '500'"
    with pytest.raises(HfHubHTTPError) as unread:
        api.read_paper("2506.99999")
    assert unread.value.server_message == "arXiv paper 2506.99999 is not in this catalogue"


def test_the_hf_command_line_client_reads_this_site(served, tmp_path: Path):
    env = _hub_env(tmp_path, served)
    listed = _hf(env, "ls", "--date", "2025-06-12", "--format", "quiet")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == THURSDAY_IDS
    info = _hf(env, "info", POPULAR, "--format", "json")
    assert info.returncode == 0, info.stderr
    assert f"A study of {POPULAR}" in info.stdout
    searched = _hf(env, "search", "study", "--format", "quiet")
    assert searched.returncode == 0, searched.stderr
    assert POPULAR in searched.stdout.split()
    read = _hf(env, "read", POPULAR)
    assert read.returncode == 0, read.stderr
    assert f"# A study of {POPULAR}" in read.stdout
    missing = _hf(env, "info", "2506.99999")
    assert missing.returncode != 0
    assert "not found" in (missing.stdout + missing.stderr)
