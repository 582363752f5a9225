"""Subscribing to the digest: double opt-in by e-mail, signed links to manage and leave it,
preferences, and the subscriptions of logged-in members.

Nothing here tells a requester whether an address was subscribed: a request always answers the
same, and the mail itself (a confirmation link, or "you are already subscribed" with the manage
link) goes only to the address's owner. Links carry the subscription's nonce, signed with the
site's secret: a confirmation link expires, the manage and unsubscribe links in every digest
do not (RFC 8058 one-click unsubscribe must keep working from old mails).
"""

from __future__ import annotations

import logging
import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import Engine

from paperboy.config import Settings
from paperboy.domain.digest import MailLinks, Preferences, Subscription
from paperboy.domain.site_urls import (
    DIGEST_CONFIRM_PATH,
    DIGEST_MANAGE_PATH,
    DIGEST_PREVIEW_PATH,
    DIGEST_UNSUBSCRIBE_PATH,
    with_token,
)
from paperboy.domain.users import InvalidSignUp, User, check_email, normalise_email
from paperboy.integrations.mail import Mailer, MailError, compose
from paperboy.services import rate_limits
from paperboy.services.accounts import signing_secret
from paperboy.storage import digests as store
from paperboy.storage.engine import now_utc
from paperboy.storage.transactions import write_transaction

log = logging.getLogger(__name__)
_MANAGE_SALT = "paperboy.digest-manage"
_CONFIRM_SALT = "paperboy.digest-confirm"


class SubscriptionError(Exception):
    """Something the person must fix (a bad address, an expired link); shown as is."""


# --- signed links --------------------------------------------------------------------------------


class DigestLinks:
    """Signs and reads the links of one site (the secret is read once)."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        secret = signing_secret(engine, settings)
        self.site = settings.public_url
        self.confirm_hours = settings.digest_confirm_hours
        self._manage = URLSafeSerializer(secret, salt=_MANAGE_SALT)
        self._confirm = URLSafeTimedSerializer(secret, salt=_CONFIRM_SALT)

    def token(self, subscription: Subscription) -> str:
        return str(self._manage.dumps([subscription.id, subscription.nonce]))

    def manage_url(self, subscription: Subscription) -> str:
        return self.site + with_token(DIGEST_MANAGE_PATH, self.token(subscription))

    def unsubscribe_url(self, subscription: Subscription) -> str:
        return self.site + with_token(DIGEST_UNSUBSCRIBE_PATH, self.token(subscription))

    def mail_links(self, subscription: Subscription) -> MailLinks:
        """The links a digest carries, signed once."""
        token = self.token(subscription)
        return MailLinks(
            manage=self.site + with_token(DIGEST_MANAGE_PATH, token),
            unsubscribe=self.site + with_token(DIGEST_UNSUBSCRIBE_PATH, token),
            preview=self.site + with_token(DIGEST_PREVIEW_PATH, token),
        )

    def confirm_url(self, subscription: Subscription) -> str:
        token = self._confirm.dumps([subscription.id, subscription.nonce, subscription.email])
        return self.site + with_token(DIGEST_CONFIRM_PATH, token)

    def read_token(self, token: str) -> tuple[int, str]:
        try:
            subscription_id, nonce = self._manage.loads(token[:500])
            return int(subscription_id), str(nonce)
        except (BadSignature, TypeError, ValueError):
            raise SubscriptionError(
                "This link is not valid: open it again from the latest digest, whole."
            ) from None

    def read_confirmation(self, token: str) -> tuple[int, str, str]:
        try:
            subscription_id, nonce, email = self._confirm.loads(
                token[:500], max_age=self.confirm_hours * 3600
            )
            return int(subscription_id), str(nonce), str(email)
        except SignatureExpired:
            raise SubscriptionError(
                "This confirmation link has expired: subscribe again to get a new one."
            ) from None
        except (BadSignature, TypeError, ValueError):
            raise SubscriptionError(
                "This confirmation link is not valid: check that it was copied whole."
            ) from None


def subscription_for_token(engine: Engine, settings: Settings, token: str) -> Subscription:
    """The subscription a manage or unsubscribe link is for; SubscriptionError when the link is
    bad or was revoked."""
    subscription_id, nonce = DigestLinks(engine, settings).read_token(token)
    with engine.connect() as conn:
        subscription = store.subscription_by_id(conn, subscription_id)
    if subscription is None or not secrets.compare_digest(subscription.nonce, nonce):
        raise SubscriptionError("This link is no longer valid: the subscription it was for is gone.")
    return subscription


def find_subscription(engine: Engine, email: str) -> Subscription | None:
    """The subscription of an address as typed (an operator's look-up: `paperboy digest preview`)."""
    with engine.connect() as conn:
        return store.subscription_by_email(conn, normalise_email(email))


def subscription_of(engine: Engine, user: User) -> Subscription | None:
    """A member's subscription: linked to the account, or one made before with the same address
    once the account has confirmed that address (until then it may be someone else's)."""
    with engine.connect() as conn:
        linked = store.subscription_by_user(conn, user.id)
        if linked is not None or not user.verified:
            return linked
        return store.subscription_by_email(conn, user.email)


# --- subscribing ---------------------------------------------------------------------------------


def request_subscription(engine: Engine, mailer: Mailer, settings: Settings, *, email: str, ip: str) -> None:
    """Anyone, for any address: a confirmation mail (or, when already subscribed, the manage
    link). SubscriptionError for an address that cannot be one; RateLimited per IP. Past the
    per-address limit the request is answered the same and no mail goes out."""
    try:
        email = check_email(email[:400])
    except InvalidSignUp as exc:
        raise SubscriptionError(str(exc)) from None
    rate_limits.hit(
        engine,
        rate_limits.limit("subscribe", f"ip:{ip}", settings.rate_limit_subscribe),
        what="subscriptions",
    )
    try:
        rate_limits.hit(
            engine, rate_limits.limit("mail", f"email:{email}", settings.rate_limit_mail), what="mails"
        )
    except rate_limits.RateLimited:
        log.info("subscription mail not sent: the address's mail limit is spent")
        return
    with write_transaction(engine) as conn:
        subscription = store.subscription_by_email(conn, email)
        if subscription is None:
            nonce = secrets.token_urlsafe(12)
            new_id = store.insert_subscription(
                conn, email=email, status="pending", nonce=nonce, preferences=Preferences(), now=now_utc()
            )
            subscription = store.subscription_by_id(conn, new_id)
    assert subscription is not None
    links = DigestLinks(engine, settings)
    if subscription.active:
        _send(
            mailer,
            settings,
            email,
            f"You already get the {settings.site_name} digest",
            _already_text(settings, links, subscription),
        )
    else:
        _send(
            mailer,
            settings,
            email,
            f"Confirm your {settings.site_name} digest",
            _confirm_text(settings, links, subscription),
        )


def confirm_subscription(engine: Engine, settings: Settings, token: str) -> Subscription:
    """Activate the subscription of a valid, unexpired confirmation link (again is fine)."""
    subscription_id, nonce, email = DigestLinks(engine, settings).read_confirmation(token)
    with write_transaction(engine) as conn:
        subscription = store.subscription_by_id(conn, subscription_id)
        if subscription is None or subscription.nonce != nonce or subscription.email != email:
            raise SubscriptionError("This confirmation link is for a subscription that no longer exists.")
        if not subscription.active:
            now = now_utc()
            store.update_subscription(
                conn, subscription.id, now, status="active", confirmed_at=now, bounce_reason=None
            )
        confirmed = store.subscription_by_id(conn, subscription.id)
    assert confirmed is not None
    return confirmed


def subscribe_member(engine: Engine, user: User, preferences: Preferences) -> Subscription:
    """A logged-in member subscribes (or changes preferences): their address is confirmed
    already, so no confirmation mail is needed. SubscriptionError when it is not confirmed."""
    if not user.verified:
        raise SubscriptionError(
            "Confirm your e-mail address first: the digest goes only to confirmed addresses."
        )
    now = now_utc()
    columns = store.preference_columns(preferences)
    with write_transaction(engine) as conn:
        found = store.subscription_by_user(conn, user.id) or store.subscription_by_email(conn, user.email)
        if found is None:
            new_id = store.insert_subscription(
                conn,
                email=user.email,
                status="active",
                nonce=secrets.token_urlsafe(12),
                preferences=preferences,
                now=now,
                confirmed_at=now,
                user_id=user.id,
            )
        else:
            new_id = found.id
            store.update_subscription(
                conn,
                found.id,
                now,
                status="active",
                user_id=user.id,
                bounce_reason=None,
                **({} if found.active else {"confirmed_at": now}),
                **columns,
            )
        subscription = store.subscription_by_id(conn, new_id)
    assert subscription is not None
    return subscription


def update_preferences(engine: Engine, subscription: Subscription, preferences: Preferences) -> Subscription:
    with write_transaction(engine) as conn:
        store.update_subscription(conn, subscription.id, now_utc(), **store.preference_columns(preferences))
        changed = store.subscription_by_id(conn, subscription.id)
    assert changed is not None
    return changed


def unsubscribe(engine: Engine, subscription: Subscription) -> None:
    """Stop every digest to the address (again is fine). Editions being sent skip it from the
    next message on: the sender reads the status before each mail."""
    with write_transaction(engine) as conn:
        store.update_subscription(conn, subscription.id, now_utc(), status="unsubscribed")


def resubscribe(engine: Engine, subscription: Subscription) -> Subscription:
    """Undo an unsubscription from its own link (the address was confirmed before)."""
    if subscription.status != "unsubscribed":
        return subscription
    with write_transaction(engine) as conn:
        store.update_subscription(conn, subscription.id, now_utc(), status="active")
        changed = store.subscription_by_id(conn, subscription.id)
    assert changed is not None
    return changed


# --- mails ---------------------------------------------------------------------------------------


def _confirm_text(settings: Settings, links: DigestLinks, subscription: Subscription) -> str:
    return (
        f"Someone (we hope you) asked to receive the {settings.site_name} digest of trending "
        f"research papers at this address.\n\nConfirm by opening this link (valid for "
        f"{settings.digest_confirm_hours} hours):\n\n{links.confirm_url(subscription)}\n\n"
        "Until you confirm, nothing is sent. If it was not you, ignore this mail.\n"
    )


def _already_text(settings: Settings, links: DigestLinks, subscription: Subscription) -> str:
    return (
        f"Someone (we hope you) asked to subscribe this address to the {settings.site_name} digest, "
        "which it already receives: nothing has changed.\n\n"
        f"Change what you get: {links.manage_url(subscription)}\n"
        f"Unsubscribe: {links.unsubscribe_url(subscription)}\n"
    )


def _send(mailer: Mailer, settings: Settings, to: str, subject: str, text: str) -> None:
    """Best effort, like account mail: the person can ask again."""
    try:
        mailer.send(
            compose(sender=settings.digest_from or settings.mail_from, to=to, subject=subject, text=text)
        )
    except MailError:
        log.exception("could not send %r", subject)
