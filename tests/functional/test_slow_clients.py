"""Slow and idle clients against a real `paperboy serve` on 127.0.0.1: connections that send
nothing, or trickle their headers a byte at a time, neither stop the site from answering nor
stay open past the header timeout (uvicorn alone would keep them forever: web/slow_clients.py);
endless headers get a 431 instead of filling the worker's memory.

The header timeout is 2 s here instead of the default 10 s, only so that the test waits less.
"""

from __future__ import annotations

import contextlib
import socket
import time
from contextlib import ExitStack
from urllib.parse import urlsplit

import httpx
from live_server import live_server

HEADER_TIMEOUT = 2
IDLE, TRICKLING = 200, 50
PATIENCE = 15 * HEADER_TIMEOUT  # a bound for the failure case, far beyond the timeout: not a timing


def _connect(base: str, stack: ExitStack) -> socket.socket:
    address = urlsplit(base)
    sock = stack.enter_context(socket.create_connection((address.hostname, address.port), timeout=5))
    sock.setblocking(False)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""
    except BlockingIOError:
        return False
    except OSError:  # reset
        return True


def _trickle(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # closed (or full): _closed_by_server says which
        sock.send(b"x")


def _still_open(idle: list[socket.socket], trickling: list[socket.socket]) -> tuple[int, int]:
    """Trickle one more header byte on each trickling connection, for PATIENCE at most, until the
    server has closed every connection; how many of each kind it left open."""
    deadline = time.monotonic() + PATIENCE
    while True:
        idle = [sock for sock in idle if not _closed_by_server(sock)]
        trickling = [sock for sock in trickling if not _closed_by_server(sock)]
        if not (idle or trickling) or time.monotonic() > deadline:
            return len(idle), len(trickling)
        for sock in trickling:
            _trickle(sock)
        time.sleep(0.5)


def _answers(base: str) -> tuple[int, int]:
    with httpx.Client(base_url=base, timeout=10) as client:
        return client.get("/healthz").status_code, client.get("/about/search").status_code


def test_idle_and_trickling_connections_are_cut_off_and_the_site_answers(database_url, tmp_path):
    env = {
        "PAPERBOY_DATABASE_URL": database_url,
        "PAPERBOY_DATA_DIR": str(tmp_path / "data"),
        "PAPERBOY_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
    }
    with live_server(env, tmp_path / "serve.log") as base, ExitStack() as stack:
        idle = [_connect(base, stack) for _ in range(IDLE)]
        trickling = [_connect(base, stack) for _ in range(TRICKLING)]
        for sock in trickling:
            sock.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert _answers(base) == (200, 200)  # while they are all open
        assert _still_open(idle, trickling) == (0, 0)
        assert _answers(base) == (200, 200)


def test_past_the_concurrency_limit_new_requests_are_refused_at_once_until_idlers_are_cut_off(
    database_url, tmp_path
):
    """A bound on what a worker holds: 503 at once past it, rather than a queue that grows; and the
    idle connections that filled it are gone after the header timeout."""
    env = {
        "PAPERBOY_DATABASE_URL": database_url,
        "PAPERBOY_DATA_DIR": str(tmp_path / "data"),
        "PAPERBOY_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "PAPERBOY_LIMIT_CONCURRENCY": "20",  # small, so that a few sockets reach it
    }
    with live_server(env, tmp_path / "serve.log") as base, ExitStack() as stack:
        idle = [_connect(base, stack) for _ in range(25)]
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/healthz").status_code == 503
        assert _still_open(idle, []) == (0, 0)
        assert _answers(base) == (200, 200)


def test_endless_headers_are_refused_with_431(database_url, tmp_path):
    """uvicorn with httptools reads headers without a size limit (a worker grew 320 MB in 5 s)."""
    env = {"PAPERBOY_DATABASE_URL": database_url, "PAPERBOY_DATA_DIR": str(tmp_path / "data")}
    with live_server(env, tmp_path / "serve.log") as base, ExitStack() as stack:
        sock = _connect(base, stack)
        sock.setblocking(True)
        line = b"X-Padding-" + b"a" * 990 + b": b\r\n"
        with contextlib.suppress(OSError):  # the server may close while we are still sending
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + line * 1024)  # 1 MiB, unfinished
        sock.settimeout(PATIENCE)
        try:
            answer = sock.recv(1024)
        except ConnectionResetError:  # closed with our bytes unread: the kernel may drop the 431
            answer = b"reset"
        assert answer.startswith(b"HTTP/1.1 431 ") or answer == b"reset"
        assert _answers(base) == (200, 200)
