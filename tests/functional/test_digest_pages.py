"""The digest's pages end to end, in-process: the footer form, double opt-in through a real SMTP
server, the manage page, one-click unsubscribing from a real digest's List-Unsubscribe header, the
preview, the settings section; and what they refuse or keep to their owner."""

from __future__ import annotations

import asyncio
import html
import json
import re
import secrets
from datetime import date

import httpx
import pytest
from app_client import counted_statements, open_client
from community import log_in_as, make_member
from conftest import make_record
from itsdangerous import base64_decode, base64_encode
from mail_sink import link_in, local_part, outbox_messages, smtp_sink, text_of  # noqa: F401 - smtp_sink: a fixture

from paperboy.domain.digest import Preferences, daily_edition
from paperboy.domain.models import Listing
from paperboy.services.digests import send_edition
from paperboy.services.subscriptions import DigestLinks, subscribe_member
from paperboy.storage import digests as store
from paperboy.storage.engine import now_utc
from paperboy.storage.transactions import write_transaction
from paperboy.web.page_cache import PageCache

DAY = date(2025, 6, 12)  # a Thursday, the listing day of make_record's papers
NEXT_DAY = date(2025, 6, 13)
SAME_SITE = {"origin": "http://testserver"}
SCRIPT = "<script>alert(1)</script>"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _subscribe(client, email: str, headers: dict[str, str] = SAME_SITE):
    """The footer form as a browser posts it: no CSRF token, this site's Origin."""
    return client.post("/digest/subscribe", data={"email": email}, headers=headers)


def _active(engine, email: str, preferences: Preferences | None = None):
    """A confirmed subscription, inserted straight into the database."""
    with write_transaction(engine) as conn:
        new_id = store.insert_subscription(
            conn,
            email=email,
            status="active",
            nonce=secrets.token_urlsafe(12),
            preferences=preferences or Preferences(),
            now=now_utc(),
            confirmed_at=now_utc(),
        )
        subscription = store.subscription_by_id(conn, new_id)
    assert subscription is not None
    return subscription


def _read(engine, email: str):
    with engine.connect() as conn:
        return store.subscription_by_email(conn, email)


def _token(engine, settings, subscription) -> str:
    return DigestLinks(engine, settings).token(subscription)


def _papers(add_papers) -> None:
    add_papers(
        make_record("2506.00001", title="Sparse attention for long documents"),
        make_record("2506.00002", title="Diffusion models for protein design"),
    )


def _friday_paper(add_papers) -> None:
    add_papers(make_record("2506.00003", title="Friday graph networks", listings=(Listing(NEXT_DAY, "new"),)))


def _assert_private(response) -> None:
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"


# --- subscribing ------------------------------------------------------------------------------------


def test_subscribe_confirm_then_digests_arrive(settings, engine, add_papers, smtp_sink):  # noqa: F811
    settings = smtp_sink.settings_for(settings)
    _papers(add_papers)
    with open_client(settings) as client:
        front = client.get("/")
        assert 'action="/digest/subscribe"' in front.text
        assert "csrf_token" not in front.text  # a cached page: nothing per visitor in it
        answer = _subscribe(client, "reader@example.org")
        assert (answer.status_code, answer.headers["location"]) == (303, "/digest/sent")
        assert "Check your inbox" in client.get("/digest/sent").text
        (mail,) = smtp_sink.wait_for(1)
        assert smtp_sink.recipients == [["reader@example.org"]]
        assert mail["Subject"] == "Confirm your paperboy digest"

        assert send_edition(engine, settings, daily_edition(DAY)).sent == 0  # pending: nothing
        assert len(smtp_sink.messages) == 1

        link = local_part(link_in(mail, "/digest/confirm"))
        page = client.get(link)  # what a mail scanner does: it must not confirm
        assert page.status_code == 200
        _assert_private(page)
        assert "reader@example.org" in page.text
        assert 'action="/digest/confirm"' in page.text
        assert _read(engine, "reader@example.org").status == "pending"

        token = link.split("token=", 1)[1]
        assert f'name="token" value="{token}"' in page.text
        confirmed = client.post("/digest/confirm", data={"token": token})
        assert confirmed.status_code == 200
        assert "You&#39;re subscribed" in confirmed.text
        manage = re.search(r'href="(/digest/manage\?token=[^"]+)"', confirmed.text)
        assert manage
        assert client.get(html.unescape(manage.group(1))).status_code == 200
        assert "/digest/preview?token=" in confirmed.text
        assert _read(engine, "reader@example.org").status == "active"
        assert client.post("/digest/confirm", data={"token": token}).status_code == 200  # again: fine

    report = send_edition(engine, settings, daily_edition(DAY))
    assert report.sent == 1
    digest = smtp_sink.wait_for(2)[1]
    assert smtp_sink.recipients[1] == ["reader@example.org"]
    assert "Sparse attention for long documents" in text_of(digest)


def test_bad_confirmation_links_get_a_400_with_the_reason(settings, engine):
    subscription = _active(engine, "reader@example.org")
    with open_client(settings) as client:
        manage_token = _token(engine, settings, subscription)  # signed, but no confirmation
        for token in ("not-a-token", "", manage_token):
            page = client.get("/digest/confirm", params={"token": token})
            assert page.status_code == 400
            assert "not valid" in page.text
            _assert_private(page)
            assert client.post("/digest/confirm", data={"token": token}).status_code == 400


def test_subscribing_an_active_address_answers_exactly_like_a_new_one(settings, engine):
    _active(engine, "known@example.org")
    with open_client(settings) as client:
        known = _subscribe(client, "known@example.org")
        new = _subscribe(client, "new@example.org")
        assert (known.status_code, known.headers["location"]) == (303, "/digest/sent")
        assert (new.status_code, new.headers["location"]) == (303, "/digest/sent")
        assert known.content == new.content
        # Every header alike but the request's own id (random per request, whoever asks).
        assert _headers(known) == _headers(new)
        assert known.headers["x-request-id"] != new.headers["x-request-id"]
        mails = outbox_messages(settings)
        assert [(mail["To"], mail["Subject"]) for mail in mails] == [
            ("known@example.org", "You already get the paperboy digest"),
            ("new@example.org", "Confirm your paperboy digest"),
        ]
        manage = client.get(local_part(link_in(mails[0], "/digest/manage")))
        assert manage.status_code == 200
        assert "known@example.org" in manage.text
    assert _read(engine, "known@example.org").status == "active"
    assert _read(engine, "new@example.org").status == "pending"


def test_a_bad_address_is_refused_with_the_form_and_a_reason(settings):
    with open_client(settings) as client:
        refused = _subscribe(client, "not an address")
        assert refused.status_code == 400
        assert 'role="alert"' in refused.text
        assert 'value="not an address"' in refused.text
        assert 'action="/digest/subscribe"' in refused.text
        assert _subscribe(client, "").status_code == 400
    assert outbox_messages(settings) == []


def test_subscribing_is_rate_limited_per_ip(settings):
    with open_client(settings.replace(rate_limit_subscribe="2/hour")) as client:
        for n in range(2):
            assert _subscribe(client, f"reader{n}@example.org").status_code == 303
        throttled = _subscribe(client, "reader3@example.org")
        assert throttled.status_code == 429
        assert 0 < int(throttled.headers["retry-after"]) <= 3600
    assert len(outbox_messages(settings)) == 2


def test_the_subscribe_form_refuses_other_sites_but_needs_no_csrf_token(settings):
    with open_client(settings) as client:
        forged = _subscribe(client, "victim@example.org", headers={"origin": "https://evil.example"})
        assert forged.status_code == 403
        assert "another site" in forged.text
        assert outbox_messages(settings) == []
        assert _subscribe(client, "reader@example.org", headers={}).status_code == 303  # no Origin: a script
        assert len(outbox_messages(settings)) == 1


def test_the_digest_page_explains_and_logged_in_footers_link_to_settings(settings, engine):
    user = make_member(engine, "ada")
    with open_client(settings) as client:
        about = client.get("/digest")
        assert about.status_code == 200
        for words in ("Daily", "Weekly", "trending", "One-click unsubscribe", "categories"):
            assert words in about.text
        assert about.text.count('action="/digest/subscribe"') == 1  # the footer's is left out here
        log_in_as(client, user)
        front = client.get("/")
        assert 'href="/settings#digest"' in front.text
        assert 'action="/digest/subscribe"' not in front.text


# --- one-click unsubscribe ----------------------------------------------------------------------------


def test_one_click_unsubscribe_stops_only_that_address(settings, engine, add_papers, smtp_sink):  # noqa: F811
    settings = smtp_sink.settings_for(settings)
    _papers(add_papers)
    _friday_paper(add_papers)
    _active(engine, "leaving@example.org")
    _active(engine, "staying@example.org")
    assert send_edition(engine, settings, daily_edition(DAY)).sent == 2
    mails = smtp_sink.wait_for(2)
    (mail,) = [m for m in mails if m["To"] == "leaving@example.org"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = mail["List-Unsubscribe"].strip("<>")

    with open_client(settings) as provider:  # a mail provider's server: no cookies, no Origin, no token
        assert not provider.cookies
        done = provider.post(local_part(url), data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200, done.text
        assert "You are unsubscribed" in done.text
        assert 'action="/digest/resubscribe"' in done.text
        _assert_private(done)
        again = provider.post(local_part(url), files={"List-Unsubscribe": (None, "One-Click")})  # multipart
        assert again.status_code == 200
    assert _read(engine, "leaving@example.org").status == "unsubscribed"

    assert send_edition(engine, settings, daily_edition(NEXT_DAY)).sent == 1
    assert smtp_sink.recipients[2:] == [["staying@example.org"]]
    assert "Friday graph networks" in text_of(smtp_sink.messages[2])


def test_the_unsubscribe_link_asks_first_and_resubscribing_undoes_it(settings, engine):
    subscription = _active(engine, "reader@example.org")
    token = _token(engine, settings, subscription)
    with open_client(settings) as client:
        asked = client.get("/digest/unsubscribe", params={"token": token})  # a link scanner: no effect
        assert asked.status_code == 200
        _assert_private(asked)
        assert "Unsubscribe reader@example.org?" in asked.text
        assert _read(engine, "reader@example.org").status == "active"
        assert client.post(f"/digest/unsubscribe?token={token}").status_code == 200
        assert _read(engine, "reader@example.org").status == "unsubscribed"
        back = client.post("/digest/resubscribe", data={"token": token})
        assert back.status_code == 200
        assert "subscribed again" in back.text
        assert _read(engine, "reader@example.org").status == "active"
        with write_transaction(engine) as conn:  # its mail server refused a digest
            store.update_subscription(conn, subscription.id, now_utc(), status="bouncing")
        refused = client.post("/digest/resubscribe", data={"token": token})
        assert refused.status_code == 409
        assert "Subscribe again to confirm the address" in refused.text
        assert _read(engine, "reader@example.org").status == "bouncing"
        for bad in ("", "forged"):
            assert client.post(f"/digest/unsubscribe?token={bad}").status_code == 400
            assert client.get("/digest/unsubscribe", params={"token": bad}).status_code == 400
            assert client.post("/digest/resubscribe", data={"token": bad}).status_code == 400


# --- the manage page --------------------------------------------------------------------------------


def _preferences_form(**changes: str) -> dict[str, str]:
    fields = {
        "frequency": "weekly",
        "weekday": "4",
        "top_n": "5",
        "categories": "cs.LG, stat.ML",
        "include": "diffusion\nlanguage  model\n",
        "exclude": "survey",
    }  # only_new unticked: absent
    return {**fields, **changes}


def test_the_manage_page_saves_valid_preferences(settings, engine):
    subscription = _active(engine, "reader@example.org")
    token = _token(engine, settings, subscription)
    with open_client(settings) as client:
        page = client.get("/digest/manage", params={"token": token})
        assert page.status_code == 200
        _assert_private(page)
        assert "reader@example.org" in page.text
        assert f'name="token" value="{token}"' in page.text
        saved = client.post("/digest/manage", data={"token": token, **_preferences_form()})
        assert saved.status_code == 303
        assert saved.headers["location"] == f"/digest/manage?token={token}&done=saved"
        assert "Saved" in client.get(saved.headers["location"]).text
    assert _read(engine, "reader@example.org").preferences == Preferences(
        frequency="weekly",
        weekday=4,
        top_n=5,
        categories=("cs.LG", "stat.ML"),
        include=("diffusion", "language model"),
        exclude=("survey",),
        only_new=False,
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"top_n": "99"}, "The number of papers must be from 1 to 50."),
        ({"categories": "cs.LG 68T07"}, "Not arXiv categories: &#39;68T07&#39;"),
        ({"frequency": "hourly"}, "Choose how often: daily or weekly."),
        ({"include": "x" * 61}, "under 60 characters"),
    ],
)
def test_the_manage_page_refuses_invalid_preferences_and_keeps_what_was_typed(
    settings, engine, changes, message
):
    subscription = _active(engine, "reader@example.org")
    token = _token(engine, settings, subscription)
    with open_client(settings) as client:
        refused = client.post("/digest/manage", data={"token": token, **_preferences_form(**changes)})
    assert refused.status_code == 400
    assert message in refused.text
    assert f'value="{changes.get("categories", "cs.LG, stat.ML")}"' in refused.text
    assert "survey</textarea>" in refused.text
    assert _read(engine, "reader@example.org").preferences == Preferences()  # nothing saved


def test_hostile_keywords_are_escaped_on_the_manage_page(settings, engine):
    subscription = _active(engine, "reader@example.org")
    token = _token(engine, settings, subscription)
    with open_client(settings) as client:
        fields = _preferences_form(include=SCRIPT, exclude='"><img src=x onerror=alert(1)>')
        assert client.post("/digest/manage", data={"token": token, **fields}).status_code == 303
        page = client.get("/digest/manage", params={"token": token}).text
    assert _read(engine, "reader@example.org").preferences.include == (SCRIPT,)
    assert SCRIPT not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in page


def test_manage_links_that_are_bad_or_revoked_get_a_400(settings, engine):
    subscription = _active(engine, "reader@example.org")
    token = _token(engine, settings, subscription)
    with write_transaction(engine) as conn:  # a new nonce revokes every link sent before
        store.update_subscription(conn, subscription.id, now_utc(), nonce="renewed")
    with open_client(settings) as client:
        for bad in (token, "forged", ""):
            page = client.get("/digest/manage", params={"token": bad})
            assert page.status_code == 400
            _assert_private(page)
            assert "not valid" in page.text or "no longer valid" in page.text
            assert (
                client.post("/digest/manage", data={"token": bad, **_preferences_form()}).status_code == 400
            )
    assert _read(engine, "reader@example.org").preferences == Preferences()


# --- the preview ------------------------------------------------------------------------------------


def _forged(token: str, subscription_id: int) -> str:
    """`token` with another subscription's id put in, its signature kept."""
    payload, signature = token.rsplit(".", 1)
    _, nonce = json.loads(base64_decode(payload))
    return base64_encode(json.dumps([subscription_id, nonce]).encode()).decode() + "." + signature


def test_the_preview_is_shown_to_the_owner_of_its_token_only(settings, engine, add_papers):
    _papers(add_papers)
    mine = _active(engine, "reader@example.org", Preferences(include=("sparse",)))
    other = _active(engine, "other@example.org")
    token = _token(engine, settings, mine)
    with open_client(settings) as client:
        shown = client.get("/digest/preview", params={"token": token})
        assert shown.status_code == 200
        assert shown.headers["content-security-policy"] == CSP
        _assert_private(shown)
        assert "Sparse attention for long documents" in shown.text
        assert "Diffusion models for protein design" not in shown.text  # their filter
        assert "reader@example.org" in shown.text
        for bad in (_forged(token, other.id), "forged", DigestLinks(engine, settings).confirm_url(mine)):
            refused = client.get("/digest/preview", params={"token": bad.rsplit("token=", 1)[-1]})
            assert refused.status_code == 400
            assert "other@example.org" not in refused.text
        nobody = client.get("/digest/preview")
        assert nobody.status_code == 401
        assert "/login" in nobody.text


def test_a_logged_in_member_previews_their_own_digest(settings, engine, add_papers):
    _papers(add_papers)
    ada = make_member(engine, "ada")
    subscribe_member(engine, ada, Preferences())
    bob = make_member(engine, "bob")
    eve = make_member(engine, "eve", verified=False)
    _active(engine, "eve@example.org")  # someone's subscription; eve has not proved the address is hers
    with open_client(settings) as client:
        log_in_as(client, ada)
        shown = client.get("/digest/preview")
        assert shown.status_code == 200
        assert shown.headers["content-security-policy"] == CSP
        assert "ada@example.org" in shown.text
        assert "Sparse attention for long documents" in shown.text
        for member in (bob, eve):
            log_in_as(client, member)
            assert client.get("/digest/preview").status_code == 404


# --- the settings page ------------------------------------------------------------------------------


def test_a_verified_member_subscribes_and_unsubscribes_from_settings(settings, engine):
    ada = make_member(engine, "ada")
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        page = client.get("/settings")
        assert 'id="digest"' in page.text
        assert 'action="/settings/digest"' in page.text
        refused = client.post("/settings/digest", data={"csrf_token": csrf, **_preferences_form(top_n="0")})
        assert refused.status_code == 400
        assert "The number of papers must be from 1 to 50." in refused.text
        assert _read(engine, "ada@example.org") is None

        done = client.post("/settings/digest", data={"csrf_token": csrf, **_preferences_form()})
        assert (done.status_code, done.headers["location"]) == (303, "/settings?done=digest#digest")
        subscription = _read(engine, "ada@example.org")
        assert (subscription.status, subscription.user_id) == ("active", ada.id)
        assert subscription.preferences.top_n == 5
        page = client.get("/settings?done=digest")
        assert "ada@example.org gets the digest every Friday" in page.text
        assert 'action="/settings/digest/unsubscribe"' in page.text
        assert 'href="/digest/preview"' in page.text
        assert client.post("/settings/digest", data=_preferences_form()).status_code == 403  # no CSRF token

        gone = client.post("/settings/digest/unsubscribe", data={"csrf_token": csrf})
        assert gone.headers["location"] == "/settings?done=digest-unsubscribed#digest"
        assert _read(engine, "ada@example.org").status == "unsubscribed"
        assert "You are unsubscribed" in client.get(gone.headers["location"]).text


def test_an_unverified_member_is_told_to_confirm_the_address_first(settings, engine):
    eve = make_member(engine, "eve", verified=False)
    _active(engine, "eve@example.org")  # made by whoever owns the address
    with open_client(settings) as client:
        csrf = log_in_as(client, eve)
        page = client.get("/settings")
        assert "Confirm your e-mail address first" in page.text
        assert 'action="/settings/digest"' not in page.text
        assert "gets the digest" not in page.text
        assert (
            client.post("/settings/digest", data={"csrf_token": csrf, **_preferences_form()}).status_code
            == 403
        )
        assert client.post("/settings/digest/unsubscribe", data={"csrf_token": csrf}).status_code == 403
    assert _read(engine, "eve@example.org").status == "active"


# --- caching ----------------------------------------------------------------------------------------


def test_digest_pages_are_never_kept_by_the_page_cache(settings, engine):
    subscription = _active(engine, "reader@example.org")
    token = _token(engine, settings, subscription)
    paths = ["/digest", "/digest/sent", f"/digest/manage?token={token}", f"/digest/unsubscribe?token={token}"]
    with open_client(settings) as client:
        for path in paths:
            _assert_private(client.get(path))
            with counted_statements(client) as statements:
                assert client.get(path).status_code == 200
            if "token" in path:
                assert any("digest_subscriptions" in statement for statement in statements), path
        cache = client.app.middleware_stack
        while not isinstance(cache, PageCache):
            cache = cache.app
        assert not [key for key in cache.pages if key[0].startswith("/digest")]


def test_the_page_cache_keeps_no_page_sent_with_no_store(engine):
    async def page_app(scope, receive, send):
        scope["state"]["page_cacheable"] = True  # a handler that opted in by mistake
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"cache-control", b"no-store")]}
        )
        await send({"type": "http.response.body", "body": b"mine alone"})

    cache = PageCache(page_app, engine=engine, max_bytes=100_000)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/digest/manage",
        "query_string": b"token=t",
        "headers": [],
    }

    async def send(message):
        pass

    asyncio.run(cache({**scope, "state": {}}, None, send))
    assert not cache.pages


def _headers(response: httpx.Response) -> list[tuple[str, str]]:
    return sorted((name, value) for name, value in response.headers.items() if name != "x-request-id")
