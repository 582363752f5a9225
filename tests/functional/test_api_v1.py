"""The JSON API /api/v1: tokens and scopes, reads, incremental sync, ETags, errors, rate
limits, /openapi.json and /docs, against a real database."""

from __future__ import annotations

import re
from datetime import date

import pytest
from app_client import open_client
from community import csrf_from, log_in_as, make_member
from conftest import make_record
from sqlalchemy import select

from paperboy.domain.models import Listing
from paperboy.services.api_tokens import authenticate_token, create_token, user_for_feed_token
from paperboy.services.changes import CURSOR_PATTERN
from paperboy.storage.schema import api_tokens
from paperboy.storage.transactions import write_transaction
from paperboy.storage.users import update_user
from paperboy.web.rate_limit import Budgets

PAPER, OTHER = "2506.12229", "2506.12230"


@pytest.fixture
def client(settings):
    with open_client(settings.replace(page_cache_mb=0)) as client:
        yield client


@pytest.fixture
def papers(add_papers):
    add_papers(make_record(PAPER), make_record(OTHER, title="Another study"))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"]
    assert error["message"]
    return error


# --- tokens -----------------------------------------------------------------------------------


def test_a_token_is_made_in_settings_shown_once_listed_and_revoked(client, engine, papers):
    user = make_member(engine, "ada")
    log_in_as(client, user)
    form = csrf_from(client.get("/settings").text)
    made = client.post(
        "/settings/tokens", data={"csrf_token": form, "name": "my script", "scope": ["read", "vote"]}
    )
    assert made.status_code == 200
    (token,) = re.findall(r'<code class="token">(pb_[\w-]+)</code>', made.text)
    with engine.connect() as conn:
        row = conn.execute(select(api_tokens)).one()
    assert row.scopes == "read vote"
    assert row.prefix == token[:10]
    assert token not in row
    page = client.get("/settings").text
    assert token not in page
    assert row.prefix in page
    assert "<td>never</td>" in page
    client.cookies.clear()
    me = client.get("/api/v1/me", headers=_bearer(token))
    assert me.json() == {**me.json(), "name": "ada", "scopes": ["read", "vote"]}
    assert "<td>never</td>" not in _settings_page(client, user)  # last use recorded
    log_in_as(client, user)
    form = csrf_from(client.get("/settings").text)
    revoked = client.post(f"/settings/tokens/{row.id}/revoke", data={"csrf_token": form})
    assert revoked.status_code == 303
    client.cookies.clear()
    error = _error(client.get("/api/v1/me", headers=_bearer(token)), 401)
    assert error["code"] == "invalid_token"


def _settings_page(client, user) -> str:
    log_in_as(client, user)
    page = client.get("/settings").text
    client.cookies.clear()
    return page


def test_token_requests_are_checked(client, engine):
    user = make_member(engine, "ada")
    log_in_as(client, user)
    form = csrf_from(client.get("/settings").text)
    answer = client.post("/settings/tokens", data={"csrf_token": form, "name": " ", "scope": "read"})
    assert answer.status_code == 400
    assert "give the token a name" in answer.text
    answer = client.post("/settings/tokens", data={"csrf_token": form, "name": "x", "scope": "admin"})
    assert answer.status_code == 400
    assert "unknown scope" in answer.text
    assert client.post("/settings/tokens", data={"name": "x", "scope": "read"}).status_code == 403  # no CSRF


def test_a_banned_accounts_tokens_stop_working(engine):
    user = make_member(engine, "ada")
    token = create_token(engine, user, "t", ["read"]).plaintext
    feed = create_token(engine, user, "f", ["feed"]).plaintext
    assert authenticate_token(engine, token).user.id == user.id
    assert user_for_feed_token(engine, feed).id == user.id
    assert user_for_feed_token(engine, token) is None
    with write_transaction(engine) as conn:
        update_user(conn, user.id, banned_at=user.created_at, ban_reason="spam")
    assert authenticate_token(engine, token) is None
    assert user_for_feed_token(engine, feed) is None
    assert authenticate_token(engine, "pb_unknown") is None


# --- reads and writes with scopes -------------------------------------------------------------


def test_reads_are_public_and_a_token_adds_the_accounts_votes(client, engine, papers):
    user = make_member(engine, "ada")
    voter = create_token(engine, user, "v", ["vote"]).plaintext
    reader = create_token(engine, user, "r", ["read"]).plaintext
    paper = client.get(f"/api/v1/papers/arXiv:{PAPER}v1")
    assert paper.status_code == 200
    assert paper.json()["arxiv_id"] == PAPER
    assert paper.json()["voted"] is False
    voted = client.put(f"/api/v1/papers/{PAPER}/vote", headers=_bearer(voter))
    assert voted.json() == {"arxiv_id": PAPER, "upvotes": 1, "voted": True}
    assert client.get(f"/api/v1/papers/{PAPER}", headers=_bearer(reader)).json()["voted"] is True
    assert client.get(f"/api/v1/papers/{PAPER}").json() == {**paper.json(), "upvotes": 1}
    error = _error(client.put(f"/api/v1/papers/{PAPER}/vote", headers=_bearer(reader)), 403)
    assert error["code"] == "insufficient_scope"
    assert "'vote'" in error["message"]
    _error(client.put(f"/api/v1/papers/{PAPER}/vote"), 401)
    _error(client.get("/api/v1/me", headers=_bearer(voter)), 403)  # /me needs read
    library = client.get("/api/v1/me/library", headers=_bearer(reader)).json()
    assert [entry["arxiv_id"] for entry in library["upvoted"]] == [PAPER]
    removed = client.delete(f"/api/v1/papers/{PAPER}/vote", headers=_bearer(voter))
    assert removed.json() == {"arxiv_id": PAPER, "upvotes": 0, "voted": False}
    _error(client.put("/api/v1/papers/2501.99999/vote", headers=_bearer(voter)), 404)


def test_comments_through_the_api(client, engine, papers):
    user = make_member(engine, "ada")
    token = create_token(engine, user, "c", ["comment"]).plaintext
    made = client.post(
        f"/api/v1/papers/{PAPER}/comments", json={"body": "Nice *result*."}, headers=_bearer(token)
    )
    assert made.status_code == 201
    assert made.json()["body_html"] == "<p>Nice <em>result</em>.</p>"
    reply = {"body": "Agreed.", "parent_id": made.json()["id"]}
    assert (
        client.post(f"/api/v1/papers/{PAPER}/comments", json=reply, headers=_bearer(token)).status_code == 201
    )
    thread = client.get(f"/api/v1/papers/{PAPER}/comments").json()["comments"]
    assert [(c["author"], [r["body"] for r in c["replies"]]) for c in thread] == [("ada", ["Agreed."])]
    error = _error(
        client.post(f"/api/v1/papers/{PAPER}/comments", json={"body": ""}, headers=_bearer(token)), 422
    )
    assert error["parameter"] == "body"
    blank = {"body": "\u00a0\u3000\n"}  # whitespace alone, as the schema's pattern says
    error = _error(client.post(f"/api/v1/papers/{PAPER}/comments", json=blank, headers=_bearer(token)), 422)
    assert error == {
        "code": "invalid_parameter",
        "message": "Write something first: the comment is empty.",
        "parameter": "body",
    }


def test_a_reply_to_another_papers_comment_is_409(client, engine, papers):
    token = create_token(engine, make_member(engine, "ada"), "c", ["comment"]).plaintext
    made = client.post(f"/api/v1/papers/{PAPER}/comments", json={"body": "Here."}, headers=_bearer(token))
    reply = {"body": "There.", "parent_id": made.json()["id"]}
    error = _error(client.post(f"/api/v1/papers/{OTHER}/comments", json=reply, headers=_bearer(token)), 409)
    assert error["message"] == f"Comment {made.json()['id']} belongs to another paper's discussion."
    assert client.get(f"/api/v1/papers/{OTHER}/comments").json()["comments"] == []


def test_a_week_the_year_lacks_is_404(client, papers):
    error = _error(client.get("/api/v1/listings", params={"period": "2025-W53"}), 404)
    assert error == {
        "code": "not_found",
        "message": "period: 2025 has no week 53: it has 52 ISO weeks",
        "parameter": "period",
    }


def test_a_method_a_path_lacks_is_405_with_every_documented_method_in_allow(client, papers):
    """Starlette names only the first route that matched; the routes of a path live in two routers."""
    for path, allowed in [
        (f"/api/v1/papers/{PAPER}/comments", "GET, POST"),
        (f"/api/v1/papers/{PAPER}/vote", "DELETE, PUT"),
        ("/api/v1/papers/hep-th/9901001/vote", "DELETE, PUT"),
        (f"/api/v1/papers/{PAPER}", "GET"),
        ("/api/papers/search", "GET"),
    ]:
        response = client.options(path)
        assert (response.status_code, response.headers["allow"]) == (405, allowed), path


def test_a_session_writes_with_its_csrf_token(client, engine, papers):
    csrf = log_in_as(client, make_member(engine, "ada"))
    _error(client.put(f"/api/v1/papers/{PAPER}/vote"), 403)
    assert client.put(f"/api/v1/papers/{PAPER}/vote", headers={"X-CSRF-Token": csrf}).json()["voted"] is True


# --- incremental sync, ETags, listings --------------------------------------------------------


def test_the_since_cursor_returns_what_changed_after_it(client, add_papers, papers):
    first = client.get("/api/v1/papers", params={"limit": 1}).json()
    assert [p["arxiv_id"] for p in first["papers"]] == [PAPER]
    rest = client.get("/api/v1/papers", params={"since": first["next_cursor"]}).json()
    assert [p["arxiv_id"] for p in rest["papers"]] == [OTHER]
    done = client.get("/api/v1/papers", params={"since": rest["next_cursor"]}).json()
    assert done["papers"] == []
    assert done["next_cursor"] == rest["next_cursor"]
    add_papers(make_record(PAPER, title="A study, revised"))
    changed = client.get("/api/v1/papers", params={"since": rest["next_cursor"]}).json()
    assert [(p["arxiv_id"], p["title"]) for p in changed["papers"]] == [(PAPER, "A study, revised")]
    assert re.fullmatch(CURSOR_PATTERN, rest["next_cursor"])
    for cursor in ("garbage", "", "1-", "1-x"):
        error = _error(client.get("/api/v1/papers", params={"since": cursor}), 422)
        assert error["parameter"] == "since"
    assert "next_cursor" in error["message"]


@pytest.mark.parametrize("path", [f"/api/v1/papers/{PAPER}", "/api/v1/papers", "/api/v1/listings"])
def test_papers_and_lists_answer_304_to_their_etag(client, papers, path):
    first = client.get(path)
    tag = first.headers["etag"]
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_listings_of_a_day_week_and_month(client, add_papers):
    add_papers(make_record(PAPER), make_record(OTHER, listings=(Listing(date(2025, 6, 13), "new"),)))
    day = client.get("/api/v1/listings", params={"period": "2025-06-12"}).json()
    assert [i["paper"]["arxiv_id"] for i in day["items"]] == [PAPER]
    assert day["kind"] == "day"
    week = client.get("/api/v1/listings", params={"period": "2025-W24", "sort": "newest"}).json()
    assert [i["paper"]["arxiv_id"] for i in week["items"]] == [OTHER, PAPER]
    assert week["total"] == 2
    month = client.get("/api/v1/listings", params={"period": "2025-06", "limit": 1, "page": 2}).json()
    assert month["pages"] == 2
    assert len(month["items"]) == 1
    latest = client.get("/api/v1/listings").json()
    assert latest["period"] == "2025-06-13"


@pytest.mark.parametrize(
    ("params", "parameter", "message"),
    [
        ({"period": "June"}, "period", "period 'June' is not a day, week or month"),
        ({"period": "2025-02-30"}, "period", "period: 2025-02-30 does not exist"),
        ({"period": "2025-13"}, "period", "period: month 13 does not exist"),
        ({"period": ""}, "period", "period '' is not a day, week or month"),
        ({"limit": "101"}, "limit", "limit must be a whole number from 1 to 100, not '101'"),
        ({"limit": "0"}, "limit", "limit must be a whole number from 1 to 100, not '0'"),
        ({"limit": ""}, "limit", "limit must be a whole number from 1 to 100, not ''"),
        ({"page": "x"}, "page", "page must be a whole number from 1 to 10000, not 'x'"),
        ({"page": "5.0"}, "page", "page must be a whole number from 1 to 10000, not '5.0'"),
        ({"sort": "hot"}, "sort", "sort must be one of trending, newest, not 'hot'"),
    ],
)
def test_unusable_parameters_are_422_with_a_clear_message(client, papers, params, parameter, message):
    error = _error(client.get("/api/v1/listings", params=params), 422)
    assert error["code"] == "invalid_parameter"
    assert error["parameter"] == parameter
    assert error["message"].startswith(message)


def test_errors_have_one_shape(client, papers):
    assert _error(client.get("/api/v1/papers/2501.99999"), 404)["code"] == "not_found"
    assert _error(client.get("/api/v1/nothing"), 404)["code"] == "not_found"
    assert _error(client.post("/api/v1/papers"), 405)["code"] == "method_not_allowed"
    assert _error(client.get("/api/v1/me"), 401)["code"] == "unauthorized"
    assert (
        _error(client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}), 401)["code"]
        == "invalid_token"
    )
    refused = client.post("/api/v1/submissions", content=b"{", headers=_bearer("x"))
    assert _error(refused, 401)["code"] == "invalid_token"
    # Clients that show only headers (huggingface_hub) read the reason there too.
    assert refused.headers["x-error-code"] == "invalid_token"
    assert refused.headers["x-error-message"].startswith("This API token is unknown")
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'


# --- rate limits ------------------------------------------------------------------------------


def test_rate_limits_answer_429_then_allow_again_after_the_window(settings, engine, papers, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(Budgets, "__init__", _with_clock(Budgets.__init__, lambda: now[0]))
    token = create_token(engine, make_member(engine, "ada"), "t", ["read"]).plaintext
    limited = settings.replace(page_cache_mb=0, rate_limit_api_ip="2/minute", rate_limit_api="3/minute")
    with open_client(limited) as client:
        first = client.get("/api/v1/papers")
        assert first.headers["ratelimit-policy"] == '"api";q=2;w=60'
        assert first.headers["ratelimit"] == '"api";r=1;t=20'  # 1,000,000 = 16,666 min + 40 s
        client.get("/api/v1/papers")
        refused = client.get("/api/v1/papers")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "20"
        assert _error(refused, 429)["code"] == "rate_limited"
        assert refused.headers["ratelimit"] == '"api";r=0;t=20'
        assert (
            client.get("/api/v1/papers", headers=_bearer(token)).headers["ratelimit"].startswith('"api";r=2;')
        )
        assert client.get("/healthz").headers.get("ratelimit") is None  # only /api/
        now[0] += 20
        assert client.get("/api/v1/papers").status_code == 200


def _with_clock(init, clock):
    def patched(self, engine, settings):
        init(self, engine, settings, clock=clock)

    return patched


# --- the schema and its page ------------------------------------------------------------------


def test_openapi_documents_every_api_route_and_no_page(client):
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    expected = {
        "/api/v1/papers",
        "/api/v1/papers/{arxiv_id}",
        "/api/v1/papers/{arxiv_id}/comments",
        "/api/v1/papers/{arxiv_id}/vote",
        "/api/v1/papers/{arxiv_id}/similar",
        "/api/v1/listings",
        "/api/v1/search",
        "/api/v1/submissions",
        "/api/v1/me",
        "/api/v1/me/library",
        "/api/papers/search",
    }
    assert expected <= paths
    assert all(path.startswith("/api/") for path in paths)
    vote = schema["paths"]["/api/v1/papers/{arxiv_id}/vote"]
    assert set(vote) == {"put", "delete"}
    assert vote["put"]["responses"]["403"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ErrorBody"
    )


def test_docs_page_loads_its_assets_from_this_site(client):
    page = client.get("/docs").text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    assert "/static/swagger/swagger-ui-bundle.js" in assets
    assert "/openapi.json" in page
    assert not [url for url in assets if url.startswith(("http:", "https:", "//"))]
    for url in assets:
        assert client.get(url).status_code == 200, url
