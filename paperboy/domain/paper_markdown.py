"""A paper as Markdown (`/papers/{id}.md`): for notes apps, wikis and language models. Pure.

Text from upstream is escaped so that it reads as written: a title with `*`, `_`, `[` or `<`
never turns into emphasis, a link or HTML. Links are http(s) only (services/feed.py keeps
them so) and written in angle-bracket-safe form.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from paperboy.domain.models import Paper

_SIGNIFICANT = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_LINE_START = re.compile(r"^(\d*)([.=-])(?=\s|$)")
_LINK_LABELS = {"abs": "arXiv", "pdf": "PDF", "code": "Code", "project": "Project page", "doi": "DOI"}


def markdown_escape(text: str) -> str:
    """One line of text with Markdown's punctuation backslash-escaped: it reads as written."""
    escaped = _SIGNIFICANT.sub(r"\\\1", " ".join(text.split()))
    escaped = _ENTITY.sub(r"\\&", escaped)  # &amp; would otherwise show as &
    return _LINE_START.sub(r"\1\\\2", escaped)  # "1." or "- " would start a list


def paper_markdown(paper: Paper, page_url: str, *, upvotes: int | None = None) -> str:
    """Title, authors, links, categories, dates and abstract; `page_url` is this site's page."""
    lines = [f"# {markdown_escape(paper.title)}", ""]
    if paper.authors:
        lines.append("**Authors:** " + ", ".join(markdown_escape(name) for name in paper.authors) + "  ")
    lines.append(f"**arXiv:** {paper.arxiv_id}  ")
    if paper.categories:
        shown = [f"{paper.categories[0]} (primary)", *paper.categories[1:]]
        lines.append("**Categories:** " + ", ".join(markdown_escape(name) for name in shown) + "  ")
    lines += [f"{line}  " for line in _date_lines(paper)]
    if upvotes is not None:
        lines.append(f"**Upvotes:** {upvotes}  ")
    if paper.journal_ref:
        lines.append(f"**Journal:** {markdown_escape(paper.journal_ref)}  ")
    if paper.comment:
        lines.append(f"**Comment:** {markdown_escape(paper.comment)}  ")
    links = _links(paper)
    links.append(("On this site", page_url))
    lines.append("**Links:** " + " · ".join(f"[{label}]({_link_target(url)})" for label, url in links))
    lines += ["", "## Abstract", ""]
    lines += [markdown_escape(part) for part in _paragraphs(paper.abstract)]
    return "\n".join(lines).rstrip() + "\n"


def _date_lines(paper: Paper) -> list[str]:
    lines = []
    if paper.published_at:
        lines.append(f"**Submitted:** {paper.published_at:%Y-%m-%d} (v1)")
    if paper.updated_at and paper.latest_version and paper.latest_version > 1:
        lines.append(f"**Updated:** {paper.updated_at:%Y-%m-%d} (v{paper.latest_version})")
    if paper.first_listed:
        lines.append(f"**First listed:** {paper.first_listed:%Y-%m-%d}")
    return lines


def _links(paper: Paper) -> list[tuple[str, str]]:
    return [(_LINK_LABELS.get(link.kind, link.kind.title()), link.url) for link in paper.links]


def _link_target(url: str) -> str:
    """Spaces, parentheses and angle brackets would end a Markdown link early: percent-encoded."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%-._~")


def _paragraphs(text: str) -> list[str]:
    """The abstract's paragraphs (blank lines or indented line starts in arXiv's metadata),
    separated by blank lines."""
    parts = [part for part in re.split(r"\n\s*\n|\n(?=\s+)", text) if part.strip()]
    out: list[str] = []
    for part in parts:
        if out:
            out.append("")
        out.append(part)
    return out
