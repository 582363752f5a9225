"""Accounts: sign-up with a verified address, logging in, password resets, roles, bans. The
session a log-in opens, and the viewer of each request, are services/sessions.py's.

Messages never reveal whether an address has an account: sign-up and reset requests answer the
same either way, and the mail itself tells the owner what happened.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Engine

from paperboy.config import Settings
from paperboy.domain.follows import InvalidFollow, signup_follows
from paperboy.domain.site_urls import LOGIN_PATH, RESET_PASSWORD_PATH, VERIFY_EMAIL_PATH, with_token
from paperboy.domain.users import (
    ROLES,
    InvalidSignUp,
    User,
    check_email,
    check_name,
    check_password,
    normalise_email,
)
from paperboy.integrations.mail import Mailer, MailError, compose
from paperboy.services import rate_limits
from paperboy.services.rate_limits import RateLimited
from paperboy.services.sessions import Session, Viewer, open_session, token_digest
from paperboy.services.signing_key import signing_key
from paperboy.storage import follows as follows_store
from paperboy.storage import users as store
from paperboy.storage.engine import now_utc
from paperboy.storage.transactions import write_transaction

log = logging.getLogger(__name__)
_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters
_DUMMY_HASH = _hasher.hash("not a password of anyone's")

__all__ = ["InvalidSignUp", "RateLimited"]


class AccountError(Exception):
    """Something the person must fix or wait for; the message says what (shown as is)."""


class LoginFailed(AccountError):
    """Wrong e-mail or password, or an account that may not log in (banned)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# --- signing secret -----------------------------------------------------------------------------


def signing_secret(engine: Engine, settings: Settings) -> str:
    """PAPERBOY_SECRET_KEY, or the key file in data_dir, never the database (services/signing_key.py)."""
    return signing_key(engine, settings)


def _serializer(engine: Engine, settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(signing_secret(engine, settings), salt="paperboy.verify-email")


# --- sign-up and verification ------------------------------------------------------------------


def sign_up(
    engine: Engine,
    mailer: Mailer,
    settings: Settings,
    *,
    email: str,
    name: str,
    password: str,
    ip: str,
    categories: list[str] | None = None,
    authors: str = "",
) -> None:
    """Create an unverified account and mail its verification link; the `categories` and
    `authors` (one per line) chosen on the form become its first follows.

    InvalidSignUp for input to correct; RateLimited past the per-IP limit. An address that already
    has an account gets a mail saying so instead, and the answer here is the same (and that
    account's follows stay as they were).
    """
    email, name = check_email(email), check_name(name)
    check_password(password, email=email, name=name)
    try:
        chosen = signup_follows(categories or [], authors)
    except InvalidFollow as exc:
        raise InvalidSignUp(f"Follows: {exc}.") from None
    rate_limits.hit(
        engine, rate_limits.limit("signup", f"ip:{ip}", settings.rate_limit_signup), what="sign-ups"
    )
    password_hash = hash_password(password)
    with write_transaction(engine) as conn:
        # The name first, whatever the address: names are public, and checking it only for new
        # addresses would tell whether an address has an account.
        if store.user_by_name(conn, name) is not None:
            raise InvalidSignUp(f"The name {name!r} is taken: choose another.")
        existing = store.user_by_email(conn, email)
        if existing is None:
            try:
                user = store.insert_user(
                    conn, email=email, name=name, password_hash=password_hash, role="member", now=now_utc()
                )
            except store.NameOrEmailTaken:  # a sign-up racing this one won the unique key
                raise InvalidSignUp("That name or address was taken a moment ago: try again.") from None
            for kind, value, label in chosen:  # the cold start of alerts and "For you"
                follows_store.insert_follow(conn, user.id, kind, value, label, now_utc())
    if existing is not None:
        _send(
            mailer,
            settings,
            existing.email,
            "Someone tried to sign up with your address",
            _taken_text(settings),
        )
        return
    send_verification(engine, mailer, settings, user)


def send_verification(engine: Engine, mailer: Mailer, settings: Settings, user: User) -> None:
    token = _serializer(engine, settings).dumps({"uid": user.id, "email": user.email})
    link = settings.public_url + with_token(VERIFY_EMAIL_PATH, token)
    text = (
        f"Hello {user.name},\n\nConfirm your address for {settings.site_name} by opening this link "
        f"(valid for {settings.verify_link_hours} hours):\n\n{link}\n\n"
        "If you did not sign up, ignore this mail: the account stays unverified and cannot take part.\n"
    )
    _send(mailer, settings, user.email, f"Confirm your address for {settings.site_name}", text)


def resend_verification(engine: Engine, mailer: Mailer, settings: Settings, user: User, *, ip: str) -> None:
    if user.verified:
        return
    rate_limits.hit(engine, *_mail_limits(settings, user.email, ip), what="mails")
    send_verification(engine, mailer, settings, user)


def verify_email(engine: Engine, settings: Settings, token: str) -> User:
    """Mark the account in a valid, unexpired link verified (again is fine); AccountError otherwise."""
    try:
        data = _serializer(engine, settings).loads(token, max_age=settings.verify_link_hours * 3600)
    except SignatureExpired:
        raise AccountError("This verification link has expired: log in and ask for a new one.") from None
    except BadSignature:
        raise AccountError("This verification link is not valid: check that it was copied whole.") from None
    with write_transaction(engine) as conn:
        user = store.user_by_id(conn, int(data["uid"]))
        if user is None or user.email != data["email"]:
            raise AccountError("This verification link belongs to an account that no longer exists.")
        store.mark_verified(conn, user.id, now_utc())
        verified = store.user_by_id(conn, user.id)
    assert verified is not None
    return verified


# --- logging in -----------------------------------------------------------------------------------


def log_in(
    engine: Engine, settings: Settings, *, email: str, password: str, ip: str, user_agent: str = ""
) -> Session:
    """A new session; LoginFailed (one message for every wrong pair) or RateLimited.

    Guesses are throttled per (address, client) with growing waits, and per client across
    addresses; never per account alone, so a stranger's wrong guesses cannot lock its owner out.
    """
    email = normalise_email(email)[:320]
    moment = time.time()
    rate_limits.hit(
        engine, rate_limits.limit("login", f"ip:{ip}", settings.rate_limit_login), what="login attempts"
    )
    guesses, per_ip = _guess_limits(settings, email, ip)
    # Counted as a failure before the password is checked, and taken back when it matches:
    # parallel guesses cannot all pass the check before any of them is counted.
    rate_limits.claim_attempt(engine, guesses, per_ip, what="failed logins", now=moment)
    with engine.connect() as conn:
        found = store.credentials(conn, email)
    if not _password_matches(found[1] if found else _DUMMY_HASH, password[:1024]) or found is None:
        raise LoginFailed("Wrong e-mail address or password.")
    user = found[0]
    if user.banned:
        raise LoginFailed(f"This account is banned{': ' + user.ban_reason if user.ban_reason else ''}.")
    rate_limits.release_attempt(engine, guesses, per_ip, now=moment)
    if _hasher.check_needs_rehash(found[1]):
        rehashed = hash_password(password)  # before the transaction: never hash holding the write lock
        with write_transaction(engine) as conn:
            store.update_user(conn, user.id, password_hash=rehashed)
    return open_session(engine, settings, user, user_agent=user_agent, ip=ip)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# --- password resets ------------------------------------------------------------------------------


def request_password_reset(
    engine: Engine, mailer: Mailer, settings: Settings, *, email: str, ip: str
) -> None:
    """Mail a single-use reset link if the address has an account; the same answer either way."""
    email = normalise_email(email)[:320]
    rate_limits.hit(engine, *_mail_limits(settings, email, ip), what="reset requests")
    token = secrets.token_urlsafe(32)
    now = now_utc()
    with write_transaction(engine) as conn:
        user = store.user_by_email(conn, email)
        if user is not None:
            expires = now + timedelta(minutes=settings.reset_link_minutes)
            store.insert_password_reset(
                conn, reset_id=token_digest(token), user_id=user.id, now=now, expires_at=expires
            )
    if user is None:
        return
    link = settings.public_url + with_token(RESET_PASSWORD_PATH, token)
    text = (
        f"Hello {user.name},\n\nSomeone (we hope you) asked to reset your {settings.site_name} password. "
        f"Choose a new one here (the link works once, for {settings.reset_link_minutes} minutes):"
        f"\n\n{link}\n\n"
        "If it was not you, ignore this mail: your password stays as it is.\n"
    )
    _send(mailer, settings, user.email, f"Reset your {settings.site_name} password", text)


def reset_link_is_live(engine: Engine, token: str) -> bool:
    with engine.connect() as conn:
        return store.live_reset_user(conn, token_digest(token[:128]), now_utc()) is not None


def reset_password(engine: Engine, *, token: str, password: str) -> User:
    """Spend the token and set the password; every session and API token of the account ends
    (whoever knew the old password may have made them)."""
    reset_id, expired = (
        token_digest(token[:128]),
        "This reset link has expired or was already used: ask for a new one.",
    )
    with engine.connect() as conn:
        user_id = store.live_reset_user(conn, reset_id, now_utc())
        user = store.user_by_id(conn, user_id) if user_id is not None else None
    if user is None:
        raise AccountError(expired)
    check_password(password, email=user.email, name=user.name)
    password_hash = hash_password(password)  # before the transaction: never hash holding the write lock
    now = now_utc()
    with write_transaction(engine) as conn:
        if store.use_password_reset(conn, reset_id, now) != user.id:  # spent meanwhile: once only
            raise AccountError(expired)
        store.set_password_hash(conn, user.id, password_hash, now)
        store.mark_verified(conn, user.id, now)  # the mailbox owner proved it by opening the link
        store.end_credentials(conn, user.id, now)
        store.drop_password_resets(conn, user.id)
    return user


def change_password(
    engine: Engine, settings: Settings, viewer: Viewer, *, current: str, new: str, ip: str
) -> None:
    """From settings: the current password is asked again (a stolen session cannot guess freely:
    the same throttle as logging in); other sessions and every API token end, and reset links
    still in a mailbox stop working. This session, which just proved the password, lives on."""
    assert viewer.user is not None
    moment = time.time()
    guesses, per_ip = _guess_limits(settings, viewer.user.email, ip)
    rate_limits.claim_attempt(engine, guesses, per_ip, what="wrong passwords", now=moment)
    with engine.connect() as conn:
        found = store.credentials(conn, viewer.user.email)
    if found is None or not _password_matches(found[1], current[:1024]):
        raise AccountError("The current password is not right.")
    rate_limits.release_attempt(engine, guesses, per_ip, now=moment)
    check_password(new, email=viewer.user.email, name=viewer.user.name)
    password_hash = hash_password(new)
    with write_transaction(engine) as conn:
        now = now_utc()
        store.set_password_hash(conn, viewer.user.id, password_hash, now)
        store.end_credentials(conn, viewer.user.id, now, keep_session=viewer.session_id)
        store.drop_password_resets(conn, viewer.user.id)


# --- administration -----------------------------------------------------------------------------


def create_user(
    engine: Engine, *, email: str, name: str, password: str, role: str = "member", verified: bool = True
) -> User:
    """An account made by an operator (`paperboy admin create-user`): verified unless told otherwise."""
    if role not in ROLES:
        raise InvalidSignUp(f"role must be one of {', '.join(ROLES)}")
    email, name = check_email(email), check_name(name)
    check_password(password, email=email, name=name)
    with write_transaction(engine) as conn:
        try:
            return store.insert_user(
                conn,
                email=email,
                name=name,
                password_hash=hash_password(password),
                role=role,
                now=now_utc(),
                verified=verified,
            )
        except store.NameOrEmailTaken:
            raise InvalidSignUp(f"an account with the e-mail {email} or the name {name} exists") from None


def set_role(engine: Engine, name: str, role: str) -> User:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    with write_transaction(engine) as conn:
        user = store.user_by_name(conn, name)
        if user is None:
            raise AccountError(f"no account is named {name!r}")
        store.update_user(conn, user.id, role=role)
        changed = store.user_by_id(conn, user.id)
    assert changed is not None
    return changed


def find_user(engine: Engine, name: str) -> User | None:
    with engine.connect() as conn:
        return store.user_by_name(conn, name[:64].lower())


# --- helpers --------------------------------------------------------------------------------------


def _mail_limits(settings: Settings, email: str, ip: str) -> list[rate_limits.Limit]:
    return [
        rate_limits.limit("mail", f"email:{email}", settings.rate_limit_mail),
        rate_limits.limit("mail", f"ip:{ip}", settings.rate_limit_mail),
    ]


def _guess_limits(settings: Settings, email: str, ip: str) -> tuple[rate_limits.Backoff, rate_limits.Limit]:
    """Password guesses: a back-off per (address, client), a looser budget per client."""
    return (
        rate_limits.backoff("login-fail", f"email:{email}:ip:{ip}", settings.login_failures_account),
        rate_limits.limit("login-fail", f"ip:{ip}", settings.login_failures_ip),
    )


def _taken_text(settings: Settings) -> str:
    return (
        f"Someone tried to create a {settings.site_name} account with this address, "
        "which already has one.\n\n"
        f"If it was you, log in at {settings.public_url}{LOGIN_PATH}, or reset your password at "
        f"{settings.public_url}{RESET_PASSWORD_PATH}.\n\nIf it was not you, ignore this mail.\n"
    )


def _send(mailer: Mailer, settings: Settings, to: str, subject: str, text: str) -> None:
    """Account mail is best effort: a mail server down must not lose the account, only the mail,
    which the person can ask for again."""
    try:
        mailer.send(compose(sender=settings.mail_from, to=to, subject=subject, text=text))
    except MailError:
        log.exception("could not send %r to an account address", subject)
