"""The search form: the query box and its controls, as GET parameters.

Every filter control adds its piece of query syntax to the box's text (`cat=cs.LG` adds
`cat:cs.LG`), so the search page, /api/v1/search and the query language are one thing. After a
search, filters typed as syntax move into their controls where a control can hold them (one
category, one author, the dates, has:code), so the box keeps the words and each filter lives in
one place: changing a control and searching again never contradicts the text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlencode

from paperboy.domain.search_query import QUOTES, InvalidSearchQuery, SearchQuery, query_pieces
from paperboy.services.search import MODES, SORTS, SearchRequestError

SEARCH_PATH = "/search"
DEFAULT_SORT = SORTS[0]
DEFAULT_MODE = MODES[0]
SORT_LABELS = {"relevance": "Relevance", "date": "Newest", "upvotes": "Most upvoted"}
MODE_LABELS = {"hybrid": "Keywords and meaning", "lexical": "Keywords only", "semantic": "Meaning only"}
# The controls and the filter each one writes; "code" is a checkbox.
CONTROL_FIELDS = {"cat": "cat", "author": "author", "after": "after", "before": "before", "code": "has"}
_MAX_PAGE_DIGITS = 6  # results stop at 1000 anyway


class InvalidParameter(SearchRequestError):
    """A parameter other than the query cannot be used; `name` says which."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True, slots=True)
class SearchForm:
    """What the reader asked for: the box's text, the controls, the order and the page."""

    q: str = ""
    cat: str = ""
    author: str = ""
    after: str = ""
    before: str = ""
    code: bool = False
    sort: str = DEFAULT_SORT
    mode: str = DEFAULT_MODE
    page: int = 1

    @property
    def is_empty(self) -> bool:
        """Nothing to search for: the page shows the empty form."""
        return not (self.q.strip() or self.cat or self.author or self.after or self.before or self.code)

    def query_text(self) -> str:
        """The box's text with each control's filter added: what the searcher parses."""
        pieces = [self.q.strip()]
        for control in ("cat", "author", "after", "before"):
            value = _unquoted(getattr(self, control))
            if value:
                pieces.append(f"{CONTROL_FIELDS[control]}:{_quoted_if_spaced(value)}")
        if self.code:
            pieces.append("has:code")
        return " ".join(piece for piece in pieces if piece)

    def params(self, **changes: object) -> dict[str, str]:
        """The GET parameters of this form (with `changes`), defaults left out."""
        form = replace(self, **changes)  # type: ignore[arg-type]
        params = {name: getattr(form, name) for name in ("q", "cat", "author", "after", "before")}
        values = {name: value.strip() for name, value in params.items() if value.strip()}
        if form.code:
            values["code"] = "1"
        if form.sort != DEFAULT_SORT:
            values["sort"] = form.sort
        if form.mode != DEFAULT_MODE:
            values["mode"] = form.mode
        if form.page > 1:
            values["page"] = str(form.page)
        return values

    def url(self, **changes: object) -> str:
        params = self.params(**changes)
        return f"{SEARCH_PATH}?{urlencode(params)}" if params else SEARCH_PATH

    def reflecting(self, query: SearchQuery) -> SearchForm:
        """This form after a successful search of `query`: filters typed in the box that a
        control can show move into it (when that control was empty and the box had only one of
        them). The box keeps everything else, in the order typed."""
        try:
            pieces = query_pieces(self.q)
        except InvalidSearchQuery:  # cannot happen once `query` parsed; keep the text as typed
            return self
        typed = Counter(piece.field for piece in pieces if piece.field)
        moved = {"has"} if typed["has"] else set()
        for control in ("cat", "author", "after", "before"):
            name = CONTROL_FIELDS[control]
            if typed[name] == 1 and not getattr(self, control):
                moved.add(name)
        # Controls show values as the query understood them: cat:CS.LG as cs.LG, after:2025-06
        # as 2025-06-01 (a date control holds whole days only).
        shown = {name for name in ("cat", "after", "before") if name in moved or getattr(self, name)}
        one_category = len(query.categories) == 1 and "cat" in shown
        return replace(
            self,
            q=" ".join(piece.text for piece in pieces if piece.field not in moved) if moved else self.q,
            cat=query.categories[0] if one_category else self.cat,
            author=query.authors[0] if "author" in moved else self.author,
            after=_day(query.date_from) if "after" in shown else self.after,
            before=_day(query.date_to) if "before" in shown else self.before,
            code=self.code or "has" in moved,
        )


def search_form(params: Mapping[str, str]) -> SearchForm:
    """The form from a request's query parameters. InvalidParameter (with a message for the
    reader) for a sort, mode or page that cannot be used."""
    sort = params.get("sort") or DEFAULT_SORT
    if sort not in SORTS:
        raise InvalidParameter("sort", f"sort must be one of {', '.join(SORTS)}, not {sort[:30]!r}")
    mode = params.get("mode") or DEFAULT_MODE
    if mode not in MODES:
        raise InvalidParameter("mode", f"mode must be one of {', '.join(MODES)}, not {mode[:30]!r}")
    page = whole_number("page", params.get("page"), default=1)
    return replace(lenient_search_form(params), page=page)


def lenient_search_form(params: Mapping[str, str]) -> SearchForm:
    """The form as typed, for showing it again with an error: a sort, mode or page that cannot
    be used is left at its default."""
    sort = params.get("sort") or DEFAULT_SORT
    mode = params.get("mode") or DEFAULT_MODE
    return SearchForm(
        q=params.get("q", "").strip(),
        cat=params.get("cat", "").strip(),
        author=params.get("author", "").strip(),
        after=params.get("after", "").strip(),
        before=params.get("before", "").strip(),
        code=_checked(params.get("code", "")),
        sort=sort if sort in SORTS else DEFAULT_SORT,
        mode=mode if mode in MODES else DEFAULT_MODE,
    )


def whole_number(name: str, text: str | None, *, default: int) -> int:
    """A positive whole number from a query parameter (absent or empty: `default`)."""
    if text is None or not text.strip():
        return default
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or int(text[: _MAX_PAGE_DIGITS + 1]) < 1:
        raise InvalidParameter(name, f"{name} must be a whole number from 1, not {text[:20]!r}")
    if len(text) > _MAX_PAGE_DIGITS:
        raise InvalidParameter(name, f"{name} {text[:20]} is far too large")
    return int(text)


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _checked(value: str) -> bool:
    """A checkbox sends its value ("1"); links may say true/on/yes. Anything else is unchecked."""
    return value.strip().lower() in ("1", "true", "on", "yes")


def _unquoted(value: str) -> str:
    """A control's value without double quotes, which the query language cannot nest."""
    return " ".join("".join(c for c in value if c not in QUOTES).split())


def _quoted_if_spaced(value: str) -> str:
    return f'"{value}"' if " " in value else value
