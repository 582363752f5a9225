"""Outgoing mail behind one Protocol: SMTP when a server is configured, an outbox folder otherwise.

The outbox mode writes one RFC 5322 .eml file per message into data_dir/outbox (written to a
temporary name, then renamed, so a reader never sees half a mail): a site without a mail server
still works, and an operator can read the links there.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from paperboy.config import Settings

log = logging.getLogger(__name__)


class MailError(RuntimeError):
    """The message could not be handed over (the text says why)."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def compose(*, sender: str, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    """A message with Date and Message-ID set: plain text, or multipart/alternative with HTML."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    # Plain ASCII with short lines goes as is (7bit), so that links in outbox files stay greppable;
    # anything else gets the library's safe transfer encoding.
    if text.isascii() and all(len(line) <= 900 for line in text.splitlines()):
        message.set_content(text, cte="7bit")
    else:
        message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


class OutboxMailer:
    """Writes each message to `directory` as <time>-<uuid>.eml."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
            temporary = self.directory / f".{name}.tmp"
            temporary.write_bytes(message.as_bytes())
            os.replace(temporary, self.directory / name)
        except OSError as exc:
            raise MailError(f"cannot write to the outbox {self.directory}: {exc.strerror}") from exc


class SmtpMailer:
    """One connection per message: account mail is rare, and a fresh connection never goes stale."""

    def __init__(
        self, host: str, port: int, *, security: str, username: str, password: str, timeout: float
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout

    def send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            raise MailError(
                f"the mail server refused the message: {exc.smtp_code} {exc.smtp_error!r}"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"cannot send mail through {self.host}:{self.port}: {exc}") from exc

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.security == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            smtp.starttls(context=context)
        return smtp


class QueuedMailer:
    """Keeps messages until `flush`: the web layer sends account mail after the response, so that
    how long a request takes never tells whether an address has an account."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self.queue: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.queue.append(message)

    def flush(self) -> None:
        messages, self.queue = self.queue, []
        for message in messages:
            try:
                self.mailer.send(message)
            except MailError:
                log.exception("could not send %r", message["Subject"])


def make_mailer(settings: Settings) -> Mailer:
    if not settings.smtp_host:
        return OutboxMailer(settings.data_dir / "outbox")
    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password,
        timeout=settings.http_timeout,
    )
