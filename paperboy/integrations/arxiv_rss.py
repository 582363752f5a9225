"""arXiv's daily listing as RSS: rss.arxiv.org/rss/cs.AI+cs.CL+...

See https://info.arxiv.org/help/rss_specifications.html. Each item is one paper of today's
listing, with its announce type (new, cross, replace, replace-cross). On weekends and arXiv
holidays the channel has no items (and lists `skipDays`): that is an empty listing, not an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.models import ANNOUNCE_TYPES, Listing, PaperRecord
from paperboy.integrations.http import HttpClient, UpstreamError
from paperboy.integrations.parsing import (
    Report,
    child_text,
    collapse,
    log_report,
    parse_xml,
    split_author_list,
)

ARXIV = "{http://arxiv.org/schemas/atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
ABSTRACT_MARK = "Abstract:"
# arXiv announces at 20:00 US/Eastern and dates that listing by the next day.
ANNOUNCEMENT_LEAD = timedelta(hours=4)

try:
    EASTERN: tzinfo = ZoneInfo("America/New_York")
except ZoneInfoNotFoundError:  # no tz database (some Windows installs): EST is close enough
    EASTERN = timezone(timedelta(hours=-5), "EST")


class _SkipItem(Exception):
    """Internal: one item cannot be used; the message says why."""


def feed_url(base: str, categories: Iterable[str]) -> str:
    """'https://rss.arxiv.org/rss', ['cs.AI', 'cs.CL'] -> 'https://rss.arxiv.org/rss/cs.AI+cs.CL'."""
    names = [name.strip() for name in categories if name.strip()]
    if not names:
        raise ValueError("an arXiv RSS feed needs at least one category")
    return f"{base.rstrip('/')}/{'+'.join(names)}"


def fetch_listing(
    client: HttpClient, base: str, categories: Iterable[str], *, report: Report = log_report
) -> list[PaperRecord]:
    """Today's listing of `categories` (empty on weekends and holidays)."""
    response = client.get(feed_url(base, categories))
    try:
        return parse_feed(response.content, report=report)
    except UpstreamError as exc:
        raise UpstreamError(f"GET {response.url}: {exc}") from None


def announcement_day(moment: datetime) -> date:
    """The listing day a feed timestamp belongs to, in arXiv's (US/Eastern) terms.

    The spec says a pubDate is "the date the paper was officially announced", and arXiv writes
    it as Eastern midnight of the listing's day ("Thu, 24 Sep 2026 00:00:00 -0400"). But a
    listing is really released the evening before, at 20:00 ET, and the feed is rebuilt at
    midnight ET. So every instant from 20:00 ET on day D-1 to 19:59 ET on day D belongs to the
    listing of day D: shift by 4 hours, then take the Eastern date. This also gives the right
    day for a midnight stamp written with the wrong DST offset (-0500 in summer: 01:00 EDT;
    -0400 in winter: 23:00 EST the day before) and for UTC stamps such as lastBuildDate.
    """
    return (moment.astimezone(EASTERN) + ANNOUNCEMENT_LEAD).date()


def parse_feed(body: bytes, *, report: Report = log_report) -> list[PaperRecord]:
    """The papers of one RSS document, each with a Listing(day, announce_type)."""
    root = parse_xml(body, "arXiv RSS feed")
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise UpstreamError(f"not an RSS 2.0 feed (root element {root.tag!r})")
    channel_day = _channel_day(channel)
    records = []
    for item in channel.iterfind("item"):
        try:
            records.append(_item_record(item, channel_day))
        except _SkipItem as skipped:
            report(str(skipped))
    return records


def _channel_day(channel: Element) -> date | None:
    """The channel's announcement day, for items that lack their own pubDate."""
    for tag in ("pubDate", "lastBuildDate"):
        moment = _rfc822(child_text(channel, tag))
        if moment is not None:
            return announcement_day(moment)
    return None


def _rfc822(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _item_record(item: Element, channel_day: date | None) -> PaperRecord:
    arxiv_id = _item_id(item)
    item_moment = _rfc822(child_text(item, "pubDate"))
    day = announcement_day(item_moment) if item_moment else channel_day
    if day is None:
        raise _SkipItem(f"RSS item {arxiv_id}: no pubDate to date the listing by")
    description = child_text(item, "description") or ""
    return PaperRecord(
        arxiv_id=arxiv_id,
        title=child_text(item, "title"),
        abstract=_abstract(description),
        authors=tuple(split_author_list(child_text(item, f"{DC}creator") or "")),
        categories=_categories(item),
        journal_ref=child_text(item, f"{ARXIV}journal_reference"),
        doi=child_text(item, f"{ARXIV}DOI"),
        license=child_text(item, f"{DC}rights"),
        listings=(Listing(day, _announce_type(item, description)),),
    )


def _item_id(item: Element) -> str:
    """From the guid 'oai:arXiv.org:2609.26811v1', else from the abs link; without version."""
    raw = (child_text(item, "guid") or "").removeprefix("oai:arXiv.org:") or child_text(item, "link") or ""
    try:
        return parse_arxiv_id(raw).base
    except InvalidArxivId as exc:
        raise _SkipItem(f"RSS item {raw!r}: {exc}") from None


def _categories(item: Element) -> tuple[str, ...]:
    names = (collapse(element.text) for element in item.iterfind("category"))
    return tuple(dict.fromkeys(name for name in names if name))


def _abstract(description: str) -> str | None:
    """The text after 'Abstract:'; the part before it only repeats the id and announce type."""
    head, mark, abstract = description.partition(ABSTRACT_MARK)
    return collapse(abstract) if mark else collapse(head)


def _announce_type(item: Element, description: str) -> str | None:
    """<arxiv:announce_type>, else the 'Announce Type: X' of the description; None if unknown."""
    kind = child_text(item, f"{ARXIV}announce_type")
    if kind is None and "Announce Type:" in description:
        words = description.partition("Announce Type:")[2].split()
        kind = words[0] if words else None
    return kind if kind in ANNOUNCE_TYPES else None
