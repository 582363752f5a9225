"""Before a web process of `serve` answers: its page paths made warm, so that its first readers
do not wait for what every first render pays once (half a second for a day page on a cold
process, measured: the templates compiled, SQLAlchemy's statements compiled, the paper cache
filled, the database's pages read from disk).

Every template is compiled, then the front page (the latest listing day) and the page of its
first paper are asked of the app itself, as an anonymous reader would, without a socket. A page
that fails is logged and left cold: warming never stops a start.
"""

from __future__ import annotations

import logging
import re

from starlette.types import ASGIApp, Message

from paperboy.web.context import AppContext

log = logging.getLogger(__name__)

FRONT_PAGE = "/"
_FIRST_PAPER = re.compile(rb'<h2 class="card-title"><a href="(/papers/[^"]+)">')


WARMING = "paperboy.warming"  # a key of the scope of warm_pages' own requests


async def warm_pages(app: ASGIApp, context: AppContext) -> list[str]:
    """Compile the templates and render the front page and its first paper's page once; the paths
    that answered 200, in order."""
    env = context.templates.env
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)
    warmed: list[str] = []
    path: str | None = FRONT_PAGE
    while path is not None:
        status, body = await _get(app, path)
        if status != 200:
            log.warning("warming %s: status %d", path, status)
            break
        warmed.append(path)
        found = _FIRST_PAPER.search(body) if path == FRONT_PAGE else None
        path = found.group(1).decode() if found else None
    return warmed


async def _get(app: ASGIApp, path: str) -> tuple[int, bytes]:
    """GET `path` of the app in-process: its status and body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 0),
        "server": ("localhost", 80),
        "state": {},  # as servers pass it: where the page says it may be kept (web/page_cache.py)
        WARMING: True,  # not a reader's request: neither counted in /metrics nor logged as one
    }
    status, chunks = 0, []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)
