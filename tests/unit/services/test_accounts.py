"""services/accounts.py on the real database: sign-up, verification links, logging in, throttling,
password resets, bans. Mail goes to a list; the clock is moved where expiry is tested."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from email.message import EmailMessage

import itsdangerous.timed
import pytest
from sqlalchemy import select

from paperboy.services import accounts, sessions
from paperboy.services.accounts import AccountError, InvalidSignUp, LoginFailed, RateLimited
from paperboy.services.sessions import ANONYMOUS
from paperboy.storage.engine import now_utc
from paperboy.storage.schema import password_resets, users
from paperboy.storage.transactions import write_transaction
from paperboy.storage.users import update_user

PASSWORD = "correct horse battery"
IP = "192.0.2.7"


class ListMailer:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


@pytest.fixture
def mailer():
    return ListMailer()


def _sign_up(engine, mailer, settings, email="ada@example.org", name="ada", password=PASSWORD, ip=IP):
    accounts.sign_up(engine, mailer, settings, email=email, name=name, password=password, ip=ip)


def _link_token(message: EmailMessage, path: str) -> str:
    body = message.get_content()
    match = re.search(rf"{re.escape(path)}\?token=(\S+)", body)
    assert match, f"no {path} link in {body!r}"
    return match.group(1)


def _verified_member(engine, mailer, settings, **kwargs):
    _sign_up(engine, mailer, settings, **kwargs)
    return accounts.verify_email(engine, settings, _link_token(mailer.sent[-1], "/verify-email"))


# --- sign-up -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "name", "password", "message"),
    [
        ("not-an-address", "ada", PASSWORD, "valid e-mail address"),
        ("ada@example.org", "a", PASSWORD, "2 to 30 characters"),
        ("ada@example.org", "ada lovelace", PASSWORD, "2 to 30 characters"),
        ("ada@example.org", "admin", PASSWORD, "reserved"),
        ("ada@example.org", "ada", "short", "at least 10"),
        ("ada@example.org", "ada", "aaaaaaaaaaaa", "too easy"),
        ("ada@example.org", "ada", "ada@example.org", "too easy"),
        ("ada@example.org", "ada", "x" * 1025, "at most 1024"),
    ],
)
def test_sign_up_refuses_bad_input_with_a_reason(engine, settings, mailer, email, name, password, message):
    with pytest.raises(InvalidSignUp, match=message):
        _sign_up(engine, mailer, settings, email=email, name=name, password=password)
    assert mailer.sent == []


def test_sign_up_makes_an_unverified_member_and_mails_the_link(engine, settings, mailer):
    _sign_up(engine, mailer, settings, email="  Ada@Example.ORG ", name="Ada")
    user = accounts.find_user(engine, "ada")
    assert user is not None
    assert (user.email, user.name, user.role, user.verified) == ("ada@example.org", "ada", "member", False)
    (message,) = mailer.sent
    assert message["To"] == "ada@example.org"
    assert f"{settings.public_url}/verify-email?token=" in message.get_content()


def test_password_is_stored_as_argon2id(engine, settings, mailer):
    _sign_up(engine, mailer, settings)
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_taken_address_answers_the_same_and_mails_its_owner(engine, settings, mailer):
    _sign_up(engine, mailer, settings)
    result = accounts.sign_up(
        engine, mailer, settings, email="ADA@example.org", name="other", password="another password 1", ip=IP
    )
    assert result is None  # no error, nothing that differs from a fresh sign-up
    assert accounts.find_user(engine, "other") is None
    owner_mail = mailer.sent[-1]
    assert owner_mail["To"] == "ada@example.org"
    assert "already has one" in owner_mail.get_content()
    assert "/reset-password" in owner_mail.get_content()
    assert "token=" not in owner_mail.get_content()


def test_a_taken_name_is_refused(engine, settings, mailer):
    _sign_up(engine, mailer, settings)
    with pytest.raises(InvalidSignUp, match="taken"):
        _sign_up(engine, mailer, settings, email="someone@example.org", name="ADA")


def test_sign_ups_per_address_are_limited(engine, settings, mailer):
    settings = settings.replace(rate_limit_signup="2/hour")
    _sign_up(engine, mailer, settings, email="a1@example.org", name="a1")
    _sign_up(engine, mailer, settings, email="a2@example.org", name="a2")
    with pytest.raises(RateLimited) as refused:
        _sign_up(engine, mailer, settings, email="a3@example.org", name="a3")
    assert 0 < refused.value.retry_after <= 3600
    _sign_up(engine, mailer, settings, email="a3@example.org", name="a3", ip="192.0.2.8")


# --- verification links -----------------------------------------------------------------------------


def test_the_verification_link_verifies_once_and_again_harmlessly(engine, settings, mailer):
    _sign_up(engine, mailer, settings)
    token = _link_token(mailer.sent[0], "/verify-email")
    user = accounts.verify_email(engine, settings, token)
    assert user.verified
    assert user.name == "ada"
    assert accounts.verify_email(engine, settings, token).email_verified_at == user.email_verified_at


def test_an_expired_verification_link_is_refused(engine, settings, mailer, monkeypatch):
    signed_at = itsdangerous.timed.time.time() - settings.verify_link_hours * 3600 - 5

    class TwoDaysAgo:
        @staticmethod
        def time() -> float:
            return signed_at

    monkeypatch.setattr(itsdangerous.timed, "time", TwoDaysAgo)
    _sign_up(engine, mailer, settings)
    monkeypatch.undo()
    with pytest.raises(AccountError, match="expired"):
        accounts.verify_email(engine, settings, _link_token(mailer.sent[0], "/verify-email"))
    assert not accounts.find_user(engine, "ada").verified


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "garbage"])
def test_a_tampered_verification_link_is_refused(engine, settings, mailer, damage):
    _sign_up(engine, mailer, settings)
    token = _link_token(mailer.sent[0], "/verify-email")
    bad = {
        # Not the last character: its low bits are base64 padding, and flipping those changes nothing.
        "flip": token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:],
        "truncate": token[: len(token) // 2],
        "empty": "",
        "garbage": "../../etc/passwd",
    }[damage]
    with pytest.raises(AccountError, match="not valid"):
        accounts.verify_email(engine, settings, bad)


def test_a_link_signed_with_another_key_is_refused(engine, settings, mailer):
    _sign_up(engine, mailer, settings.replace(secret_key="one key, long enough to sign"))
    token = _link_token(mailer.sent[0], "/verify-email")
    with pytest.raises(AccountError, match="not valid"):
        accounts.verify_email(engine, settings.replace(secret_key="another key entirely"), token)


def test_a_link_for_an_address_that_changed_is_refused(engine, settings, mailer):
    _sign_up(engine, mailer, settings)
    token = _link_token(mailer.sent[0], "/verify-email")
    user = accounts.find_user(engine, "ada")
    with write_transaction(engine) as conn:
        update_user(conn, user.id, email="new@example.org")
    with pytest.raises(AccountError, match="no longer exists"):
        accounts.verify_email(engine, settings, token)


def test_resending_verification_mails_a_fresh_link_and_is_limited(engine, settings, mailer):
    settings = settings.replace(rate_limit_mail="2/hour")
    _sign_up(engine, mailer, settings)
    user = accounts.find_user(engine, "ada")
    accounts.resend_verification(engine, mailer, settings, user, ip=IP)
    accounts.resend_verification(engine, mailer, settings, user, ip=IP)
    with pytest.raises(RateLimited):
        accounts.resend_verification(engine, mailer, settings, user, ip=IP)
    assert len(mailer.sent) == 3
    accounts.verify_email(engine, settings, _link_token(mailer.sent[-1], "/verify-email"))
    verified = accounts.find_user(engine, "ada")
    accounts.resend_verification(engine, mailer, settings, verified, ip="192.0.2.99")
    assert len(mailer.sent) == 3  # nothing to confirm any more


# --- logging in ---------------------------------------------------------------------------------------


def test_log_in_opens_a_session_that_identifies_the_user(engine, settings, mailer):
    _sign_up(engine, mailer, settings)
    session = accounts.log_in(engine, settings, email="ADA@example.org ", password=PASSWORD, ip=IP)
    viewer = sessions.viewer_for_token(engine, settings, session.token)
    assert viewer.user.name == "ada"
    assert viewer.csrf_token == session.csrf_token
    sessions.log_out(engine, viewer)
    assert sessions.viewer_for_token(engine, settings, session.token) == ANONYMOUS


def test_unknown_address_and_wrong_password_fail_with_the_same_message(engine, settings, mailer):
    _sign_up(engine, mailer, settings)
    with pytest.raises(LoginFailed) as unknown:
        accounts.log_in(engine, settings, email="nobody@example.org", password=PASSWORD, ip=IP)
    with pytest.raises(LoginFailed) as wrong:
        accounts.log_in(engine, settings, email="ada@example.org", password="wrong password", ip=IP)
    assert str(unknown.value) == str(wrong.value) == "Wrong e-mail address or password."


def test_an_unverified_account_can_log_in(engine, settings, mailer):
    _sign_up(engine, mailer, settings)
    session = accounts.log_in(engine, settings, email="ada@example.org", password=PASSWORD, ip=IP)
    assert not session.user.verified  # it can log in to ask for the mail again, not take part


def test_failed_logins_throttle_the_account_from_that_address_only(engine, settings, mailer):
    settings = settings.replace(login_failures_account="3/15minutes")
    _sign_up(engine, mailer, settings)

    def attempt(password, ip=IP):
        return accounts.log_in(engine, settings, email="ada@example.org", password=password, ip=ip)

    for _ in range(2):
        with pytest.raises(LoginFailed):
            attempt("wrong password")
    attempt(PASSWORD)  # clears the two failures
    for _ in range(3):
        with pytest.raises(LoginFailed):
            attempt("wrong password")
    with pytest.raises(RateLimited) as refused:
        attempt(PASSWORD)  # even the right password, from the guessing address
    assert 0 < refused.value.retry_after <= 30
    assert "failed logins" in str(refused.value)
    assert attempt(PASSWORD, ip="198.51.100.1").user.name == "ada"  # the owner, from elsewhere


def test_failed_logins_throttle_the_address_across_accounts(engine, settings, mailer):
    settings = settings.replace(login_failures_ip="2/hour")
    _sign_up(engine, mailer, settings)
    for email in ("x@example.org", "y@example.org"):
        with pytest.raises(LoginFailed):
            accounts.log_in(engine, settings, email=email, password="guess guess", ip=IP)
    with pytest.raises(RateLimited):
        accounts.log_in(engine, settings, email="ada@example.org", password=PASSWORD, ip=IP)
    accounts.log_in(engine, settings, email="ada@example.org", password=PASSWORD, ip="192.0.2.8")


def test_a_banned_account_cannot_log_in(engine, settings, mailer):
    user = _verified_member(engine, mailer, settings)
    session = accounts.log_in(engine, settings, email=user.email, password=PASSWORD, ip=IP)
    with write_transaction(engine) as conn:
        update_user(conn, user.id, banned_at=now_utc(), ban_reason="spam")
    with pytest.raises(LoginFailed, match="banned: spam"):
        accounts.log_in(engine, settings, email=user.email, password=PASSWORD, ip=IP)
    still = sessions.viewer_for_token(engine, settings, session.token).user
    assert still is not None
    assert still.banned
    assert not still.can_take_part


def test_an_expired_session_is_anonymous(engine, settings, mailer):
    user = _verified_member(engine, mailer, settings)
    session = sessions.open_session(engine, settings, user)
    later = now_utc() + timedelta(days=settings.session_days, seconds=1)
    assert sessions.viewer_for_token(engine, settings, session.token, now=later) == ANONYMOUS


# --- password reset ------------------------------------------------------------------------------------


def _reset_token(engine, mailer, settings, email="ada@example.org"):
    accounts.request_password_reset(engine, mailer, settings, email=email, ip=IP)
    return _link_token(mailer.sent[-1], "/reset-password")


def test_a_reset_works_once_and_logs_out_every_session(engine, settings, mailer):
    user = _verified_member(engine, mailer, settings)
    opened = [sessions.open_session(engine, settings, user) for _ in range(2)]
    token = _reset_token(engine, mailer, settings)
    assert accounts.reset_link_is_live(engine, token)
    accounts.reset_password(engine, token=token, password="a brand new secret")
    for session in opened:
        assert sessions.viewer_for_token(engine, settings, session.token) == ANONYMOUS
    assert not accounts.reset_link_is_live(engine, token)
    with pytest.raises(AccountError, match="already used"):
        accounts.reset_password(engine, token=token, password="yet another secret")
    with pytest.raises(LoginFailed):
        accounts.log_in(engine, settings, email=user.email, password=PASSWORD, ip=IP)
    accounts.log_in(engine, settings, email=user.email, password="a brand new secret", ip=IP)


def test_an_expired_reset_link_is_refused(engine, settings, mailer, monkeypatch):
    _verified_member(engine, mailer, settings)
    token = _reset_token(engine, mailer, settings)
    later = now_utc() + timedelta(minutes=settings.reset_link_minutes, seconds=1)
    monkeypatch.setattr(accounts, "now_utc", lambda: later)
    assert not accounts.reset_link_is_live(engine, token)
    with pytest.raises(AccountError, match="expired"):
        accounts.reset_password(engine, token=token, password="a brand new secret")


def test_a_weak_new_password_keeps_the_link_usable(engine, settings, mailer):
    _verified_member(engine, mailer, settings)
    token = _reset_token(engine, mailer, settings)
    with pytest.raises(InvalidSignUp, match="at least 10"):
        accounts.reset_password(engine, token=token, password="short")
    assert accounts.reset_link_is_live(engine, token)


def test_a_reset_confirms_the_address(engine, settings, mailer):
    _sign_up(engine, mailer, settings)
    accounts.reset_password(
        engine, token=_reset_token(engine, mailer, settings), password="a brand new secret"
    )
    assert accounts.find_user(engine, "ada").verified


def test_a_reset_for_an_unknown_address_sends_nothing_and_stores_nothing(engine, settings, mailer):
    accounts.request_password_reset(engine, mailer, settings, email="nobody@example.org", ip=IP)
    assert mailer.sent == []
    with engine.connect() as conn:
        assert conn.execute(select(password_resets)).all() == []


def test_reset_requests_are_limited_per_address(engine, settings, mailer):
    settings = settings.replace(rate_limit_mail="2/hour")
    for _ in range(2):
        accounts.request_password_reset(engine, mailer, settings, email="nobody@example.org", ip=IP)
    with pytest.raises(RateLimited):
        accounts.request_password_reset(engine, mailer, settings, email="NOBODY@example.org", ip="192.0.2.8")


def test_changing_the_password_keeps_this_session_only(engine, settings, mailer):
    user = _verified_member(engine, mailer, settings)
    here, elsewhere = (sessions.open_session(engine, settings, user) for _ in range(2))
    viewer = sessions.viewer_for_token(engine, settings, here.token)
    with pytest.raises(AccountError, match="current password"):
        accounts.change_password(
            engine, settings, viewer, current="not it at all", new="a brand new secret", ip=IP
        )
    accounts.change_password(engine, settings, viewer, current=PASSWORD, new="a brand new secret", ip=IP)
    assert sessions.viewer_for_token(engine, settings, here.token).user is not None
    assert sessions.viewer_for_token(engine, settings, elsewhere.token) == ANONYMOUS


# --- administration ---------------------------------------------------------------------------------------


def test_create_user_and_set_role(engine):
    user = accounts.create_user(
        engine, email="root@example.org", name="boss", password=PASSWORD, role="admin"
    )
    assert user.verified
    assert user.is_admin
    with pytest.raises(InvalidSignUp, match="exists"):
        accounts.create_user(engine, email="root@example.org", name="boss2", password=PASSWORD)
    assert accounts.set_role(engine, "boss", "moderator").role == "moderator"
    with pytest.raises(AccountError, match="role must be one of"):
        accounts.set_role(engine, "boss", "king")
    with pytest.raises(AccountError, match="no account"):
        accounts.set_role(engine, "nobody", "admin")


def test_a_taken_name_is_refused_whether_or_not_the_address_has_an_account(engine, mailer, settings):
    _sign_up(engine, mailer, settings)
    # The owner's address and a stranger's get the same answer: the name says nothing of addresses.
    for email in ("ada@example.org", "stranger@example.org"):
        with pytest.raises(InvalidSignUp, match="name 'ada' is taken"):
            _sign_up(engine, mailer, settings, email=email)


def test_parallel_guesses_cannot_outrun_the_failure_limit(engine, mailer, settings):
    _verified_member(engine, mailer, settings)
    settings = settings.replace(login_failures_account="3/15minutes", rate_limit_login="100/minute")
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def guess(number: int) -> None:
        barrier.wait()
        try:
            accounts.log_in(engine, settings, email="ada@example.org", password=f"guess {number}", ip=IP)
        except LoginFailed:
            outcomes.append("checked")
        except RateLimited:
            outcomes.append("refused")

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("checked") == 3  # each guess is counted before its password is checked
    assert outcomes.count("refused") == 5


def test_a_successful_login_takes_back_its_count(engine, mailer, settings):
    _verified_member(engine, mailer, settings)
    settings = settings.replace(login_failures_ip="2/hour")
    for _ in range(3):  # more successes than the failure limit allows failures
        accounts.log_in(engine, settings, email="ada@example.org", password=PASSWORD, ip=IP)


def test_changing_the_password_voids_reset_links_in_the_mailbox(engine, mailer, settings):
    user = _verified_member(engine, mailer, settings)
    accounts.request_password_reset(engine, mailer, settings, email="ada@example.org", ip=IP)
    token = _link_token(mailer.sent[-1], "/reset-password")
    session = sessions.open_session(engine, settings, user)
    viewer = sessions.viewer_for_token(engine, settings, session.token)
    accounts.change_password(engine, settings, viewer, current=PASSWORD, new="another long secret", ip=IP)
    with pytest.raises(AccountError, match="expired or was already used"):
        accounts.reset_password(engine, token=token, password="a third long secret")


def test_a_session_refresh_is_reported_so_the_cookie_goes_out_again(engine, mailer, settings):
    user = _verified_member(engine, mailer, settings)
    session = sessions.open_session(engine, settings, user)
    assert not sessions.viewer_for_token(engine, settings, session.token).refreshed
    later = now_utc() + timedelta(hours=2)
    assert sessions.viewer_for_token(engine, settings, session.token, now=later).refreshed
    assert not sessions.viewer_for_token(engine, settings, session.token, now=later).refreshed


@pytest.mark.parametrize(
    "email",
    ["a:b@example.org", "a(b)@example.org", "a[1]@example.org", "a\\b@example.org", "a\x00b@example.org"],
)
def test_addresses_with_header_syntax_are_refused(engine, mailer, settings, email):
    with pytest.raises(InvalidSignUp, match="valid e-mail"):
        _sign_up(engine, mailer, settings, email=email)
