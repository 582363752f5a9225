"""arXiv OAI-PMH harvesting (ListRecords) in the `arXiv` and `arXivRaw` metadata formats.

See https://info.arxiv.org/help/oa/index.html and the OAI-PMH 2.0 specification. Both the
legacy service (export.arxiv.org/oai2: `cursor`/`completeListSize` tokens, `status="deleted"`
headers) and the 2025 rewrite (oaipmh.arxiv.org/oai: expiring tokens, `<resumptionToken/>` on
the last page) are understood. Each record keeps its OAI datestamp so that a caller can resume
incrementally from the newest one it stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from xml.etree.ElementTree import Element

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.models import PaperRecord, Version
from paperboy.integrations.http import HttpClient, UpstreamError
from paperboy.integrations.parsing import (
    Report,
    child_text,
    collapse,
    log_report,
    parse_rfc1123,
    parse_xml,
    split_author_list,
    utc_midnight,
)

OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
ARXIV_RAW = "{http://arxiv.org/OAI/arXivRaw/}"
METADATA_PREFIXES = ("arXiv", "arXivRaw")
NO_RECORDS = "noRecordsMatch"


@dataclass(frozen=True, slots=True)
class OaiRecord:
    record: PaperRecord
    datestamp: date  # when arXiv last changed the record: the resume point for the next harvest


class OaiError(UpstreamError):
    """The repository answered with an OAI-PMH error (badArgument, badResumptionToken, ...)."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"OAI-PMH error {code}: {description}")
        self.code = code
        self.description = description


class _SkipRecord(Exception):
    """Internal: one record cannot be used; the message says why."""


def harvest(
    client: HttpClient,
    base_url: str,
    *,
    metadata_prefix: str = "arXiv",
    set_spec: str | None = None,
    from_date: date | None = None,
    until_date: date | None = None,
    report: Report = log_report,
) -> Iterator[OaiRecord]:
    """Every record of ListRecords for the given selection, following resumption tokens."""
    if metadata_prefix not in METADATA_PREFIXES:
        raise ValueError(
            f"metadata_prefix must be one of {', '.join(METADATA_PREFIXES)}, not {metadata_prefix!r}"
        )
    params = _first_request(metadata_prefix, set_spec, from_date, until_date)
    seen_tokens: set[str] = set()
    while True:
        response = client.get(base_url, params=params)
        records, token = _parse_page(response.content, response.url, report)
        yield from records
        if token is None:
            return
        if token in seen_tokens:  # a looping server would otherwise keep us busy forever
            raise UpstreamError(f"GET {response.url}: resumption token {token!r} came back twice")
        seen_tokens.add(token)
        # OAI-PMH: resumptionToken is an exclusive argument, sent with the verb only.
        params = {"verb": "ListRecords", "resumptionToken": token}


def _first_request(
    metadata_prefix: str, set_spec: str | None, from_date: date | None, until_date: date | None
) -> dict[str, str | int]:
    params: dict[str, str | int] = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
    if set_spec:
        params["set"] = set_spec
    if from_date:
        params["from"] = from_date.isoformat()
    if until_date:
        params["until"] = until_date.isoformat()
    return params


def _parse_page(body: bytes, url: str, report: Report) -> tuple[list[OaiRecord], str | None]:
    """parse_list_records, with the URL added to any error."""
    try:
        return parse_list_records(body, report=report)
    except OaiError as exc:
        raise OaiError(exc.code, f"{exc.description} (GET {url})") from None
    except UpstreamError as exc:
        raise UpstreamError(f"GET {url}: {exc}") from None


def parse_list_records(body: bytes, *, report: Report = log_report) -> tuple[list[OaiRecord], str | None]:
    """The records of one ListRecords page and its resumption token (None on the last page).

    noRecordsMatch is an empty result; other OAI-PMH errors raise OaiError. Deleted records are
    skipped silently (there is nothing to store); unusable ones are skipped and reported.
    """
    root = parse_xml(body, "OAI-PMH response")
    if root.tag != f"{OAI}OAI-PMH":
        raise UpstreamError(f"not an OAI-PMH response (root element <{_local(root.tag)}>)")
    _raise_errors(root)
    if root.find(f"{OAI}error") is not None:
        return [], None
    listing = root.find(f"{OAI}ListRecords")
    if listing is None:
        raise UpstreamError("OAI-PMH response has neither ListRecords nor an error")
    records = []
    for element in listing.iterfind(f"{OAI}record"):
        try:
            record = _parse_record(element)
        except _SkipRecord as skipped:
            report(str(skipped))
            continue
        if record is not None:
            records.append(record)
    return records, _resumption_token(listing)


def _raise_errors(root: Element) -> None:
    """Raise the first OAI-PMH error other than noRecordsMatch."""
    for error in root.iterfind(f"{OAI}error"):
        code = error.get("code", "unknown")
        if code != NO_RECORDS:
            raise OaiError(code, collapse(error.text) or "(no description)")


def _resumption_token(listing: Element) -> str | None:
    """The token text; a missing or empty `<resumptionToken/>` means the list is complete."""
    token = listing.find(f"{OAI}resumptionToken")
    if token is None or token.text is None:
        return None
    return token.text.strip() or None


def _parse_record(element: Element) -> OaiRecord | None:
    header = element.find(f"{OAI}header")
    if header is None:
        raise _SkipRecord("OAI record without a header")
    identifier = child_text(header, f"{OAI}identifier") or "(no identifier)"
    if header.get("status") == "deleted":
        return None
    datestamp = _datestamp(header, identifier)
    metadata = element.find(f"{OAI}metadata")
    payload = None if metadata is None else next(iter(metadata), None)
    if payload is None:
        raise _SkipRecord(f"{identifier}: record has no metadata")
    if payload.tag == f"{ARXIV}arXiv":
        return OaiRecord(_arxiv_record(payload, identifier), datestamp)
    if payload.tag == f"{ARXIV_RAW}arXivRaw":
        return OaiRecord(_arxiv_raw_record(payload, identifier), datestamp)
    raise _SkipRecord(f"{identifier}: unsupported metadata format <{_local(payload.tag)}>")


def _datestamp(header: Element, identifier: str) -> date:
    text = child_text(header, f"{OAI}datestamp") or ""
    try:
        return date.fromisoformat(text[:10])  # granularity may be a day or a second
    except ValueError:
        raise _SkipRecord(f"{identifier}: bad datestamp {text!r}") from None


def _canonical_id(payload: Element, ns: str, identifier: str) -> str:
    raw = child_text(payload, f"{ns}id") or identifier.removeprefix("oai:arXiv.org:")
    try:
        return parse_arxiv_id(raw).base
    except InvalidArxivId as exc:
        raise _SkipRecord(f"{identifier}: {exc}") from None


def _base_record(payload: Element, ns: str, identifier: str) -> PaperRecord:
    """The fields spelled the same way in both formats."""
    return PaperRecord(
        arxiv_id=_canonical_id(payload, ns, identifier),
        title=child_text(payload, f"{ns}title"),
        abstract=child_text(payload, f"{ns}abstract"),
        categories=tuple((child_text(payload, f"{ns}categories") or "").split()),  # primary first
        comment=child_text(payload, f"{ns}comments"),
        journal_ref=child_text(payload, f"{ns}journal-ref"),
        doi=child_text(payload, f"{ns}doi"),
        license=child_text(payload, f"{ns}license"),
    )


def _arxiv_record(payload: Element, identifier: str) -> PaperRecord:
    """The `arXiv` format: structured authors; only the first version's date is known."""
    created = child_text(payload, f"{ARXIV}created")
    try:
        versions = (Version(1, utc_midnight(date.fromisoformat(created))),) if created else ()
    except ValueError:
        raise _SkipRecord(f"{identifier}: bad created date {created!r}") from None
    record = _base_record(payload, ARXIV, identifier)
    return replace(record, authors=tuple(_structured_authors(payload)), versions=versions)


def _structured_authors(payload: Element) -> list[str]:
    """'Forenames Keyname Suffix' for each <author>, in order."""
    names = []
    for author in payload.iterfind(f"{ARXIV}authors/{ARXIV}author"):
        parts = (child_text(author, f"{ARXIV}{tag}") for tag in ("forenames", "keyname", "suffix"))
        name = " ".join(part for part in parts if part)
        if name:
            names.append(name)
    return names


def _arxiv_raw_record(payload: Element, identifier: str) -> PaperRecord:
    """The `arXivRaw` format: an author string, the submitter and the full version history."""
    record = _base_record(payload, ARXIV_RAW, identifier)
    return replace(
        record,
        authors=tuple(split_author_list(child_text(payload, f"{ARXIV_RAW}authors") or "")),
        submitter=child_text(payload, f"{ARXIV_RAW}submitter"),
        versions=_raw_versions(payload, identifier),
    )


def _raw_versions(payload: Element, identifier: str) -> tuple[Version, ...]:
    versions = []
    for element in payload.iterfind(f"{ARXIV_RAW}version"):
        label = element.get("version", "")
        date_text = child_text(element, f"{ARXIV_RAW}date") or ""
        try:
            number = int(label.removeprefix("v"))
            created = parse_rfc1123(date_text)
        except ValueError:
            raise _SkipRecord(f"{identifier}: bad version {label!r} dated {date_text!r}") from None
        versions.append(Version(number, created, child_text(element, f"{ARXIV_RAW}size")))
    return tuple(sorted(versions, key=lambda v: v.number))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]
