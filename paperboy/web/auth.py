"""Who is asking, and whether they may: session cookies, CSRF checks, role requirements.

- The session cookie holds a random token; the database keeps its hash (services/accounts.py).
  HttpOnly, SameSite=Lax, and Secure when the site's base URL is https.
- CSRF: every state-changing request must carry a token, as the form field `csrf_token` or the
  header `X-CSRF-Token`: the session's token when logged in, otherwise the value of the
  `paperboy_csrf` cookie (double submit; the login and sign-up forms). A cross-site Origin header
  is refused outright.
- Status codes: 401 for anonymous, 403 for unverified, banned, wrong owner or missing role.
"""

from __future__ import annotations

import ipaddress
import secrets
from functools import partial
from http.cookies import CookieError, SimpleCookie
from typing import Annotated, cast
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperboy.config import Settings
from paperboy.domain.users import User
from paperboy.services.api_tokens import authenticate_token
from paperboy.services.sessions import ANONYMOUS, Session, Viewer, csrf_matches, viewer_for_token
from paperboy.web.api.errors import api_error_json
from paperboy.web.api.hf_paths import is_hf_path
from paperboy.web.context import app_context
from paperboy.web.errors import PageError

SESSION_COOKIE = "paperboy_session"
CSRF_COOKIE = "paperboy_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SESSION_PREFIX = SESSION_COOKIE.encode() + b"="
_MAX_NEXT = 2000
_VIEWER_LOADER = "viewer_loader"  # request state: loads the session's viewer when first asked


def has_session_cookie(scope: Scope) -> bool:
    """Cheap test on the raw headers, for the page cache: only logged-in requests are personal."""
    return any(name == b"cookie" and _SESSION_PREFIX in value for name, value in scope["headers"])


def is_personal(scope: Scope) -> bool:
    """A session cookie, or an API token (Authorization: Bearer) on an /api/ request."""
    return has_session_cookie(scope) or bearer_token(scope) is not None


def bearer_token(scope: Scope) -> str | None:
    """The token of `Authorization: Bearer <token>` on an /api/ request (the pages ignore it)."""
    if not scope["path"].startswith("/api/"):
        return None
    for name, value in scope["headers"]:
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if kind.lower() == "bearer" else None
    return None


class ViewerMiddleware:
    """Finds who is asking. A session's account is loaded (one query) when the request first asks
    `viewer_of`, in the thread that asks: a sync handler's, so that a logged-in page costs no
    thread hop of its own for it (a hop to the thread pool and back cost about a tenth of a
    logged-in day page's CPU, py-spy); a request that never asks (static files) never loads it."""

    def __init__(self, app: ASGIApp, *, engine: Engine, settings: Settings) -> None:
        self.app = app
        self.engine = engine
        self.settings = settings

    def load(self, token: str) -> Viewer:
        return viewer_for_token(self.engine, self.settings, token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        bearer = bearer_token(scope)
        if bearer is not None:
            found = await run_in_threadpool(authenticate_token, self.engine, bearer)
            if found is None and is_hf_path(scope["path"]):
                # huggingface_hub sends a reader's Hugging Face token to any endpoint: not ours, so
                # Hugging Face's routes answer as to anyone (the token is not counted as a member).
                state["viewer"] = ANONYMOUS
                await self.app(scope, receive, send)
                return
            if found is None:
                await _refuse_token(scope, receive, send)
                return
            state["viewer"] = Viewer(found.user, scopes=found.scopes)
            await self.app(scope, receive, send)
            return
        token = _cookie(scope, SESSION_COOKIE) if has_session_cookie(scope) else None
        if token is None:
            state["viewer"] = ANONYMOUS
            await self.app(scope, receive, send)
            return
        state[_VIEWER_LOADER] = partial(self.load, token)
        await self.app(scope, receive, self._refreshing_cookie(send, state, token))

    def _refreshing_cookie(self, send: Send, state: dict[str, object], token: str) -> Send:
        """When the session's expiry slid forward, the cookie's goes with it. (That the answer is
        this reader's alone, kept by no shared cache, is web/cache_policy.py's work.)"""

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                viewer = state.get("viewer")
                headers = MutableHeaders(scope=message)
                if isinstance(viewer, Viewer) and viewer.refreshed and "set-cookie" not in headers:
                    headers.append("set-cookie", session_cookie_header(self.settings, token))
            await send(message)

        return wrapped


def session_token(scope: Scope) -> str | None:
    """The session cookie's token, if the request carries one."""
    return _cookie(scope, SESSION_COOKIE) if has_session_cookie(scope) else None


async def _refuse_token(scope: Scope, receive: Receive, send: Send) -> None:
    message = (
        "This API token is unknown, revoked, its account is banned, or it is a feed token "
        "(which opens its private feed address and nothing else)."
    )
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    answer = api_error_json(scope["path"], 401, "invalid_token", message, headers=headers)
    await answer(scope, receive, send)


def _cookie(scope: Scope, name: str) -> str | None:
    for header, value in scope["headers"]:
        if header == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:  # a malformed Cookie header means no session
                return None
            if name in jar:
                return jar[name].value
    return None


def viewer_of(request: Request) -> Viewer:
    """Who is asking; a session's account is loaded on the first call (ViewerMiddleware), in the
    caller's thread, and kept for the rest of the request."""
    state = request.scope.setdefault("state", {})
    viewer = state.get("viewer")
    if viewer is None:
        loader = state.pop(_VIEWER_LOADER, None)
        viewer = state["viewer"] = loader() if loader is not None else ANONYMOUS
    return cast(Viewer, viewer)


async def loaded_viewer(request: Request) -> Viewer:
    """viewer_of for async code: a first load runs in the thread pool, never on the event loop
    (it may wait for the database's write lock to slide the session's expiry)."""
    state = request.scope.setdefault("state", {})
    if "viewer" in state:
        return viewer_of(request)
    return await run_in_threadpool(viewer_of, request)


def viewer_id(request: Request) -> int | None:
    """The id of the account this request acts as; None for an anonymous reader."""
    user = viewer_of(request).user
    return user.id if user else None


def client_ip(request: Request) -> str:
    """The client's address, as rate limits count it (uvicorn applies X-Forwarded-For only from
    PAPERBOY_TRUSTED_PROXIES). IPv6 clients count by /64: one host commonly holds a whole /64."""
    return ip_key(request.client.host if request.client else "unknown")


def ip_key(host: str) -> str:
    """An address as rate limits count it: IPv4 as is, IPv6 by its /64."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6 and not address.ipv4_mapped:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped or address) if address.version == 6 else host


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None: never a redirect to another site.

    "//host" and "/\\host" are other sites to a browser, which also drops tabs and newlines
    inside URLs ("/\\t/host" becomes "//host"): any backslash or control character is refused.
    """
    if not target or len(target) > _MAX_NEXT or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    return target


# --- CSRF -----------------------------------------------------------------------------------------


def csrf_token_for(request: Request) -> str:
    """The token forms on this page must carry; for anonymous visitors, the cookie's (set on the
    response by `remember_csrf_cookie`)."""
    viewer = viewer_of(request)
    if viewer.csrf_token:
        return viewer.csrf_token
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token or len(token) > 64:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return token


def remember_csrf_cookie(request: Request, response: Response) -> Response:
    token = getattr(request.state, "new_csrf", None)
    if token:
        secure = app_context(request).settings.secure_cookies
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/")
    return response


async def checked_viewer(request: Request) -> Viewer:
    """Dependency of every state-changing route: the viewer, after the CSRF and Origin checks."""
    viewer = await loaded_viewer(request)
    if viewer.scopes is not None:  # an API token: no cookie is involved, so no CSRF to fear
        return viewer
    check_origin(request)
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        field = form.get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    expected = viewer.csrf_token if viewer.user else request.cookies.get(CSRF_COOKIE)
    if not csrf_matches(expected, given):
        raise PageError(
            403,
            "Form expired",
            "This form's security token is missing or out of date (CSRF protection). "
            "Go back, reload the page and try again.",
        )
    return viewer


def check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is None:  # not a browser, or a same-origin GET-like request: the token decides
        return
    # This host as the browser addressed it, or the configured public address (a proxy may
    # rewrite the Host header on its way here).
    ours = {request.headers.get("host", ""), urlsplit(app_context(request).settings.public_url).netloc}
    if urlsplit(origin).netloc not in ours:
        raise PageError(403, "Cross-site request refused", "This request came from another site.")


CheckedViewer = Annotated[Viewer, Depends(checked_viewer)]


# --- requirements ----------------------------------------------------------------------------------


def require_user(viewer: Viewer) -> User:
    """401 for anonymous requests."""
    if viewer.user is None:
        raise PageError(401, "Log in first", "You need to log in to do that.", [("Log in", "/login")])
    return viewer.user


def require_member(viewer: Viewer) -> User:
    """A verified, unbanned account: who may submit, vote and comment. 401 / 403 otherwise."""
    user = require_user(viewer)
    if user.banned:
        raise PageError(403, "Account banned", "This account is banned from taking part.")
    if not user.verified:
        raise PageError(
            403,
            "Confirm your address first",
            "Open the link in the mail we sent you to verify your address; then you can submit, "
            "vote and comment.",
            [("Send the mail again", "/settings")],
        )
    return user


def require_moderator(viewer: Viewer) -> User:
    user = require_member(viewer)
    if not user.is_moderator:
        raise PageError(403, "Moderators only", "Only moderators can do that.")
    return user


def require_admin(viewer: Viewer) -> User:
    """An administrator (role admin, not banned): who may see and act on the job queue."""
    user = require_user(viewer)
    if not user.is_admin:
        raise PageError(403, "Administrators only", "Only administrators can see this page.")
    return user


def set_session_cookie(request: Request, response: Response, session: Session) -> None:
    response.headers.append("set-cookie", session_cookie_header(app_context(request).settings, session.token))


def session_cookie_header(settings: Settings, token: str) -> str:
    """The session cookie: HttpOnly, SameSite=Lax, Secure when the site is served over https."""
    response = Response()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    return response.headers["set-cookie"]


def logged_in(request: Request) -> None:
    """Runs before the CSRF check: a visitor who is not logged in (or whose session expired in
    another tab) is told to log in (401), not that the form expired (403)."""
    require_user(viewer_of(request))


LOGGED_IN = [Depends(logged_in)]


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
