"""uvicorn's HTTP protocol with a header timeout, for `paperboy serve`.

uvicorn (0.55, read in its source) has no header-read timeout: its keep-alive timer starts only
after a response, so a connection that sends nothing, or trickles a header byte every few
seconds, stays open for as long as the client likes. It costs no worker thread (a connection is
an asyncio protocol object and a file descriptor; requests run as tasks), but every such
connection counts towards `limit_concurrency`, past which uvicorn answers every new request 503:
a few hundred idle sockets would shut a worker to everyone else.

Nor does it bound the size of a request's headers when it parses with httptools (its default
when installed, as `uvicorn[standard]` does; `h11_max_incomplete_event_size` applies to h11
only): one connection sending endless header lines grew a worker by 320 MB in 5 s.

This protocol closes a connection whose request headers are not complete `header_timeout`
seconds after it opened, or after the first byte of a following request arrived (between
requests, uvicorn's keep-alive timeout applies), and answers 431 to headers over MAX_HEAD_BYTES.
Bodies are not timed here: a slow body is read by the request's own task, which awaits it
without holding a thread. docs/deploy.md says what the reverse proxy adds.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from paperboy.config import load_settings

# `paperboy serve` hands uvicorn this import string: each worker process imports it (the class
# itself would not travel to spawned workers), and reads the setting as the app factory does.
PROTOCOL = "paperboy.web.slow_clients:HeaderTimeoutProtocol"
MAX_HEAD_BYTES = 64 * 1024  # request line and headers; nginx's defaults allow about 32 KiB
TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@cache
def header_timeout() -> float:
    """The header_timeout setting, read once per worker from PAPERBOY_* and paperboy.toml."""
    return load_settings().header_timeout


class HeaderTimeoutProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timer: asyncio.TimerHandle | None = None
        self.in_head = False  # a request's head has begun (or the connection opened), not ended
        self.head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.in_head:  # a chunk that ends the head (and may carry a body) is not counted
            return
        self.head_bytes += len(data)
        if self.head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
            self._stop_waiting()
            self.transport.write(TOO_LARGE)
            self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._await_headers()  # a following request: its own deadline; the first keeps the connection's

    def on_headers_complete(self) -> None:
        self._stop_waiting()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        if self.in_head:
            return
        self.in_head, self.head_bytes = True, 0
        if header_timeout() > 0:
            self.header_timer = self.loop.call_later(header_timeout(), self._headers_too_slow)

    def _stop_waiting(self) -> None:
        self.in_head = False
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _headers_too_slow(self) -> None:
        self.header_timer = None
        if not self.transport.is_closing():
            self.transport.close()
