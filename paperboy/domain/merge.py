"""Merging what a source says about a paper into what the catalogue already knows.

Sources are partial (the RSS feed has no versions, the bulk file no DOI), so a merge never
erases a known value with an unknown one, and re-applying the same record changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, time

from paperboy.domain.models import Listing, PaperRecord, Version
from paperboy.domain.sanitize import sanitize_record


def merge_records(old: PaperRecord | None, new: PaperRecord) -> PaperRecord:
    """`new` wins where it says something; lists of versions and listings are unions."""
    new = sanitize_record(new)
    if old is None:
        return replace(
            new, versions=_merge_versions((), new.versions), listings=_merge_listings((), new.listings)
        )
    return PaperRecord(
        arxiv_id=old.arxiv_id,
        title=_pick(new.title, old.title),
        abstract=_pick(new.abstract, old.abstract),
        authors=new.authors or old.authors,
        categories=new.categories or old.categories,
        comment=_pick(new.comment, old.comment),
        journal_ref=_pick(new.journal_ref, old.journal_ref),
        doi=_pick(new.doi, old.doi),
        license=_pick(new.license, old.license),
        submitter=_pick(new.submitter, old.submitter),
        versions=_merge_versions(old.versions, new.versions),
        listings=_merge_listings(old.listings, new.listings),
    )


def _pick(new: str | None, old: str | None) -> str | None:
    return new if new is not None else old


def _merge_versions(old: tuple[Version, ...], new: tuple[Version, ...]) -> tuple[Version, ...]:
    merged = {v.number: v for v in old}
    for version in new:
        known = merged.get(version.number)
        if known is None:
            merged[version.number] = version
        else:
            created = _more_precise(version.created, known.created)
            merged[version.number] = Version(version.number, created, version.size or known.size)
    return tuple(merged[n] for n in sorted(merged))


def _more_precise(new: datetime | None, old: datetime | None) -> datetime | None:
    """Some sources know only the day of a submission (midnight UTC): never let them
    overwrite the exact time another source gave for that same day."""
    if new is None or old is None:
        return new or old
    if new.date() == old.date() and new.time() == time(0) and old.time() != time(0):
        return old
    return new


def _merge_listings(old: tuple[Listing, ...], new: tuple[Listing, ...]) -> tuple[Listing, ...]:
    merged = {listing.day: listing for listing in old}
    for listing in new:
        known = merged.get(listing.day)
        if known is None or listing.announce_type is not None:
            merged[listing.day] = listing
    return tuple(merged[d] for d in sorted(merged))


def content_hash(record: PaperRecord) -> str:
    """A fingerprint of everything stored about a paper: equal hashes mean nothing to write."""
    parts = [
        record.arxiv_id,
        record.title,
        record.abstract,
        "\x1f".join(record.authors),
        "\x1f".join(record.categories),
        record.comment,
        record.journal_ref,
        record.doi,
        record.license,
        record.submitter,
        "\x1f".join(f"{v.number}|{v.created and v.created.isoformat()}|{v.size}" for v in record.versions),
        "\x1f".join(f"{item.day.isoformat()}|{item.announce_type}" for item in record.listings),
    ]
    text = "\x1e".join("" if part is None else part for part in parts)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
