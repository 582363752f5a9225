"""The search box's query language. Pure code, no I/O; docs/search.md is the reference.

    graph neural "message passing" -survey author:lovelace cat:cs.LG after:2025-06 has:code

Words and "exact phrases" are what to find; a leading - excludes a word or a phrase; `field:value`
filters (author:, cat:, after:, before:, has:) narrow the results. A query of filters alone is a
*browse* query: valid, with no text to rank by (the caller orders it by date or upvotes).
"""

from __future__ import annotations

import calendar
import difflib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date

from paperboy.domain.categories import is_arxiv_category

MAX_QUERY_CHARS = 250
FIELDS = ("author", "cat", "after", "before", "has")
HAS_VALUES = ("code",)
# Straight and typographic double quotes: phones and word processors turn " into “ and ”.
QUOTES = frozenset('"“”„')
# `name:value` is read as a field only when `name` is made of letters. Prefixes that people paste
# from citations and links are text: "arXiv:1706.03762", "doi:10.1145/3065386".
TEXT_PREFIXES = frozenset({"arxiv", "doi", "http", "https", "isbn", "urn"})
_FIELD = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


class InvalidSearchQuery(ValueError):
    """A query the reader typed that cannot be run; str() is a message to show them."""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed query. Text keeps the case it was typed in (for display and highlighting);
    `lowered()` gives the form to match with. Dates are inclusive bounds; categories are
    alternatives (any of them), authors are all required."""

    terms: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    excluded_terms: tuple[str, ...] = ()
    excluded_phrases: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    has_code: bool = False
    # Words and phrases in the order they were typed, for the embedding model; not part of equality.
    positive_text: str = field(default="", compare=False, repr=False)

    @property
    def is_browse(self) -> bool:
        """True when there is nothing to rank by relevance: filters (and exclusions) only."""
        return not self.terms and not self.phrases

    def semantic_text(self) -> str:
        """The text to embed: words and phrases, without quotes, filters or exclusions."""
        return self.positive_text or " ".join(self.terms + self.phrases)

    def lowered(self) -> SearchQuery:
        """The same query with its text lower-cased, for case-insensitive matching."""
        return replace(
            self,
            terms=_lower(self.terms),
            phrases=_lower(self.phrases),
            excluded_terms=_lower(self.excluded_terms),
            excluded_phrases=_lower(self.excluded_phrases),
            authors=_lower(self.authors),
            positive_text=self.positive_text.lower(),
        )

    def describe(self) -> str:
        """A short summary for the results page: 'papers matching …, in cs.LG, with code'."""
        text = " ".join(self.terms + tuple(f'"{p}"' for p in self.phrases))
        parts = [f"papers matching {text}" if text else "all papers"]
        if self.authors:
            parts.append("by " + " and ".join(self.authors))
        if self.categories:
            parts.append("in " + " or ".join(self.categories))
        if self.date_from or self.date_to:
            parts.append(_describe_dates(self.date_from, self.date_to))
        if self.has_code:
            parts.append("with code")
        excluded = self.excluded_terms + tuple(f'"{p}"' for p in self.excluded_phrases)
        if excluded:
            parts.append("without " + ", ".join(excluded))
        return ", ".join(parts)


def parse_search_query(text: str) -> SearchQuery:
    """Parse what the reader typed; raises InvalidSearchQuery with a message to show them."""
    text = _clean(text)
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidSearchQuery(
            f"the query is longer than {MAX_QUERY_CHARS} characters (it has {len(text)})"
        )
    draft = _Draft()
    for token in _tokens(text):
        draft.add(token)
    return draft.finish()


@dataclass(frozen=True, slots=True)
class QueryPiece:
    """One word, "phrase", exclusion or filter of a query, written so that it can be typed again."""

    text: str
    field: str | None = None  # the filter's name, lower case, for name:value pieces


def query_pieces(text: str) -> list[QueryPiece]:
    """The query's pieces in the order typed (punctuation alone dropped), so that a search form
    can move some filters into its controls and join the rest with spaces. Raises
    InvalidSearchQuery when the text cannot be read (an unclosed quote, an unknown filter); the
    query as a whole (dates, categories, repeats) is parse_search_query's to check."""
    return [_piece(token) for token in _tokens(_clean(text))]


def _piece(token: _Token) -> QueryPiece:
    sign = "-" if token.negated else ""
    if token.field is not None:
        value = f'"{token.value}"' if any(c.isspace() for c in token.value) else token.value
        return QueryPiece(f"{sign}{token.field}:{value}", token.field)
    return QueryPiece(sign + (f'"{token.value}"' if token.quoted else token.value))


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    negated: bool = False
    quoted: bool = False
    field: str | None = None  # lower-cased field name for `name:value`


@dataclass(slots=True)
class _Draft:
    """What has been read so far; finish() checks it as a whole and freezes it."""

    terms: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded_terms: list[str] = field(default_factory=list)
    excluded_phrases: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    has_code: bool = False
    positive: list[str] = field(default_factory=list)

    def add(self, token: _Token) -> None:
        if token.field is not None:
            self.add_filter(token.field, token)
        elif token.quoted:
            (self.excluded_phrases if token.negated else self.phrases).append(token.value)
        else:
            (self.excluded_terms if token.negated else self.terms).append(token.value)
        if token.field is None and not token.negated:
            self.positive.append(token.value)

    def add_filter(self, name: str, token: _Token) -> None:
        value = token.value
        if token.negated:
            raise InvalidSearchQuery(f"only words and phrases can be excluded; -{name}: is not supported")
        if not value:
            raise InvalidSearchQuery(f"{name}: needs a value right after the colon, like {_EXAMPLES[name]}")
        if name == "author":
            self.authors.append(value)
        elif name == "cat":
            self.categories.append(_category(value))
        elif name == "has":
            self.has_code = _has(value)
        elif name == "after":
            _only_once(name, self.date_from)
            self.date_from = _date_bound(name, value, end=False)
        else:
            _only_once(name, self.date_to)
            self.date_to = _date_bound(name, value, end=True)

    def finish(self) -> SearchQuery:
        query = SearchQuery(
            terms=_unique(self.terms),
            phrases=_unique(self.phrases),
            excluded_terms=_unique(self.excluded_terms),
            excluded_phrases=_unique(self.excluded_phrases),
            authors=_unique(self.authors),
            categories=_unique(self.categories),
            date_from=self.date_from,
            date_to=self.date_to,
            has_code=self.has_code,
            positive_text=" ".join(self.positive),
        )
        _check(query)
        return query


_EXAMPLES = {
    "author": 'author:lovelace or author:"Ada Lovelace"',
    "cat": "cat:cs.LG",
    "after": "after:2025-06-01",
    "before": "before:2025-06-30",
    "has": "has:code",
}


def _check(query: SearchQuery) -> None:
    has_filters = bool(
        query.authors or query.categories or query.date_from or query.date_to or query.has_code
    )
    if query.is_browse and not has_filters:
        if query.excluded_terms or query.excluded_phrases:
            raise InvalidSearchQuery("type at least one word to search for; -exclusions only narrow a search")
        raise InvalidSearchQuery("type at least one word to search for")
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise InvalidSearchQuery(
            f"after:{query.date_from} is later than before:{query.date_to}, so nothing can match"
        )
    both = {t.lower() for t in query.terms} & {t.lower() for t in query.excluded_terms}
    both |= {p.lower() for p in query.phrases} & {p.lower() for p in query.excluded_phrases}
    if both:
        raise InvalidSearchQuery(f"'{sorted(both)[0]}' is both searched for and excluded")


def _clean(text: str) -> str:
    """NFC (so é typed either way is one character), control characters as spaces, trimmed."""
    text = unicodedata.normalize("NFC", text)
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in text).strip()


def _tokens(text: str) -> Iterator[_Token]:
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        # A dash before a digit is a minus sign (`-2`, `-1.5 eV`), not an exclusion.
        negated = (
            text[i] == "-"
            and i + 1 < len(text)
            and not text[i + 1].isspace()
            and text[i + 1] not in "-0123456789"
        )
        token, i = _read_token(text, i + 1 if negated else i, negated)
        if token is not None:
            yield token


def _read_token(text: str, i: int, negated: bool) -> tuple[_Token | None, int]:
    """One word, "phrase" or field:value starting at i; None for punctuation alone."""
    if text[i] in QUOTES:
        value, i = _read_quoted(text, i)
        return (_Token(value, negated, quoted=True) if _has_word(value) else None), i
    end = i
    while end < len(text) and not text[end].isspace():
        if end > i and text[end] in QUOTES and text[end - 1] == ":" and _is_field(text[i : end - 1]):
            value, after = _read_quoted(text, end)  # field:"quoted value"
            return _field_token(text[i : end - 1], " ".join(value.split()), negated), after
        end += 1
    return _word_token(text[i:end], negated), end


def _read_quoted(text: str, opening: int) -> tuple[str, int]:
    closing = next((j for j in range(opening + 1, len(text)) if text[j] in QUOTES), -1)
    if closing < 0:
        snippet = text[opening:][:30]
        raise InvalidSearchQuery(f'unclosed quote: {snippet} needs a closing "')
    return " ".join(text[opening + 1 : closing].split()), closing + 1


def _word_token(word: str, negated: bool) -> _Token | None:
    match = _FIELD.fullmatch(word)
    if match and _is_field(match[1]):
        name, value = match[1], match[2]
        if name.lower() in FIELDS or (value and not value.startswith("/")):
            return _field_token(name, value, negated)
    return _Token(word, negated) if _has_word(word) else None


def _field_token(name: str, value: str, negated: bool) -> _Token:
    name = name.lower()
    if name not in FIELDS:
        raise InvalidSearchQuery(_unknown_field_message(name))
    return _Token(value, negated, field=name)


def _unknown_field_message(name: str) -> str:
    known = ", ".join(f"{f}:" for f in FIELDS)
    close = difflib.get_close_matches(name, FIELDS, n=1)
    hint = f" (did you mean {close[0]}:?)" if close else ""
    return f"{name}: is not a filter{hint}; the filters are {known}"


def _is_field(name: str) -> bool:
    """Whether `name:` is meant as a filter (a known one or a mistyped one), not as text."""
    return name.isascii() and name.isalpha() and name.lower() not in TEXT_PREFIXES


def _has_word(text: str) -> bool:
    """Punctuation alone ('-', '&', '—') matches nothing and is dropped."""
    return any(c.isalnum() for c in text)


def _category(value: str) -> str:
    archive, dot, subject = value.partition(".")
    category = archive.lower() + dot + subject  # the archive is lower-case on arXiv: CS.LG is cs.LG
    if not is_arxiv_category(category):
        raise InvalidSearchQuery(f"cat: expects an arXiv category like cs.LG or hep-th, not '{value}'")
    return category


def _has(value: str) -> bool:
    if value.lower() not in HAS_VALUES:
        raise InvalidSearchQuery(f"has: expects {' or '.join(HAS_VALUES)}, not '{value}'")
    return True


def _only_once(name: str, current: date | None) -> None:
    if current is not None:
        raise InvalidSearchQuery(f"{name}: can be given only once")


def _date_bound(name: str, value: str, *, end: bool) -> date:
    """YYYY-MM-DD, or YYYY-MM / YYYY meaning the first (after:) or last (before:) day of it."""
    match = _DATE.fullmatch(value)
    try:
        if match is None:
            raise ValueError(value)
        year, month, day = int(match[1]), match[2], match[3]
        if month is None:
            return date(year, 12, 31) if end else date(year, 1, 1)
        if day is None:
            last = calendar.monthrange(year, int(month))[1] if 1 <= int(month) <= 12 else 0
            return date(year, int(month), last if end else 1)
        return date(year, int(month), int(day))
    except ValueError:
        raise InvalidSearchQuery(
            f"{name}: expects a date like 2025-06-01 (or 2025-06, or 2025), not '{value}'"
        ) from None


def _describe_dates(date_from: date | None, date_to: date | None) -> str:
    if date_from and date_to:
        return f"on {date_from}" if date_from == date_to else f"from {date_from} to {date_to}"
    return f"from {date_from}" if date_from else f"until {date_to}"


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    """Each value once (ignoring case), in the order first typed."""
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.lower(), value)
    return tuple(seen.values())


def _lower(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.lower() for v in values)
