"""The digest's MIME writer, read back by the standard library's parser."""

import email
from email import policy

from paperboy.integrations.mail import alternative_message


def _parse(data: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def test_text_and_html_parts_come_back_exactly() -> None:
    text = "Ünïcode · title\n" + "a long line " * 40 + "\n. a line starting with a dot\nFrom the start\n"
    html = '<p style="color:#333">Émilie — ' + "x" * 300 + "</p>\n"
    data = alternative_message([("To", "ada@example.org"), ("Subject", "Plain subject")], text, html)
    message = _parse(data)
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = message.iter_parts()
    assert plain.get_content().replace("\r\n", "\n") == text  # type: ignore[attr-defined]
    assert rich.get_content().replace("\r\n", "\n") == html  # type: ignore[attr-defined]
    assert all(len(line) <= 78 for line in data.split(b"\r\n"))
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF everywhere, as SMTP wants


def test_headers_are_ascii_and_cannot_be_injected() -> None:
    data = alternative_message(
        [
            ("From", "Papers · Lab <digest@lab.example>"),
            ("Subject", "Trending: Ünïcode\r\nBcc: victim@example.org"),
            ("List-Unsubscribe", "<https://papers.example/digest/unsubscribe?token=" + "t" * 120 + ">"),
        ],
        "text",
        "<p>html</p>",
    )
    head = data.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    message = _parse(data)
    assert message["Bcc"] is None
    assert message["Subject"] == "Trending: Ünïcode Bcc: victim@example.org"
    assert message["From"].addresses[0].display_name == "Papers · Lab"
    assert message["From"].addresses[0].addr_spec == "digest@lab.example"
    assert (
        message["List-Unsubscribe"] == "<https://papers.example/digest/unsubscribe?token=" + "t" * 120 + ">"
    )
