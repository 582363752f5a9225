"""TeX in titles and abstracts as MathML: safe HTML made on the server, no script in the browser.

A text is split into plain text and math: `$…$` and `\\(…\\)` inline, `$$…$$` and `\\[…\\]` on
their own line (`display="block"`). `\\$` is a dollar sign. A `$` opens math before a non-space
and closes it after one, so that "from $5 to $10" stays text; a `$` that nothing closes is text.

Each piece of math goes through latex2mathml. Its MathML is never trusted as a string (the
library un-escapes its own output): the element tree is written out again here, with an
allow-list of elements and attributes and every text escaped. Whatever cannot be shown that way
is shown as the TeX it was written as: a parse error, a command latex2mathml does not know (it
would print `\\foo` as a letter), a command that has no place in an abstract and could do harm
(`\\href`, `\\url`, `\\def`, `\\style`, colours), a character that is not for showing (controls,
bidi overrides: `\\unicode{x202E}`), too much nesting, too long a formula.

Search, JSON and plain-text mail keep the raw text; only HTML goes through here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from xml.etree.ElementTree import Element

from latex2mathml.converter import convert_to_element
from markupsafe import Markup, escape

MAX_TEXT_CHARS = 20_000  # longer texts (no real abstract is) are shown as text, math and all
MAX_MATH_CHARS = 600  # one formula's TeX; arXiv's longest real ones are around 300
MAX_SPANS = 200  # formulas in one text; the rest stay TeX
MAX_BRACE_DEPTH = 12  # {…} inside {…}: real formulas nest 4 or 5 deep
MAX_TREE_DEPTH = 40  # the MathML elements, nested (\sqrt\sqrt\sqrt… nests without braces)

# Presentation MathML (MathML Core and the few elements latex2mathml writes beyond it).
_ELEMENTS = frozenset(
    {
        "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "munder",
        "mover", "munderover", "mfrac", "msqrt", "mroot", "mstyle", "mpadded", "mphantom",
        "menclose", "mtable", "mtr", "mtd", "mlabeledtr", "mmultiscripts", "mprescripts", "none",
        "merror",
    }
)  # fmt: skip
# Layout attributes only: none takes a URL, a style, a class, an id, a colour or an event.
_ATTRIBUTES = frozenset(
    {
        "mathvariant", "stretchy", "fence", "separator", "largeop", "movablelimits", "symmetric",
        "form", "accent", "accentunder", "displaystyle", "scriptlevel", "linethickness",
        "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines", "frame",
        "notation", "columnspan", "rowspan", "lspace", "rspace", "minsize", "maxsize", "width",
        "height", "depth", "voffset",
    }
)  # fmt: skip
_LENGTH_ATTRIBUTES = frozenset(
    {"lspace", "rspace", "minsize", "maxsize", "width", "height", "depth", "voffset"}
)
_VALUE = re.compile(r"[A-Za-z0-9.% -]{1,80}")  # words and numbers: no (), no :, no quotes
_LENGTH = re.compile(r"[+-]?(?:\d{1,2}(?:\.\d*)?|\.\d+)(?:em|ex|pt|px|mu|%)?")  # under 100 units
# Commands refused outright: links, definitions (\def loops), styles, colours, raw characters
# (\unicode only as \unicode{x2013}: latex2mathml reads decimal as hex; _character vets the rest).
_REFUSED = re.compile(
    r"\\(?:href|url|[egx]?def|let|(?:re)?newcommand|providecommand|newenvironment|DeclareMathOperator"
    r"|unicode(?!\{x[0-9A-Fa-f]{1,6}\})|style|class|cssId|color|textcolor|colorbox|fcolorbox|require"
    r"|html\w*|mmlToken|input|include|write|csname|catcode|expandafter|char)(?![A-Za-z])"
)
_BRACE = re.compile(r"\\.|[{}]")  # a brace, or an escaped character (\{ is no brace)
_CHARACTER_REFERENCE = re.compile(r"&#x([0-9A-Fa-f]{1,6});")  # how latex2mathml writes symbols
_INVISIBLE_OPERATORS = frozenset(chr(code) for code in range(0x2061, 0x2065))  # function application…
_OPENERS = re.compile(r"\\\$|\$\$|\$(?!\s)|\\\(|\\\[")
_CLOSERS = {
    "$$": re.compile(r"(?<!\\)\$\$"),
    "$": re.compile(r"(?<![\s\\])\$"),
    "\\(": re.compile(r"\\\)"),
    "\\[": re.compile(r"\\\]"),
}


@dataclass(frozen=True, slots=True)
class MathSpan:
    start: int  # where the opening delimiter starts in the text
    end: int  # just after the closing delimiter
    source: str  # the TeX between the delimiters
    display: bool  # $$…$$ or \[…\]: a formula on its own line


@dataclass(frozen=True, slots=True)
class MathStats:
    """What rendering a text did: formulas found, shown as MathML, shown as their TeX."""

    spans: int = 0
    rendered: int = 0
    fallback: int = 0


def math_html(text: str) -> Markup:
    """`text` as safe HTML: escaped, its math as MathML (or as its TeX where it cannot be)."""
    if "$" not in text and "\\" not in text:  # most titles: nothing to look for, nothing to cache
        return escape(text)  # as Jinja's autoescape would: the same entities as the rest of a page
    return _cached_math_html(text)


@lru_cache(maxsize=8192)
def _cached_math_html(text: str) -> Markup:
    parts, position = [], 0
    for span in math_spans(text):
        parts.append(text_html(text[position : span.start]))
        parts.append(span_html(text, span))
        position = span.end
    parts.append(text_html(text[position:]))
    return Markup("".join(parts))  # noqa: S704 - every part escaped or written from an allow-list


def math_stats(text: str) -> MathStats:
    """How `text`'s math renders (for tests and benchmarks: the page only needs math_html)."""
    spans = math_spans(text)
    rendered = sum(1 for span in spans if mathml(span.source, span.display) is not None)
    return MathStats(spans=len(spans), rendered=rendered, fallback=len(spans) - rendered)


def text_html(text: str) -> str:
    """Text outside math, escaped; TeX's escaped dollar `\\$` reads as a dollar."""
    return str(escape(text)).replace("\\$", "$")


def span_html(text: str, span: MathSpan) -> str:
    """The span's MathML, or the span as written (delimiters included), escaped."""
    rendered = mathml(span.source, span.display)
    return str(escape(text[span.start : span.end])) if rendered is None else rendered


@lru_cache(maxsize=4096)
def math_spans(text: str) -> tuple[MathSpan, ...]:
    """The math in `text`, in order; none in a text too long to be a title or an abstract."""
    if len(text) > MAX_TEXT_CHARS or ("$" not in text and "\\" not in text):
        return ()
    spans: list[MathSpan] = []
    position = 0
    while len(spans) < MAX_SPANS:
        opener = _OPENERS.search(text, position)
        if opener is None:
            break
        delimiter = opener[0]
        if delimiter == "\\$":
            position = opener.end()
            continue
        closer = _CLOSERS[delimiter].search(text, opener.end())
        source = text[opener.end() : closer.start()] if closer else ""
        if closer is None or not source.strip():
            position = opener.end()  # a lone delimiter is text
            continue
        spans.append(MathSpan(opener.start(), closer.end(), source, delimiter in ("$$", "\\[")))
        position = closer.end()
    return tuple(spans)


def cut_outside_math(text: str, index: int) -> int:
    """`index`, or the start of the formula it falls in: a cut there leaves no half formula."""
    span = math_span_at(text, index)
    return index if span is None else span.start


def math_span_at(text: str, index: int) -> MathSpan | None:
    """The formula that a cut at `index` would split, if any."""
    for span in math_spans(text):
        if span.start < index < span.end:
            return span
        if span.start >= index:
            break
    return None


@lru_cache(maxsize=16384)
def mathml(source: str, display: bool) -> str | None:
    """The TeX `source` as safe MathML, or None when it cannot be shown as MathML."""
    if len(source) > MAX_MATH_CHARS or _REFUSED.search(source) or not _braces_fit(source):
        return None
    try:
        tree = convert_to_element(source, display="block" if display else "inline")
    except Exception:  # any error of the converter (and RecursionError): the TeX is shown instead
        return None
    try:
        inner = "".join(_write(child, 1) for child in tree)
    except _Unsafe:
        return None
    return f'<math display="block">{inner}</math>' if display else f"<math>{inner}</math>"


class _Unsafe(Exception):
    """The converter's tree holds something not shown as MathML: an unknown element or command."""


def _braces_fit(source: str) -> bool:
    """Braces balanced and nested at most MAX_BRACE_DEPTH deep (escaped \\{ \\} aside)."""
    depth = 0
    for match in _BRACE.finditer(source):
        if match[0] == "{":
            depth += 1
            if depth > MAX_BRACE_DEPTH:
                return False
        elif match[0] == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _write(element: Element, depth: int) -> str:
    tag = element.tag
    if tag not in _ELEMENTS or depth > MAX_TREE_DEPTH:
        raise _Unsafe(tag)
    shown = sorted((name, value) for name, value in element.attrib.items() if _allowed(name, value))
    attributes = "".join(f' {name}="{escape(value)}"' for name, value in shown)
    text = _text(element.text, tag)
    children = "".join(_write(child, depth + 1) + _text(child.tail, tag) for child in element)
    return f"<{tag}{attributes}>{text}{children}</{tag}>"


def _allowed(name: str, value: str) -> bool:
    if name not in _ATTRIBUTES:
        return False
    pattern = _LENGTH if name in _LENGTH_ATTRIBUTES else _VALUE
    return pattern.fullmatch(value) is not None


def _text(text: str | None, tag: str) -> str:
    """A text of the tree, escaped; latex2mathml writes symbols as &#x…; references."""
    if not text:
        return ""
    if tag in ("mi", "mo") and len(text) > 1 and text.startswith("\\"):
        raise _Unsafe(text)  # a command latex2mathml does not know, printed as its name
    return str(escape(_CHARACTER_REFERENCE.sub(_character, text)))


def _character(reference: re.Match[str]) -> str:
    code = int(reference[1], 16)
    if code > 0x10FFFF:
        raise _Unsafe(reference[0])
    character = chr(code)
    # Controls, bidi overrides, surrogates, private and unassigned code points: not shown.
    if unicodedata.category(character).startswith("C") and character not in _INVISIBLE_OPERATORS:
        raise _Unsafe(reference[0])
    return character
