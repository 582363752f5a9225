"""The e-mail digest's pages: subscribing (the form in every page's footer and on /digest), the
confirmation, the manage, unsubscribe and preview pages that every digest links to, and the
digest forms of the settings page.

Handlers are thin: parse, call one function of services/subscriptions.py (services/digests.py
for the preview), render. Who may post what:

- /digest/subscribe: anyone. Only a cross-site Origin is refused (see `same_site`).
- /digest/confirm, /digest/manage, /digest/unsubscribe, /digest/resubscribe: the signed token is
  the credential, so no cookie, CSRF token or Origin is asked for. A forged cross-site request
  would need the token, and whoever holds it can post it from anywhere. /digest/unsubscribe is
  also RFC 8058's one-click endpoint, which mail providers post to from their own servers.
- /settings/digest and /settings/digest/unsubscribe: a logged-in account with a confirmed
  address, with the CSRF and Origin checks of every member form.

Every page under /digest/ may carry a token in its URL, so each is sent with no-store and
no-referrer. No handler here opts into the page cache, which also never keeps a no-store page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from paperboy.domain.digest import InvalidPreferences, Subscription
from paperboy.domain.site_urls import (
    DIGEST_MANAGE_PATH,
    DIGEST_PREVIEW_PATH,
    DIGEST_UNSUBSCRIBE_PATH,
    with_token,
)
from paperboy.domain.users import User
from paperboy.integrations.mail import QueuedMailer
from paperboy.services.digests import preview_digest
from paperboy.services.sessions import Viewer
from paperboy.services.subscriptions import (
    DigestLinks,
    SubscriptionError,
    confirm_subscription,
    request_subscription,
    resubscribe,
    subscribe_member,
    subscription_for_token,
    subscription_of,
    unsubscribe,
    update_preferences,
)
from paperboy.web.accounts import see_other, settings_response
from paperboy.web.auth import LOGGED_IN, CheckedViewer, check_origin, client_ip, require_user, viewer_of
from paperboy.web.context import app_context
from paperboy.web.digest_form import PreferenceFields, PreferenceForm, form_context, settings_section
from paperboy.web.errors import PageError, render_error

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

TokenField = Annotated[str, Form(alias="token")]
EmailField = Annotated[str, Form(alias="email")]
TOKEN_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
# The mail's HTML shown as is: inline styles only; no script, frame, font or remote image loads.
PREVIEW_HEADERS = {
    **TOKEN_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
}
MANAGE_NOTICES = {"saved": "Saved: your next digest follows these preferences."}
ABOUT_LINK = ("About the digest", "/digest")


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    templates = app_context(request).templates
    return templates.TemplateResponse(request, template, context, status_code=status, headers=TOKEN_HEADERS)


def _message(
    request: Request,
    title: str,
    lines: list[str],
    links: list[tuple[str, str]],
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {"title": title, "lines": lines, "links": links, "form": form}
    return _page(request, "digest_message.html", context, status)


def _refused(request: Request, title: str, exc: SubscriptionError) -> Response:
    """A bad, expired or revoked link: 400 with the reason (its URL held a token: no-referrer)."""
    return render_error(request, 400, title, str(exc), [ABOUT_LINK], headers=TOKEN_HEADERS)


# --- subscribing ----------------------------------------------------------------------------------


def same_site(request: Request) -> None:
    """The subscribe form's only check. Anonymous pages come from the shared page cache, so the
    form in their footer cannot carry a per-visitor CSRF token. The worst a forged request can do
    is make paperboy send a rate-limited confirmation mail, which anyone can ask for directly;
    refusing a cross-site Origin keeps other sites from doing even that through a visitor."""
    check_origin(request)


@router.get("/digest")
def about(request: Request) -> Response:
    return _about(request)


def _about(request: Request, email: str = "", error: str | None = None, status: int = 200) -> Response:
    return _page(request, "digest.html", {"email": email, "error": error}, status)


@router.post("/digest/subscribe", dependencies=[Depends(same_site)])
def subscribe(request: Request, email: EmailField = "") -> Response:
    """The same answer whether or not the address subscribes already: only its owner's mail says."""
    ctx = app_context(request)
    mailer = QueuedMailer(ctx.mailer)
    try:
        request_subscription(ctx.engine, mailer, ctx.settings, email=email, ip=client_ip(request))
    except SubscriptionError as exc:
        return _about(request, email=email[:320], error=str(exc), status=400)
    return see_other("/digest/sent", mail=mailer)


@router.get("/digest/sent")
def sent(request: Request) -> Response:
    hours = app_context(request).settings.digest_confirm_hours
    lines = [
        "If the address you gave is right, a mail is on its way to it. Open the link in it and "
        f"press the button to confirm (the link works for {hours} hours); nothing is sent before.",
        "No mail after a few minutes? Look in the spam folder, or check the address and ask again.",
    ]
    return _message(request, "Check your inbox", lines, [ABOUT_LINK])


@router.get("/digest/confirm")
def confirm_form(request: Request, token: str = "") -> Response:
    """A button, not the link itself, confirms: mail scanners and link previews open the links in
    mail, and an address must not be subscribed by a machine that did."""
    ctx = app_context(request)
    try:
        email = DigestLinks(ctx.engine, ctx.settings).read_confirmation(token)[2]
    except SubscriptionError as exc:
        return _refused(request, "Confirmation link not valid", exc)
    lines = [f"Press the button to start the {ctx.settings.site_name} digest to {email}."]
    form = {"action": "/digest/confirm", "button": "Confirm my subscription", "token": token}
    return _message(request, "Confirm your subscription", lines, [ABOUT_LINK], form)


@router.post("/digest/confirm")
def confirm(request: Request, token: TokenField = "") -> Response:
    ctx = app_context(request)
    try:
        subscription = confirm_subscription(ctx.engine, ctx.settings, token)
    except SubscriptionError as exc:
        return _refused(request, "Confirmation link not valid", exc)
    lines = [
        f"{subscription.email} will get the digest {subscription.preferences.schedule}: the top "
        f"{subscription.preferences.top_n} papers by trending.",
        "Choose how often, how many papers and which topics on the page below; every digest links to it.",
    ]
    return _message(request, "You're subscribed", lines, _own_links(request, subscription))


def _own_links(request: Request, subscription: Subscription) -> list[tuple[str, str]]:
    ctx = app_context(request)
    token = DigestLinks(ctx.engine, ctx.settings).token(subscription)
    return [
        ("Choose what you get", with_token(DIGEST_MANAGE_PATH, token)),
        ("Preview your next digest", with_token(DIGEST_PREVIEW_PATH, token)),
    ]


# --- the signed links of every digest --------------------------------------------------------------


@router.get("/digest/manage")
def manage_form(request: Request, token: str = "", done: str = "") -> Response:
    ctx = app_context(request)
    try:
        subscription = subscription_for_token(ctx.engine, ctx.settings, token)
    except SubscriptionError as exc:
        return _refused(request, "Link not valid", exc)
    fields = PreferenceFields.of(subscription.preferences)
    return _manage(request, token, subscription, fields, notice=MANAGE_NOTICES.get(done))


@router.post("/digest/manage")
def manage(request: Request, fields: PreferenceForm, token: TokenField = "") -> Response:
    ctx = app_context(request)
    try:
        subscription = subscription_for_token(ctx.engine, ctx.settings, token)
    except SubscriptionError as exc:
        return _refused(request, "Link not valid", exc)
    try:
        member = subscription.user_id is not None
        update_preferences(ctx.engine, subscription, fields.preferences(member=member))
    except InvalidPreferences as exc:
        return _manage(request, token, subscription, fields.shown(), error=str(exc), status=400)
    return see_other(with_token(DIGEST_MANAGE_PATH, token, done="saved"))


def _manage(
    request: Request,
    token: str,
    subscription: Subscription,
    fields: PreferenceFields,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    context = {
        "token": token,
        "subscription": subscription,
        "notice": notice,
        "form": form_context(fields, error, member=subscription.user_id is not None),
    }
    return _page(request, "digest_manage.html", context, status)


@router.get("/digest/unsubscribe")
def unsubscribe_form(request: Request, token: str = "") -> Response:
    """Opening the link only asks: link scanners open it too (RFC 8058 forbids a GET that acts)."""
    ctx = app_context(request)
    try:
        subscription = subscription_for_token(ctx.engine, ctx.settings, token)
    except SubscriptionError as exc:
        return _refused(request, "Unsubscribe link not valid", exc)
    if subscription.status == "unsubscribed":
        return _unsubscribed(request, token, subscription)
    lines = [f"{subscription.email} will get no more digests. You can subscribe again at any time."]
    links = [("Change what you get instead", with_token(DIGEST_MANAGE_PATH, token))]
    form = {"action": with_token(DIGEST_UNSUBSCRIBE_PATH, token), "button": "Unsubscribe"}
    return _message(request, f"Unsubscribe {subscription.email}?", lines, links, form)


@router.post("/digest/unsubscribe")
def unsubscribe_now(request: Request, token: str = "") -> Response:
    """The unsubscribe button, and RFC 8058 one-click unsubscribing: mail providers POST
    `List-Unsubscribe=One-Click` (form-encoded or multipart) to the URL of the mail's
    List-Unsubscribe header from their servers, without cookies or an Origin. The token in that
    URL says everything; the body is not read."""
    ctx = app_context(request)
    try:
        subscription = subscription_for_token(ctx.engine, ctx.settings, token)
    except SubscriptionError as exc:
        return _refused(request, "Unsubscribe link not valid", exc)
    unsubscribe(ctx.engine, subscription)
    return _unsubscribed(request, token, subscription)


def _unsubscribed(request: Request, token: str, subscription: Subscription) -> Response:
    lines = [f"{subscription.email} will get no more digests. Changed your mind?"]
    form = {"action": "/digest/resubscribe", "button": "Resubscribe", "token": token}
    return _message(request, "You are unsubscribed", lines, [ABOUT_LINK], form)


@router.post("/digest/resubscribe")
def resubscribe_now(request: Request, token: TokenField = "") -> Response:
    ctx = app_context(request)
    try:
        subscription = resubscribe(ctx.engine, subscription_for_token(ctx.engine, ctx.settings, token))
    except SubscriptionError as exc:
        return _refused(request, "Link not valid", exc)
    if not subscription.active:  # bouncing or never confirmed: only a confirmation starts it
        why = "stopped: its mail server refused them" if subscription.status == "bouncing" else "not started"
        lines = [f"Digests to {subscription.email} have {why}. Subscribe again to confirm the address."]
        return _message(request, "Subscribe again", lines, [("Subscribe", "/digest")], status=409)
    lines = [f"{subscription.email} will get the digest again, {subscription.preferences.schedule}."]
    return _message(request, "You're subscribed again", lines, _own_links(request, subscription))


@router.get("/digest/preview")
def preview(request: Request, token: str = "") -> Response:
    """The subscriber's next digest as it would be mailed now: for the owner of a manage token, or
    a logged-in member with a subscription."""
    ctx = app_context(request)
    if token:
        try:
            subscription = subscription_for_token(ctx.engine, ctx.settings, token)
        except SubscriptionError as exc:
            return _refused(request, "Preview link not valid", exc)
    else:
        subscription = _member_subscription(request)
    index = ctx.searcher.meaning.vector_index() if subscription.user_id is not None else None
    digest = preview_digest(ctx.engine, ctx.settings, subscription, index=index)
    return HTMLResponse(digest.html, headers=PREVIEW_HEADERS)


def _member_subscription(request: Request) -> Subscription:
    user = viewer_of(request).user
    if user is None:
        raise PageError(
            401,
            "Whose digest?",
            "Log in to preview your digest, or open the preview link at the end of one of your digests.",
            [("Log in", "/login?next=/digest/preview"), ABOUT_LINK],
        )
    subscription = subscription_of(app_context(request).engine, user)
    if subscription is None:
        raise PageError(
            404,
            "No digest yet",
            "You do not get the digest: subscribe from your settings.",
            [("Subscribe", "/settings#digest")],
        )
    return subscription


# --- the settings page ------------------------------------------------------------------------------


def _confirmed(viewer: Viewer) -> User:
    """401 for anonymous requests, 403 until the account's address is confirmed. A banned member
    may still manage their digest: it is reading, not taking part."""
    user = require_user(viewer)
    if not user.verified:
        raise PageError(
            403,
            "Confirm your address first",
            "The digest goes only to confirmed addresses: open the link in the mail we sent you.",
            [("Settings", "/settings")],
        )
    return user


@router.post("/settings/digest", dependencies=LOGGED_IN)
def settings_subscribe(request: Request, viewer: CheckedViewer, fields: PreferenceForm) -> Response:
    """Subscribes with the account's confirmed address (no confirmation mail), or saves changes."""
    user = _confirmed(viewer)
    ctx = app_context(request)
    try:
        subscribe_member(ctx.engine, user, fields.preferences(member=True))
    except (InvalidPreferences, SubscriptionError) as exc:
        section = settings_section(ctx.engine, user, fields=fields.shown(), error=str(exc))
        return settings_response(request, user, digest=section, status=400)
    return see_other("/settings?done=digest#digest")


@router.post("/settings/digest/unsubscribe", dependencies=LOGGED_IN)
def settings_unsubscribe(request: Request, viewer: CheckedViewer) -> Response:
    user = _confirmed(viewer)
    engine = app_context(request).engine
    subscription = subscription_of(engine, user)
    if subscription is not None:
        unsubscribe(engine, subscription)
    return see_other("/settings?done=digest-unsubscribed#digest")
