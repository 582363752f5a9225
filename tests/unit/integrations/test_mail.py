"""The mail layer against a real SMTP server (aiosmtpd on 127.0.0.1) and a real outbox folder."""

from __future__ import annotations

import email
from email import policy

import pytest
from aiosmtpd.controller import Controller

from bench.server import free_port
from paperboy.config import load_settings
from paperboy.integrations.mail import MailError, OutboxMailer, QueuedMailer, SmtpMailer, compose, make_mailer


class Sink:
    def __init__(self, answer: str = "250 OK") -> None:
        self.answer = answer
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        if self.answer.startswith("250"):
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return self.answer


@pytest.fixture
def smtp_server():
    servers = []

    def start(answer: str = "250 OK") -> tuple[Sink, int]:
        sink, port = Sink(answer), free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        return sink, port

    yield start
    for controller in servers:
        controller.stop()


def _message():
    return compose(
        sender="paperboy <news@example.org>",
        to="ada@example.org",
        subject="Hello",
        text="Body ✓",
        html="<p>Hi</p>",
    )


def test_compose_sets_the_headers_mail_clients_need():
    message = _message()
    assert message["Message-ID"].endswith("@example.org>")
    assert message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]


def test_smtp_delivers_to_a_real_server(smtp_server):
    sink, port = smtp_server()
    SmtpMailer("127.0.0.1", port, security="none", username="", password="", timeout=5).send(_message())
    [received] = sink.messages
    assert received["Subject"] == "Hello"
    assert received.get_body(("plain",)).get_content().strip() == "Body ✓"


@pytest.mark.parametrize("answer", ["451 4.3.0 Try again later", "550 5.1.1 No such user"])
def test_a_refusal_is_a_mail_error_with_the_servers_code(smtp_server, answer):
    _sink, port = smtp_server(answer)
    mailer = SmtpMailer("127.0.0.1", port, security="none", username="", password="", timeout=5)
    with pytest.raises(MailError, match=answer[:3]):
        mailer.send(_message())


def test_an_unreachable_server_is_a_mail_error():
    mailer = SmtpMailer("127.0.0.1", free_port(), security="none", username="", password="", timeout=2)
    with pytest.raises(MailError, match="cannot send mail"):
        mailer.send(_message())


def test_the_outbox_holds_whole_messages_only(tmp_path):
    outbox = tmp_path / "outbox"
    OutboxMailer(outbox).send(_message())
    [path] = list(outbox.iterdir())
    assert path.suffix == ".eml"
    assert email.message_from_bytes(path.read_bytes(), policy=policy.default)["To"] == "ada@example.org"


def test_an_unwritable_outbox_is_a_mail_error(tmp_path):
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(MailError, match="cannot write to the outbox"):
        OutboxMailer(blocker).send(_message())


def test_no_smtp_host_means_the_outbox(tmp_path):
    settings = load_settings(environ={}, toml_path=tmp_path / "none.toml", data_dir=tmp_path)
    assert isinstance(make_mailer(settings), OutboxMailer)
    assert isinstance(make_mailer(settings.replace(smtp_host="mail.example.org")), SmtpMailer)


def test_short_ascii_text_is_sent_as_is_so_links_stay_whole(tmp_path):
    link = "http://127.0.0.1:8000/verify-email?token=" + "x" * 120
    message = compose(sender="a@example.org", to="b@example.org", subject="Hi", text=f"Open:\n{link}\n")
    assert message["Content-Transfer-Encoding"] == "7bit"
    assert link.encode() in message.as_bytes()


def test_queued_mail_waits_for_flush_and_a_failure_loses_only_that_mail(tmp_path):
    sent = []

    class Flaky:
        def send(self, message):
            if message["Subject"] == "bad":
                raise MailError("refused")
            sent.append(message["Subject"])

    queued = QueuedMailer(Flaky())
    for subject in ("one", "bad", "two"):
        queued.send(compose(sender="a@example.org", to="b@example.org", subject=subject, text="x"))
    assert sent == []
    queued.flush()
    assert sent == ["one", "two"]
    assert queued.queue == []
