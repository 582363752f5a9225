"""The API's follows and alerts: /api/v1/me/follows (GET, POST, DELETE {id}) and
/api/v1/me/notifications (GET, POST …/seen), with tokens of each scope; one member's follows and
alerts are invisible to every other member, moderators included, and to tokens without the scope."""

from __future__ import annotations

import pytest
from app_client import open_client
from community import make_member
from conftest import make_record

from paperboy.services.alerts import alert_on_changes
from paperboy.services.api_tokens import create_token
from paperboy.storage.papers import upsert_papers
from paperboy.storage.transactions import write_transaction


@pytest.fixture
def people(engine, add_papers):
    add_papers(make_record("2506.00001", authors=("Grace Hopper",)))
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    mod = make_member(engine, "mod", role="moderator")

    def token(user, *scopes):
        return {"Authorization": "Bearer " + create_token(engine, user, "t", list(scopes)).plaintext}

    return {
        "ada": token(ada, "read", "library"),
        "ada_read": token(ada, "read"),
        "ada_vote": token(ada, "vote"),
        "bob": token(bob, "read", "library"),
        "mod": token(mod, "read", "library"),
    }


def test_follows_through_the_api(settings, engine, people):
    with open_client(settings) as client:
        made = client.post(
            "/api/v1/me/follows", json={"kind": "author", "value": "GRACE hopper"}, headers=people["ada"]
        )
        assert made.status_code == 201, made.text
        follow = made.json()
        assert (follow["kind"], follow["value"], follow["label"]) == (
            "author",
            "grace hopper",
            "GRACE hopper",
        )
        again = client.post(
            "/api/v1/me/follows", json={"kind": "author", "value": "Grace Hopper"}, headers=people["ada"]
        )
        assert again.status_code == 200
        assert again.json()["id"] == follow["id"]
        listed = client.get("/api/v1/me/follows", headers=people["ada_read"])
        assert listed.headers["cache-control"].startswith("private")
        assert [f["id"] for f in listed.json()["follows"]] == [follow["id"]]
        assert listed.json()["max"] == 500
        bad = client.post(
            "/api/v1/me/follows", json={"kind": "search", "value": '"open'}, headers=people["ada"]
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "invalid_follow"
        assert "that search cannot be followed" in bad.json()["error"]["message"]
        unknown = client.post(
            "/api/v1/me/follows", json={"kind": "paper", "value": "2401.99999"}, headers=people["ada"]
        )
        assert unknown.status_code == 404
        # Another member, a moderator, a token without the scope: nothing to see, nothing to delete.
        for other in ("bob", "mod"):
            assert client.get("/api/v1/me/follows", headers=people[other]).json()["follows"] == []
            gone = client.delete(f"/api/v1/me/follows/{follow['id']}", headers=people[other])
            assert gone.status_code == 404
        assert client.get("/api/v1/me/follows", headers=people["ada_vote"]).status_code == 403
        assert (
            client.delete(f"/api/v1/me/follows/{follow['id']}", headers=people["ada_read"]).status_code == 403
        )
        assert client.get("/api/v1/me/follows").status_code == 401
        assert client.delete(f"/api/v1/me/follows/{follow['id']}", headers=people["ada"]).status_code == 204
        assert client.delete(f"/api/v1/me/follows/{follow['id']}", headers=people["ada"]).status_code == 404
        assert client.get("/api/v1/me/follows", headers=people["ada"]).json()["total"] == 0


def test_notifications_through_the_api_are_the_accounts_own(settings, engine, people):
    with open_client(settings) as client:
        client.post(
            "/api/v1/me/follows", json={"kind": "author", "value": "Grace Hopper"}, headers=people["ada"]
        )
        with write_transaction(engine) as conn:
            result = upsert_papers(conn, [make_record("2506.00002", authors=("Grace Hopper",))])
        assert alert_on_changes(engine, result.changes).total == 1
        read = client.get("/api/v1/me/notifications", headers=people["ada_read"]).json()
        assert read["unseen"] == 1
        (alert,) = read["notifications"]
        assert (alert["kind"], alert["arxiv_id"], alert["seen"]) == ("author", "2506.00002", False)
        assert alert["text"] == "New paper by Grace Hopper"
        assert (
            client.get("/api/v1/me/notifications", headers=people["ada_read"]).json()["unseen"] == 1
        )  # reads mark nothing
        for other in ("bob", "mod"):
            assert client.get("/api/v1/me/notifications", headers=people[other]).json()["total"] == 0
            assert client.post(
                "/api/v1/me/notifications/seen", json={"ids": [alert["id"]]}, headers=people[other]
            ).json() == {"marked": 0}
        assert client.get("/api/v1/me/notifications", headers=people["ada_vote"]).status_code == 403
        assert (
            client.post("/api/v1/me/notifications/seen", json={}, headers=people["ada_read"]).status_code
            == 403
        )
        assert client.post(
            "/api/v1/me/notifications/seen", json={"ids": [alert["id"]]}, headers=people["ada"]
        ).json() == {"marked": 1}
        assert client.get("/api/v1/me/notifications", headers=people["ada"]).json()["unseen"] == 0
        assert client.get("/api/v1/me/notifications?limit=0", headers=people["ada"]).status_code == 422


def test_the_api_documents_follows_and_notifications(settings):
    with open_client(settings) as client:
        paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/me/follows"]) == {"get", "post"}
    assert set(paths["/api/v1/me/follows/{follow_id}"]) == {"delete"}
    assert set(paths["/api/v1/me/notifications"]) == {"get"}
    assert set(paths["/api/v1/me/notifications/seen"]) == {"post"}
