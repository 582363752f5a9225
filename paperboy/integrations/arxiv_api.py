"""arXiv API (Atom) look-up of papers by id: export.arxiv.org/api/query?id_list=...

See https://info.arxiv.org/help/api/user-manual.html. Both the legacy feed (inline xmlns on the
opensearch and arxiv elements) and the 2026 one parse the same way, since only namespaces are
looked at. A malformed id makes arXiv answer HTTP 400 with a single error entry whose <id> is
`.../api/errors#...`; that becomes an ArxivApiError carrying arXiv's own message.

`shared_lookup(settings)` is the web app's way in: one client per process and per configuration,
so every request's look-up shares arXiv's politeness interval and any back-off arXiv asked for,
and each waits at most `arxiv_lookup_wait` seconds (UpstreamBusy past that). Sync and fetch make
their own patient clients instead: they run outside requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

import httpx

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.models import PaperRecord, Version
from paperboy.integrations.http import ARXIV_HOST, HttpClient, UpstreamError
from paperboy.integrations.parsing import Report, child_text, log_report, parse_iso_datetime, parse_xml

if TYPE_CHECKING:
    from paperboy.config import Settings

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
CHUNK_SIZE = 100  # ids per request: keeps URLs short and responses quick


class ArxivApiError(UpstreamError):
    """The arXiv API reported an error (for example a malformed id)."""


class _SkipEntry(Exception):
    """Internal: one entry cannot be used; the message says why."""


def fetch_papers(
    client: HttpClient,
    api_url: str,
    arxiv_ids: Iterable[str],
    *,
    chunk_size: int = CHUNK_SIZE,
    report: Report = log_report,
    deadline: float | None = None,
) -> list[PaperRecord]:
    """The papers with these ids (with or without versions), in chunks of `chunk_size`.

    Ids arXiv does not know are simply absent from the result; one it cannot parse makes it
    answer with an error, raised as ArxivApiError naming the id. The ids go out as given:
    arXiv is the authority on what it accepts. `deadline`: as HttpClient.get's.
    """
    ids = [text.strip() for text in arxiv_ids if text.strip()]
    records: list[PaperRecord] = []
    for chunk in _chunks(ids, chunk_size):
        params: dict[str, str | int] = {"id_list": ",".join(chunk), "start": 0, "max_results": len(chunk)}
        # arXiv answers a bad request with HTTP 400 *and* an Atom error entry worth reading.
        response = client.get(api_url, params=params, accept=(200, 400), deadline=deadline)
        try:
            records.extend(parse_feed(response.content, report=report))
        except ArxivApiError as exc:
            raise ArxivApiError(f"{exc} (GET {response.url})") from None
        except UpstreamError as exc:
            raise UpstreamError(f"GET {response.url}: {exc}") from None
        if response.status != 200:
            raise ArxivApiError(f"GET {response.url}: HTTP {response.status} without an error entry")
    return records


class ArxivLookup:
    """One paper for a waiting member: at most `wait` seconds, then UpstreamBusy."""

    def __init__(
        self, client: HttpClient, api_url: str, wait: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self._api_url = api_url
        self._wait = wait
        self._clock = clock  # the client's own clock: deadlines are compared with it

    def paper(self, arxiv_id: str) -> PaperRecord | None:
        """The paper with this canonical id, or None when arXiv does not know it."""
        deadline = self._clock() + self._wait
        records = fetch_papers(self.client, self._api_url, [arxiv_id], deadline=deadline)
        return next((record for record in records if record.arxiv_id == arxiv_id), None)


_SHARED: dict[tuple[object, ...], ArxivLookup] = {}
_SHARED_LOCK = threading.Lock()


def shared_lookup(settings: Settings) -> ArxivLookup:
    """The process's look-up client for these settings, made on first use.

    One retry at most (a member is waiting), and the politeness interval applies to the
    configured API host as well as to arxiv.org, so a mirror is treated as politely.
    """
    key = (
        settings.arxiv_api_url,
        settings.arxiv_delay,
        settings.arxiv_lookup_wait,
        settings.http_timeout,
        settings.http_retries,
    )
    with _SHARED_LOCK:
        lookup = _SHARED.get(key)
        if lookup is None:
            host = httpx.URL(settings.arxiv_api_url).host
            client = HttpClient.from_settings(
                settings,
                retries=min(settings.http_retries, 1),
                host_delays={ARXIV_HOST: settings.arxiv_delay, host: settings.arxiv_delay},
            )
            lookup = _SHARED[key] = ArxivLookup(client, settings.arxiv_api_url, settings.arxiv_lookup_wait)
        return lookup


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    if size < 1:
        raise ValueError("chunk_size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def parse_feed(body: bytes, *, report: Report = log_report) -> list[PaperRecord]:
    """The papers of one Atom response; raise ArxivApiError for an error entry."""
    root = parse_xml(body, "arXiv API response")
    if root.tag != f"{ATOM}feed":
        raise UpstreamError(f"not an Atom feed (root element {root.tag!r})")
    records = []
    for entry in root.iterfind(f"{ATOM}entry"):
        _raise_if_error(entry)
        try:
            records.append(_entry_record(entry))
        except _SkipEntry as skipped:
            report(str(skipped))
    return records


def _raise_if_error(entry: Element) -> None:
    entry_id = child_text(entry, f"{ATOM}id") or ""
    if "/api/errors" in entry_id:
        message = child_text(entry, f"{ATOM}summary") or entry_id.rpartition("#")[2]
        raise ArxivApiError(f"arXiv API error: {message}")


def _entry_record(entry: Element) -> PaperRecord:
    url = child_text(entry, f"{ATOM}id") or ""
    try:
        parsed = parse_arxiv_id(url)
    except InvalidArxivId as exc:
        raise _SkipEntry(f"arXiv API entry {url!r}: {exc}") from None
    title = child_text(entry, f"{ATOM}title")
    if title is None:  # the legacy API answered unknown ids with an empty entry
        raise _SkipEntry(f"arXiv API entry {url!r} has no title")
    return PaperRecord(
        arxiv_id=parsed.base,
        title=title,
        abstract=child_text(entry, f"{ATOM}summary"),
        authors=tuple(_authors(entry)),
        categories=_categories(entry),
        comment=child_text(entry, f"{ARXIV}comment"),
        journal_ref=child_text(entry, f"{ARXIV}journal_ref"),
        doi=child_text(entry, f"{ARXIV}doi"),
        versions=_versions(entry, parsed.version, url),
    )


def _authors(entry: Element) -> list[str]:
    names = (child_text(author, f"{ATOM}name") for author in entry.iterfind(f"{ATOM}author"))
    return [name for name in names if name]


def _categories(entry: Element) -> tuple[str, ...]:
    """arxiv:primary_category first, then the other <category term=...> in feed order."""
    primary = entry.find(f"{ARXIV}primary_category")
    terms = [] if primary is None else [primary.get("term", "")]
    terms += [category.get("term", "") for category in entry.iterfind(f"{ATOM}category")]
    return tuple(dict.fromkeys(term.strip() for term in terms if term.strip()))


def _versions(entry: Element, latest: int | None, url: str) -> tuple[Version, ...]:
    """v1 was `published`; the version in the entry's id was `updated`."""
    try:
        published = _timestamp(entry, "published")
        updated = _timestamp(entry, "updated")
    except ValueError as exc:
        raise _SkipEntry(f"arXiv API entry {url!r}: bad timestamp ({exc})") from None
    versions = [Version(1, published)]
    if latest is not None and latest > 1:
        versions.append(Version(latest, updated))
    return tuple(versions)


def _timestamp(entry: Element, tag: str) -> datetime | None:
    text = child_text(entry, f"{ATOM}{tag}")
    return None if text is None else parse_iso_datetime(text)
