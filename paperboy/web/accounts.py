"""Account pages: sign-up, e-mail verification, log in and out, password reset, settings, profiles.

Handlers are thin: read the form, call one function of services/accounts.py, then render or
redirect (303 after a successful POST, so that reloading never posts twice). Answers that could
tell whether an address has an account (sign-up, reset requests) are the same either way.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.background import BackgroundTask
from starlette.responses import Response

from paperboy.domain.users import User
from paperboy.integrations.mail import QueuedMailer
from paperboy.services import accounts, sessions
from paperboy.services.accounts import AccountError, InvalidSignUp, LoginFailed
from paperboy.services.profiles import user_profile
from paperboy.services.sessions import Viewer
from paperboy.web.api_token_form import sessions_section, tokens_section
from paperboy.web.auth import (
    CheckedViewer,
    clear_session_cookie,
    client_ip,
    local_path,
    remember_csrf_cookie,
    require_user,
    set_session_cookie,
    viewer_of,
)
from paperboy.web.context import app_context
from paperboy.web.digest_form import settings_section
from paperboy.web.errors import PageError

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

# Form fields default to "" so that a missing one gets this module's message, not a 422.
Field = Annotated[str, Form()]
NextField = Annotated[str, Form(alias="next")]  # where to go after logging in
NextQuery = Annotated[str, Query(alias="next")]

LOGIN_NOTICES = {
    "reset": "Your password has been changed. Log in with the new one.",
    "everywhere": "You are logged out everywhere, and every API token of your account is revoked.",
}
SETTINGS_NOTICES = {
    "password": (
        "Your password has been changed. Your other sessions are logged out and your API tokens revoked."
    ),
    "verification-sent": "We sent the verification mail again: open the link in it to confirm your address.",
    "token-revoked": "The API token is revoked: requests that send it are refused from now on.",
    "tokens-revoked": "Every API token is revoked: requests that send one are refused from now on.",
    "session-ended": "That session is logged out.",
}
DIGEST_NOTICES = {  # shown in the settings page's digest section (web/digests.py redirects here)
    "digest": "Saved: your digest follows these preferences.",
    "digest-unsubscribed": "You are unsubscribed: no more digests will be sent.",
}


def see_other(path: str, *, mail: QueuedMailer | None = None) -> RedirectResponse:
    """A 303; queued mail goes out after the response is sent (the same timing for every address)."""
    return RedirectResponse(path, status_code=303, background=BackgroundTask(mail.flush) if mail else None)


def _render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page with forms: never cached (it carries a CSRF token), with the anonymous CSRF cookie."""
    templates = app_context(request).templates
    response = templates.TemplateResponse(request, template, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return remember_csrf_cookie(request, response)


def _message(request: Request, title: str, lines: list[str], links: list[tuple[str, str]]) -> Response:
    context = {"title": title, "lines": lines, "links": links}
    return _render(request, "account_message.html", context)


# --- sign-up and verification ----------------------------------------------------------------


@router.get("/signup")
def signup_form(request: Request) -> Response:
    if viewer_of(request).user:
        return see_other("/")
    return _render(request, "signup.html", _signup_context(request, "", "", None))


def _signup_context(
    request: Request,
    email: str,
    name: str,
    error: str | None,
    chosen: list[str] | None = None,
    authors: str = "",
) -> dict[str, Any]:
    categories = app_context(request).settings.categories
    return {
        "email": email,
        "name": name,
        "error": error,
        "follow_categories": categories,
        "chosen_categories": set(chosen or []),
        "follow_authors": authors,
    }


@router.post("/signup")
def signup(
    request: Request,
    viewer: CheckedViewer,
    email: Field = "",
    name: Field = "",
    password: Field = "",
    follow_category: Annotated[list[str] | None, Form(max_length=100)] = None,
    follow_authors: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    if viewer.user:
        return see_other("/")
    ctx = app_context(request)
    mailer = QueuedMailer(ctx.mailer)
    try:
        accounts.sign_up(
            ctx.engine,
            mailer,
            ctx.settings,
            email=email,
            name=name,
            password=password,
            ip=client_ip(request),
            categories=follow_category,
            authors=follow_authors,
        )
    except InvalidSignUp as exc:
        context = _signup_context(request, email[:320], name[:64], str(exc), follow_category, follow_authors)
        return _render(request, "signup.html", context, 400)
    return see_other("/signup/sent", mail=mailer)


@router.get("/signup/sent")
def signup_sent(request: Request) -> Response:
    lines = [
        "If the address you gave is right, a mail is on its way with a link that confirms it. "
        "Open it, then log in: confirmed accounts can submit, upvote and comment.",
        "No mail after a few minutes? Look in the spam folder, or log in and ask for it again "
        "from your settings.",
    ]
    return _message(request, "Check your inbox", lines, [("Log in", "/login")])


@router.get("/verify-email")
def verify_email(request: Request, token: str = "") -> Response:
    """Confirms the address but does not log in: the link would otherwise be a reusable
    password for as long as it is valid, in a mailbox, a browser history or a proxy's log."""
    ctx = app_context(request)
    try:
        user = accounts.verify_email(ctx.engine, ctx.settings, token[:1000])
    except AccountError as exc:
        links = [("Log in to ask for a new link", "/login?next=/settings")]
        raise PageError(400, "Verification link not valid", str(exc), links) from None
    viewer = viewer_of(request).user
    links = [("Latest papers", "/")] if viewer and viewer.id == user.id else [("Log in", "/login")]
    lines = [f"Thank you, {user.name}: your address {user.email} is confirmed."]
    response = _message(request, "Address confirmed", lines, links)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's URL
    return response


# --- logging in and out ---------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, next_path: NextQuery = "", done: str = "") -> Response:
    if viewer_of(request).user:
        return see_other("/")
    context = {
        "email": "",
        "next": (local_path(next_path) or "/"),
        "error": None,
        "notice": LOGIN_NOTICES.get(done),
    }
    return _render(request, "login.html", context)


@router.post("/login")
def login(
    request: Request,
    viewer: CheckedViewer,
    email: Field = "",
    password: Field = "",
    next_path: NextField = "",
) -> Response:
    target = local_path(next_path) or "/"
    if viewer.user:
        return see_other(target)
    ctx = app_context(request)
    context: dict[str, Any] = {"email": email[:320], "next": target, "notice": None}
    if not email.strip() or not password:
        return _render(
            request, "login.html", {**context, "error": "Enter your e-mail address and password."}, 400
        )
    try:
        session = accounts.log_in(
            ctx.engine,
            ctx.settings,
            email=email,
            password=password,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", "")[:500],
        )
    except LoginFailed as exc:
        return _render(request, "login.html", {**context, "error": str(exc)}, 401)
    response = see_other(target)
    set_session_cookie(request, response, session)
    return response


@router.get("/logout")
def logout_form(request: Request) -> Response:
    """A typed or bookmarked /logout: logging out changes state, so it asks for a button press."""
    user = viewer_of(request).user
    if user is None:
        return see_other("/")
    context = {
        "title": "Log out",
        "lines": [f"You are logged in as {user.name}."],
        "links": [],
        "form": {"action": "/logout", "button": "Log out"},
    }
    return _render(request, "account_message.html", context)


@router.post("/logout")
def logout(request: Request, viewer: CheckedViewer) -> Response:
    sessions.log_out(app_context(request).engine, viewer)
    response = see_other("/")
    clear_session_cookie(response)
    return response


# --- password reset -------------------------------------------------------------------------------


@router.get("/reset-password")
def reset_form(request: Request, token: str = "") -> Response:
    """Without a token: ask for a link. With one: choose a new password (the link is spent on POST)."""
    if not token:
        return _render(request, "reset_request.html", {"email": "", "error": None})
    if not accounts.reset_link_is_live(app_context(request).engine, token):
        raise PageError(400, "Reset link not valid", _DEAD_RESET, [("Ask for a new link", "/reset-password")])
    response = _render(request, "reset_password.html", {"token": token, "error": None})
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


_DEAD_RESET = "This reset link has expired or was already used: ask for a new one."


@router.post("/reset-password")
def reset_submit(
    request: Request,
    viewer: CheckedViewer,
    email: Field = "",
    token: Field = "",
    password: Field = "",
    repeat: Field = "",
) -> Response:
    if token:
        return _set_new_password(request, viewer, token, password, repeat)
    if not email.strip():
        context = {"email": "", "error": "Enter the e-mail address of your account."}
        return _render(request, "reset_request.html", context, 400)
    ctx = app_context(request)
    mailer = QueuedMailer(ctx.mailer)
    accounts.request_password_reset(ctx.engine, mailer, ctx.settings, email=email, ip=client_ip(request))
    return see_other("/reset-password/sent", mail=mailer)


def _set_new_password(request: Request, viewer: Viewer, token: str, password: str, repeat: str) -> Response:
    try:
        if password != repeat:
            raise InvalidSignUp("The two passwords differ: type the same new password twice.")
        user = accounts.reset_password(app_context(request).engine, token=token, password=password)
    except InvalidSignUp as exc:
        return _render(request, "reset_password.html", {"token": token, "error": str(exc)}, 400)
    except AccountError as exc:
        raise PageError(
            400, "Reset link not valid", str(exc), [("Ask for a new link", "/reset-password")]
        ) from None
    response = see_other("/login?done=reset")
    if viewer.user is not None and viewer.user.id == user.id:
        clear_session_cookie(response)  # the reset ended every session of the account, this one too
    return response


@router.get("/reset-password/sent")
def reset_sent(request: Request) -> Response:
    minutes = app_context(request).settings.reset_link_minutes
    lines = [
        "If an account has that address, a mail is on its way with a link to choose a new password. "
        f"The link works once, for {minutes} minutes.",
        "No mail after a few minutes? Look in the spam folder, or check the address and ask again.",
    ]
    return _message(request, "Check your inbox", lines, [("Log in", "/login")])


# --- settings and profiles ------------------------------------------------------------------------


@router.get("/settings")
def settings_page(request: Request, done: str = "") -> Response:
    user = viewer_of(request).user
    if user is None:
        return see_other("/login?next=/settings")
    digest = settings_section(app_context(request).engine, user, notice=DIGEST_NOTICES.get(done))
    return settings_response(request, user, notice=SETTINGS_NOTICES.get(done), digest=digest)


def settings_response(
    request: Request,
    user: User,
    *,
    notice: str | None = None,
    error: str | None = None,
    digest: dict[str, Any] | None = None,
    tokens: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    """The settings page; `digest` is its digest section (web/digest_form.py) and `tokens` its API
    tokens section (web/api_tokens.py), each read when not given; then the list of sessions."""
    engine = app_context(request).engine
    section = digest or settings_section(engine, user)
    context = {"user": user, "notice": notice, "error": error, "digest": section}
    context["api_tokens"] = tokens or tokens_section(engine, user)
    context["sessions"] = sessions_section(engine, user, current=viewer_of(request).session_id)
    return _render(request, "settings.html", context, status)


@router.post("/settings/verify-email")
def resend_verification(request: Request, viewer: CheckedViewer) -> Response:
    user = require_user(viewer)
    if user.verified:
        return see_other("/settings")
    ctx = app_context(request)
    accounts.resend_verification(ctx.engine, ctx.mailer, ctx.settings, user, ip=client_ip(request))
    return see_other("/settings?done=verification-sent")


@router.post("/settings/password")
def change_password(
    request: Request, viewer: CheckedViewer, current: Field = "", new: Field = "", repeat: Field = ""
) -> Response:
    user = require_user(viewer)
    try:
        if new != repeat:
            raise InvalidSignUp("The two new passwords differ: type the same new password twice.")
        ctx = app_context(request)
        accounts.change_password(
            ctx.engine, ctx.settings, viewer, current=current, new=new, ip=client_ip(request)
        )
    except (AccountError, InvalidSignUp) as exc:
        return settings_response(request, user, error=str(exc), status=400)
    return see_other("/settings?done=password")


@router.get("/users/{name}")
def profile_page(request: Request, name: str) -> Response:
    viewer = viewer_of(request).user
    is_moderator = bool(viewer and viewer.is_moderator)
    profile = user_profile(app_context(request).engine, name, moderator=is_moderator)
    if profile is None:
        raise PageError(404, "No such user", f"No account is named {name[:40]!r}.")
    if name != profile.user.name:  # /users/Ada → /users/ada: one address per profile
        return RedirectResponse(f"/users/{profile.user.name}", status_code=301)
    is_self = bool(viewer and viewer.id == profile.user.id)
    context = {"profile": profile, "is_moderator": is_moderator, "is_self": is_self}
    return app_context(request).templates.TemplateResponse(request, "profile.html", context)
