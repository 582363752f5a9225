"""Citations of catalogue papers: BibTeX entries and RIS records. Pure: a Paper in, text out.

BibTeX values are escaped so that every entry's braces balance whatever a title holds. BibTeX
and biber count every brace in a value, escaped or not (`\\{` opens a group for them), so a
literal brace in text becomes `\\textbraceleft{}` / `\\textbraceright{}`, and in `$…$` math, where
`\\{` is a brace to print, `\\lbrace` / `\\rbrace`. Math whose own groups do not balance is
escaped as text; everything else has LaTeX's special characters escaped. RIS records end their
lines with CRLF, as the RIS specification asks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from paperboy.domain.arxiv_ids import abs_url
from paperboy.domain.models import Paper

# Words a citation key skips when it takes the title's first word.
_STOP_WORDS = frozenset({"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "from", "towards"})
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_TEXT_SPECIAL = re.compile(r"[\\{}&%#_$~^]")
_MATH = re.compile(r"\$[^$]+\$")
# Inside math: a control sequence (a backslash and letters, or a backslash and one character), a
# group brace, or a character that is special even there (comment, alignment, parameter).
_MATH_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\\$|[{}%&#]", re.DOTALL)
_MATH_SPECIAL = frozenset("%&#")
_MATH_BRACES = {"\\{": "\\lbrace ", "\\}": "\\rbrace "}
_RIS_EOL = "\r\n"


def citation_key(paper: Paper) -> str:
    """lovelace2025attention: the first author's last name, the year and the title's first
    significant word, in ASCII letters; stable for a paper whatever else changes."""
    last_name = paper.authors[0].split()[-1] if paper.authors and paper.authors[0].split() else "anonymous"
    words = [_ascii_letters(word) for word in paper.title.split()]
    first_word = next((w for w in words if w and w not in _STOP_WORDS), "") or next(filter(None, words), "")
    year = paper_year(paper)
    return f"{_ascii_letters(last_name) or 'anonymous'}{year or ''}{first_word}"


def paper_year(paper: Paper) -> int | None:
    """The year of v1, else of the first listing, else the one a new-style id encodes."""
    if paper.published_at:
        return paper.published_at.year
    if paper.first_listed:
        return paper.first_listed.year
    head = paper.arxiv_id.split(".")[0]
    if head.isdigit() and len(head) == 4:
        return 2000 + int(head[:2])
    return None


def bibtex_entry(paper: Paper) -> str:
    """@article when a journal reference is known, else @misc (arXiv's own convention)."""
    kind = "article" if paper.journal_ref else "misc"
    fields: list[tuple[str, str]] = [
        ("title", "{" + latex_escape(paper.title) + "}"),  # double braces keep its capitals
        ("author", " and ".join(_bibtex_name(name) for name in paper.authors)),
        ("year", str(paper_year(paper) or "")),
        ("eprint", paper.arxiv_id),
        ("archivePrefix", "arXiv"),
        ("primaryClass", paper.primary_category or ""),
        ("journal", latex_escape(paper.journal_ref or "")),
        ("doi", latex_escape(paper.doi or "")),
        ("url", abs_url(paper.arxiv_id)),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@{kind}{{{citation_key(paper)},\n{body}\n}}\n"


def bibtex_entries(papers: Iterable[Paper]) -> str:
    """Several entries, a blank line apart; keys that collide get a, b, c… suffixes."""
    seen: dict[str, int] = {}
    entries = []
    for paper in papers:
        entry = bibtex_entry(paper)
        key = citation_key(paper)
        count = seen.get(key, 0)
        seen[key] = count + 1
        if count:
            entry = entry.replace(key, key + _suffix(count), 1)
        entries.append(entry)
    return "\n".join(entries)


def latex_escape(text: str) -> str:
    """Text safe inside a BibTeX value: math kept where its braces balance, the rest escaped."""
    text = " ".join(text.split())
    out, position = [], 0
    for match in _MATH.finditer(text):
        out.append(_escape_text(text[position : match.start()]))
        math = _math(match.group()[1:-1])
        out.append(_escape_text(match.group()) if math is None else f"${math}$")
        position = match.end()
    out.append(_escape_text(text[position:]))
    return "".join(out)


def ris_record(paper: Paper) -> str:
    """One RIS record: UNPB (a preprint) or JOUR (a journal reference is known)."""
    lines = [("TY", "JOUR" if paper.journal_ref else "UNPB")]
    lines += [("AU", name) for name in paper.authors]
    lines.append(("TI", paper.title))
    year = paper_year(paper)
    if year:
        lines.append(("PY", str(year)))
    if paper.published_at:
        lines.append(("DA", paper.published_at.strftime("%Y/%m/%d")))
    if paper.journal_ref:
        lines.append(("JO", paper.journal_ref))
    lines.append(("AB", paper.abstract))
    lines += [("KW", category) for category in paper.categories]
    lines.append(("UR", abs_url(paper.arxiv_id)))
    if paper.doi:
        lines.append(("DO", paper.doi))
    lines += [("AN", f"arXiv:{paper.arxiv_id}"), ("DB", "arXiv")]
    text = "".join(f"{tag}  - {' '.join(value.split())}{_RIS_EOL}" for tag, value in lines)
    return text + "ER  - " + _RIS_EOL


def ris_records(papers: Iterable[Paper]) -> str:
    return _RIS_EOL.join(ris_record(paper) for paper in papers)


def _bibtex_name(name: str) -> str:
    """A name as written; braced whole when it holds the word "and", which BibTeX splits on."""
    escaped = latex_escape(name)
    return "{" + escaped + "}" if " and " in f" {escaped.lower()} " else escaped


def _escape_text(text: str) -> str:
    return _TEXT_SPECIAL.sub(lambda match: _TEXT_ESCAPES[match.group()], text)


def _math(tex: str) -> str | None:
    """The inside of `$…$` with no brace BibTeX could miscount; None when its groups do not
    balance, or when it ends in a lone backslash (which would escape the closing `$`)."""
    out, depth, position = [], 0, 0
    for token in _MATH_TOKEN.finditer(tex):
        out.append(tex[position : token.start()])
        position = token.end()
        text = token.group()
        if text == "\\":
            return None
        depth += {"{": 1, "}": -1}.get(text, 0)
        if depth < 0:
            return None
        out.append(_MATH_BRACES.get(text) or ("\\" + text if text in _MATH_SPECIAL else text))
    out.append(tex[position:])
    return "".join(out) if depth == 0 else None


def _ascii_letters(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in folded.lower() if char.isalpha())


def _suffix(count: int) -> str:
    return chr(ord("a") + count - 1) if count <= 26 else str(count)
