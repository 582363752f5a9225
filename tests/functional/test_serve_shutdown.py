"""`paperboy serve` stopping on SIGTERM (paperboy/cli_serve.py; docs/deploy.md), one process
and a supervisor of two workers, each signalled as systemd does (the whole process group), with
the product's defaults (the model and the indexes still loading right after start): a request in
flight when the signal lands is answered, and the command ends with status 0.

How long the stop took is printed, not asserted: bench/shutdown.py measures it.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from urllib.parse import urlsplit

import pytest
from community import make_member, stored_token
from conftest import make_record
from live_server import serve_process, site_env

PAPER = "2506.12229"
PATIENCE_S = 60.0  # a bound for the failure case only


def _send_head(base: str, token: str) -> socket.socket:
    """A vote whose two-byte body is not sent yet, once the server has asked for it (100
    Continue): from then on the request is in flight, its handler awaiting the body."""
    address = urlsplit(base)
    sock = socket.create_connection((address.hostname, address.port), timeout=PATIENCE_S)
    head = (
        f"PUT /api/v1/papers/{PAPER}/vote HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        "Expect: 100-continue\r\n\r\n"
    )
    sock.sendall(head.encode())
    assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")
    return sock


def _answers_new_requests(base: str) -> bool:
    """Whether a new connection gets an answer within a second. A stopping worker no longer
    accepts; with workers, the supervisor's socket still takes the connection into its backlog."""
    address = urlsplit(base)
    try:
        with socket.create_connection((address.hostname, address.port), timeout=1) as probe:
            probe.sendall(f"GET /healthz HTTP/1.1\r\nHost: {address.netloc}\r\n\r\n".encode())
            return probe.recv(64).startswith(b"HTTP/1.1")
    except OSError:  # refused, or no answer in time
        return False


def _wait_until_stopping(base: str) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while _answers_new_requests(base):
        assert time.monotonic() < deadline, "serve still takes new requests after SIGTERM"


def _status_of(sock: socket.socket) -> int:
    answer = b""
    while b"\r\n" not in answer:
        chunk = sock.recv(4096)
        assert chunk, f"the connection closed without an answer: {answer!r}"
        answer += chunk
    return int(answer.split()[1])


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_the_request_in_flight_finish_and_serve_exits_0(
    database_url, engine, add_papers, tmp_path, workers
):
    add_papers(make_record(PAPER))
    token = stored_token(engine, make_member(engine, "ada"), "vote")
    with serve_process(site_env(database_url, tmp_path), tmp_path / "serve.log", workers=workers) as (
        process,
        base,
    ):
        with _send_head(base, token) as sock:
            os.killpg(process.pid, signal.SIGTERM)  # the server and its workers, as systemd does
            signalled = time.monotonic()
            _wait_until_stopping(base)
            sock.sendall(b"{}")
            status = _status_of(sock)
        answered = time.monotonic()
        code = process.wait(timeout=PATIENCE_S)
        done = time.monotonic()
    print(
        f"workers={workers}: exit {done - answered:.2f} s after the request in flight was answered, "
        f"{done - signalled:.2f} s after SIGTERM (with the test's own wait for the stop)"
    )
    assert status == 200
    assert code == 0, (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
