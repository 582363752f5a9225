"""Papers as Markdown."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from paperboy.domain.models import Link, Paper
from paperboy.domain.paper_markdown import markdown_escape, paper_markdown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain words", "plain words"),
        ("*bold* _it_ `code`", "\\*bold\\* \\_it\\_ \\`code\\`"),
        ("[link](http://x) <script>", "\\[link\\]\\(http://x\\) \\<script\\>"),
        ("# not a heading", "\\# not a heading"),
        ("1. not a list", "1\\. not a list"),
        ("- not a list", "\\- not a list"),
        ("R&D &amp; more", "R&D \\&amp; more"),
        ("wrapped\n  line", "wrapped line"),
    ],
)
def test_markdown_escape(text: str, expected: str) -> None:
    assert markdown_escape(text) == expected


def test_paper_markdown() -> None:
    paper = Paper(
        id=1,
        arxiv_id="2506.12229",
        title="Graphs *and* [Things]",
        abstract="First paragraph\nwrapped.\n  Second paragraph.",
        authors=["Ada Lovelace"],
        categories=["cs.LG", "cs.AI"],
        published_at=datetime(2025, 6, 11, tzinfo=UTC),
        first_listed=date(2025, 6, 12),
        links=[Link("abs", "https://arxiv.org/abs/2506.12229"), Link("code", "https://github.com/a/b (c)")],
    )
    text = paper_markdown(paper, "https://site/papers/2506.12229", upvotes=4)
    assert text == (
        "# Graphs \\*and\\* \\[Things\\]\n"
        "\n"
        "**Authors:** Ada Lovelace  \n"
        "**arXiv:** 2506.12229  \n"
        "**Categories:** cs.LG \\(primary\\), cs.AI  \n"
        "**Submitted:** 2025-06-11 (v1)  \n"
        "**First listed:** 2025-06-12  \n"
        "**Upvotes:** 4  \n"
        "**Links:** [arXiv](https://arxiv.org/abs/2506.12229) · [Code](https://github.com/a/b%20%28c%29)"
        " · [On this site](https://site/papers/2506.12229)\n"
        "\n"
        "## Abstract\n"
        "\n"
        "First paragraph wrapped.\n"
        "\n"
        "Second paragraph.\n"
    )
