"""Reading the mail paperboy sends, in tests: a real SMTP server on 127.0.0.1, the outbox folder,
and the links inside messages.

Not a conftest.py (see app_client.py). Use the fixture by importing it into a test module:
`from mail_sink import smtp_sink  # noqa: F401 - a fixture`, or the context manager directly.
"""

from __future__ import annotations

import email
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from bench.server import free_port
from paperboy.config import Settings

_LINK = re.compile(r"https?://[^\s<>\"']+")


class SmtpSink:
    """An aiosmtpd handler that keeps every message it accepts (their envelopes too)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._arrived = threading.Condition()
        self.host = "127.0.0.1"
        self.port = 0
        self._refusals: dict[str, list[str]] = {}

    def refuse(self, address: str, answers: list[str]) -> None:
        """Answer RCPT TO `address` with these replies ("451 …", "550 …"), one per attempt, then
        accept it as usual."""
        self._refusals[address] = list(answers)

    async def handle_RCPT(
        self, server: object, session: object, envelope: object, address: str, rcpt_options: list[str]
    ) -> str:
        answers = self._refusals.get(address)
        if answers:
            return answers.pop(0)
        envelope.rcpt_tos.append(address)  # type: ignore[attr-defined]
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[attr-defined]
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.recipients.append(list(envelope.rcpt_tos))  # type: ignore[attr-defined]
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        """The messages once at least `count` have arrived; fails the test after `timeout` seconds."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                pytest.fail(f"expected {count} mail(s) within {timeout} s, got {len(self.messages)}")
            return list(self.messages)

    def settings_for(self, settings: Settings) -> Settings:
        """`settings` sending through this server, in plain SMTP (no TLS on 127.0.0.1)."""
        return settings.replace(smtp_host=self.host, smtp_port=self.port, smtp_security="none")


@contextmanager
def running_smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1 for this test; `sink.settings_for(settings)` points at it."""
    with running_smtp_sink() as sink:
        yield sink


def outbox_messages(settings: Settings) -> list[EmailMessage]:
    """The messages in settings.data_dir/outbox (no SMTP host set), oldest first."""
    folder = settings.data_dir / "outbox"
    paths = sorted(folder.glob("*.eml")) if folder.is_dir() else []
    return [read_eml(path) for path in paths]


def read_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def wait_for_outbox(settings: Settings, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
    """Like SmtpSink.wait_for, for the outbox: for mail sent from another thread or process."""
    deadline = time.monotonic() + timeout
    while len(messages := outbox_messages(settings)) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"expected {count} mail(s) in the outbox within {timeout} s, got {len(messages)}")
        time.sleep(0.05)
    return messages


def text_of(message: EmailMessage) -> str:
    """The plain-text body of a message (its text/plain part when multipart)."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, f"the mail {message['Subject']!r} has no text/plain part"
    content: str = part.get_content()  # type: ignore[attr-defined]
    return content


def links_in(message: EmailMessage) -> list[str]:
    return _LINK.findall(text_of(message))


def link_in(message: EmailMessage, path: str) -> str:
    """The first link in the mail whose path is `path` ("/verify-email"), as a full URL."""
    for link in links_in(message):
        if urlsplit(link).path == path:
            return link
    raise AssertionError(f"no link to {path} in the mail {message['Subject']!r}: {links_in(message)}")


def local_part(url: str) -> str:
    """The path and query of a full URL: what an in-process test client requests."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
