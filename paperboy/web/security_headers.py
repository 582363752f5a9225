"""Security headers on every answer; a Content-Security-Policy on every HTML page.

The pages load only this site's own files: one stylesheet and one script under /static (no inline
<script>, no <style> block, no style="" attribute: tests/browser checks that Chromium reports no
violation). Images are the site's own or data: URIs (Swagger UI's icons); forms post to this
site only; no page may be framed (clickjacking) or change its base URL.

A handler's own, stricter policy wins, as it is (the digest preview allows nothing but the mail's
inline styles); X-Frame-Options keeps such a page out of frames all the same. `Referrer-Policy`
likewise: pages whose URL holds a token already say `no-referrer`. HSTS is sent only when the
site's public address is https: over plain http it would be ignored, and on a development host it
would pin https on localhost for a year.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000"  # a year; no includeSubDomains: other hosts of the domain are not ours


class SecurityHeaders:
    """ASGI middleware; `https` when the site's public address is (settings.public_url)."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.add_headers(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, secured)

    def add_headers(self, headers: MutableHeaders) -> None:
        headers.setdefault("x-content-type-options", "nosniff")
        headers.setdefault("referrer-policy", "strict-origin-when-cross-origin")
        if self.https:
            headers.setdefault("strict-transport-security", HSTS)
        if headers.get("content-type", "").startswith("text/html"):
            headers.setdefault("x-frame-options", "DENY")  # older browsers, and handlers' own policies
            headers.setdefault("content-security-policy", CSP)
