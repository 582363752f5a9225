"""Outgoing mail behind one Protocol: SMTP when a server is configured, an outbox folder otherwise.

The outbox mode writes one RFC 5322 .eml file per message into data_dir/outbox (written to a
temporary name, then renamed, so a reader never sees half a mail): a site without a mail server
still works, and an operator can read the links there.
"""

from __future__ import annotations

import binascii
import logging
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

from paperboy.config import Settings
from paperboy.private_files import private_dir, write_private

log = logging.getLogger(__name__)


class MailError(RuntimeError):
    """The message could not be handed over (the text says why)."""


class DeliveryFailed(MailError):
    """The server refused one message: `permanent` for a 5xx answer (the address will not take
    mail), otherwise a 4xx or a dropped connection, worth trying again later."""

    def __init__(self, message: str, *, code: int | None, permanent: bool) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


class MailServerUnavailable(MailError):
    """No connection to the mail server at all: stop, and try the whole run again later."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A message ready for SMTP: the addresses it travels between and its bytes (CRLF lines)."""

    sender: str
    recipient: str
    data: bytes
    message_id: str


class Delivery(Protocol):
    """Bulk sending over one connection (digests): raises DeliveryFailed for one message,
    MailServerUnavailable when nothing can be sent."""

    def deliver(self, envelope: Envelope) -> None: ...

    def close(self) -> None: ...


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


def alternative_message(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    """A multipart/alternative message (plain text, then HTML, both UTF-8 quoted-printable) as
    SMTP bytes. Written out directly rather than through EmailMessage, which takes about 4 ms a
    message: a digest edition to 100,000 subscribers would spend minutes on it. The result is
    parsed back with the email package in the tests."""
    boundary = f"=_pb_{uuid.uuid4().hex[:24]}"  # "=_" never occurs in quoted-printable text
    lines = [f"{name}: {_header_value(value)}" for name, value in headers]
    lines += ["MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"', ""]
    head = "\r\n".join(lines).encode("ascii")
    parts = [head]
    for subtype, body in (("plain", text), ("html", html)):
        parts.append(
            f"\r\n--{boundary}\r\nContent-Type: text/{subtype}; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode("ascii")
        )
        parts.append(_quoted_printable(body))
    parts.append(f"\r\n--{boundary}--\r\n".encode("ascii"))
    return b"".join(parts)


def _quoted_printable(body: str) -> bytes:
    normalised = body.replace("\r\n", "\n").replace("\r", "\n")
    return binascii.b2a_qp(normalised.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


def _header_value(value: str) -> str:
    """A header value as ASCII: no line breaks (no header injection), non-ASCII words encoded
    (RFC 2047), addresses' display names quoted by the email package."""
    value = " ".join(value.split())
    if value.isascii():
        return value
    name, address = parseaddr(value)
    if address and value.endswith(f"<{address}>") and address.isascii():
        return formataddr((name, address), charset="utf-8")
    return Header(value, "utf-8").encode()


class OutboxMailer:
    """Writes each message to `directory` as <time>-<uuid>.eml."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage) -> None:
        self.write(message.as_bytes())

    def write(self, data: bytes) -> None:
        try:
            private_dir(self.directory)  # mails hold addresses and sign-in links: owner only
            write_private(self.directory / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml", data)
        except OSError as exc:
            raise MailError(f"cannot write to the outbox {self.directory}: {exc.strerror}") from exc


class SmtpSession:
    """One SMTP connection kept open across many messages (reconnecting when the server drops
    it), each answer classified: 5xx permanent, 4xx and lost connections temporary."""

    def __init__(self, mailer: SmtpMailer) -> None:
        self.mailer = mailer
        self.smtp: smtplib.SMTP | None = None

    def deliver(self, envelope: Envelope) -> None:
        smtp = self._connection()
        try:
            smtp.sendmail(envelope.sender, [envelope.recipient], envelope.data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _refused(code, text) from exc
        except smtplib.SMTPResponseException as exc:  # sender or data refused, 421 closing
            if exc.smtp_code == 421:
                self.close()
            else:
                self._reset()
            raise _refused(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryFailed(
                f"the connection to the mail server broke: {exc}", code=None, permanent=False
            ) from exc

    def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _connection(self) -> smtplib.SMTP:
        if self.smtp is None:
            try:
                self.smtp = self.mailer.open()
            except smtplib.SMTPResponseException as exc:
                raise MailServerUnavailable(
                    f"the mail server {self.mailer.host}:{self.mailer.port} refused the session: "
                    f"{exc.smtp_code} {_text(exc.smtp_error)}"
                ) from exc
            except (smtplib.SMTPException, OSError) as exc:
                raise MailServerUnavailable(
                    f"cannot connect to the mail server {self.mailer.host}:{self.mailer.port}: {exc}"
                ) from exc
        return self.smtp

    def _reset(self) -> None:
        try:
            assert self.smtp is not None
            self.smtp.rset()
        except (smtplib.SMTPException, OSError, AssertionError):
            self.close()


def _refused(code: int, text: bytes | str) -> DeliveryFailed:
    permanent = 500 <= code < 600
    return DeliveryFailed(f"the mail server answered {code} {_text(text)}", code=code, permanent=permanent)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def address_of(header: str) -> str:
    """The bare address of "Name <address>" (what SMTP's MAIL FROM takes)."""
    return parseaddr(header)[1]


class OutboxDelivery:
    """The outbox folder as a Delivery: nothing to refuse, nothing to close."""

    def __init__(self, outbox: OutboxMailer) -> None:
        self.outbox = outbox

    def deliver(self, envelope: Envelope) -> None:
        self.outbox.write(envelope.data)

    def close(self) -> None:
        pass


class SmtpMailer:
    """One connection per message: account mail is rare, and a fresh connection never goes stale."""

    def __init__(
        self, host: str, port: int, *, security: str, username: str, password: str, timeout: float
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout

    def send(self, message: EmailMessage) -> None:
        try:
            with self.open() as smtp:
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            raise MailError(
                f"the mail server refused the message: {exc.smtp_code} {exc.smtp_error!r}"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"cannot send mail through {self.host}:{self.port}: {exc}") from exc

    def open(self) -> smtplib.SMTP:
        """A connection ready to send: TLS as configured, logged in when a username is set."""
        context = ssl.create_default_context()
        if self.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
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


def open_delivery(settings: Settings) -> Delivery:
    """Bulk delivery as configured: an SMTP session, or the outbox folder without a server."""
    mailer = make_mailer(settings)
    if isinstance(mailer, SmtpMailer):
        return SmtpSession(mailer)
    assert isinstance(mailer, OutboxMailer)
    return OutboxDelivery(mailer)


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
