"""services/search.Searcher on the real database (SQLite, and PostgreSQL in the second pass): hybrid
ranking, requirements holding for results found by meaning, sorts, browsing, paging, messages, and a
new version of a paper replacing its text in both indexes.

The embedder here is `ConceptEmbedder`: words map to concepts ("car" and "automobile" are one), so a
paper can be found by meaning without sharing a word with the query, deterministically."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime

import numpy as np
import pytest
from conftest import make_record
from sqlalchemy import insert

from paperboy.domain.models import Listing, Version
from paperboy.integrations.embedder import EmbedderUnavailable, HashingEmbedder
from paperboy.services import semantic as semantic_module
from paperboy.services.search import (
    MAX_PAGE_SIZE,
    MAX_RESULTS,
    Searcher,
    SearchRequestError,
    Tuning,
)
from paperboy.services.search_index import embed_papers
from paperboy.services.semantic import EMBEDDER_RETRY_S
from paperboy.storage.schema import paper_stats, papers
from paperboy.storage.transactions import write_transaction

CONCEPTS = {
    "car": 0, "automobile": 0, "vehicle": 0,
    "protein": 1, "folding": 1, "enzyme": 1,
    "galaxy": 2, "stars": 2, "cosmology": 2,
    "graph": 3, "network": 3, "networks": 3,
    "study": 4, "paper": 4,
}  # fmt: skip


class ConceptEmbedder:
    model_id = "concepts-test"
    dimensions = 8

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                if word in CONCEPTS:
                    out[row, CONCEPTS[word]] += 1
            out[row, 7] += 0.05  # every text is a little similar to every other
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _paper(arxiv_id: str, title: str, abstract: str, day: date, **fields: object):
    values: dict[str, object] = {
        "listings": (Listing(day, "new"),),
        "versions": (Version(1, datetime.combine(day, datetime.min.time(), UTC)),),
        **fields,
    }
    return make_record(arxiv_id, title=title, abstract=abstract, **values)


@pytest.fixture
def corpus(engine, add_papers):
    add_papers(
        _paper("2501.00001", "Cheap car sharing", "A car fleet for a city.", date(2025, 1, 6)),
        _paper(
            "2501.00002",
            "Automobile routing at scale",
            "Routing for every automobile in town.",
            date(2025, 1, 8),
            categories=("cs.AI",),
            authors=("Grace Hopper",),
        ),
        _paper(
            "2501.00003", "Protein folding with graphs", "A graph network folds proteins.", date(2025, 1, 7)
        ),
        _paper("2501.00004", "Galaxy surveys", "Counting stars in a galaxy.", date(2025, 1, 9)),
        _paper(
            "2501.00005",
            "Vehicle detection survey",
            "A survey of vehicle detectors.",
            date(2025, 1, 10),
            categories=("cs.CV",),
        ),
    )
    embedder = ConceptEmbedder()
    embed_papers(engine, embedder, batch_size=10)
    searcher = Searcher(engine, "hashing", embedder=embedder, refresh_seconds=0)
    yield searcher
    searcher.close()


def _ids(page) -> list[str]:
    return [hit.paper.arxiv_id for hit in page.hits]


def test_hybrid_finds_by_words_and_by_meaning_words_first(corpus):
    page = corpus.search("car")
    found = _ids(page)
    assert found[0] == "2501.00001"  # the word and the meaning
    assert {"2501.00002", "2501.00005"} <= set(found)  # automobile, vehicle: meaning alone
    assert page.used == ("lexical", "semantic")
    by_id = {hit.paper.arxiv_id: hit for hit in page.hits}
    assert by_id["2501.00001"].matched_by == ("lexical", "semantic")
    assert by_id["2501.00002"].matched_by == ("semantic",)
    assert by_id["2501.00001"].title_html == "Cheap <mark>car</mark> sharing"


def test_lexical_mode_finds_only_the_word(corpus):
    page = corpus.search("car", mode="lexical")
    assert _ids(page) == ["2501.00001"]
    assert page.total == 1
    assert page.used == ("lexical",)


def test_semantic_mode_ranks_by_meaning(corpus):
    page = corpus.search("automobile", mode="semantic", page_size=3)
    assert set(_ids(page)) == {"2501.00001", "2501.00002", "2501.00005"}
    assert page.used == ("semantic",)


def test_requirements_hold_for_results_found_by_meaning(corpus):
    assert _ids(corpus.search("car cat:cs.CV")) == ["2501.00005"]
    assert "2501.00005" not in _ids(corpus.search("car -survey"))
    assert _ids(corpus.search("car author:hopper")) == ["2501.00002"]
    assert _ids(corpus.search('car "fleet for"')) == ["2501.00001"]
    assert set(_ids(corpus.search("car after:2025-01-08"))) == {"2501.00002", "2501.00005"}
    assert _ids(corpus.search("car before:2025-01-07")) == ["2501.00001"]


def test_narrow_filters_still_find_the_neighbours_that_pass_them(engine, add_papers):
    """Most nearest neighbours fail the filter: the search falls back to the papers that pass."""
    add_papers(
        *(_paper(f"2502.{i:05d}", f"Car number {i}", "A car.", date(2025, 2, 3)) for i in range(30)),
        _paper(
            "2502.00099", "Automobile in vision", "An automobile.", date(2025, 2, 3), categories=("cs.CV",)
        ),
        _paper("2502.00098", "Galaxy in vision", "Stars.", date(2025, 2, 3), categories=("cs.CV",)),
    )
    embedder = ConceptEmbedder()
    embed_papers(engine, embedder, batch_size=50)
    searcher = Searcher(
        engine, "hashing", embedder=embedder, tuning=Tuning(semantic_depth=5), refresh_seconds=0
    )
    page = searcher.search("vehicle cat:cs.CV", mode="semantic")
    searcher.close()
    assert _ids(page) == ["2502.00099"]  # not among the 20 nearest; the galaxy is not near at all


def test_sort_by_date_and_by_upvotes_keep_only_close_neighbours(engine, corpus):
    assert _ids(corpus.search("car", sort="date")) == ["2501.00005", "2501.00002", "2501.00001"]
    with write_transaction(engine) as conn:
        ids = dict(conn.execute(papers.select().with_only_columns(papers.c.arxiv_id, papers.c.id)).all())
        now = datetime.now(UTC)
        conn.execute(
            insert(paper_stats),
            [
                {"paper_id": ids["2501.00002"], "upvotes": 9, "comments": 0, "updated_at": now},
                {"paper_id": ids["2501.00001"], "upvotes": 3, "comments": 0, "updated_at": now},
            ],
        )
    assert _ids(corpus.search("car", sort="upvotes")) == ["2501.00002", "2501.00001", "2501.00005"]


def test_filters_alone_browse_newest_first_with_paging(corpus):
    first = corpus.search("after:2025-01-07", page_size=2)
    assert first.used == ("filters",)
    assert first.total == 4
    assert first.pages == 2
    assert _ids(first) == ["2501.00005", "2501.00004"]
    assert _ids(corpus.search("after:2025-01-07", page_size=2, page=2)) == ["2501.00002", "2501.00003"]


def test_paging_through_hybrid_results_visits_each_once(corpus):
    everything = _ids(corpus.search("car protein galaxy", page_size=100))
    paged = [
        arxiv_id
        for page in range(1, 4)
        for arxiv_id in _ids(corpus.search("car protein galaxy", page_size=2, page=page))
    ]
    assert paged == everything[:6]
    assert len(set(everything)) == len(everything) == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"deep learning', "unclosed quote"),
        ("x" * 251, "longer than 250 characters"),
        ("title:attention", "title: is not a filter"),
    ],
)
def test_malformed_queries_say_why(corpus, text, message):
    with pytest.raises(SearchRequestError, match=message):
        corpus.search(text)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sort": "random"}, "sort must be one of"),
        ({"mode": "magic"}, "mode must be one of"),
        ({"page_size": MAX_PAGE_SIZE + 1}, "page size must be between"),
        ({"page": 0}, "page must be 1 or more"),
        ({"page": MAX_RESULTS // 20 + 1}, "results stop at 1000"),
    ],
)
def test_bad_parameters_say_why(corpus, kwargs, message):
    with pytest.raises(SearchRequestError, match=message):
        corpus.search("car", **kwargs)


def test_without_embeddings_hybrid_answers_by_words_and_says_so(engine, add_papers):
    add_papers(_paper("2501.00001", "Cheap car sharing", "A car fleet.", date(2025, 1, 6)))
    searcher = Searcher(engine, "hashing", embedder=ConceptEmbedder(), refresh_seconds=0)
    page = searcher.search("car")
    assert _ids(page) == ["2501.00001"]
    assert page.used == ("lexical",)
    assert "paperboy index" in (page.notice or "")
    assert searcher.similar(page.hits[0].paper) == []
    searcher.close()


def test_no_results_say_what_was_searched(corpus):
    page = corpus.search("quasar cat:math.AG", mode="lexical")
    assert page.hits == []
    assert page.notice == "No papers matching quasar, in math.AG."


def test_similar_papers_by_meaning_without_the_paper_itself(corpus):
    car = corpus.search("car", mode="lexical").hits[0].paper
    similar = corpus.similar(car, limit=2)
    assert {hit.paper.arxiv_id for hit in similar} == {"2501.00002", "2501.00005"}
    assert all(hit.score > 0.9 for hit in similar)
    newest_first = corpus.similar(car, sort="date", limit=2)
    assert [hit.paper.arxiv_id for hit in newest_first] == ["2501.00005", "2501.00002"]
    with pytest.raises(SearchRequestError, match="sort must be one of"):
        corpus.similar(car, sort="random")


def test_a_new_version_replaces_the_old_text_in_both_indexes(engine, add_papers, corpus):
    add_papers(
        _paper(
            "2501.00004",
            "Protein enzyme design",
            "Enzymes that fold.",
            date(2025, 1, 9),
            versions=(
                Version(1, datetime(2025, 1, 8, tzinfo=UTC)),
                Version(2, datetime(2025, 1, 20, tzinfo=UTC)),
            ),
        )
    )
    assert "2501.00004" not in _ids(corpus.search("galaxy surveys", mode="lexical"))
    assert "2501.00004" in _ids(corpus.search("enzyme", mode="lexical"))
    # Until it is embedded again, the old vector answers; after, the new one.
    assert embed_papers(engine, ConceptEmbedder(), batch_size=10).embedded == 1
    vectors = corpus.meaning.vector_index()
    assert vectors is not None
    vectors.refresh()
    by_meaning = _ids(corpus.search("cosmology", mode="semantic", page_size=1))
    assert by_meaning != ["2501.00004"]
    assert set(_ids(corpus.search("folding", mode="semantic", page_size=2))) == {"2501.00003", "2501.00004"}


def test_stop_words_do_not_have_to_match_on_either_database(engine, add_papers):
    add_papers(
        _paper("2503.00001", "Sparse mixture experts", "Routing tokens.", date(2025, 3, 3)),
        _paper("2503.00002", "Dense experts", "No mixture here at all.", date(2025, 3, 3)),
    )
    searcher = Searcher(engine, "hashing", embedder=ConceptEmbedder(), refresh_seconds=0)
    assert _ids(searcher.search("mixture of the experts", mode="lexical")) == ["2503.00001", "2503.00002"]
    assert _ids(searcher.search('"sparse mixture" of', mode="lexical")) == ["2503.00001"]
    searcher.close()


def test_an_embedder_that_failed_to_load_is_tried_again_and_similar_papers_still_answer(
    engine, corpus, monkeypatch
):
    """A load that fails (a broken install, a race at start) is not the end of search by meaning:
    the reader is told the real cause, similar papers answer from the stored vectors, and the
    load is tried again EMBEDDER_RETRY_S later."""
    embed_papers(engine, HashingEmbedder(), batch_size=10)
    causes = ["cannot import name 'AutoModel' from 'transformers'"]

    def make_embedder(name: str, **options: object) -> HashingEmbedder:
        if causes:
            raise EmbedderUnavailable(causes.pop())
        return HashingEmbedder()

    monkeypatch.setattr(semantic_module, "make_embedder", make_embedder)
    now = [100.0]
    searcher = Searcher(engine, "hashing", refresh_seconds=0, clock=lambda: now[0])
    car = searcher.search("car", mode="lexical").hits[0].paper

    failed = searcher.search("car fleet")
    assert failed.used == ("lexical",)
    assert failed.notice == (
        "Search by meaning is off on this server for now (cannot import name 'AutoModel' from "
        "'transformers'). Results are by keywords only."
    )
    assert searcher.similar(car, limit=2)  # stored vectors need no model
    now[0] += EMBEDDER_RETRY_S - 1
    assert searcher.search("car fleet").used == ("lexical",)  # not yet tried again

    now[0] += 1
    recovered = searcher.search("car fleet")
    assert recovered.used == ("lexical", "semantic")
    assert recovered.notice is None
    assert searcher.meaning.embedder_error is None
    searcher.close()
