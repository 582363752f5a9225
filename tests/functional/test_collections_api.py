"""The collections API, /api/v1/me/collections, in-process: every route with a token of the right
scope, refused without it; another member's collection (private or public) is a 404 like one that
does not exist; hostile bodies and ids get a 4xx with a reason; limits answer 409."""

from __future__ import annotations

import pytest
from app_client import open_client
from community import log_in_as, make_member
from conftest import make_record

from paperboy.domain import collections as rules
from paperboy.services import collections as service
from paperboy.services.api_tokens import create_token
from paperboy.services.library import library_page

PAPERS = ("2506.00001", "2506.00002")
BASE = "/api/v1/me/collections"
IP = "192.0.2.10"


@pytest.fixture
def catalogue(add_papers):
    add_papers(*(make_record(arxiv_id) for arxiv_id in PAPERS))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_route_with_the_library_and_read_scopes(settings, engine, catalogue):
    ada = make_member(engine, "ada")
    keeper = _bearer(create_token(engine, ada, "keeper", ["library", "read"]).plaintext)
    with open_client(settings) as client:
        made = client.post(BASE, json={"name": "Reading list", "description": "Soon."}, headers=keeper)
        assert made.status_code == 201, made.text
        body = made.json()
        assert (body["name"], body["slug"], body["is_public"], body["papers_total"]) == (
            "Reading list",
            "reading-list",
            False,
            0,
        )
        assert body["url"].endswith(f"/collections/{body['id']}-reading-list")
        one = f"{BASE}/{body['id']}"
        for arxiv_id in PAPERS:
            added = client.put(f"{one}/papers/arXiv:{arxiv_id}v1", headers=keeper)
            assert added.json() == {"collection_id": body["id"], "arxiv_id": arxiv_id, "in_collection": True}
        assert library_page(engine, ada).total == 2  # adding saved them
        detail = client.get(one, headers=keeper).json()
        assert [p["arxiv_id"] for p in detail["papers"]] == list(PAPERS)
        assert [p["position"] for p in detail["papers"]] == [1, 2]
        removed = client.delete(f"{one}/papers/{PAPERS[0]}", headers=keeper)
        assert removed.json()["in_collection"] is False
        patched = client.patch(one, json={"is_public": True, "name": "Read soon"}, headers=keeper).json()
        assert (patched["is_public"], patched["slug"], patched["description"]) == (True, "read-soon", "Soon.")
        listed = client.get(BASE, headers=keeper).json()["collections"]
        assert [(c["id"], c["papers_total"]) for c in listed] == [(body["id"], 1)]
        assert client.delete(one, headers=keeper).status_code == 204
        assert client.get(one, headers=keeper).status_code == 404
        assert client.get(BASE, headers=keeper).json() == {"collections": []}
        assert library_page(engine, ada).total == 2  # deleting a collection keeps the library


def test_scopes_sessions_and_other_members(settings, engine, catalogue):
    ada, eve = make_member(engine, "ada"), make_member(engine, "eve", role="admin")
    secret = service.create_collection(engine, settings, ada, IP, "Secret")
    shown = service.create_collection(engine, settings, ada, IP, "Shown", is_public=True)
    reader = _bearer(create_token(engine, ada, "reader", ["read"]).plaintext)
    writer = _bearer(create_token(engine, ada, "writer", ["library"]).plaintext)
    admin = _bearer(create_token(engine, eve, "admin", ["read", "library"]).plaintext)
    with open_client(settings) as client:
        assert client.get(BASE).status_code == 401
        assert client.post(BASE, json={"name": "x"}, headers=reader).status_code == 403
        assert client.put(f"{BASE}/{secret.id}/papers/{PAPERS[0]}", headers=reader).status_code == 403
        assert client.get(BASE, headers=writer).status_code == 403  # reading needs `read`
        assert client.get(BASE, headers=reader).status_code == 200
        for collection in (secret, shown):  # another's, even public: not this account's
            one = f"{BASE}/{collection.id}"
            assert client.get(one, headers=admin).status_code == 404
            assert client.patch(one, json={"name": "Mine"}, headers=admin).status_code == 404
            assert client.delete(one, headers=admin).status_code == 404
            assert client.put(f"{one}/papers/{PAPERS[0]}", headers=admin).status_code == 404
            assert client.delete(f"{one}/papers/{PAPERS[0]}", headers=admin).status_code == 404
        assert client.get(BASE, headers=admin).json() == {"collections": []}
        csrf = log_in_as(client, ada)
        assert client.post(BASE, json={"name": "By session"}).status_code == 403  # no CSRF token
        assert (
            client.post(BASE, json={"name": "By session"}, headers={"X-CSRF-Token": csrf}).status_code == 201
        )
    assert [c.name for c in service.collections_of(engine, ada)] == ["Secret", "Shown", "By session"]


def test_hostile_input_gets_a_4xx_with_a_reason(settings, engine, catalogue, monkeypatch):
    ada = make_member(engine, "ada")
    keeper = _bearer(create_token(engine, ada, "keeper", ["library", "read"]).plaintext)
    mine = service.create_collection(engine, settings, ada, IP, "Mine")
    with open_client(settings) as client:
        bodies = [
            {"name": "x" * (rules.MAX_NAME + 1)},
            {"name": ""},
            {"name": "   "},
            {"name": "a\u0007b"},
            {"name": "ok", "description": "y" * (rules.MAX_DESCRIPTION + 1)},
            {"name": "ok", "is_public": "perhaps"},
            {},
        ]
        for body in bodies:
            answer = client.post(BASE, json=body, headers=keeper)
            assert answer.status_code == 422, (body, answer.status_code)
            assert answer.headers["x-error-message"]
        for bad in ("abc", "0", "-1", "99999999999999999999", "1.5"):
            assert client.get(f"{BASE}/{bad}", headers=keeper).status_code in (404, 422), bad
        assert client.get(f"{BASE}/999999", headers=keeper).status_code == 404
        assert client.put(f"{BASE}/{mine.id}/papers/2506.99999", headers=keeper).status_code == 404
        assert client.put(f"{BASE}/{mine.id}/papers/not-an-id", headers=keeper).status_code == 404
        monkeypatch.setattr(service, "MAX_COLLECTIONS", 1)
        full = client.post(BASE, json={"name": "One too many"}, headers=keeper)
        assert full.status_code == 409
        assert full.json()["error"]["code"] == "limit_reached"
    assert [c.name for c in service.collections_of(engine, ada)] == ["Mine"]
