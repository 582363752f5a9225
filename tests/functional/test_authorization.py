"""The authorisation matrix: every state-changing route of the app, against anonymous, unverified,
banned, wrong-owner and wrong-role requests, and requests without a CSRF token; the digest's
signed-link routes against missing, forged and wrong-kind tokens.

The routes come from the app itself: a new POST route that is not in RULES fails this test until
its rule is written down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from app_client import open_client
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from community import PASSWORD, log_in_as, make_member, stored_token
from conftest import make_record
from sqlalchemy import Connection, select

from paperboy.app import create_app
from paperboy.domain.comments import Comment
from paperboy.domain.digest import Preferences
from paperboy.domain.jobs import NewJob
from paperboy.domain.models import Version
from paperboy.domain.users import User
from paperboy.services import collections, comments, moderation
from paperboy.services.api_tokens import TokenForbidden, create_token
from paperboy.services.jobs import add_jobs
from paperboy.services.subscriptions import DigestLinks
from paperboy.storage import api_tokens, digests, library, submissions, users, votes
from paperboy.storage import collections as collections_store
from paperboy.storage import comments as comments_store
from paperboy.storage import jobs as jobs_store
from paperboy.storage.engine import now_utc
from paperboy.storage.follows import follows_of
from paperboy.storage.queries import paper_id_by_arxiv_id
from paperboy.storage.reader_marks import reader_marks
from paperboy.storage.reader_signals import reader_signals
from paperboy.storage.schema import jobs
from paperboy.storage.transactions import write_transaction
from paperboy.storage.users import update_user

PAPER = "2506.12229"
FRESH = "2506.99001"  # in the catalogue, on no feed, submitted yesterday: submittable
ANON_CSRF = "anonymous-form-token"
NEW_PASSWORD = "a brand new passphrase"


People = dict[str, User]
CommentIds = dict[str, int]
Effect = Callable[[Connection, People, CommentIds], bool]


@dataclass(frozen=True)
class Rule:
    # "user" (any account), "verified" (a confirmed address, banned or not), "member" (verified and
    # not banned), "owner" (the comment's author), "moderator", "keeper" (the collection's owner),
    # "admin" (role admin: the job queue)
    needs: str
    data: dict[str, str] = field(default_factory=dict)
    status: int = 303  # what the allowed actor gets: a form posts, then sees the result
    effect: Effect | None = None  # what that post changed, read back from the database


def _voted(conn: Connection, people: People, _: CommentIds) -> bool:
    paper_id = paper_id_by_arxiv_id(conn, PAPER)
    return paper_id is not None and votes.has_voted(conn, paper_id, people["other"].id)


def _saved(conn: Connection, people: People, _: CommentIds) -> bool:
    paper_id = paper_id_by_arxiv_id(conn, PAPER)
    return paper_id is not None and reader_marks(conn, people["unverified"].id, [paper_id]).saved == {
        paper_id
    }


def _hidden_from_feeds(conn: Connection, people: People, _: CommentIds) -> bool:
    paper_id = paper_id_by_arxiv_id(conn, PAPER)
    hidden = reader_marks(conn, people["unverified"].id, [paper_id or 0]).not_interested
    return paper_id is not None and hidden == {paper_id}


def _hides_seen(conn: Connection, people: People, _: CommentIds) -> bool:
    user = users.user_by_id(conn, people["unverified"].id)
    return user is not None and user.hide_seen


def _followed(conn: Connection, people: People, _: CommentIds) -> bool:
    return [(f.kind, f.value) for f in follows_of(conn, people["unverified"].id)] == [("category", "cs.LG")]


def _submitted(conn: Connection, people: People, _: CommentIds) -> bool:
    paper_id = paper_id_by_arxiv_id(conn, FRESH)
    submission = submissions.submission_of(conn, paper_id) if paper_id is not None else None
    return submission is not None and submission.user_id == people["other"].id


def _commented(conn: Connection, people: People, _: CommentIds) -> bool:
    paper_id = paper_id_by_arxiv_id(conn, PAPER)
    posted = comments_store.paper_comments(conn, paper_id) if paper_id is not None else []
    return any(c.user_id == people["other"].id and c.body == "A fine result." for c in posted)


def _comment(conn: Connection, comment_id: int) -> Comment:
    comment = comments_store.comment_by_id(conn, comment_id)
    assert comment is not None
    return comment


def _edited(conn: Connection, _: People, comment_ids: CommentIds) -> bool:
    return _comment(conn, comment_ids["visible"]).body == "Edited."


def _deleted(conn: Connection, _: People, comment_ids: CommentIds) -> bool:
    return _comment(conn, comment_ids["visible"]).deleted_at is not None


def _hidden(conn: Connection, _: People, comment_ids: CommentIds) -> bool:
    return _comment(conn, comment_ids["visible"]).hidden_at is not None


def _unhidden(conn: Connection, _: People, comment_ids: CommentIds) -> bool:
    return _comment(conn, comment_ids["hidden"]).hidden_at is None


def _is_banned(conn: Connection, name: str) -> bool:
    user = users.user_by_name(conn, name)
    assert user is not None
    return user.banned_at is not None


def _target_banned(conn: Connection, _: People, __: CommentIds) -> bool:
    return _is_banned(conn, "target")


def _unbanned(conn: Connection, _: People, __: CommentIds) -> bool:
    return not _is_banned(conn, "banned")


def _password_changed(conn: Connection, people: People, _: CommentIds) -> bool:
    found = users.credentials(conn, people["unverified"].email)
    assert found is not None
    try:
        return PasswordHasher().verify(found[1], NEW_PASSWORD)
    except VerifyMismatchError:
        return False


def _digest_daily(conn: Connection, people: People, _: CommentIds) -> bool:
    subscription = digests.subscription_by_user(conn, people["banned"].id)
    return subscription is not None and subscription.preferences.frequency == "daily"


def _token_made(conn: Connection, people: People, _: CommentIds) -> bool:
    return [token.name for token in api_tokens.user_tokens(conn, people["other"].id)] == ["a script"]


def _read_marked(conn: Connection, people: People, _: CommentIds) -> bool:
    paper_id = paper_id_by_arxiv_id(conn, PAPER) or 0
    saved = library.saved_among(conn, people["unverified"].id, [paper_id]).get(paper_id)
    return saved is not None and saved.read_at is not None


def _noted(conn: Connection, people: People, _: CommentIds) -> bool:
    paper_id = paper_id_by_arxiv_id(conn, PAPER) or 0
    return library.notes_among(conn, people["unverified"].id, [paper_id]) == {paper_id: "Mine."}


def _unverified_collections(conn: Connection, people: People) -> dict[str, int]:
    return {c.name: c.papers for c in collections_store.collections_of(conn, people["unverified"].id)}


def _saved_to_new(conn: Connection, people: People, _: CommentIds) -> bool:
    return _unverified_collections(conn, people) == {"From the paper": 1}


def _collection_made(conn: Connection, people: People, _: CommentIds) -> bool:
    return _unverified_collections(conn, people) == {"Reading": 0}


def _shelf(conn: Connection, ids: CommentIds) -> tuple[str, int]:
    found = collections_store.collection_by_id(conn, ids["collection"])
    assert found is not None
    return found.name, found.papers


def _renamed(conn: Connection, _: People, ids: CommentIds) -> bool:
    return _shelf(conn, ids)[0] == "Renamed"


def _taken_out(conn: Connection, _: People, ids: CommentIds) -> bool:
    return _shelf(conn, ids)[1] == 0


def _signed_out_everywhere(conn: Connection, people: People, _: CommentIds) -> bool:
    return users.user_sessions(conn, people["unverified"].id, now_utc()) == []


def _blended(conn: Connection, people: People, _: CommentIds) -> bool:
    return reader_signals(conn, people["unverified"].id).personal_share == 40


def _reset(conn: Connection, people: People, _: CommentIds) -> bool:
    return reader_signals(conn, people["unverified"].id).reset


# Routes anyone may post to (they are CSRF-protected all the same: tested in test_account_pages.py).
PUBLIC = {"/signup", "/login", "/logout", "/reset-password"}
# The digest's subscribe form sits in the footer of pages served from the shared page cache, so it
# carries no CSRF token: a cross-site Origin is refused instead (the worst a forged request can do
# is send a rate-limited confirmation mail, which anyone can ask for directly).
ORIGIN_CHECKED = {"/digest/subscribe"}


@dataclass(frozen=True)
class TokenRoute:
    """A route of the digest's signed links: the token is the credential, alone (no cookie, CSRF
    token or Origin; RFC 8058 one-click unsubscribing comes from mail providers' servers)."""

    kind: str  # "confirm" (the confirmation mail's link) or "manage" (the links in every digest)
    in_query: bool = False  # the token in the URL (a List-Unsubscribe header) rather than a field
    data: dict[str, str] = field(default_factory=dict)


TOKEN_ROUTES = {
    "/digest/confirm": TokenRoute("confirm"),
    "/digest/manage": TokenRoute("manage", data={"frequency": "daily", "top_n": "10"}),
    "/digest/unsubscribe": TokenRoute("manage", in_query=True, data={"List-Unsubscribe": "One-Click"}),
    "/digest/resubscribe": TokenRoute("manage"),
}


def _job_retried(conn: Connection, _: People, ids: CommentIds) -> bool:
    return conn.execute(select(jobs.c.state).where(jobs.c.id == ids["job"])).scalar_one() == "queued"


RULES = {
    "/papers/{arxiv_id:path}/vote": Rule("member", {"action": "up"}, effect=_voted),
    "/papers/{arxiv_id:path}/save": Rule("user", {"action": "save"}, effect=_saved),
    "/papers/{arxiv_id:path}/not-interested": Rule("user", {"action": "hide"}, effect=_hidden_from_feeds),
    "/seen/hide": Rule("user", {"action": "hide"}, effect=_hides_seen),
    "/follow": Rule("user", {"kind": "category", "value": "cs.LG"}, effect=_followed),
    "/notifications/seen": Rule("user"),  # their own alerts only: services/notifications.py
    "/library/imports": Rule("user", {"ids": PAPER}, effect=_saved),  # the import saves it at once
    "/submit": Rule("member", {"paper": FRESH}, effect=_submitted),
    "/papers/{arxiv_id:path}/comments": Rule("member", {"body": "A fine result."}, effect=_commented),
    "/comments/{comment_id}/edit": Rule("owner", {"body": "Edited."}, effect=_edited),
    "/comments/{comment_id}/delete": Rule("owner", effect=_deleted),
    "/comments/{comment_id}/hide": Rule("moderator", {"reason": "off topic"}, effect=_hidden),
    "/comments/{comment_id}/unhide": Rule("moderator", effect=_unhidden),
    "/users/{name}/ban": Rule("moderator", {"reason": "spam"}, effect=_target_banned),
    "/users/{name}/unban": Rule("moderator", effect=_unbanned),
    "/settings/verify-email": Rule("user"),  # sends a mail: test_account_pages.py follows it
    "/settings/password": Rule(
        "user", {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}, effect=_password_changed
    ),
    "/settings/digest": Rule("verified", {"frequency": "daily", "top_n": "10"}, effect=_digest_daily),
    "/settings/digest/unsubscribe": Rule("verified"),  # they have no subscription to stop here
    "/settings/tokens": Rule("member", {"name": "a script", "scope": "read"}, status=200, effect=_token_made),
    "/settings/tokens/{token_id}/revoke": Rule("user"),  # token 1 is not theirs: nothing to revoke
    "/settings/tokens/revoke-all": Rule("user"),  # they hold none (an unverified account cannot)
    "/settings/sessions/{session_id}/end": Rule("user"),  # no such session: nothing to end
    "/settings/sessions/end-all": Rule("user", effect=_signed_out_everywhere),
    # issue 16: any account keeps a library; a collection is its owner's alone ("keeper": the
    # author's collection, any other account gets its 404).
    "/papers/{arxiv_id:path}/read": Rule("user", {"action": "read"}, effect=_read_marked),
    "/papers/{arxiv_id:path}/note": Rule("user", {"note": "Mine."}, effect=_noted),
    "/papers/{arxiv_id:path}/collections": Rule(
        "user", {"new_collection": "From the paper"}, effect=_saved_to_new
    ),
    "/library/collections": Rule("user", {"name": "Reading"}, effect=_collection_made),
    "/library/collections/{collection_id}": Rule(
        "keeper", {"action": "update", "name": "Renamed"}, effect=_renamed
    ),
    "/library/collections/{collection_id}/papers/{arxiv_id:path}": Rule(
        "keeper", {"action": "remove"}, effect=_taken_out
    ),
    # "For you" settings are the reader's own (any account, as the library).
    "/for-you/blend": Rule("user", {"personal": "40"}, effect=_blended),
    "/for-you/reset": Rule("user", effect=_reset),
    # issue 17: a failed job queued again, by an administrator only (moderators too are refused)
    "/admin/jobs/{job_id}/retry": Rule("admin", effect=_job_retried),
}


# The JSON API's writes (POST here; PUT/DELETE vote alike): a token with the scope, or a session
# with its CSRF token, of a member (tests/functional/test_api_v1.py tests them in detail).
API_ROUTES = {
    "/api/v1/papers/{arxiv_id:path}/comments": ("comment", {"body": "A fine result."}),
    "/api/v1/submissions": ("submit", {"paper": FRESH}),
    "/api/v1/me/library/imports": ("library", {"ids": [PAPER]}),
    "/api/v1/me/collections": ("library", {"name": "Reading"}),
    "/api/v1/me/follows": ("library", {"kind": "category", "value": "cs.LG"}),
    "/api/v1/me/notifications/seen": ("library", {}),
}


def _all_routes(routes):
    """Routes, looking inside included routers (FastAPI keeps them whole since 0.16x)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _all_routes(included.routes) if included is not None else [route]


def test_every_post_route_has_a_rule(settings):
    app = create_app(settings)
    routes = list(_all_routes(app.routes))
    posts = {route.path for route in routes if "POST" in (getattr(route, "methods", None) or ())}
    assert "/papers/{arxiv_id:path}" in {getattr(route, "path", None) for route in routes}  # looked inside
    assert posts == PUBLIC | ORIGIN_CHECKED | set(TOKEN_ROUTES) | set(RULES) | set(API_ROUTES)


@pytest.fixture
def world(settings, engine, add_papers):
    yesterday = datetime.now(UTC) - timedelta(days=1)
    add_papers(make_record(PAPER), make_record(FRESH, versions=(Version(1, yesterday),), listings=()))
    people = {
        "author": make_member(engine, "author"),
        "other": make_member(engine, "other"),
        "unverified": make_member(engine, "unverified", verified=False),
        "banned": make_member(engine, "banned"),
        "mod": make_member(engine, "mod", role="moderator"),
        "target": make_member(engine, "target"),
        "admin": make_member(engine, "admin", role="admin"),
    }
    post = comments.post_comment
    hidden = post(engine, settings, people["author"], PAPER, "First!", None, "127.0.0.1")
    moderation.hide_comment(engine, people["mod"], hidden.id, "test")  # for the unhide route
    visible = post(engine, settings, people["author"], PAPER, "Second.", None, "127.0.0.1")
    with write_transaction(engine) as conn:
        update_user(conn, people["banned"].id, banned_at=datetime.now(UTC), ban_reason="test")
    shelf = collections.create_collection(engine, settings, people["author"], "127.0.0.1", "Shelf")
    collections.add_to_collection(engine, settings, people["author"], "127.0.0.1", shelf.id, PAPER)
    return people, {
        "hidden": hidden.id,
        "visible": visible.id,
        "collection": shelf.id,
        "job": _failed_job(engine),
    }


def _failed_job(engine) -> int:
    add_jobs(engine, [NewJob("noop", max_attempts=1)])
    with write_transaction(engine) as conn:
        job = jobs_store.claim_job(conn, "host:1", now_utc(), timedelta(minutes=1), alone=True)
        assert job is not None
        jobs_store.fail_job(conn, job, now_utc(), "RuntimeError: for the test", None)
    return job.id


def _path(template: str, comment_ids: dict[str, int]) -> str:
    comment = comment_ids["hidden" if template.endswith("/unhide") else "visible"]
    return (
        template.replace("{arxiv_id:path}", PAPER)
        .replace("{comment_id}", str(comment))
        .replace("{name}", "banned" if template.endswith("/unban") else "target")
        .replace("{token_id}", "1")
        .replace("{session_id}", "0" * 64)
        .replace("{collection_id}", str(comment_ids["collection"]))
        .replace("{job_id}", str(comment_ids["job"]))
    )


def _post(client, path, user, rule, *, with_token=True):
    client.cookies.clear()
    if user is None:
        client.cookies.set("paperboy_csrf", ANON_CSRF)
        token = ANON_CSRF
    else:
        token = log_in_as(client, user)
    data = {**rule.data, **({"csrf_token": token} if with_token else {})}
    return client.post(path, data=data)


@pytest.mark.parametrize("template", sorted(RULES))
def test_who_may_post(template, settings, engine, world):
    people, comment_ids = world
    rule = RULES[template]
    path = _path(template, comment_ids)
    with open_client(settings.replace(page_cache_mb=0)) as client:
        assert _post(client, path, None, rule).status_code == 401, "anonymous"
        if rule.needs not in ("user", "keeper"):
            assert _post(client, path, people["unverified"], rule).status_code == 403, "unverified"
        if rule.needs not in ("user", "verified", "keeper"):
            assert _post(client, path, people["banned"], rule).status_code == 403, "banned"
        if rule.needs == "owner":
            assert _post(client, path, people["other"], rule).status_code == 403, "not the author"
        if rule.needs == "moderator":
            assert _post(client, path, people["other"], rule).status_code == 403, "not a moderator"
        if rule.needs == "admin":
            for someone in ("other", "mod"):
                assert _post(client, path, people[someone], rule).status_code == 403, (
                    f"{someone}: not an admin"
                )
        if rule.needs == "keeper":  # another's collection: the 404 of one that does not exist
            for someone in ("other", "unverified", "mod"):
                assert _post(client, path, people[someone], rule).status_code == 404, someone
        allowed = {
            "user": "unverified",
            "verified": "banned",  # a banned member may still manage (and stop) their digest
            "member": "other",
            "owner": "author",
            "moderator": "mod",
            "keeper": "author",
            "admin": "admin",
        }[rule.needs]
        refused = _post(client, path, people[allowed], rule, with_token=False)
        assert refused.status_code == 403, "no CSRF token"
        with engine.connect() as conn:
            assert rule.effect is None or not rule.effect(conn, people, comment_ids), (
                "done before it was allowed"
            )
        answer = _post(client, path, people[allowed], rule)
        assert answer.status_code == rule.status, answer.text
    if rule.effect is not None:
        with engine.connect() as conn:
            assert rule.effect(conn, people, comment_ids), "the allowed post changed nothing"


def _token_post(client, template: str, route: TokenRoute, token: str):
    if route.in_query:
        return client.post(template, params={"token": token}, data=route.data)
    return client.post(template, data={**route.data, "token": token})


@pytest.mark.parametrize("template", sorted(TOKEN_ROUTES))
def test_signed_link_routes_take_their_own_token_and_nothing_else(template, settings, engine):
    route = TOKEN_ROUTES[template]
    with write_transaction(engine) as conn:
        new_id = digests.insert_subscription(
            conn,
            email="reader@example.org",
            status="pending" if route.kind == "confirm" else "unsubscribed",  # what each route acts on
            nonce="n0nce",
            preferences=Preferences(),
            now=now_utc(),
        )
        subscription = digests.subscription_by_id(conn, new_id)
    links = DigestLinks(engine, settings)
    tokens = {
        "confirm": links.confirm_url(subscription).split("token=", 1)[1],
        "manage": links.token(subscription),
    }
    wrong_kind = tokens["manage" if route.kind == "confirm" else "confirm"]
    with open_client(settings.replace(page_cache_mb=0)) as client:
        for token in ("", "forged", tokens[route.kind] + "x", wrong_kind):
            answer = _token_post(client, template, route, token)
            assert answer.status_code == 400, f"token {token!r}"
            assert answer.headers["referrer-policy"] == "no-referrer"
        assert not client.cookies
        answer = _token_post(client, template, route, tokens[route.kind])  # no cookie, CSRF token or Origin
        assert answer.status_code in (200, 303), answer.text


def test_the_subscribe_form_refuses_a_cross_site_origin(settings):
    (path,) = ORIGIN_CHECKED
    with open_client(settings.replace(page_cache_mb=0)) as client:
        forged = client.post(
            path, data={"email": "victim@example.org"}, headers={"origin": "https://evil.example"}
        )
        assert forged.status_code == 403
        allowed = client.post(
            path, data={"email": "reader@example.org"}, headers={"origin": "http://testserver"}
        )
        assert allowed.status_code == 303


@pytest.mark.parametrize("template", sorted(API_ROUTES))
def test_who_may_post_to_the_api(template, settings, engine, world):
    people, _ = world
    scope, body = API_ROUTES[template]
    path = template.replace("{arxiv_id:path}", PAPER)
    right = create_token(engine, people["other"], "right", [scope]).plaintext
    wrong = create_token(engine, people["other"], "wrong", ["read"]).plaintext
    with pytest.raises(TokenForbidden):  # an unverified account holds no token
        create_token(engine, people["unverified"], "u", [scope])
    banned = stored_token(engine, people["banned"], scope)  # one that predates a ban is refused
    with open_client(settings.replace(page_cache_mb=0)) as client:
        assert client.post(path, json=body).status_code == 401, "anonymous"
        assert client.post(path, json=body, headers=_bearer(wrong)).status_code == 403, "scope"
        assert client.post(path, json=body, headers=_bearer(banned)).status_code == 401, "banned"
        token = log_in_as(client, people["author"])
        assert client.post(path, json=body).status_code == 403, "session without CSRF token"
        answer = client.post(path, json=body, headers={"X-CSRF-Token": token})
        assert answer.status_code in (200, 201, 202), answer.text
        client.cookies.clear()
        answer = client.post(path, json=body, headers=_bearer(right))  # no cookie, no CSRF token
        assert answer.status_code in (200, 201, 202), answer.text


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
