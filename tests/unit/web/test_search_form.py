"""The search form: controls merged into the query, typed filters moved into controls, links
that keep every parameter, and the pieces of a query (domain/search_query.query_pieces)."""

from __future__ import annotations

import pytest

from paperboy.domain.search_query import InvalidSearchQuery, parse_search_query, query_pieces
from paperboy.services.search import SearchRequestError
from paperboy.web.search import page_numbers
from paperboy.web.search_form import InvalidParameter, SearchForm, search_form


@pytest.mark.parametrize(
    "text",
    [
        'graph "message passing" -survey -"a review" author:lovelace cat:cs.LG after:2025-06 has:code',
        "“diffusion model” proteins author:“Ada  Lovelace” C++: arXiv:1706.03762 --verbose",
        'don"t 5" "a b"c Mamba: state-of-the-art https://x.org/a:b',
    ],
)
def test_pieces_put_back_together_are_the_same_query(text):
    pieces = query_pieces(text)
    assert parse_search_query(" ".join(piece.text for piece in pieces)) == parse_search_query(text)


def test_pieces_name_their_filters():
    pieces = query_pieces('graph -"a review" Author:"Ada  Lovelace" cat:cs.LG & after:2025')
    assert [(p.text, p.field) for p in pieces] == [
        ("graph", None),
        ('-"a review"', None),
        ('author:"Ada Lovelace"', "author"),
        ("cat:cs.LG", "cat"),
        ("after:2025", "after"),
    ]


def test_pieces_of_unreadable_text_say_why():
    with pytest.raises(InvalidSearchQuery, match="unclosed quote"):
        query_pieces('"graph')
    with pytest.raises(InvalidSearchQuery, match="title: is not a filter"):
        query_pieces("title:graph")


def test_controls_add_their_filters_to_the_box():
    form = SearchForm(q=" graph ", cat="cs.LG", author='Ada "the" Lovelace', after="2025-06-01", code=True)
    assert form.query_text() == 'graph cat:cs.LG author:"Ada the Lovelace" after:2025-06-01 has:code'
    assert SearchForm(before="2025").query_text() == "before:2025"
    assert SearchForm().is_empty
    assert SearchForm(q="  ").is_empty
    assert not SearchForm(code=True).is_empty


def test_links_keep_every_parameter_but_defaults():
    form = SearchForm(q="graph", cat="cs.LG", code=True, sort="date", mode="lexical", page=3)
    assert form.url() == "/search?q=graph&cat=cs.LG&code=1&sort=date&mode=lexical&page=3"
    assert form.url(page=1, cat="cs.CV") == "/search?q=graph&cat=cs.CV&code=1&sort=date&mode=lexical"
    assert SearchForm().url() == "/search"


def _reflected(q: str, **controls: object) -> SearchForm:
    form = SearchForm(q=q, **controls)  # type: ignore[arg-type]
    return form.reflecting(parse_search_query(form.query_text()))


def test_typed_filters_move_into_empty_controls():
    form = _reflected('graph CAT:CS.LG -survey after:2025-06 before:2025 has:code author:"Ada Lovelace"')
    assert form == SearchForm(
        q="graph -survey",
        cat="cs.LG",
        author="Ada Lovelace",
        after="2025-06-01",
        before="2025-12-31",
        code=True,
    )


def test_filters_a_control_cannot_hold_stay_typed():
    assert _reflected("graph cat:cs.LG cat:cs.CV").q == "graph cat:cs.LG cat:cs.CV"
    form = _reflected("graph author:lovelace author:turing")
    assert (form.q, form.author) == ("graph author:lovelace author:turing", "")
    form = _reflected("graph cat:cs.CV", cat="cs.LG")  # the control was set: both stay
    assert (form.q, form.cat) == ("graph cat:cs.CV", "cs.LG")


def test_controls_show_what_the_query_understood():
    form = _reflected("graph", cat="CS.LG", after="2025-06")
    assert (form.q, form.cat, form.after) == ("graph", "cs.LG", "2025-06-01")
    assert _reflected("graph") == SearchForm(q="graph")  # nothing to move: the text as typed


def test_parameters_that_cannot_be_used_are_named():
    form = search_form({"q": " graph ", "code": "on", "sort": "date", "page": "2"})
    assert form == SearchForm(q="graph", code=True, sort="date", page=2)
    for params, name in [({"sort": "hot"}, "sort"), ({"mode": "x"}, "mode"), ({"page": "2.5"}, "page")]:
        with pytest.raises(InvalidParameter) as caught:
            search_form(params)
        assert caught.value.name == name
        assert isinstance(caught.value, SearchRequestError)


def test_page_numbers_show_the_ends_and_the_neighbourhood():
    assert page_numbers(1, 1) == [1]
    assert page_numbers(1, 5) == [1, 2, 3, 4, 5]
    assert page_numbers(1, 50) == [1, 2, 3, None, 50]
    assert page_numbers(10, 50) == [1, None, 8, 9, 10, 11, 12, None, 50]
    assert page_numbers(4, 50) == [1, 2, 3, 4, 5, 6, None, 50]  # no gap of a single page
    assert page_numbers(50, 50) == [1, None, 48, 49, 50]
