"""The library page's cards, put together per request with string formatting instead of macro
calls: ~60% of the page's CPU was its template, the 20 cards' macros (vote, save, read mark,
note, "Save to…") run per request with every reader's own values (bench/README.md, "personal").

The forms stay the templates' (`_vote.html`, `_save.html`, `_keep.html`): each is rendered once
per process and variant (the vote mode, voted or not, read or not) with a sentinel in place of
every value that changes from card to card or reader to reader (the arXiv id, the count, the
CSRF token, the return address, the note, the field ids), and kept as a format string
(`Compiled`); a card then costs a few `str.format_map` calls of escaped values. "Save to…"'s
checkbox line is found as the difference between the form rendered with no collection and with
one. What every reader shares (the title, the body with authors, categories and abstract, the
links and counts) comes from the fragment cache (web/fragments.py), as before. Nothing is kept
per reader or per card: the compiled forms are a few dozen strings per process, which the
collector does not track.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from paperboy.domain.calendar import format_short_day
from paperboy.services.library import LibraryItem, LibraryPage
from paperboy.web.fragments import FragmentCache

MANY_COLLECTIONS = 20  # past this, a card links to the paper page's "Save to…" (_keep.html)
_SLOT = re.compile(r"PBSLOT([a-z_]+)PBEND")


def _sentinel(name: str) -> str:
    """A value no escaping or URL quoting changes (letters only), found again in the output."""
    return f"PBSLOT{name}PBEND"


def _marked(name: str) -> Markup:
    """A sentinel where a macro prints its argument as it is (a count, a note escaped before)."""
    return Markup(_sentinel(name))  # noqa: S704 - letters only


@dataclass(frozen=True, slots=True)
class Compiled:
    """A form rendered with sentinels, as a format string: `fill(values)` puts each slot's
    (escaped) value in."""

    template: str

    @classmethod
    def of(cls, html: str) -> Compiled:
        text = html.replace("{", "{{").replace("}", "}}")
        return cls(_SLOT.sub(r"{\1}", text))

    def fill(self, values: Mapping[str, str]) -> str:
        return self.template.format_map(values)


class _SentinelReader:
    """The macros' `reader` (web/templating.py's Reader) with sentinels for the token and the
    return address, and the page's viewer (how they may vote)."""

    __slots__ = ("viewer",)

    def __init__(self, viewer: Any) -> None:
        self.viewer = viewer

    def csrf_token(self) -> str:
        return _sentinel("csrf")

    def here(self) -> str:
        return _sentinel("next")


@dataclass(frozen=True, slots=True)
class _Forms:
    """One vote mode's compiled forms."""

    vote: tuple[Compiled, Compiled]  # not voted, voted
    save: tuple[Compiled, Compiled]  # not saved, saved
    read: tuple[Compiled, Compiled]  # unread, read
    note: Compiled
    save_to: Compiled  # with a {choices} slot
    choice: tuple[Compiled, Compiled]  # a collection's checkbox line: not held, held
    controls: Compiled  # up, down, out of the collection shown


class LibraryCards:
    """`library_cards(reader, library)` in the templates: the page's cards as
    Markup. Compiles the forms on first use per vote mode. Thread-safe."""

    def __init__(
        self, env: jinja2.Environment, fragments: FragmentCache, vote_mode: Callable[[Any], str]
    ) -> None:
        self._env = env
        self._fragments = fragments
        self._vote_mode = vote_mode
        self._lock = threading.Lock()
        self._forms: dict[str, _Forms] = {}
        self._modules: dict[str, Any] = {}

    def __call__(self, reader: Any, library: LibraryPage) -> Markup:
        forms = self._forms_for(reader.viewer)
        shared = {"csrf": str(escape(reader.csrf_token())), "next": str(escape(reader.here()))}
        shown = library.collection
        owned = library.collections
        lines = [
            (
                c.id,
                forms.choice[0].fill({"cid": str(c.id), "cname": str(escape(c.name))}),
                forms.choice[1].fill({"cid": str(c.id), "cname": str(escape(c.name))}),
            )
            for c in owned
        ]
        card = _Card(self, forms, shared, lines, len(owned) > MANY_COLLECTIONS, shown.id if shown else None)
        return Markup("".join(card.html(item) for item in library.items))  # noqa: S704 - escaped parts

    def _forms_for(self, viewer: Any) -> _Forms:
        mode = self._vote_mode(viewer)
        found = self._forms.get(mode)
        if found is None:
            with self._lock:
                found = self._forms.get(mode) or self._compile(viewer)
                self._forms[mode] = found
        return found

    def _compile(self, viewer: Any) -> _Forms:
        vote = self._module("_vote.html")
        save = self._module("_save.html")
        keep = self._module("_keep.html")
        reader = _SentinelReader(viewer)
        arxiv, field = _sentinel("arxiv"), _sentinel("field")

        def two(render: Callable[[bool], str]) -> tuple[Compiled, Compiled]:
            return Compiled.of(render(False)), Compiled.of(render(True))

        return _Forms(
            vote=two(lambda on: vote.vote_button(reader, arxiv, _marked("upvotes"), on)),
            save=two(lambda on: save.save_button(reader, arxiv, on)),
            read=two(lambda on: keep.read_toggle(reader, arxiv, on)),
            note=Compiled.of(keep.note_form(reader, arxiv, _marked("note"), _sentinel("note_field"))),
            save_to=Compiled.of(_with_slot(lambda choices: keep.save_to(reader, arxiv, choices, field))),
            choice=two(
                lambda on: _choice_line(lambda choices: keep.save_to(reader, arxiv, choices, field), on)
            ),
            controls=Compiled.of(keep.in_collection_controls(reader, _marked("collection"), arxiv)),
        )

    def _module(self, name: str) -> Any:
        """A template's macros (Jinja makes the module once per template; looking it up is a
        lock and a loader check, so the card fragments' is kept here)."""
        found = self._modules.get(name)
        if found is None:
            found = self._modules[name] = self._env.get_template(name).module
        return found

    def fragment(self, item: LibraryItem, kind: str) -> str:
        """The card's part every reader shares (its title, body or foot), kept per paper object
        and counts (web/fragments.py)."""
        view = item.view
        paper, community = view.paper, view.community
        card = self._module("_card.html")
        if kind == "library-title":
            return self._fragments(paper, kind, lambda: card.card_title(paper))
        key = (kind, community.comments, community.submitted_by)
        macro = card.library_card_body if kind == "library" else card.library_card_foot
        return self._fragments(paper, key, lambda: macro(paper, community))


def _with_slot(render: Callable[[Sequence[tuple[str, str, bool]]], str]) -> str:
    """The "Save to…" form with a {choices} slot where its checkbox lines go."""
    empty, one = render([]), render([(_sentinel("cid"), _sentinel("cname"), False)])
    start, _ = _difference(empty, one)
    return empty[:start] + _sentinel("choices") + empty[start:]


def _choice_line(render: Callable[[Sequence[tuple[str, str, bool]]], str], held: bool) -> str:
    """A collection's checkbox line, as "Save to…" renders it."""
    empty, one = render([]), render([(_sentinel("cid"), _sentinel("cname"), held)])
    start, end = _difference(empty, one)
    return one[start:end]


def _difference(shorter: str, longer: str) -> tuple[int, int]:
    """Where `longer` has text that `shorter` has not: `longer[start:end]`, the rest the same."""
    start = 0
    while start < len(shorter) and shorter[start] == longer[start]:
        start += 1
    end = len(longer) - (len(shorter) - start)
    if longer[end:] != shorter[start:]:
        raise ValueError("the form's checkbox line could not be told from the rest")
    return start, end


@dataclass(frozen=True, slots=True)
class _Card:
    """One page's card maker: the reader's token and return address, their collections' lines."""

    cards: LibraryCards
    forms: _Forms
    shared: dict[str, str]
    lines: list[tuple[int, str, str]]  # (collection id, line not held, line held)
    many: bool  # more collections than a card lists
    shown: int | None  # the collection the page shows, if any

    def html(self, item: LibraryItem) -> str:
        view = item.view
        paper, community = view.paper, view.community
        arxiv_id = paper.arxiv_id
        values = {
            **self.shared,
            "arxiv": str(escape(quote(arxiv_id, safe="/"))),
            "upvotes": str(community.upvotes),
        }
        forms = self.forms
        return "".join(
            (
                '<article class="card">\n  <div class="card-head">\n    ',
                self.cards.fragment(item, "library-title"),
                '\n    <div class="card-actions">',
                forms.vote[community.voted].fill(values),
                forms.save[community.saved].fill(values),
                "</div>\n  </div>\n",
                self.cards.fragment(item, "library"),
                '\n  <p class="saved-at hint">Saved <time datetime="',
                str(escape(item.saved_at.isoformat())),
                '">',
                str(escape(format_short_day(item.saved_at.date()))),
                "</time></p>\n",
                self._keeping(item, values),
                forms.controls.fill({**values, "collection": str(self.shown)})
                if self.shown is not None
                else "",
                self.cards.fragment(item, "library-foot"),
                "\n</article>\n",
            )
        )

    def _keeping(self, item: LibraryItem, values: dict[str, str]) -> str:
        """The reader's read mark, note and collections on the card (_keep.html's forms)."""
        forms = self.forms
        note = str(escape(item.note))
        paper_id = str(item.view.paper.id)
        if self.many:
            collections = (
                f'<p><a href="/papers/{values["arxiv"]}#keeping-heading">Save to… your collections</a>'
                f" ({len(item.collections)} hold it)</p>"
            )
        else:
            held = item.collections
            choices = "".join(on if cid in held else off for cid, off, on in self.lines)
            collections = forms.save_to.fill(
                {**values, "choices": choices, "field": "new-collection-" + paper_id}
            )
        return "".join(
            (
                '<div class="card-keeping">\n  ',
                forms.read[item.read_at is not None].fill(values),
                f'<p class="note"><span class="hint">Your note:</span> {note}</p>' if note else "",
                '\n  <details class="keep-more">\n    <summary>Collections and note</summary>\n    ',
                collections,
                "\n    ",
                forms.note.fill({**values, "note": note, "note_field": "note-" + paper_id}),
                "\n  </details>\n</div>\n",
            )
        )
