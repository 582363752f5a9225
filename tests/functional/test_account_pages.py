"""The account pages end to end, in-process: sign up, confirm by mail, log in and out, reset,
settings; and what they refuse: open redirects, missing CSRF tokens, foreign origins, enumeration."""

from __future__ import annotations

import pytest
from app_client import open_client
from community import PASSWORD, csrf_from, log_in_as, make_member
from mail_sink import link_in, local_part, outbox_messages, smtp_sink  # noqa: F401 - smtp_sink: a fixture

NEW_PASSWORD = "a brand new secret"


def _form(client, path: str, **params: str) -> str:
    """GET a form page (which sets the anonymous CSRF cookie) and return its CSRF token."""
    page = client.get(path, params=params)
    assert page.status_code == 200, page.text
    return csrf_from(page.text)


def _post(client, path: str, **fields: str):
    return client.post(path, data={"csrf_token": _form(client, path), **fields})


def _sign_up(client, email="ada@example.org", name="ada", password=PASSWORD):
    return _post(client, "/signup", email=email, name=name, password=password)


def _log_in(client, email="ada@example.org", password=PASSWORD, next_path=""):
    csrf = _form(client, "/login", next=next_path)
    return client.post(
        "/login", data={"csrf_token": csrf, "email": email, "password": password, "next": next_path}
    )


def test_sign_up_confirm_log_in_settings_log_out(settings):
    with open_client(settings) as client:
        signed_up = _sign_up(client)
        assert (signed_up.status_code, signed_up.headers["location"]) == (303, "/signup/sent")
        assert "Check your inbox" in client.get("/signup/sent").text
        (mail,) = outbox_messages(settings)
        assert mail["To"] == "ada@example.org"
        confirmed = client.get(local_part(link_in(mail, "/verify-email")))
        assert confirmed.status_code == 200
        assert "ada@example.org is confirmed" in confirmed.text
        assert "paperboy_session" not in client.cookies  # confirming does not log in

        logged_in = _log_in(client)
        assert (logged_in.status_code, logged_in.headers["location"]) == (303, "/")
        page = client.get("/settings")
        assert page.status_code == 200
        assert 'class="me">ada</a>' in page.text  # the header names who is logged in
        assert "ada@example.org" in page.text
        assert "confirmed" in page.text
        assert "no-store" in page.headers["cache-control"]

        confirm = client.get("/logout")
        assert 'action="/logout"' in confirm.text
        logged_out = client.post("/logout", data={"csrf_token": csrf_from(confirm.text)})
        assert (logged_out.status_code, logged_out.headers["location"]) == (303, "/")
        assert 'paperboy_session=""' in logged_out.headers["set-cookie"]
        assert client.get("/settings").headers["location"] == "/login?next=/settings"
        assert client.get("/logout").headers["location"] == "/"


def test_the_session_token_dies_at_log_out(settings, engine):
    user = make_member(engine, "ada")
    with open_client(settings) as client:
        csrf = log_in_as(client, user)
        token = client.cookies["paperboy_session"]
        client.post("/logout", data={"csrf_token": csrf})
        client.cookies.set("paperboy_session", token)  # a copy of the cookie kept elsewhere
        assert client.get("/settings").status_code == 303


def test_sign_up_errors_keep_the_entries_but_never_the_password(settings):
    with open_client(settings) as client:
        refused = _sign_up(client, email="ada@example.org", name="Ada_L", password="tooshort")
        assert refused.status_code == 400
        assert "at least 10 characters" in refused.text
        assert 'value="ada@example.org"' in refused.text
        assert 'value="Ada_L"' in refused.text
        assert "tooshort" not in refused.text
        assert outbox_messages(settings) == []


def test_sign_up_and_reset_answer_the_same_for_known_and_unknown_addresses(settings, engine):
    make_member(engine, "known")
    with open_client(settings) as client:
        answers = [
            _sign_up(client, email=f"{who}@example.org", name=f"{who}2") for who in ("known", "unknown")
        ]
        resets = [_post(client, "/reset-password", email=f"{who}@example.org") for who in ("known", "nobody")]
    for first, second in (answers, resets):
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
        assert first.content == second.content
        assert first.headers.get("set-cookie") == second.headers.get("set-cookie")
    sent = [(mail["To"], mail["Subject"]) for mail in outbox_messages(settings)]
    assert sent == [
        ("known@example.org", "Someone tried to sign up with your address"),
        ("unknown@example.org", "Confirm your address for paperboy"),
        ("known@example.org", "Reset your paperboy password"),
    ]


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "https://evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "/\t/evil.com",
        "evil.com",
        "javascript:alert(1)",
    ],
)
def test_login_never_redirects_off_the_site(settings, engine, target):
    make_member(engine, "ada")
    with open_client(settings) as client:
        answer = _log_in(client, next_path=target)
        assert (answer.status_code, answer.headers["location"]) == (303, "/")


def test_login_returns_to_a_local_next_page(settings, engine):
    make_member(engine, "ada")
    with open_client(settings) as client:
        form = client.get("/login?next=/settings")
        assert 'name="next" value="/settings"' in form.text
        assert _log_in(client, next_path="/settings").headers["location"] == "/settings"


def test_a_failed_login_says_so_and_keeps_the_address(settings, engine):
    make_member(engine, "ada")
    with open_client(settings) as client:
        for email in ("ada@example.org", "nobody@example.org"):
            failed = _log_in(client, email=email, password="wrong password")
            assert failed.status_code == 401
            assert "Wrong e-mail address or password." in failed.text
            assert f'value="{email}"' in failed.text
        assert "paperboy_session" not in client.cookies


def test_repeated_failures_get_429_with_retry_after(settings, engine):
    make_member(engine, "ada")
    with open_client(settings.replace(login_failures_account="2/15minutes")) as client:
        for _ in range(2):
            assert _log_in(client, password="wrong password").status_code == 401
        throttled = _log_in(client)
        assert throttled.status_code == 429
        assert 0 < int(throttled.headers["retry-after"]) <= 900
        assert "Too many failed logins" in throttled.text


def test_logged_in_visitors_skip_the_login_and_signup_forms(settings, engine):
    user = make_member(engine, "ada")
    with open_client(settings) as client:
        log_in_as(client, user)
        for path in ("/login", "/signup", "/login?next=//evil.com"):
            answer = client.get(path)
            assert (answer.status_code, answer.headers["location"]) == (303, "/"), path


def test_verification_links_that_are_bad_get_a_clear_400(settings):
    with open_client(settings) as client:
        for query in ("?token=not-a-token", "", "?token=" + "x" * 5000):
            page = client.get("/verify-email" + query)
            assert page.status_code == 400
            assert "not valid" in page.text


def test_an_unverified_member_can_ask_for_the_mail_again(settings, engine):
    user = make_member(engine, "ada", verified=False)
    with open_client(settings) as client:
        csrf = log_in_as(client, user)
        page = client.get("/settings")
        assert "not confirmed" in page.text
        assert "Send the verification mail again" in page.text
        sent = client.post("/settings/verify-email", data={"csrf_token": csrf})
        assert sent.headers["location"] == "/settings?done=verification-sent"
        assert "We sent the verification mail again" in client.get(sent.headers["location"]).text
        (mail,) = outbox_messages(settings)
        assert client.get(local_part(link_in(mail, "/verify-email"))).status_code == 200
        assert "not confirmed" not in client.get("/settings").text


def test_reset_flow_sets_a_new_password_once(settings, engine):
    make_member(engine, "ada")
    with open_client(settings) as client:
        requested = _post(client, "/reset-password", email="ada@example.org")
        assert requested.headers["location"] == "/reset-password/sent"
        assert "Check your inbox" in client.get("/reset-password/sent").text
        link = local_part(link_in(outbox_messages(settings)[-1], "/reset-password"))
        form = client.get(link)
        assert form.status_code == 200
        assert form.headers["referrer-policy"] == "no-referrer"
        token = link.split("token=", 1)[1]
        fields = {"csrf_token": csrf_from(form.text), "token": token}
        differ = client.post(
            "/reset-password", data={**fields, "password": NEW_PASSWORD, "repeat": "other text"}
        )
        assert differ.status_code == 400
        assert "differ" in differ.text
        done = client.post(
            "/reset-password", data={**fields, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
        )
        assert done.headers["location"] == "/login?done=reset"
        assert "Your password has been changed" in client.get(done.headers["location"]).text
        assert client.get(link).status_code == 400  # spent
        again = client.post(
            "/reset-password", data={**fields, "password": "third secret!", "repeat": "third secret!"}
        )
        assert again.status_code == 400
        assert "already used" in again.text
        assert _log_in(client, password=PASSWORD).status_code == 401
        assert _log_in(client, password=NEW_PASSWORD).status_code == 303


def test_change_password_from_settings(settings, engine):
    user = make_member(engine, "ada")
    with open_client(settings) as client:
        csrf = log_in_as(client, user)
        fields = {"csrf_token": csrf, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
        wrong = client.post("/settings/password", data={**fields, "current": "not my password"})
        assert wrong.status_code == 400
        assert "current password is not right" in wrong.text
        changed = client.post("/settings/password", data={**fields, "current": PASSWORD})
        assert changed.headers["location"] == "/settings?done=password"
        assert client.get("/settings").status_code == 200  # this session lives on
    with open_client(settings) as other:
        assert _log_in(other, password=NEW_PASSWORD).status_code == 303


def test_posts_without_the_csrf_token_are_refused(settings, engine):
    user = make_member(engine, "ada")
    with open_client(settings) as client:
        _form(client, "/login")  # the CSRF cookie alone is not enough
        refused = client.post("/login", data={"email": "ada@example.org", "password": PASSWORD})
        assert refused.status_code == 403
        assert "paperboy_session" not in client.cookies
        log_in_as(client, user)
        assert client.post("/logout").status_code == 403
        assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
        assert client.get("/settings").status_code == 200  # still logged in


def test_posts_from_another_origin_are_refused(settings, engine):
    user = make_member(engine, "ada", verified=False)
    foreign = {"origin": "https://evil.example"}
    with open_client(settings) as client:
        fields = {"csrf_token": _form(client, "/login"), "email": user.email, "password": PASSWORD}
        assert client.post("/login", data=fields, headers=foreign).status_code == 403
        assert client.post("/login", data=fields, headers={"origin": "http://testserver"}).status_code == 303
        answer = client.post(
            "/settings/verify-email", data={"csrf_token": log_in_as(client, user)}, headers=foreign
        )
        assert answer.status_code == 403
        assert "another site" in answer.text
    assert outbox_messages(settings) == []


def test_posts_that_need_an_account_answer_401(settings):
    with open_client(settings) as client:
        csrf = _form(client, "/login")
        for path in ("/settings/password", "/settings/verify-email"):
            assert client.post(path, data={"csrf_token": csrf}).status_code == 401


@pytest.mark.parametrize(("base_url", "secure"), [("https://papers.example.org", True), ("", False)])
def test_cookies_are_http_only_lax_and_secure_on_https(settings, engine, base_url, secure):
    make_member(engine, "ada")
    client_base = "https://testserver" if secure else "http://testserver"
    with open_client(settings.replace(base_url=base_url), base_url=client_base) as client:
        form = client.get("/login")
        login = client.post(
            "/login",
            data={"csrf_token": csrf_from(form.text), "email": "ada@example.org", "password": PASSWORD},
        )
    assert login.status_code == 303
    for cookie in (form.headers["set-cookie"], login.headers["set-cookie"]):
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert "httponly" in attributes
        assert "samesite=lax" in attributes
        assert "path=/" in attributes
        assert ("secure" in attributes) is secure


def test_account_mail_through_a_real_smtp_server(settings, smtp_sink):  # noqa: F811 - the fixture
    settings = smtp_sink.settings_for(settings)
    with open_client(settings) as client:
        assert _sign_up(client).status_code == 303
        (mail,) = smtp_sink.wait_for(1)
        assert smtp_sink.recipients == [["ada@example.org"]]
        assert mail["From"] == settings.mail_from
        assert mail["Message-ID"]
        assert client.get(local_part(link_in(mail, "/verify-email"))).status_code == 200
        assert outbox_messages(settings) == []
    assert _verified(settings)


def _verified(settings) -> bool:
    from paperboy.services.accounts import find_user
    from paperboy.storage.engine import make_engine

    engine = make_engine(settings.effective_database_url)
    try:
        user = find_user(engine, "ada")
        return bool(user and user.verified)
    finally:
        engine.dispose()
