"""A member's private feed at /feeds/private/{token}.rss: the latest day's papers their digest
preferences select, reachable with a feed-scoped token alone, closed when the token is revoked."""

from __future__ import annotations

import feedparser
import orjson
from app_client import open_client
from community import make_member
from digest_fixtures import catalogue_records, expected_papers, trending_order

from paperboy.domain.digest import Preferences
from paperboy.services.api_tokens import create_token, revoke_token
from paperboy.services.subscriptions import subscribe_member


def _ids(feed: feedparser.FeedParserDict) -> list[str]:
    return [entry.link.rsplit("/papers/", 1)[1] for entry in feed.entries]


def test_the_feed_follows_the_digest_preferences_until_the_token_is_revoked(
    settings, engine, add_papers
) -> None:  # type: ignore[no-untyped-def]
    add_papers(*catalogue_records(24))
    reader = make_member(engine, "reader")
    preferences = Preferences(top_n=3, categories=("cs.CV",), exclude=("robot",))
    subscribe_member(engine, reader, preferences)
    token = create_token(engine, reader, "feed reader", ["feed"])
    wanted = expected_papers(trending_order(engine), preferences)
    assert len(wanted) == 3
    with open_client(settings) as client:
        rss = client.get(f"/feeds/private/{token.plaintext}.rss")
        assert rss.status_code == 200
        assert rss.headers["content-type"].startswith("application/rss+xml")
        assert rss.headers["referrer-policy"] == "no-referrer"
        assert "private" in rss.headers["cache-control"]
        feed = feedparser.parse(rss.content)
        assert feed.bozo == 0
        assert "reader" in feed.feed.title
        assert _ids(feed) == wanted
        atom = feedparser.parse(client.get(f"/feeds/private/{token.plaintext}.atom").content)
        assert atom.bozo == 0
        assert _ids(atom) == wanted
        json_feed = orjson.loads(client.get(f"/feeds/private/{token.plaintext}.json").content)
        assert [item["url"].rsplit("/papers/", 1)[1] for item in json_feed["items"]] == wanted
        again = client.get(
            f"/feeds/private/{token.plaintext}.rss", headers={"If-None-Match": rss.headers["etag"]}
        )
        assert again.status_code == 304

        assert revoke_token(engine, reader, token.token.id)
        gone = client.get(f"/feeds/private/{token.plaintext}.rss")
        assert gone.status_code == 404
        assert "revoked" in gone.text


def test_without_a_subscription_it_is_the_days_trending_list(settings, engine, add_papers) -> None:  # type: ignore[no-untyped-def]
    add_papers(*catalogue_records(24))
    reader = make_member(engine, "reader")
    token = create_token(engine, reader, "feed", ["feed"])
    with open_client(settings) as client:
        feed = feedparser.parse(client.get(f"/feeds/private/{token.plaintext}.rss").content)
    assert _ids(feed) == [arxiv_id for arxiv_id, _, _ in trending_order(engine)]


def test_only_a_live_feed_token_opens_it(settings, engine, add_papers) -> None:  # type: ignore[no-untyped-def]
    add_papers(*catalogue_records(4))
    reader = make_member(engine, "reader")
    read_only = create_token(engine, reader, "script", ["read"])
    feed_token = create_token(engine, reader, "feed", ["feed"])
    with open_client(settings) as client:
        for path in (
            f"/feeds/private/{read_only.plaintext}.rss",
            "/feeds/private/pb_not-a-token.rss",
            f"/feeds/private/{feed_token.plaintext}.html",
        ):
            response = client.get(path)
            assert response.status_code == 404, path
            assert "traceback" not in response.text.lower()
