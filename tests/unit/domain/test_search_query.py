"""The search query language: words, phrases, exclusions, filters, and the messages for bad queries."""

from __future__ import annotations

from datetime import date

import pytest

from paperboy.domain.search_query import (
    MAX_QUERY_CHARS,
    InvalidSearchQuery,
    SearchQuery,
    parse_search_query,
)


def error(text: str) -> str:
    with pytest.raises(InvalidSearchQuery) as caught:
        parse_search_query(text)
    return str(caught.value)


def test_words_keep_their_case_and_order():
    q = parse_search_query("Graph  Neural\tNetworks")
    assert q.terms == ("Graph", "Neural", "Networks")
    assert q.lowered().terms == ("graph", "neural", "networks")
    assert not q.is_browse


def test_every_construct_at_once():
    q = parse_search_query(
        'graph "message passing" -survey -"a review" author:lovelace cat:cs.LG '
        "after:2025-06-01 before:2025-06-30 has:code"
    )
    assert q == SearchQuery(
        terms=("graph",),
        phrases=("message passing",),
        excluded_terms=("survey",),
        excluded_phrases=("a review",),
        authors=("lovelace",),
        categories=("cs.LG",),
        date_from=date(2025, 6, 1),
        date_to=date(2025, 6, 30),
        has_code=True,
    )


def test_phrases_collapse_inner_whitespace_and_may_be_one_word():
    q = parse_search_query('"  message \t passing " "transformer"')
    assert q.phrases == ("message passing", "transformer")
    assert q.terms == ()


def test_typographic_quotes_make_phrases():
    assert parse_search_query("“diffusion models” x").phrases == ("diffusion models",)


def test_a_phrase_ends_at_its_closing_quote_even_without_a_space():
    q = parse_search_query('"deep learning"models')
    assert (q.phrases, q.terms) == (("deep learning",), ("models",))


def test_quotes_inside_a_word_are_part_of_it():
    q = parse_search_query('don"t 5" floppy')
    assert q.terms == ('don"t', '5"', "floppy")
    assert q.phrases == ()


def test_inner_dashes_stay_in_one_term():
    q = parse_search_query("state-of-the-art self-supervised")
    assert q.terms == ("state-of-the-art", "self-supervised")
    assert q.excluded_terms == ()


def test_a_lone_dash_and_punctuation_alone_are_dropped():
    q = parse_search_query("attention - is & all — you need")
    assert q.terms == ("attention", "is", "all", "you", "need")
    assert q.excluded_terms == ()


def test_a_dash_before_a_space_excludes_nothing():
    q = parse_search_query("transformers -  survey")
    assert q.terms == ("transformers", "survey")


def test_exclusions_of_words_and_phrases():
    q = parse_search_query('protein folding -AlphaFold -"language model"')
    assert q.excluded_terms == ("AlphaFold",)
    assert q.excluded_phrases == ("language model",)
    assert q.lowered().excluded_terms == ("alphafold",)


def test_authors_bare_and_quoted_all_required():
    q = parse_search_query('author:lovelace author:"Charles   Babbage" engines')
    assert q.authors == ("lovelace", "Charles Babbage")
    assert q.describe() == "papers matching engines, by lovelace and Charles Babbage"


def test_field_names_are_case_insensitive():
    q = parse_search_query("AUTHOR:Lovelace Cat:cs.LG HAS:Code After:2025")
    assert q.authors == ("Lovelace",)
    assert q.categories == ("cs.LG",)
    assert q.has_code
    assert q.date_from == date(2025, 1, 1)


def test_categories_are_validated_and_their_archive_lower_cased():
    assert parse_search_query("cat:CS.LG cat:hep-th cat:cond-mat.str-el x").categories == (
        "cs.LG",
        "hep-th",
        "cond-mat.str-el",
    )
    assert error("cat:cs_LG") == "cat: expects an arXiv category like cs.LG or hep-th, not 'cs_LG'"
    assert error("cat:68T07 x") == "cat: expects an arXiv category like cs.LG or hep-th, not '68T07'"


def test_repeated_fields_collect_or_are_refused():
    q = parse_search_query("cat:cs.LG cat:stat.ML cat:cs.lg has:code has:code author:a author:A x x X")
    assert q.categories == ("cs.LG", "stat.ML")
    assert q.authors == ("a",)
    assert q.terms == ("x",)
    assert q.has_code
    assert error("after:2025 after:2024 x") == "after: can be given only once"
    assert error("before:2025 before:2024 x") == "before: can be given only once"


@pytest.mark.parametrize(
    ("text", "date_from", "date_to"),
    [
        ("after:2025-06-01", date(2025, 6, 1), None),
        ("before:2025-06-01", None, date(2025, 6, 1)),
        ("after:2025-06", date(2025, 6, 1), None),
        ("before:2025-06", None, date(2025, 6, 30)),
        ("before:2024-02", None, date(2024, 2, 29)),
        ("before:2025-02", None, date(2025, 2, 28)),
        ("after:2025", date(2025, 1, 1), None),
        ("before:2025", None, date(2025, 12, 31)),
        ("after:2025 before:2025", date(2025, 1, 1), date(2025, 12, 31)),
        ("after:2025-06-03 before:2025-06-03", date(2025, 6, 3), date(2025, 6, 3)),
    ],
)
def test_dates_are_inclusive_and_partial_dates_cover_the_month_or_year(text, date_from, date_to):
    q = parse_search_query(text)
    assert (q.date_from, q.date_to) == (date_from, date_to)


@pytest.mark.parametrize(
    "value", ["2025-13-01", "2025-02-30", "2025-6-1", "25", "2025-00", "yesterday", "0000"]
)
def test_malformed_dates_say_what_is_expected(value):
    assert error(f"x after:{value}") == (
        f"after: expects a date like 2025-06-01 (or 2025-06, or 2025), not '{value}'"
    )


def test_after_must_not_be_later_than_before():
    assert error("after:2025-07 before:2025-06") == (
        "after:2025-07-01 is later than before:2025-06-30, so nothing can match"
    )


def test_has_knows_only_code():
    assert error("has:pdf x") == "has: expects code, not 'pdf'"


def test_unknown_fields_name_the_known_ones():
    assert error("title:attention") == (
        "title: is not a filter; the filters are author:, cat:, after:, before:, has:"
    )
    assert error('Venue:"NeurIPS 2024"') == (
        "venue: is not a filter; the filters are author:, cat:, after:, before:, has:"
    )


def test_a_misspelt_field_gets_a_suggestion():
    assert error("auther:lovelace").startswith("auther: is not a filter (did you mean author:?);")


def test_a_field_needs_its_value_after_the_colon():
    assert error("author: lovelace") == (
        'author: needs a value right after the colon, like author:lovelace or author:"Ada Lovelace"'
    )
    assert error('x cat:""') == "cat: needs a value right after the colon, like cat:cs.LG"


@pytest.mark.parametrize(
    "word",
    [
        "https://arxiv.org/abs/1706.03762",  # a link
        "arXiv:1706.03762",  # a citation
        "doi:10.1145/3065386",
        "C++:",  # the name part is not letters
        "Mamba:",  # a title's trailing colon: no value
        "3:1",
        "résumé:x",  # not ASCII letters
    ],
)
def test_words_with_a_colon_that_are_not_filters_are_text(word):
    assert parse_search_query(f"{word} tips").terms == (word, "tips")


def test_filters_cannot_be_excluded():
    assert error("x -cat:cs.CV") == "only words and phrases can be excluded; -cat: is not supported"


def test_empty_queries_are_refused():
    for text in ["", "   ", "\t\n", "- — &", '""']:
        assert error(text) == "type at least one word to search for"


def test_exclusions_alone_are_refused():
    assert error('-survey -"a review"') == (
        "type at least one word to search for; -exclusions only narrow a search"
    )


def test_filters_alone_are_a_browse_query():
    q = parse_search_query("cat:cs.LG after:2025-06-01 -survey")
    assert q.is_browse
    assert q.semantic_text() == ""
    assert q.describe() == "all papers, in cs.LG, from 2025-06-01, without survey"
    assert parse_search_query("has:code").is_browse


def test_a_word_both_wanted_and_excluded_is_refused():
    assert error("Mamba -mamba") == "'mamba' is both searched for and excluded"
    assert error('"state space" -"State Space"') == "'state space' is both searched for and excluded"


def test_unclosed_quotes_are_refused():
    assert error('"deep learning') == 'unclosed quote: "deep learning needs a closing "'
    assert error('x author:"Ada').startswith("unclosed quote")
    assert error('x -"a b').startswith("unclosed quote")


def test_the_length_cap_counts_characters_not_bytes():
    at_cap = "é" * MAX_QUERY_CHARS
    assert parse_search_query(f"  {at_cap}  ").terms == (at_cap,)
    assert error("é" * (MAX_QUERY_CHARS + 1)) == "the query is longer than 250 characters (it has 251)"


def test_unicode_is_normalised_and_kept():
    decomposed = "Schro\u0308dinger"  # o + combining diaeresis
    q = parse_search_query(f"{decomposed} 量子 Ωmega")
    assert q.terms == ("Schrödinger", "量子", "Ωmega")
    assert q.lowered().terms == ("schrödinger", "量子", "ωmega")


def test_control_characters_separate_words():
    assert parse_search_query("graph\x00neural\x1bnets").terms == ("graph", "neural", "nets")


def test_semantic_text_keeps_typed_order_and_drops_filters_and_exclusions():
    q = parse_search_query('"diffusion model" for proteins -survey cat:q-bio.BM after:2024')
    assert q.semantic_text() == "diffusion model for proteins"
    assert SearchQuery(terms=("a",), phrases=("b c",)).semantic_text() == "a b c"


def test_describe_dates():
    assert parse_search_query("x before:2025-06").describe() == "papers matching x, until 2025-06-30"
    assert parse_search_query("x after:2025-06-03 before:2025-06-03").describe() == (
        "papers matching x, on 2025-06-03"
    )
    assert parse_search_query('x "y z" after:2025-06 before:2025-07 has:code').describe() == (
        'papers matching x "y z", from 2025-06-01 to 2025-07-31, with code'
    )


def test_queries_are_frozen_and_hashable():
    q = parse_search_query("x")
    with pytest.raises(AttributeError):
        q.terms = ("y",)  # type: ignore[misc]
    assert hash(q) == hash(parse_search_query("x"))


def test_a_double_dash_is_part_of_the_word_not_an_exclusion():
    q = parse_search_query("cli --verbose")
    assert q.terms == ("cli", "--verbose")
    assert q.excluded_terms == ()


def test_a_dash_before_a_digit_is_a_minus_sign_not_an_exclusion():
    q = parse_search_query("E2f-1, -2, -3 binding energy -1.5 eV -survey")
    assert q.terms == ("E2f-1,", "-2,", "-3", "binding", "energy", "-1.5", "eV")
    assert q.excluded_terms == ("survey",)
