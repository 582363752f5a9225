"""web/region_pieces.py with a real Jinja environment: a card made in one region is put into the
next region that shows the same paper object and key, each reader still gets their own choices
and values, and outside a region the body renders as usual."""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
import pytest

from paperboy.web.region_pieces import PieceCache
from paperboy.web.regions import RegionCache, reader_choice, reader_value

TEMPLATE = """\
{% macro card(paper) -%}
{% call shared_pieces(paper, "k") -%}
<{{ paper.title }}{{ calls.append(paper.id) or "" }}:
{%- call(x) reader_choice("on", paper.id, paper.id in on) %}{{ "ON" if x else "off" }}/
{{- reader_value("who", who) }}
{%- endcall %}>
{%- endcall %}
{%- endmacro -%}
{% call shared_region(basis, "k", values={"who": who}, choices={"on": on}) -%}
{% for paper in papers %}{{ card(paper) }}{{ reasons[paper.id] }};{% endfor %}
{%- endcall %}"""


@dataclass(frozen=True)
class FakePaper:  # what the cache reads of a paper: its id, and its identity
    id: int
    title: str


@pytest.fixture
def render():
    pieces = PieceCache()
    env = jinja2.Environment(autoescape=True)
    env.globals.update(
        shared_region=RegionCache(),
        shared_pieces=pieces,
        reader_choice=reader_choice,
        reader_value=reader_value,
    )
    template = env.from_string(TEMPLATE)
    calls: list[int] = []

    def render(basis, papers, who, on, reasons):
        return template.render(
            basis=basis, papers=papers, who=lambda: who, on=set(on), reasons=reasons, calls=calls
        )

    render.pieces, render.calls = pieces, calls
    return render


def test_a_card_is_made_once_and_shared_by_every_readers_region(render):
    a, b = FakePaper(1, "A"), FakePaper(2, "B<")
    html = render(object(), [a, b], "ada", {1}, {1: "r1", 2: "r2"})
    assert html == "<A:ON/ada>r1;<B&lt;:off/ada>r2;"
    # another reader's region (another basis): the cards come from the first, their own parts theirs
    html = render(object(), [b, a], "bob", {2}, {1: "s1", 2: "<s2>"})
    assert html == "<B&lt;:ON/bob>&lt;s2&gt;;<A:off/bob>s1;"
    assert render.calls == [1, 2]  # each card's body ran once
    assert (render.pieces.misses, render.pieces.hits) == (2, 2)


def test_a_new_paper_object_is_made_anew(render):
    render(object(), [FakePaper(1, "A")], "ada", set(), {1: ""})
    assert render(object(), [FakePaper(1, "A2")], "ada", set(), {1: ""}) == "<A2:off/ada>;"
    assert render.calls == [1, 1]


def test_outside_a_region_the_body_renders_for_this_reader():
    pieces = PieceCache()
    env = jinja2.Environment(autoescape=True)
    env.globals.update(shared_pieces=pieces, reader_choice=reader_choice, reader_value=reader_value)
    template = env.from_string(
        '{% call shared_pieces(p, "k") %}{% call(x) reader_choice("on", 1, on) %}{{ x }}{% endcall %}'
        '/{{ reader_value("who", who) }}{% endcall %}'
    )
    assert template.render(p=FakePaper(1, "A"), on=True, who=lambda: "ada") == "True/ada"
    assert len(pieces) == 0


UNKEPT = """\
{% call shared_region(basis, "k", values={"who": who}, choices={"on": on}, keep=false) -%}
{% for paper in papers %}{{ card(paper) }}{{ own[paper.id] }};{% endfor %}
{%- endcall %}"""


def test_a_region_not_kept_takes_the_shared_cards_and_keeps_none_of_the_readers_own():
    # The library page: each reader's own text (their notes) is in the region's body itself, so
    # the region is rendered per request; only the cards' pieces are shared.
    regions, pieces = RegionCache(), PieceCache()
    env = jinja2.Environment(autoescape=True)
    env.globals.update(
        shared_region=regions, shared_pieces=pieces, reader_choice=reader_choice, reader_value=reader_value
    )
    card = TEMPLATE.split("{%- endmacro -%}")[0] + "{%- endmacro -%}\n"
    template = env.from_string(card + UNKEPT)
    calls: list[int] = []
    a, b = FakePaper(1, "A"), FakePaper(2, "B")
    basis = object()

    def render(who, on, own):
        return template.render(basis=basis, papers=[a, b], who=lambda: who, on=set(on), own=own, calls=calls)

    assert render("ada", {1}, {1: "ada's <note>", 2: ""}) == "<A:ON/ada>ada&#39;s &lt;note&gt;;<B:off/ada>;"
    assert render("bob", {2}, {1: "", 2: "bob's"}) == "<A:off/bob>;<B:ON/bob>bob&#39;s;"  # the same basis
    assert calls == [1, 2]  # the cards' bodies ran once, for Ada
    assert (pieces.misses, pieces.hits) == (2, 2)
    assert len(regions) == 0  # nothing of either reader's region kept
