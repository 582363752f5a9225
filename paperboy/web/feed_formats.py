"""RSS 2.0, Atom and JSON Feed 1.1 documents from a feed's description and its entries.

Callers give a `FeedInfo` and a list of `FeedEntry` (`entry_for_paper` builds one from a
catalogue paper); nothing here reads the database, so any list of papers (a period, a search,
a reader's own feed) can be published. Every date is explicit: feedgen would otherwise stamp
the time of rendering, and the ETag of an unchanged feed would change every second.

Titles and summaries are text, TeX as written (feed readers show a title as text). The content
is given twice: as text (TeX as written) and as HTML with the abstract's TeX as MathML
(domain/math_markup.py): RSS's description and Atom's content (type="html") carry the HTML,
JSON Feed both (content_text and content_html).

RSS is written here directly (`rss_feed`, `rss_item`), element for element and byte for byte
what feedgen writes (tests/unit/web/test_feed_formats.py compares the two), at a fraction of
the cost: feedgen builds an lxml tree of every element of every entry, about 3 ms for a day of
100 papers, and an item written here is text that web/feeds.py keeps per paper. Atom still goes
through feedgen.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import orjson
from feedgen.feed import FeedGenerator

from paperboy.domain.arxiv_ids import abs_url
from paperboy.domain.math_markup import math_html
from paperboy.domain.models import Paper
from paperboy.web.filters import paragraphs

RSS = "application/rss+xml"
ATOM = "application/atom+xml"
JSON_FEED = "application/feed+json"
MEDIA_TYPES = {"rss": RSS, "atom": ATOM, "json": JSON_FEED}
FORMAT_LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# XML 1.0 forbids most control characters; lxml refuses to write them, so they are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# How lxml escapes text and attribute values (the characters XML requires, and those a parser
# would otherwise normalise away: a carriage return, and tabs and newlines in attributes).
_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_XML_ATTRIBUTE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", '"': "&quot;", "\n": "&#10;", "\t": "&#9;"}
)
_RSS_NAMESPACES = (
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/"'
)
_RSS_DOCS = "http://www.rssboard.org/rss-specification"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class FeedInfo:
    title: str
    description: str
    home_page_url: str  # the HTML page this feed follows (absolute)
    feed_url: str  # this document's own address (absolute)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    id: str  # a permanent absolute URL: the paper's page on this site
    url: str
    title: str
    summary: str  # the abstract
    content_text: str  # the abstract, then authors, categories, dates and upvotes
    content_html: str  # the same as HTML, the abstract's TeX as MathML
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    published: datetime
    updated: datetime


def entry_for_paper(
    paper: Paper, page_url: str, *, upvotes: int = 0, listed: date | None = None
) -> FeedEntry:
    """A paper as a feed entry; `listed` is the listing day of the list it is on, if any."""
    published = entry_published(paper, listed)
    details = [
        "Authors: " + (", ".join(paper.authors) or "unknown"),
        "Categories: " + (", ".join(paper.categories) or "none"),
        f"Submitted: {published:%Y-%m-%d}",
        f"Upvotes: {upvotes}",
        f"arXiv: {abs_url(paper.arxiv_id)}",
    ]
    if listed:
        details.insert(3, f"Listed: {listed:%Y-%m-%d}")
    abstract = _clean(paper.abstract)
    return FeedEntry(
        id=page_url,
        url=page_url,
        title=_clean(paper.title),
        summary=abstract,
        content_text=abstract + "\n\n" + _clean("\n".join(details)),
        content_html="".join(_paragraph(math_html(part)) for part in paragraphs(abstract))
        + _as_html(_clean("\n".join(details))),
        authors=tuple(_clean(name) for name in paper.authors),
        tags=tuple(paper.categories),
        published=published,
        updated=entry_updated(paper, listed),
    )


def entry_for_alert(entry_id: str, page_url: str, title: str, text: str, at: datetime) -> FeedEntry:
    """An alert (services/alerts.py) as a feed entry: `text` says why, the link is the paper's."""
    clean = _clean(text)
    return FeedEntry(
        id=entry_id,
        url=page_url,
        title=_clean(title),
        summary=clean,
        content_text=clean,
        content_html=_as_html(clean),
        authors=(),
        tags=("alert",),
        published=at,
        updated=at,
    )


def entry_published(paper: Paper, listed: date | None = None) -> datetime:
    """The entry's publication time: the paper's, else midnight of its listing day."""
    return paper.published_at or _midnight(listed or paper.first_listed)


def entry_updated(paper: Paper, listed: date | None = None) -> datetime:
    """The entry's last change (what `entry_for_paper` gives as `updated`), without making it."""
    published = entry_published(paper, listed)
    return max(published, paper.updated_at or published)


def render_feed(kind: str, info: FeedInfo, entries: Sequence[FeedEntry]) -> bytes:
    """`kind` is "rss", "atom" or "json" (MEDIA_TYPES' keys)."""
    renderers: dict[str, Callable[[FeedInfo, Sequence[FeedEntry]], bytes]] = {
        "rss": rss_feed,
        "atom": atom_feed,
        "json": json_feed,
    }
    return renderers[kind](info, entries)


def rss_feed(info: FeedInfo, entries: Sequence[FeedEntry]) -> bytes:
    updated = max((entry.updated for entry in entries), default=_EPOCH)
    return rss_document(info, updated, [rss_item(entry).encode() for entry in entries])


def rss_document(info: FeedInfo, updated: datetime | None, items: Sequence[bytes]) -> bytes:
    """An RSS 2.0 document around items written by `rss_item` (UTF-8), in their order;
    `updated` is the newest entry's (the channel's lastBuildDate; None: no entries)."""
    head = (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f'<rss {_RSS_NAMESPACES} version="2.0">\n'
        "  <channel>\n"
        f"    <title>{_text(_clean(info.title))}</title>\n"
        f"    <link>{_text(_clean(info.home_page_url))}</link>\n"
        f"    <description>{_text(_clean(info.description))}</description>\n"
        f'    <atom:link href="{_attribute(_clean(info.feed_url))}" rel="self"/>\n'
        f"    <docs>{_RSS_DOCS}</docs>\n"
        "    <generator>paperboy</generator>\n"
        "    <language>en</language>\n"
        f"    <lastBuildDate>{rfc2822(updated or _EPOCH)}</lastBuildDate>\n"
    )
    return b"".join((head.encode(), *items, b"  </channel>\n</rss>\n"))


def rss_item(entry: FeedEntry) -> str:
    """One `<item>`, indented for its place in `rss_document`. An empty title is left out, as
    feedgen does (RSS requires a title or a description; the description is never empty)."""
    lines = ["    <item>\n"]
    if entry.title:
        lines.append(f"      <title>{_text(entry.title)}</title>\n")
    lines += [
        f"      {_element('link', entry.url)}\n",
        f"      {_element('description', entry.content_html)}\n",
        f'      <guid isPermaLink="true">{_text(entry.id)}</guid>\n',
    ]
    lines += [f"      {_element('category', _clean(tag))}\n" for tag in entry.tags]
    lines.append(f"      <pubDate>{rfc2822(entry.published)}</pubDate>\n")
    lines += [f"      {_element('dc:creator', name)}\n" for name in entry.authors]
    lines.append("    </item>\n")
    return "".join(lines)


def rfc2822(moment: datetime) -> str:
    """Tue, 02 Jun 2026 00:00:00 +0000: RSS's dates, in English whatever the locale."""
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year:04d} {moment:%H:%M:%S %z}"
    )


def atom_feed(info: FeedInfo, entries: Sequence[FeedEntry]) -> bytes:
    generator = _generator(info, entries)
    generator.link(href=info.home_page_url, rel="alternate")
    generator.link(href=info.feed_url, rel="self")
    return bytes(generator.atom_str(pretty=True))


def json_feed(info: FeedInfo, entries: Sequence[FeedEntry]) -> bytes:
    document = {
        "version": JSON_FEED_VERSION,
        "title": info.title,
        "description": info.description,
        "home_page_url": info.home_page_url,
        "feed_url": info.feed_url,
        "items": [
            {
                "id": entry.id,
                "url": entry.url,
                "title": entry.title,
                "content_text": entry.content_text,
                "content_html": entry.content_html,
                "summary": entry.summary,
                "date_published": entry.published.isoformat(),
                "date_modified": entry.updated.isoformat(),
                "authors": [{"name": name} for name in entry.authors],
                "tags": list(entry.tags),
            }
            for entry in entries
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2)


def _generator(info: FeedInfo, entries: Sequence[FeedEntry]) -> FeedGenerator:
    generator = FeedGenerator()
    generator.load_extension("dc")  # the namespace the RSS writer declares too
    generator.id(info.feed_url)
    generator.title(_clean(info.title))
    generator.description(_clean(info.description))
    generator.language("en")
    generator.generator("paperboy")
    generator.updated(max((entry.updated for entry in entries), default=_EPOCH))
    # feedgen writes entries newest-added first: add them in reverse to keep the list's order.
    for entry in reversed(entries):
        _add_entry(generator, entry)
    return generator


def _add_entry(generator: FeedGenerator, entry: FeedEntry) -> None:
    item = generator.add_entry()
    item.id(entry.id)
    item.title(entry.title)
    item.link(href=entry.url)
    # Atom says what its text is: the summary plain, the content HTML
    item.summary(entry.summary, type="text")
    item.content(entry.content_html, type="html")
    item.published(entry.published)
    item.updated(entry.updated)
    for name in entry.authors:
        item.author(name=name)
    for tag in entry.tags:
        item.category(term=tag)


def _text(value: str) -> str:
    return value.translate(_XML_TEXT)


def _attribute(value: str) -> str:
    return value.translate(_XML_ATTRIBUTE)


def _element(name: str, value: str) -> str:
    return f"<{name}>{_text(value)}</{name}>"


def _as_html(text: str) -> str:
    """Paragraphs of text as HTML, escaped, lines kept."""
    paragraphs = [html.escape(part).replace("\n", "<br>") for part in text.split("\n\n")]
    return "".join(_paragraph(part) for part in paragraphs)


def _paragraph(inner: str) -> str:
    return f"<p>{inner}</p>"


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _midnight(day: date | None) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC) if day else _EPOCH
