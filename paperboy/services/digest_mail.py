"""The digest mail itself: a plain-text part and an HTML part (inline CSS, no scripts, no remote
fonts or images; TeX as MathML), the unsubscribe headers of RFC 2369 and RFC 8058, and a
Message-ID that is the same every time the same edition is sent to the same subscriber (so that
a copy sent twice after a crash is recognisably the same mail).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from paperboy.config import Settings
from paperboy.domain.digest import DigestPaper, Edition, MailLinks, PersonalPick, Subscription
from paperboy.domain.math_markup import math_html
from paperboy.domain.site_urls import paper_url
from paperboy.integrations.mail import Envelope, address_of, alternative_message
from paperboy.services.notifications import Notification, alert_line

TEMPLATES_DIR = Path(__file__).parent / "mail_templates"
TEMPLATE_NAMES = ("digest.html", "digest.txt", "paper.html", "paper.txt")


class DigestRenderer:
    """Renders digests for one site; made once per sending run. Each paper's part of the mail
    is rendered once per run and shared by every subscriber who gets that paper."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.site = settings.public_url
        self.sender = settings.digest_from or settings.mail_from
        self.sender_address = address_of(self.sender)
        self.domain = urlsplit(self.site).hostname or "localhost"
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.globals.update(site_name=settings.site_name, site=self.site, paper_url=self.paper_url)
        env.filters["math"] = math_html  # the HTML part's TeX as MathML; the text part keeps the TeX
        self.templates = {name: env.get_template(name) for name in TEMPLATE_NAMES}
        self._fragments: dict[tuple[str, int], str] = {}

    def paper_url(self, arxiv_id: str) -> str:
        return self.site + paper_url(arxiv_id)

    def subject(self, edition: Edition, count: int, ranking: str = "trending") -> str:
        plural = "" if count == 1 else "s"
        papers = (
            f"{count} trending paper{plural}" if ranking == "trending" else f"{count} paper{plural} for you"
        )
        joiner = ", " if edition.frequency == "daily" else " of "
        return f"{self.settings.site_name}: {papers}{joiner}{edition.label}"

    def render(
        self,
        edition: Edition,
        subscription: Subscription,
        papers: list[DigestPaper],
        links: MailLinks,
        alerts: Sequence[Notification] = (),
        section: Sequence[PersonalPick] = (),
    ) -> RenderedDigest:
        """The mail; `alerts`, the subscriber's alerts no channel showed yet, make a personal
        "Alerts" section before the papers; `section`, a member's "For you" papers with their
        reasons, one after them."""
        preferences = subscription.preferences
        ranking = "For you" if preferences.for_you and subscription.user_id else "trending"
        context = {
            "edition": edition,
            "subscription": subscription,
            "preferences": preferences,
            "ranking": ranking,
            "links": links,
            "alerts": [(alert_line(alert), alert.title, self.paper_url(alert.arxiv_id)) for alert in alerts],
        }
        html = [Markup(self._fragment("paper.html", item)) for item in papers]  # noqa: S704 - rendered with autoescape
        text = [self._fragment("paper.txt", item) for item in papers]
        personal_html = [(p.reason, Markup(self._fragment("paper.html", p.item))) for p in section]  # noqa: S704 - rendered with autoescape
        personal_text = [(p.reason, self._fragment("paper.txt", p.item)) for p in section]
        return RenderedDigest(
            subject=self.subject(edition, len(papers), ranking),
            text=self.templates["digest.txt"].render(context, fragments=text, personal=personal_text),
            html=self.templates["digest.html"].render(context, fragments=html, personal=personal_html),
        )

    def _fragment(self, name: str, item: DigestPaper) -> str:
        key = (name, item.paper.id)
        fragment = self._fragments.get(key)
        if fragment is None:
            fragment = self._fragments[key] = self.templates[name].render(item=item)
        return fragment

    def envelope(
        self,
        edition: Edition,
        subscription: Subscription,
        papers: list[DigestPaper],
        links: MailLinks,
        now: datetime,
        alerts: Sequence[Notification] = (),
        section: Sequence[PersonalPick] = (),
    ) -> Envelope:
        """The mail, ready for SMTP: multipart/alternative, text then HTML, with list headers."""
        digest = self.render(edition, subscription, papers, links, alerts, section)
        message_id = self.message_id(edition, subscription)
        headers = [
            ("From", self.sender),
            ("To", subscription.email),
            ("Subject", digest.subject),
            ("Date", format_datetime(now)),
            ("Message-ID", message_id),
            ("List-Id", f"{self.settings.site_name} digest <digest.{self.domain}>"),
            ("List-Unsubscribe", f"<{links.unsubscribe}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Precedence", "bulk"),
            ("Auto-Submitted", "auto-generated"),
        ]
        data = alternative_message(headers, digest.text, digest.html)
        return Envelope(self.sender_address, subscription.email, data, message_id)

    def message_id(self, edition: Edition, subscription: Subscription) -> str:
        """The same for every attempt at this edition and subscriber; unguessable from outside."""
        seed = f"{edition.key}:{subscription.id}:{subscription.nonce}".encode()
        digest = hashlib.sha256(seed).hexdigest()[:20]
        return f"<digest.{edition.frequency}.{edition.day:%Y%m%d}.{digest}@{self.domain}>"


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    subject: str
    text: str
    html: str
