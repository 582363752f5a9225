"""The search page (/search), its help (/about/search), the header's search box, and similar
papers on paper pages, against a real database."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from app_client import counted_statements, link_to, listed_ids, load_new_vectors, open_client
from community import log_in_as, make_member
from search_corpus import MESSAGES, MOLECULES, PROTEINS, SURVEY, VISION, add_corpus, hashing_settings

from paperboy.services import votes


@pytest.fixture
def settings(settings):
    return hashing_settings(settings)  # every app here searches the corpus's hashing vectors


@pytest.fixture
def client(settings):
    with open_client(settings) as client:
        yield client


@pytest.fixture
def corpus(client, add_papers, engine):
    add_corpus(add_papers, engine)
    load_new_vectors(client)


def _value(html: str, name: str) -> str | None:
    """The value an input named `name` shows (None when the page has no such input)."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    return html_lib.unescape(match.group(1)) if match else None


def _selected(html: str, name: str) -> str | None:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert select, name
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1))
    return chosen.group(1) if chosen else None


def _checked(html: str, name: str) -> bool:
    match = re.search(rf'<input type="checkbox" name="{name}"[^>]*>', html)
    assert match, name
    return " checked" in match.group(0)


def _summary(html: str) -> str:
    match = re.search(r'<p class="summary search-summary"[^>]*>(.*?)</p>', html, re.DOTALL)
    assert match, "no result summary"
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


# --- the form, empty and filled ---


def test_an_empty_search_shows_the_form_and_how_to_write_a_query(client, corpus):
    for path in ("/search", "/search?q=", "/search?q=%20%20&sort=date"):
        response = client.get(path)
        assert response.status_code == 200
        html = response.text
        assert 'action="/search"' in html
        assert _value(html, "q") == ""
        assert "What you can type" in html
        assert '<a href="/search?q=author%3A%22Ada+Lovelace%22' in html  # examples to try
        assert "<code>author:&#34;Ada Lovelace&#34;</code></a>" in html
        assert 'href="/about/search"' in html
        assert listed_ids(html) == []
        assert "search-summary" not in html


def test_the_category_control_lists_the_sites_categories(client, corpus, settings):
    html = client.get("/search").text
    select = re.search(r'<select name="cat">(.*?)</select>', html, re.DOTALL).group(1)
    options = re.findall(r'<option value="([^"]*)"', select)
    assert options == ["", *settings.categories]


def test_results_show_highlighted_cards_with_everything_a_feed_card_has(client, corpus):
    html = client.get("/search", params={"q": "molecular graphs", "mode": "lexical"}).text
    assert listed_ids(html) == [MOLECULES]
    assert _summary(html).startswith("1 result: papers matching molecular graphs")
    card = html[html.index('<article class="card result">') :]
    card = card[: card.index("</article>")]
    assert "<mark>Graph</mark> neural networks for molecules" in card
    assert "<mark>molecular</mark> property prediction" in card  # the snippet
    linked = (
        '<a href="/authors/Ada%20Lovelace">Ada Lovelace</a>',
        '<a href="/authors/Grace%20Hopper">Grace Hopper</a>',
    )
    assert ", ".join(linked) in card
    assert '<a class="listed" href="/papers/date/2025-06-10">10 Jun 2025</a>' in card
    assert 'href="/search?q=molecular+graphs&amp;cat=q-bio.BM&amp;mode=lexical"' in card  # chips narrow it
    assert 'href="https://arxiv.org/abs/2506.00001"' in card
    assert 'href="https://github.com/lovelace/molgraph"' in card
    assert '<span class="vote-count">3</span>' in card  # the upvotes here
    assert 'href="/papers/2506.00001#comments"' in card


def test_controls_are_merged_into_the_query(client, corpus):
    params = {"q": "graph", "cat": "q-bio.BM", "author": "Lovelace", "after": "2025-06-01", "code": "1"}
    html = client.get("/search", params=params).text
    assert listed_ids(html) == [MOLECULES]
    summary = _summary(html)
    assert "papers matching graph, by Lovelace, in q-bio.BM, from 2025-06-01, with code" in summary
    assert _value(html, "q") == "graph"
    assert _selected(html, "cat") == "q-bio.BM"
    assert _value(html, "author") == "Lovelace"
    assert _value(html, "after") == "2025-06-01"
    assert _checked(html, "code")
    html = client.get("/search", params={"q": "graph", "before": "2025-06-30", "mode": "lexical"}).text
    assert set(listed_ids(html)) == {MOLECULES, MESSAGES}  # not the July survey
    html = client.get("/search", params={"q": "graph", "author": "Ada Lovelace", "mode": "lexical"}).text
    assert set(listed_ids(html)) == {MOLECULES, SURVEY}


def test_filters_typed_in_the_box_move_into_their_controls(client, corpus):
    html = client.get(
        "/search", params={"q": 'graph CAT:cs.LG after:2025-06 has:code author:"Ada Lovelace"'}
    ).text
    assert listed_ids(html) == [MOLECULES]
    assert _value(html, "q") == "graph"
    assert _selected(html, "cat") == "cs.LG"
    assert _value(html, "after") == "2025-06-01"  # a date control holds whole days
    assert _value(html, "author") == "Ada Lovelace"
    assert _checked(html, "code")
    # What the controls now hold is the same search: searching again changes nothing.
    again = client.get(
        "/search",
        params={"q": "graph", "cat": "cs.LG", "after": "2025-06-01", "code": "1", "author": "Ada Lovelace"},
    ).text
    assert listed_ids(again) == [MOLECULES]
    assert _summary(again).split(" · ")[0] == _summary(html).split(" · ")[0]


def test_filters_a_control_cannot_hold_stay_in_the_box(client, corpus):
    html = client.get("/search", params={"q": "graph cat:cs.CV cat:q-bio.BM", "mode": "lexical"}).text
    assert set(listed_ids(html)) == {MOLECULES}  # several cat: are alternatives
    assert _value(html, "q") == "graph cat:cs.CV cat:q-bio.BM"
    assert _selected(html, "cat") is None
    # A control already set keeps its value; the typed filter stays typed.
    html = client.get("/search", params={"q": "graph cat:q-bio.BM", "cat": "cs.CV", "mode": "lexical"}).text
    assert _value(html, "q") == "graph cat:q-bio.BM"
    assert _selected(html, "cat") == "cs.CV"


def test_a_category_outside_the_sites_list_is_still_shown_chosen(client, corpus):
    html = client.get("/search", params={"cat": "q-bio.BM"}).text
    assert _selected(html, "cat") == "q-bio.BM"
    assert set(listed_ids(html)) == {MOLECULES, PROTEINS}


def test_filters_alone_list_the_newest_first(client, corpus):
    html = client.get("/search", params={"cat": "cs.LG"}).text
    assert listed_ids(html) == [SURVEY, MESSAGES, VISION, MOLECULES]
    assert "4 results: all papers, in cs.LG, newest first" in _summary(html)


# --- order and pages ---


def test_sorts_reorder_the_same_results(client, corpus):
    params = {"q": "graph", "mode": "lexical"}
    by_relevance = listed_ids(client.get("/search", params=params).text)
    newest = listed_ids(client.get("/search", params={**params, "sort": "date"}).text)
    most_upvoted = listed_ids(client.get("/search", params={**params, "sort": "upvotes"}).text)
    assert set(by_relevance) == {MOLECULES, MESSAGES, SURVEY}
    assert newest == [SURVEY, MESSAGES, MOLECULES]
    assert most_upvoted == [MESSAGES, MOLECULES, SURVEY]
    html = client.get("/search", params={**params, "sort": "upvotes"}).text
    assert _selected(html, "sort") == "upvotes"
    assert _selected(html, "mode") == "lexical"


def test_pages_keep_every_parameter(client, add_papers, engine):
    add_corpus(add_papers, engine, extra=45)
    params = {"q": "sparse attention", "cat": "cs.CL", "sort": "date", "mode": "lexical"}
    first = client.get("/search", params=params).text
    assert _summary(first).startswith("45 results")
    assert len(listed_ids(first)) == 20
    assert link_to(first, "prev") is None
    second_url = link_to(first, "next")
    assert second_url == "/search?q=sparse+attention&cat=cs.CL&sort=date&mode=lexical&page=2"
    assert (
        '<a href="/search?q=sparse+attention&amp;cat=cs.CL&amp;sort=date&amp;mode=lexical&amp;page=3">3</a>'
        in first
    )
    assert '<span class="current" aria-current="page">1</span>' in first
    second = client.get(second_url).text
    third = client.get(link_to(second, "next")).text
    assert link_to(third, "next") is None
    assert link_to(third, "prev") == second_url
    shown = listed_ids(first) + listed_ids(second) + listed_ids(third)
    assert len(shown) == len(set(shown)) == 45


def test_a_page_past_the_last_says_so(client, corpus):
    response = client.get("/search", params={"q": "graph", "page": "9"})
    assert response.status_code == 404
    assert "Page 9 is past the last page of these results" in response.text
    assert 'href="/search?q=graph"' in response.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "two"}, "page must be a whole number from 1, not &#39;two&#39;"),
        ({"page": "0"}, "page must be a whole number from 1"),
        ({"page": "51"}, "results stop at 1000: page 51 starts past them"),
        ({"sort": "hot"}, "sort must be one of relevance, date, upvotes, not &#39;hot&#39;"),
        ({"mode": "magic"}, "mode must be one of hybrid, lexical, semantic"),
    ],
)
def test_unusable_parameters_answer_400_with_the_form(client, corpus, params, message):
    response = client.get("/search", params={"q": "graph", **params})
    assert response.status_code == 400
    assert message in response.text
    assert _value(response.text, "q") == "graph"
    assert listed_ids(response.text) == []


# --- queries that cannot run ---


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"deep learning', "unclosed quote: &#34;deep learning needs a closing &#34;"),
        ("x" * 251, "the query is longer than 250 characters (it has 251)"),
        ("title:attention", "title: is not a filter; the filters are author:, cat:, after:, before:, has:"),
        ("auther:lovelace", "auther: is not a filter (did you mean author:?)"),
        ("-survey", "type at least one word to search for; -exclusions only narrow a search"),
        ("after:2025-13-01", "after: expects a date like 2025-06-01"),
        ("&", "type at least one word to search for"),
    ],
)
def test_a_query_that_cannot_run_answers_400_with_the_reason(client, corpus, query, message):
    response = client.get("/search", params={"q": query})
    assert response.status_code == 400
    html = response.text
    assert "This search cannot run:" in html
    assert message in html
    assert _value(html, "q") == query  # shown again as typed, to be corrected
    assert 'aria-invalid="true"' in html
    assert "Traceback" not in html


def test_a_control_that_makes_the_query_invalid_is_reported(client, corpus):
    response = client.get("/search", params={"q": "graph", "after": "2025-07-01", "before": "2025-06-01"})
    assert response.status_code == 400
    assert "after:2025-07-01 is later than before:2025-06-01, so nothing can match" in response.text
    assert _value(response.text, "after") == "2025-07-01"


# --- search by meaning ---


def test_hybrid_search_says_when_meaning_is_not_available(client, add_papers, engine):
    add_corpus(add_papers, engine, embed=False)
    html = client.get("/search", params={"q": "graph"}).text
    assert "Search by meaning is not ready" in html
    assert set(listed_ids(html)) == {MOLECULES, MESSAGES, SURVEY}


def _cards(html: str) -> dict[str, str]:
    cards = html.split('<article class="card result">')[1:]
    return dict(zip(listed_ids(html), cards, strict=True))


def test_hybrid_search_marks_papers_found_by_meaning_alone(client, corpus):
    html = client.get("/search", params={"q": "graph message passing molecules"}).text
    cards = _cards(html)
    # Only the first has every word; the survey shares enough of them to be close in meaning.
    assert list(cards) == [MOLECULES, SURVEY]
    assert "by meaning</span>" not in cards[MOLECULES]
    assert "<mark>Graph</mark> neural networks for <mark>molecules</mark>" in cards[MOLECULES]
    assert '<span class="badge badge-meaning"' in cards[SURVEY]
    assert "Search by meaning" not in html  # no notice: it ran


def test_search_by_meaning_alone(client, corpus):
    html = client.get("/search", params={"q": "graph message passing molecules", "mode": "semantic"}).text
    assert listed_ids(html)[:2] == [MOLECULES, SURVEY]
    assert "by meaning</span>" not in html  # every result is: no badge
    assert _selected(html, "mode") == "semantic"


# --- escaping, the header box, the viewer ---


SCRIPT = "<script>alert(1)</script>"


def test_hostile_queries_are_escaped_everywhere(client, corpus):
    for params in (
        {"q": SCRIPT},
        {"q": f"graph {SCRIPT}"},
        {"q": "graph", "author": SCRIPT},
        {"cat": SCRIPT},
    ):
        response = client.get("/search", params=params)
        assert SCRIPT not in response.text
        assert "&lt;script&gt;" in response.text
        assert "<mark><" not in response.text


def test_every_page_has_a_search_box_in_its_header(client, corpus):
    for path in ("/", f"/papers/{MOLECULES}", "/about/trending", "/login", "/nowhere"):
        html = client.get(path).text
        header = html[html.index('<header class="site-header">') : html.index("</header>")]
        assert '<form class="site-search" method="get" action="/search" role="search">' in header, path
        assert '<input id="site-search-q" type="search" name="q"' in header
    search = client.get("/search", params={"q": "graph"}).text
    assert "site-search" not in search  # the page's own form takes its place
    assert search.count('name="q"') == 1


def test_a_logged_in_reader_sees_their_votes_on_results(client, corpus, engine, settings):
    reader = make_member(engine, "reader")
    votes.upvote_paper(engine, settings, reader, MOLECULES, "192.0.2.1")
    log_in_as(client, reader)
    html = client.get("/search", params={"q": "molecules", "mode": "lexical"}).text
    assert 'class="vote-button voted" aria-pressed="true"' in html
    assert 'name="next" value="/search?q=molecules&amp;mode=lexical"' in html  # the form comes back here


def test_result_pages_run_the_same_statements_however_many_results(settings, add_papers, engine):
    add_corpus(add_papers, engine, extra=40)
    counts = []
    with open_client(settings.replace(page_cache_mb=0)) as client:
        for query in ("molecules", "sparse attention"):  # 1 result, then 20 of 40
            with counted_statements(client) as statements:
                html = client.get("/search", params={"q": query, "mode": "lexical"}).text
            counts.append(len(statements))
            assert listed_ids(html)
    assert counts[0] == counts[1]
    # The ranking, five to load the papers, their community counts; paging deep adds a count.
    assert counts[0] <= 8, counts


def test_the_help_page_lists_the_query_language(client):
    response = client.get("/about/search")
    assert response.status_code == 200
    html = response.text
    for syntax in ("author:name", "cat:category", "after:date", "before:date", "has:code", "-word"):
        assert f"<code>{syntax}</code>" in html
    assert '<a href="/search?q=segmentation+has%3Acode">' in html
    assert "Keywords and meaning" in html


# --- similar papers on the paper page ---


def _similar_ids(html: str) -> list[str]:
    section = html[html.index('<section class="similar"') :]
    return re.findall(r'<h3 class="card-title"><a href="/papers/([^"]+)">', section)


def test_a_paper_page_lists_its_similar_papers(client, corpus):
    html = client.get(f"/papers/{MOLECULES}").text
    similar = _similar_ids(html)
    assert MOLECULES not in similar
    assert set(similar) == {MESSAGES, VISION, PROTEINS, SURVEY}
    assert similar[0] in (MESSAGES, SURVEY)  # they share its words: graph, message passing
    active = '<a href="/papers/2506.00001#similar" rel="nofollow" class="active" aria-current="true">'
    assert active + "Most similar</a>" in html
    assert '<a href="/papers/2506.00001?similar=date#similar" rel="nofollow">Newest</a>' in html


def test_similar_papers_can_be_ordered_by_date_or_upvotes(client, corpus):
    newest = _similar_ids(client.get(f"/papers/{MOLECULES}?similar=date").text)
    assert newest == [SURVEY, MESSAGES, VISION, PROTEINS]
    most_upvoted = _similar_ids(client.get(f"/papers/{MOLECULES}?similar=upvotes").text)
    assert most_upvoted[:2] == [MESSAGES, SURVEY]
    response = client.get(f"/papers/{MOLECULES}?similar=best")
    assert response.status_code == 400
    assert "similar papers sort by similarity, date, upvotes, not &#39;best&#39;" in response.text


def test_without_embeddings_the_section_explains_itself(client, add_papers, engine):
    add_corpus(add_papers, engine, embed=False)
    html = client.get(f"/papers/{MOLECULES}").text
    assert "search by meaning is not ready: no paper has been embedded yet" in html
    assert _similar_ids(html) == []
    assert "similar=date" not in html


def test_similar_papers_show_the_readers_votes(settings, corpus, engine):
    reader = make_member(engine, "reader")
    votes.upvote_paper(engine, settings, reader, MESSAGES, "192.0.2.1")
    with open_client(settings) as client:
        anonymous = client.get(f"/papers/{MOLECULES}").text  # now in the page cache
        assert "vote-button voted" not in anonymous.split('<section class="similar"')[1]
        log_in_as(client, reader)  # a session: the page cache is bypassed
        html = client.get(f"/papers/{MOLECULES}").text
    section = html.split('<section class="similar"')[1]
    assert 'action="/papers/2506.00002/vote"' in section
    assert 'class="vote-button voted" aria-pressed="true"' in section


def test_a_paper_page_shows_even_when_its_similar_papers_fail(client, corpus, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("the model fell over")

    monkeypatch.setattr(client.app.state.paperboy.searcher, "similar_views", broken)  # what the page asks
    response = client.get(f"/papers/{MOLECULES}")
    assert response.status_code == 200
    assert "Graph neural networks for molecules" in response.text
    assert "Similar papers could not be found just now." in response.text
    assert "the model fell over" in caplog.text  # logged for the operator, not shown
    assert "the model fell over" not in response.text
