"""BibTeX entries and RIS records of papers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperboy.domain.citations import (
    bibtex_entries,
    bibtex_entry,
    citation_key,
    latex_escape,
    paper_year,
    ris_record,
    ris_records,
)
from paperboy.domain.models import Paper


def paper(**fields: object) -> Paper:
    values: dict[str, object] = {
        "id": 1,
        "arxiv_id": "2506.12229",
        "title": "The Attention Is All You Need",
        "abstract": "We study attention.\n  In depth.",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "categories": ["cs.LG", "cs.AI"],
        "published_at": datetime(2025, 6, 11, 17, tzinfo=UTC),
    }
    values.update(fields)
    return Paper(**values)  # type: ignore[arg-type]


def balanced(text: str) -> bool:
    """Balanced as BibTeX and biber read a value: every brace counts, a backslash escapes none."""
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def entry_values(entry: str) -> list[str]:
    """The brace-delimited values of an entry, each up to the brace that closes it for BibTeX."""
    values = []
    for start in (match.end() for match in re.finditer(r" = \{", entry)):
        depth = 1
        for end in range(start, len(entry)):
            depth += {"{": 1, "}": -1}.get(entry[end], 0)
            if depth == 0:
                values.append(entry[start:end])
                break
    return values


def test_citation_keys_are_last_name_year_and_first_significant_word() -> None:
    assert citation_key(paper()) == "lovelace2025attention"
    assert citation_key(paper(authors=["Édouard Brézin"], title="À propos")) == "brezin2025propos"
    assert citation_key(paper(authors=[], title="On a Theorem")) == "anonymous2025theorem"
    assert citation_key(paper(title="The", authors=["X Ng"])) == "ng2025the"


def test_the_year_falls_back_to_the_listing_then_the_id() -> None:
    assert paper_year(paper(published_at=None, first_listed=date(2024, 1, 2))) == 2024
    assert paper_year(paper(published_at=None, arxiv_id="0704.0001")) == 2007
    assert paper_year(paper(published_at=None, arxiv_id="hep-th/9901001")) is None


def test_a_preprint_is_misc_with_arxiv_fields() -> None:
    entry = bibtex_entry(paper())
    assert entry == (
        "@misc{lovelace2025attention,\n"
        "  title = {{The Attention Is All You Need}},\n"
        "  author = {Ada Lovelace and Alan Turing},\n"
        "  year = {2025},\n"
        "  eprint = {2506.12229},\n"
        "  archivePrefix = {arXiv},\n"
        "  primaryClass = {cs.LG},\n"
        "  url = {https://arxiv.org/abs/2506.12229}\n"
        "}\n"
    )


def test_a_journal_reference_makes_an_article_with_doi() -> None:
    entry = bibtex_entry(paper(journal_ref="Phys. Rev. D 76 & more", doi="10.1103/Phys_Rev"))
    assert entry.startswith("@article{")
    assert "  journal = {Phys. Rev. D 76 \\& more},\n" in entry
    assert "  doi = {10.1103/Phys\\_Rev},\n" in entry


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50% of A & B #1 x_y", "50\\% of A \\& B \\#1 x\\_y"),
        ("unbalanced { brace", "unbalanced \\textbraceleft{} brace"),
        ("} closing first {", "\\textbraceright{} closing first \\textbraceleft{}"),
        (
            "a \\emph{b} ~ ^",
            "a \\textbackslash{}emph\\textbraceleft{}b\\textbraceright{}"
            " \\textasciitilde{} \\textasciicircum{}",
        ),
        ("math $O(n^{2})$ kept", "math $O(n^{2})$ kept"),
        ("math with % $a%b$", "math with \\% $a\\%b$"),
        ("broken math $x}{$ here", "broken math \\$x\\textbraceright{}\\textbraceleft{}\\$ here"),
        ("the set $\\{$ opens", "the set $\\lbrace $ opens"),  # BibTeX counts the brace of a \{
        ("sets $\\{x\\}$ and $\\\\{a}$", "sets $\\lbrace x\\rbrace $ and $\\\\{a}$"),
        ("line break $a\\\\%b$", "line break $a\\\\\\%b$"),
        ("a lone $5 dollar", "a lone \\$5 dollar"),
        ("wrapped\n   lines", "wrapped lines"),
    ],
)
def test_latex_escape(text: str, expected: str) -> None:
    assert latex_escape(text) == expected
    assert balanced(latex_escape(text))


@pytest.mark.parametrize(
    "title",
    ["{{{", "}}}", "\\", "$}$", "$\\}$ {", "a $b {$ c $d}$", "]]> <script> & \\end{document}", "$$$"],
)
def test_hostile_titles_always_give_balanced_entries(title: str) -> None:
    entry = bibtex_entry(paper(title=title, authors=["Jo {Brace", "Tom and Jerry"]))
    assert balanced(entry)
    assert "{Tom and Jerry}" in entry  # BibTeX would split on the word otherwise


# Titles and abstracts as hostile as they come: TeX's special characters, math, spaces.
TEXT = st.text(alphabet=st.sampled_from("{}\\$%&#_~^ ab1\n"), max_size=40)


@given(TEXT)
def test_every_escaped_text_is_balanced_for_bibtex(text: str) -> None:
    assert balanced(latex_escape(text))


@given(title=TEXT, author=TEXT, journal=TEXT)
def test_every_value_of_every_entry_is_balanced_for_bibtex(title: str, author: str, journal: str) -> None:
    entry = bibtex_entry(paper(title=title or "t", authors=[author or "a"], journal_ref=journal or None))
    assert balanced(entry)
    values = entry_values(entry)
    assert values[-1] == "https://arxiv.org/abs/2506.12229"  # no value swallowed the ones after it
    assert all(balanced(value) for value in values)


def test_the_reported_title_gives_a_balanced_entry() -> None:
    entry = bibtex_entry(paper(title="Sets $\\{$ and $\\}$ apart, $\\{x$"))
    assert "title = {{Sets $\\lbrace $ and $\\rbrace $ apart, $\\lbrace x$}}," in entry
    assert balanced(entry)


def test_colliding_keys_get_letters() -> None:
    entries = bibtex_entries([paper(), paper(arxiv_id="2506.00001"), paper(arxiv_id="2506.00002")])
    assert "@misc{lovelace2025attention," in entries
    assert "@misc{lovelace2025attentiona," in entries
    assert "@misc{lovelace2025attentionb," in entries


def test_ris_record_fields_and_line_ends() -> None:
    record = ris_record(paper(doi="10.1/x", journal_ref="J. 1"))
    assert record.split("\r\n") == [
        "TY  - JOUR",
        "AU  - Ada Lovelace",
        "AU  - Alan Turing",
        "TI  - The Attention Is All You Need",
        "PY  - 2025",
        "DA  - 2025/06/11",
        "JO  - J. 1",
        "AB  - We study attention. In depth.",
        "KW  - cs.LG",
        "KW  - cs.AI",
        "UR  - https://arxiv.org/abs/2506.12229",
        "DO  - 10.1/x",
        "AN  - arXiv:2506.12229",
        "DB  - arXiv",
        "ER  - ",
        "",
    ]
    assert ris_record(paper()).startswith("TY  - UNPB\r\n")


def test_several_ris_records_are_separated() -> None:
    records = ris_records([paper(), paper(arxiv_id="2506.00001", title="Line\nbreak")])
    assert records.count("TY  - ") == 2
    assert records.count("ER  - ") == 2
    assert "TI  - Line break\r\n" in records
