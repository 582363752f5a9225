"""Personal answers are never shareable: every GET route of the app, asked by an anonymous visitor,
a member and a moderator (session cookies) and an API token (Bearer, on /api/ routes).

Whoever sent credentials gets `Cache-Control: private` (or no-store), never a directive that lets
a shared cache (a proxy, a CDN) keep the answer, and a `Vary` naming what they sent. Anonymous
answers say `Vary: Cookie` (and Authorization under /api/), so a shared cache keyed on them
never hands a personal copy to someone else.

The routes come from the app itself: a new GET route fails this test until URLS says how to ask
for it.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from app_client import open_client
from community import make_member
from conftest import make_record

from paperboy.app import create_app
from paperboy.domain.digest import Preferences
from paperboy.services import collections, comments, moderation
from paperboy.services.api_tokens import create_token
from paperboy.services.search_index import embed_new_papers
from paperboy.services.subscriptions import DigestLinks
from paperboy.storage import digests
from paperboy.storage.engine import now_utc
from paperboy.storage.transactions import write_transaction

PAPER = "2506.12229"
MOUNTS = {"/static", "/static/swagger"}  # files, the same for everyone: not asked here
# Each GET route, as a URL; {comment}, {feed_token}, {confirm}, {manage} and {collection} come from
# the world.
URLS = {
    "/openapi.json": "/openapi.json",
    "/healthz": "/healthz",
    "/healthz/search": "/healthz/search",
    "/signup": "/signup",
    "/signup/sent": "/signup/sent",
    "/verify-email": "/verify-email?token=not-a-real-token",
    "/login": "/login",
    "/logout": "/logout",
    "/reset-password": "/reset-password",
    "/reset-password/sent": "/reset-password/sent",
    "/settings": "/settings",
    "/users/{name}": "/users/member",
    "/digest": "/digest",
    "/digest/sent": "/digest/sent",
    "/digest/confirm": "/digest/confirm?token={confirm}",
    "/digest/manage": "/digest/manage?token={manage}",
    "/digest/unsubscribe": "/digest/unsubscribe?token={manage}",
    "/digest/preview": "/digest/preview?token={manage}",
    "/submit": "/submit",
    "/library": "/library",
    "/admin/jobs": "/admin/jobs",
    "/for-you": "/for-you",
    "/for-you/week": "/for-you/week",
    "/for-you/month": "/for-you/month",
    "/for-you/date/{day}": "/for-you/date/2025-06-12",
    "/for-you/week/{week}": "/for-you/week/2025-W24",
    "/for-you/month/{month}": "/for-you/month/2025-06",
    "/for-you/why/{arxiv_id:path}": f"/for-you/why/{PAPER}",
    "/following": "/following",
    "/notifications": "/notifications",
    "/authors/{name:path}": "/authors/Ada%20Lovelace",
    "/api/v1/me/follows": "/api/v1/me/follows",
    "/api/v1/me/notifications": "/api/v1/me/notifications",
    "/library/imports": "/library/imports",
    "/library/imports/{import_id}": "/library/imports/1",
    "/library/export": "/library/export?format=bibtex",
    "/comments/{comment_id}/edit": "/comments/{comment}/edit",
    "/search": "/search?q=study",
    "/about/search": "/about/search",
    "/api/papers/search": "/api/papers/search?q=study",
    "/api/v1/search": "/api/v1/search?q=study",
    "/api/v1/papers/{arxiv_id:path}/similar": f"/api/v1/papers/{PAPER}/similar",
    "/api/daily_papers": "/api/daily_papers",
    "/api/papers": "/api/papers",
    "/api/papers/{arxiv_id:path}": f"/api/papers/{PAPER}",
    "/api/v1/papers": "/api/v1/papers",
    "/api/v1/papers/{arxiv_id:path}/comments": f"/api/v1/papers/{PAPER}/comments",
    "/api/v1/papers/{arxiv_id:path}": f"/api/v1/papers/{PAPER}",
    "/api/v1/listings": "/api/v1/listings",
    "/api/v1/me": "/api/v1/me",
    "/api/v1/me/library": "/api/v1/me/library",
    "/api/v1/me/library/imports/{import_id}": "/api/v1/me/library/imports/1",
    "/api/v1/me/library/export": "/api/v1/me/library/export",
    "/api/v1/me/collections": "/api/v1/me/collections",
    "/api/v1/me/collections/{collection_id}": "/api/v1/me/collections/{collection_id}",
    "/collections/{ref}": "/collections/{collection}",  # a public one: anonymous readers' is no-cache
    "/collections/{ref}.{fmt}": "/collections/{collection}.rss",
    "/api/v1/me/recommendations": "/api/v1/me/recommendations",
    "/docs": "/docs",
    "/feeds/private/{token}.{fmt}": "/feeds/private/{feed_token}.rss",
    "/feeds/search.{fmt}": "/feeds/search.rss?q=study",
    "/feeds/{kind}.{fmt}": "/feeds/day.rss",
    "/feeds/{kind}/{key}.{fmt}": "/feeds/day/2025-06-12.json",
    "/papers/{arxiv_id:path}.md": f"/papers/{PAPER}.md",
    "/papers/{arxiv_id:path}.bib": f"/papers/{PAPER}.bib",
    "/papers/{arxiv_id:path}.ris": f"/papers/{PAPER}.ris",
    "/": "/",
    "/papers/date/{day}": "/papers/date/2025-06-12",
    "/papers/week/{week}": "/papers/week/2025-W24",
    "/papers/month/{month}": "/papers/month/2025-06",
    "/papers/top": "/papers/top",
    "/about/trending": "/about/trending",
    "/papers/{arxiv_id:path}/why": f"/papers/{PAPER}/why",
    "/papers/{arxiv_id:path}": f"/papers/{PAPER}",
}
SHARED_CACHE_DIRECTIVES = ("public", "s-maxage", "proxy-revalidate")


def _all_routes(routes):
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _all_routes(included.routes) if included is not None else [route]


def test_every_get_route_is_asked(settings):
    routes = list(_all_routes(create_app(settings).routes))
    gets = {route.path for route in routes if "GET" in (getattr(route, "methods", None) or ())}
    mounts = {route.path for route in routes if getattr(route, "methods", None) is None}
    assert mounts == MOUNTS
    assert gets == set(URLS)


@pytest.fixture
def world(settings, engine, add_papers):
    add_papers(make_record(PAPER))
    embed_new_papers(engine, settings)  # search by meaning is live: /healthz/search answers 200
    member = make_member(engine, "member")
    mod = make_member(engine, "mod", role="moderator")
    post = comments.post_comment
    hidden = post(engine, settings, member, PAPER, "Hidden by a moderator.", None, "127.0.0.1")
    moderation.hide_comment(engine, mod, hidden.id, "test")
    visible = post(engine, settings, member, PAPER, "Visible.", None, "127.0.0.1")
    shelf = collections.create_collection(engine, settings, member, "127.0.0.1", "Shelf", is_public=True)
    collections.add_to_collection(engine, settings, member, "127.0.0.1", shelf.id, PAPER)
    values = {
        "collection": f"{shelf.id}-{shelf.slug}",
        "collection_id": str(shelf.id),
        "comment": str(visible.id),
        "feed_token": create_token(engine, member, "feed reader", ["feed"]).plaintext,
        **_digest_tokens(engine, settings),
    }
    api_token = create_token(engine, member, "a script", ["read"]).plaintext
    return {"member": member, "mod": mod}, values, api_token


def _digest_tokens(engine, settings) -> dict[str, str]:
    with write_transaction(engine) as conn:
        new_id = digests.insert_subscription(
            conn,
            email="member@example.org",
            status="active",
            nonce="n0nce",
            preferences=Preferences(),
            now=now_utc(),
        )
        subscription = digests.subscription_by_id(conn, new_id)
    links = DigestLinks(engine, settings)
    manage = links.token(subscription)
    confirm = links.confirm_url(subscription).split("token=", 1)[1]
    return {"manage": quote(manage, safe=""), "confirm": quote(confirm, safe="")}


def _vary(response) -> set[str]:
    return {part.strip().lower() for value in response.headers.get_list("vary") for part in value.split(",")}


def _assert_private(response, sent: str, what: str) -> None:
    cache_control = response.headers.get("cache-control", "").lower()
    directives = {part.split("=")[0].strip() for part in cache_control.split(",")}
    assert directives & {"private", "no-store"}, f"{what}: Cache-Control {cache_control!r}"
    assert not directives & set(SHARED_CACHE_DIRECTIVES), f"{what}: Cache-Control {cache_control!r}"
    assert sent in _vary(response), f"{what}: Vary {response.headers.get_list('vary')}"


def _ask(client, url: str, *, session: str | None = None, bearer: str | None = None):
    client.cookies.clear()
    if session:
        client.cookies.set("paperboy_session", session)
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    response = client.get(url, headers=headers)
    assert response.status_code < 500, f"{url}: {response.status_code} {response.text[:300]}"
    return response


@pytest.mark.parametrize("template", sorted(URLS))
def test_personal_answers_are_private_and_anonymous_ones_vary(template, settings, world):
    from paperboy.services.sessions import open_session

    people, values, api_token = world
    url = URLS[template].format(**values)
    api = url.startswith("/api/")
    with open_client(settings) as client:
        for _ in range(2):  # the second time from the page cache, where a page is kept
            anonymous = _ask(client, url)
            assert "cookie" in _vary(anonymous), f"anonymous: Vary {anonymous.headers.get_list('vary')}"
            if api:
                assert "authorization" in _vary(anonymous), "anonymous API answers vary on the token"
            if "set-cookie" in anonymous.headers:  # the CSRF cookie of a form: this visitor's own
                _assert_private(anonymous, "cookie", "anonymous, given a cookie")
        for name, user in people.items():
            session = open_session(client.app.state.paperboy.engine, settings, user).token
            _assert_private(_ask(client, url, session=session), "cookie", name)
        if api:
            _assert_private(_ask(client, url, bearer=api_token), "authorization", "token")


def test_a_shared_cache_may_still_keep_what_anonymous_readers_get(settings, world):
    """Not everything became private: the anonymous API answer keeps its public freshness."""
    with open_client(settings) as client:
        answer = client.get("/api/daily_papers")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "max-age=60, must-revalidate"
