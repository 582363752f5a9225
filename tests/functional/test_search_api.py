"""The search APIs: /api/v1/search, /api/v1/papers/{id}/similar, and Hugging Face's
/api/papers/search, against a real database."""

from __future__ import annotations

import re

import pytest
from app_client import load_new_vectors, open_client
from community import log_in_as, make_member
from search_corpus import MESSAGES, MOLECULES, PROTEINS, SURVEY, VISION, add_corpus, hashing_settings

from paperboy.services import votes

RESULT_FIELDS = {
    "arxiv_id",
    "url",
    "title",
    "title_html",
    "snippet_html",
    "abstract",
    "authors",
    "categories",
    "published_at",
    "updated_at",
    "first_listed",
    "upvotes",
    "comments",
    "voted",
    "score",
    "matched_by",
    "links",
}


@pytest.fixture
def settings(settings):
    return hashing_settings(settings)  # every app here searches the corpus's hashing vectors


@pytest.fixture
def client(settings):
    with open_client(settings.replace(base_url="https://papers.example.org")) as client:
        yield client


@pytest.fixture
def corpus(client, add_papers, engine):
    add_corpus(add_papers, engine)
    load_new_vectors(client)


def _error(response, status=422):
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    return response.json()["error"]


# --- /api/v1/search ---


def test_search_answers_the_parsed_query_and_highlighted_results(client, corpus):
    response = client.get(
        "/api/v1/search", params={"q": 'graph "message passing" -survey cat:cs.LG after:2025-06'}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == {
        "text": 'graph "message passing" -survey cat:cs.LG after:2025-06',
        "description": 'papers matching graph "message passing", in cs.LG, from 2025-06-01, without survey',
        "terms": ["graph"],
        "phrases": ["message passing"],
        "excluded": {"terms": ["survey"], "phrases": []},
        "authors": [],
        "categories": ["cs.LG"],
        "after": "2025-06-01",
        "before": None,
        "has_code": False,
        "browse": False,
    }
    assert (body["mode"], body["sort"], body["page"], body["limit"]) == ("hybrid", "relevance", 1, 20)
    assert body["used"] == ["lexical", "semantic"]
    assert body["capped"] is False
    assert body["notice"] is None
    assert body["took_ms"] >= 0
    ids = [item["arxiv_id"] for item in body["results"]]
    assert ids[:2] == [MOLECULES, MESSAGES] or ids[:2] == [MESSAGES, MOLECULES]
    assert SURVEY not in ids
    assert VISION not in ids
    assert body["total"] == len(ids)
    assert body["pages"] == 1
    first = next(item for item in body["results"] if item["arxiv_id"] == MOLECULES)
    assert set(first) == RESULT_FIELDS
    assert first["url"] == "https://papers.example.org/papers/2506.00001"
    assert first["title"] == "Graph neural networks for molecules"
    assert first["title_html"] == "<mark>Graph</mark> neural networks for molecules"
    assert "with <mark>message passing</mark> to" in first["snippet_html"]
    assert first["abstract"].startswith("We apply graph neural networks")
    assert first["authors"] == ["Ada Lovelace", "Grace Hopper"]
    assert first["categories"] == ["cs.LG", "q-bio.BM"]
    assert first["published_at"] == "2025-06-10T00:00:00Z"
    assert first["first_listed"] == "2025-06-10"
    assert (first["upvotes"], first["comments"], first["voted"]) == (3, 0, False)
    assert "lexical" in first["matched_by"]
    scores = [item["score"] for item in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > 0
    assert {"kind": "abs", "url": "https://arxiv.org/abs/2506.00001"} in first["links"]
    assert {"kind": "code", "url": "https://github.com/lovelace/molgraph"} in first["links"]


def test_filter_parameters_are_merged_into_the_query(client, corpus):
    params = {"q": "graph", "cat": "q-bio.BM", "author": "Ada Lovelace", "code": "1", "before": "2025-06-30"}
    body = client.get("/api/v1/search", params=params).json()
    assert body["query"]["text"] == 'graph cat:q-bio.BM author:"Ada Lovelace" before:2025-06-30 has:code'
    assert body["query"]["authors"] == ["Ada Lovelace"]
    assert body["query"]["has_code"] is True
    assert [item["arxiv_id"] for item in body["results"]] == [MOLECULES]


def test_filters_alone_browse_newest_first(client, corpus):
    body = client.get("/api/v1/search", params={"cat": "cs.LG"}).json()
    assert body["query"]["browse"] is True
    assert body["used"] == ["filters"]
    assert [item["arxiv_id"] for item in body["results"]] == [SURVEY, MESSAGES, VISION, MOLECULES]


@pytest.mark.parametrize(
    ("mode", "used"),
    [("lexical", ["lexical"]), ("semantic", ["semantic"]), ("hybrid", ["lexical", "semantic"])],
)
def test_modes_say_which_rankers_ran(client, corpus, mode, used):
    body = client.get("/api/v1/search", params={"q": "graph", "mode": mode}).json()
    assert body["mode"] == mode
    assert body["used"] == used
    assert body["results"]


def test_without_embeddings_hybrid_search_says_so(client, add_papers, engine):
    add_corpus(add_papers, engine, embed=False)
    body = client.get("/api/v1/search", params={"q": "graph"}).json()
    assert body["used"] == ["lexical"]
    assert body["notice"].startswith("Search by meaning is not ready")
    assert {item["arxiv_id"] for item in body["results"]} == {MOLECULES, MESSAGES, SURVEY}
    body = client.get("/api/v1/search", params={"q": "graph", "mode": "semantic"}).json()
    assert body["results"] == []
    assert body["used"] == []


def test_sorts_and_pages(client, add_papers, engine):
    add_corpus(add_papers, engine, extra=25)
    params = {"q": "sparse attention", "mode": "lexical", "sort": "date", "limit": "10"}
    pages = [client.get("/api/v1/search", params={**params, "page": str(n)}).json() for n in (1, 2, 3)]
    assert [page["total"] for page in pages] == [25, 25, 25]
    assert [page["pages"] for page in pages] == [3, 3, 3]
    assert [len(page["results"]) for page in pages] == [10, 10, 5]
    listed = [item["first_listed"] for page in pages for item in page["results"]]
    assert listed == sorted(listed, reverse=True)
    assert len({item["arxiv_id"] for page in pages for item in page["results"]}) == 25
    by_upvotes = client.get(
        "/api/v1/search", params={"q": "graph", "sort": "upvotes", "mode": "lexical"}
    ).json()
    assert [item["upvotes"] for item in by_upvotes["results"]] == [7, 3, 1]


def test_the_limit_defaults_to_20_and_goes_up_to_100(client, add_papers, engine):
    add_corpus(add_papers, engine, extra=120)
    params = {"q": "sparse attention", "mode": "lexical"}
    assert len(client.get("/api/v1/search", params=params).json()["results"]) == 20
    assert len(client.get("/api/v1/search", params={**params, "limit": "1"}).json()["results"]) == 1
    assert len(client.get("/api/v1/search", params={**params, "limit": "100"}).json()["results"]) == 100


@pytest.mark.parametrize(
    ("params", "parameter", "message"),
    [
        ({"limit": "0"}, "limit", "limit must be a whole number from 1 to 100, not '0'"),
        ({"limit": "101"}, "limit", "limit must be a whole number from 1 to 100, not '101'"),
        ({"limit": "ten"}, "limit", "limit must be a whole number from 1 to 100, not 'ten'"),
        ({"limit": ""}, "limit", "limit must be a whole number from 1 to 100, not ''"),
        ({"page": "-1"}, "page", "page must be a whole number from 1 to 1000, not '-1'"),
        ({"page": "1001"}, "page", "page must be a whole number from 1 to 1000, not '1001'"),
        ({"sort": "hot"}, "sort", "sort must be one of relevance, date, upvotes, not 'hot'"),
        ({"sort": ""}, "sort", "sort must be one of relevance, date, upvotes, not ''"),
        ({"mode": "fuzzy"}, "mode", "mode must be one of hybrid, lexical, semantic, not 'fuzzy'"),
    ],
)
def test_unusable_parameters_are_422_with_the_parameter_named(client, corpus, params, parameter, message):
    error = _error(client.get("/api/v1/search", params={"q": "graph", **params}))
    assert error["code"] == "invalid_parameter"
    assert error["parameter"] == parameter
    assert error["message"].startswith(message)


def test_a_page_past_the_results_is_404(client, corpus):
    """A page the schema allows (up to 1000) that starts past result 1,000 for its limit."""
    response = client.get("/api/v1/search", params={"q": "graph", "page": "11", "limit": "100"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["code"], error["parameter"]) == ("not_found", "page")
    assert error["message"].startswith("results stop at 1000: page 11 starts past them")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "type at least one word to search for"),
        ('"deep learning', 'unclosed quote: "deep learning needs a closing "'),
        ("auther:lovelace", "auther: is not a filter (did you mean author:?)"),
        ("x" * 251, "the query is longer than 250 characters (it has 251)"),
    ],
)
def test_a_query_that_cannot_run_is_422_with_the_reason(client, corpus, query, message):
    error = _error(client.get("/api/v1/search", params={"q": query}))
    assert error == {"code": "invalid_query", "message": error["message"], "parameter": "q"}
    assert error["message"].startswith(message)


def test_a_logged_in_reader_sees_their_votes(client, corpus, engine, settings):
    reader = make_member(engine, "reader")
    votes.upvote_paper(engine, settings, reader, MESSAGES, "192.0.2.1")
    log_in_as(client, reader)
    results = client.get("/api/v1/search", params={"q": "graph", "mode": "lexical"}).json()["results"]
    assert {item["arxiv_id"]: item["voted"] for item in results} == {
        MESSAGES: True,
        MOLECULES: False,
        SURVEY: False,
    }


# --- /api/v1/papers/{id}/similar ---


def test_similar_papers_in_the_result_shape(client, corpus):
    response = client.get(f"/api/v1/papers/{MOLECULES}/similar")
    assert response.status_code == 200
    body = response.json()
    assert body["paper"] == {
        "arxiv_id": MOLECULES,
        "url": "https://papers.example.org/papers/2506.00001",
        "title": "Graph neural networks for molecules",
    }
    assert (body["sort"], body["limit"], body["notice"]) == ("similarity", 10, None)
    ids = [item["arxiv_id"] for item in body["results"]]
    assert set(ids) == {MESSAGES, VISION, PROTEINS, SURVEY}
    scores = [item["score"] for item in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert all(set(item) == RESULT_FIELDS and item["matched_by"] == ["semantic"] for item in body["results"])
    assert all("<mark>" not in item["title_html"] for item in body["results"])
    # The two nearest, newest first.
    newest = client.get(f"/api/v1/papers/{MOLECULES}/similar", params={"sort": "date", "limit": "2"}).json()
    assert (newest["sort"], newest["limit"]) == ("date", 2)
    assert {item["arxiv_id"] for item in newest["results"]} == set(ids[:2])
    listed = [item["first_listed"] for item in newest["results"]]
    assert listed == sorted(listed, reverse=True)
    assert listed[0] != listed[1]


def test_similar_papers_of_any_id_spelling(client, corpus):
    plain = client.get(f"/api/v1/papers/{MOLECULES}/similar").json()
    versioned = client.get(f"/api/v1/papers/{MOLECULES}v2/similar").json()
    assert versioned == plain


def test_similar_papers_errors(client, corpus):
    error = _error(client.get("/api/v1/papers/2501.99999/similar"), 404)
    assert error == {"code": "not_found", "message": "arXiv paper 2501.99999 is not in this catalogue"}
    assert _error(client.get("/api/v1/papers/not-an-id/similar"), 404)["code"] == "not_found"
    error = _error(client.get(f"/api/v1/papers/{MOLECULES}/similar", params={"sort": "hot"}))
    assert (error["code"], error["parameter"]) == ("invalid_parameter", "sort")
    error = _error(client.get(f"/api/v1/papers/{MOLECULES}/similar", params={"limit": "500"}))
    assert (error["code"], error["parameter"]) == ("invalid_parameter", "limit")


def test_similar_papers_without_embeddings_say_why(client, add_papers, engine):
    add_corpus(add_papers, engine, embed=False)
    body = client.get(f"/api/v1/papers/{MOLECULES}/similar").json()
    assert body["results"] == []
    assert body["notice"] == (
        "Similar papers are not available: search by meaning is not ready: "
        "no paper has been embedded yet (paperboy index)."
    )


# --- /api/papers/search: Hugging Face's shape ---


def test_hugging_face_search_shape(client, corpus):
    """The same item as /api/daily_papers, with the title and abstract highlighted."""
    response = client.get("/api/papers/search", params={"q": "molecules"})
    assert response.status_code == 200
    items = response.json()
    assert isinstance(items, list)
    first = items[0]
    paper = first["paper"]
    assert first["title"] == paper["title"] == "Graph neural networks for molecules"
    assert first["highlightedTitle"] == "Graph neural networks for <mark>molecules</mark>"
    assert first["summary"] == paper["summary"]
    assert first["summary"].startswith("We apply graph neural networks")
    assert first["highlightedSummary"].startswith("We apply graph neural networks with message passing to ")
    assert first["highlightedSummary"].endswith("learns from molecular graphs.")  # all of it
    graph = client.get("/api/papers/search", params={"q": "graph"}).json()
    marked = next(item for item in graph if item["paper"]["id"] == MOLECULES)["highlightedSummary"]
    assert marked.startswith("We apply <mark>graph</mark> neural networks")
    assert (paper["id"], paper["upvotes"], paper["githubRepo"]) == (
        MOLECULES,
        3,
        "https://github.com/lovelace/molgraph",
    )
    assert (first["publishedAt"], paper["publishedAt"]) == (
        "2025-06-10T00:00:00.000Z",
        "2025-06-10T00:00:00.000Z",
    )
    assert re.fullmatch(r"[0-9a-f]{24}", paper["discussionId"])
    assert first["isAuthorParticipating"] is False
    assert (first["numComments"], first["thumbnail"]) == (0, None)
    authors = paper["authors"]
    assert [(a["name"], a["hidden"]) for a in authors] == [("Ada Lovelace", False), ("Grace Hopper", False)]
    assert all(re.fullmatch(r"[0-9a-f]{24}", a["_id"]) for a in authors)
    # One shape with the daily papers: every key the daily item has, and only the highlights more.
    day = paper["submittedOnDailyAt"][:10]
    daily = client.get("/api/daily_papers", params={"date": day}).json()
    same = next(item for item in daily if item["paper"]["id"] == MOLECULES)
    assert set(first) == set(same) | {"highlightedTitle", "highlightedSummary"}
    assert first["paper"] == same["paper"]


def test_huggingface_hub_reads_our_answer(client, corpus):
    hf_api = pytest.importorskip("huggingface_hub.hf_api")
    items = client.get("/api/papers/search", params={"q": "graph", "limit": "2"}).json()
    assert len(items) == 2
    papers = [hf_api.PaperInfo(**item) for item in items]
    by_id = {paper.id: paper for paper in papers}
    assert set(by_id) <= {MOLECULES, MESSAGES, SURVEY}
    paper = next(iter(by_id.values()))
    assert paper.title
    assert paper.summary
    assert paper.authors[0].name
    assert paper.published_at.year == 2025
    assert paper.submitted_at.year == 2025
    assert isinstance(paper.upvotes, int)
    assert paper.comments == 0


def test_hugging_face_search_limits_and_errors(client, add_papers, engine):
    add_corpus(add_papers, engine, extra=130)
    assert len(client.get("/api/papers/search", params={"q": "sparse attention"}).json()) == 120
    assert (
        len(client.get("/api/papers/search", params={"q": "sparse attention", "limit": "120"}).json()) == 120
    )
    assert len(client.get("/api/papers/search", params={"q": "sparse attention", "limit": "3"}).json()) == 3
    too_many = client.get("/api/papers/search", params={"q": "sparse", "limit": "121"})
    error = _hf_error(too_many)
    assert (error["code"], error["parameter"]) == ("invalid_parameter", "limit")
    assert error["error"] == "limit must be a whole number from 1 to 120, not '121'"
    assert _hf_error(client.get("/api/papers/search")) == {
        "error": "type at least one word to search for",
        "code": "invalid_query",
        "parameter": "q",
    }
    v1 = _error(client.get("/api/v1/search", params={"q": "sparse", "limit": "101"}))
    assert v1["message"] == "limit must be a whole number from 1 to 100, not '101'"  # our own API keeps 100


def _hf_error(response):
    """An error in huggingface.co's shape, the sentence also in X-Error-Message."""
    assert response.status_code == 422
    body = response.json()
    assert response.headers["x-error-message"] == body["error"]
    return body


# --- everything under /api/ ---


def test_unknown_api_paths_answer_json(client):
    error = _error(client.get("/api/v1/nothing", headers={"Accept": "text/html"}), 404)
    assert error["code"] == "not_found"
    error = _error(client.get("/api/v1/search", params={"q": "a\x00b"}), 400)
    assert "NUL" in error["message"]


def test_the_openapi_schema_documents_the_search_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/papers/search", "/api/v1/search", "/api/v1/papers/{arxiv_id}/similar"} <= set(paths)
    assert "/search" not in paths
    names = {p["name"] for p in paths["/api/v1/search"]["get"]["parameters"]}
    assert names == {"q", "sort", "mode", "page", "limit", "cat", "author", "after", "before", "code"}
