"""A local SMTP server for the digest benchmark, run as a process of its own so that its work is
not counted in the sender's CPU and memory: `python -m bench.smtp_sink --port N --out FILE`.

It accepts every message (250) and keeps only counts. Stopped with SIGTERM (or Ctrl-C), it writes
them to FILE as JSON: messages, recipients, distinct recipients, duplicate recipients (a
recipient seen again: a second copy of someone's digest), bytes, and its own CPU seconds.

By default it is a lean asyncio server that speaks just what a sending client needs (EHLO/HELO,
MAIL, RCPT, DATA, RSET, NOOP, QUIT) and reads each message in one piece, so that on a 2-core
machine it takes little CPU from the sender it measures (~0.1 ms a message). `--aiosmtpd` runs
aiosmtpd instead, a complete server that handles DATA line by line in Python: about 2 ms of CPU
for a 30 KB digest, as much as paperboy spends making it. `--latency-ms` makes the lean server
wait before every reply, as a relay across a network, or one that writes each message to disk
before it answers, does. `running_sink` starts one for a benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, BenchError, child_env, tail
from bench.server import free_port

DATA_SIZE_LIMIT = 32 * 2**20
NAME = b"sink.localhost"


class Counts:
    def __init__(self) -> None:
        self.messages = 0
        self.recipients = 0
        self.duplicates = 0
        self.bytes = 0
        self.seen: set[str] = set()

    def add(self, recipients: Sequence[str], size: int) -> None:
        self.messages += 1
        self.bytes += size
        for address in recipients:
            self.recipients += 1
            if address in self.seen:
                self.duplicates += 1
            self.seen.add(address)

    def as_json(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "messages": self.messages,
            "recipients": self.recipients,
            "distinct_recipients": len(self.seen),
            "duplicate_recipients": self.duplicates,
            "bytes": self.bytes,
            "cpu_s": usage.ru_utime + usage.ru_stime,
        }


# --- the lean server -------------------------------------------------------------------------------


async def _session(
    counts: Counts, latency_s: float, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    async def reply(text: bytes) -> None:
        if latency_s:  # a relay farther away, or one that writes its queue before answering
            await asyncio.sleep(latency_s)
        writer.write(text)
        await writer.drain()

    recipients: list[str] = []
    try:
        await reply(b"220 " + NAME + b" ESMTP bench sink\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                await reply(b"250-" + NAME + b"\r\n250-8BITMIME\r\n250 SIZE %d\r\n" % DATA_SIZE_LIMIT)
            elif verb in (b"HELO", b"NOOP"):
                await reply(b"250 OK\r\n")
            elif verb in (b"MAIL", b"RSET"):
                recipients = []
                await reply(b"250 OK\r\n")
            elif verb == b"RCPT":
                address = line.partition(b"<")[2].partition(b">")[0]
                recipients.append(address.decode("utf-8", "replace").lower())
                await reply(b"250 OK\r\n")
            elif verb == b"DATA":
                await reply(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                data = await reader.readuntil(b"\r\n.\r\n")
                counts.add(recipients, len(data) - 3)
                recipients = []
                await reply(b"250 OK queued\r\n")
            elif verb == b"QUIT":
                await reply(b"221 Bye\r\n")
                break
            else:
                await reply(b"500 Command not recognised\r\n")
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def _serve_lean(port: int, counts: Counts, latency_s: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = await asyncio.start_server(
        lambda r, w: _session(counts, latency_s, r, w), "127.0.0.1", port, limit=DATA_SIZE_LIMIT
    )
    print(f"listening on 127.0.0.1:{port}", flush=True)
    await stop.wait()
    server.close()


# --- aiosmtpd --------------------------------------------------------------------------------------


class _CountingHandler:
    def __init__(self, counts: Counts) -> None:
        self.counts = counts

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.counts.add([a.lower() for a in envelope.rcpt_tos], len(envelope.original_content or b""))
        return "250 OK"


def _serve_aiosmtpd(port: int, counts: Counts) -> None:
    from aiosmtpd.controller import Controller

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # A fixed server name: the default asks the resolver for this host's name on every connection.
    controller = Controller(
        _CountingHandler(counts),
        hostname="127.0.0.1",
        port=port,
        server_hostname=NAME.decode(),
        data_size_limit=DATA_SIZE_LIMIT,
        ready_timeout=30.0,
    )
    controller.start()
    print(f"listening on 127.0.0.1:{port} (aiosmtpd)", flush=True)
    while not stop.wait(0.2):
        pass
    controller.stop()


# --- starting it from a benchmark -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SinkKind:
    aiosmtpd: bool = False
    latency_ms: float = 0.0  # before every reply (lean server only)

    @property
    def label(self) -> str:
        return "aiosmtpd" if self.aiosmtpd else f"lean, {self.latency_ms:g} ms a reply"


@dataclass(slots=True)
class Sink:
    port: int
    counts: dict[str, Any] = field(default_factory=dict)


@contextmanager
def running_sink(log_dir: Path, kind: SinkKind = SinkKind()) -> Iterator[Sink]:
    """`python -m bench.smtp_sink` on a free port; its counts are in `sink.counts` once stopped."""
    log_dir.mkdir(parents=True, exist_ok=True)
    sink, out = Sink(free_port()), log_dir / "sink.json"
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "bench.smtp_sink", "--port", str(sink.port), "--out", str(out)]
    command += ["--aiosmtpd"] if kind.aiosmtpd else ["--latency-ms", str(kind.latency_ms)]
    with (log_dir / "sink.log").open("wb") as log:
        proc = subprocess.Popen(command, env=child_env(), stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    try:
        _wait_listening(proc, sink.port, log_dir / "sink.log")
        yield sink
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if not out.is_file():
        raise BenchError(f"the SMTP sink wrote no counts: {tail((log_dir / 'sink.log').read_text())}")
    sink.counts = json.loads(out.read_text())


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"the SMTP sink exited {proc.returncode}: {tail(log.read_text())}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"the SMTP sink did not listen on port {port} within {timeout_s:.0f} s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.smtp_sink", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--out", type=Path, required=True, help="JSON file written on SIGTERM")
    parser.add_argument("--aiosmtpd", action="store_true", help="aiosmtpd instead of the lean server")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="lean server: wait this long before every reply"
    )
    args = parser.parse_args(argv)
    counts = Counts()
    if args.aiosmtpd:
        _serve_aiosmtpd(args.port, counts)
    else:
        asyncio.run(_serve_lean(args.port, counts, args.latency_ms / 1000))
    args.out.write_text(json.dumps(counts.as_json()) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
