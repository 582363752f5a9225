"""Security headers on every answer; a Content-Security-Policy on every HTML page.

The pages load only this site's own files: one stylesheet and one script under /static (no inline
<script>, no <style> block, no style="" attribute: tests/browser checks that Chromium reports no
violation). Images are the site's own or data: URIs (Swagger UI's icons); forms post to this
site only; no page may be framed (clickjacking) or change its base URL.

A handler's own, stricter policy wins (the digest preview allows nothing but the mail's inline
styles); it only gains `frame-ancestors 'none'` when it lacks one. `Referrer-Policy` likewise: pages
whose URL holds a token already say `no-referrer`. HSTS is sent only when the site's public
address is https: over plain http it would be ignored, and on a development host it would pin
https on localhost for a year.
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
            headers.setdefault("x-frame-options", "DENY")  # frame-ancestors, for older browsers
            headers["content-security-policy"] = with_frame_ancestors(headers.get("content-security-policy"))


def with_frame_ancestors(policy: str | None) -> str:
    """The site's policy, or a handler's own one with `frame-ancestors 'none'` added if it has none."""
    if policy is None:
        return CSP
    if "frame-ancestors" in policy:
        return policy
    return f"{policy.rstrip('; ')}; frame-ancestors 'none'"
