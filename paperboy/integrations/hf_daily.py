"""Hugging Face Daily Papers: huggingface.co/api/daily_papers?date=YYYY-MM-DD.

The response is a JSON list of items `{paper: {...}, numComments, ...}`. The API is
undocumented and changes shape now and then, so every field is read defensively: a bad item is
skipped and reported, a response that is not a list of items is an HfApiError; never a KeyError.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import orjson

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.models import HfSignal, PaperRecord, Version
from paperboy.integrations.http import HttpClient, UpstreamError
from paperboy.integrations.parsing import Report, collapse, log_report, parse_iso_datetime

HfPaper = tuple[PaperRecord, HfSignal]


class HfApiError(UpstreamError):
    """The Hugging Face API answered something that is not a daily papers list."""


class _SkipItem(Exception):
    """Internal: one item cannot be used; the message says why."""


def daily_papers_url(api_url: str) -> str:
    return f"{api_url.rstrip('/')}/daily_papers"


def fetch_daily_papers(
    client: HttpClient, api_url: str, day: date, *, report: Report = log_report
) -> list[HfPaper]:
    """The papers Hugging Face lists for `day`, with their community signals."""
    response = client.get(daily_papers_url(api_url), params={"date": day.isoformat()})
    try:
        return parse_daily_papers(response.content, report=report)
    except HfApiError as exc:
        raise HfApiError(f"GET {response.url}: {exc}") from None


def parse_daily_papers(body: bytes, *, report: Report = log_report) -> list[HfPaper]:
    try:
        items = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HfApiError(f"daily papers response is not valid JSON ({exc})") from None
    if not isinstance(items, list):
        raise HfApiError(f"daily papers response is a JSON {type(items).__name__}, expected a list")
    papers = []
    for position, item in enumerate(items, start=1):
        try:
            papers.append(_item(item))
        except _SkipItem as skipped:
            report(f"Hugging Face daily papers item {position}: {skipped}")
    return papers


def _item(item: object) -> HfPaper:
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        raise _SkipItem("not an object with a 'paper' object")
    paper: dict[str, Any] = item["paper"]
    arxiv_id = _arxiv_id(paper.get("id"))
    record = PaperRecord(
        arxiv_id=arxiv_id,
        title=_text(paper, "title") or _text(item, "title"),
        abstract=_text(paper, "summary") or _text(item, "summary"),
        authors=tuple(_authors(paper.get("authors"))),
        versions=_first_version(paper.get("publishedAt")),
    )
    return record, _signal(arxiv_id, paper, item)


def _arxiv_id(value: object) -> str:
    if not isinstance(value, str):
        raise _SkipItem("paper has no string 'id'")
    try:
        return parse_arxiv_id(value).base
    except InvalidArxivId as exc:
        raise _SkipItem(str(exc)) from None


def _signal(arxiv_id: str, paper: dict[str, Any], item: dict[str, Any]) -> HfSignal:
    submitter = paper.get("submittedOnDailyBy")
    submitter = submitter if isinstance(submitter, dict) else {}
    return HfSignal(
        arxiv_id=arxiv_id,
        upvotes=_count(paper.get("upvotes")) or 0,
        submitted_on_daily_at=_moment(paper.get("submittedOnDailyAt")),
        submitted_by=_text(submitter, "name") or _text(submitter, "user"),
        github_repo=_text(paper, "githubRepo"),
        github_stars=_count(paper.get("githubStars")),
        project_page=_text(paper, "projectPage"),
        num_comments=_count(item.get("numComments")),
    )


def _authors(value: object) -> list[str]:
    """Every author's name in order, hidden ones included (hiding is about the HF profile link)."""
    if not isinstance(value, list):
        return []
    names = (
        collapse(a.get("name")) if isinstance(a, dict) and isinstance(a.get("name"), str) else None
        for a in value
    )
    return [name for name in names if name]


def _first_version(value: object) -> tuple[Version, ...]:
    moment = _moment(value)
    return (Version(1, moment),) if moment else ()


def _text(mapping: dict[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    # NUL is valid in JSON strings but not in PostgreSQL text (records are sanitised later; signals here).
    return collapse(value.replace("\x00", "")) if isinstance(value, str) else None


MAX_COUNT = 2**31 - 1


def _count(value: object) -> int | None:
    """A non-negative integer (capped at what an INTEGER column holds), or None; booleans are not counts."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return min(value, MAX_COUNT)


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso_datetime(value)
    except ValueError:
        return None
