"""The lexical index on the real database (SQLite FTS5, or PostgreSQL when configured)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from conftest import make_record
from sqlalchemy import delete, insert

from paperboy.domain.models import Listing, Version
from paperboy.domain.search_query import parse_search_query
from paperboy.storage.engine import now_utc
from paperboy.storage.lexical import search_lexical
from paperboy.storage.lexical_index import clear_index, index_papers, indexed_count, remove_papers
from paperboy.storage.schema import hf_papers, papers
from paperboy.storage.transactions import write_transaction


def search(engine, text, limit=20, offset=0):
    with engine.connect() as conn:
        ids, scores = search_lexical(conn, parse_search_query(text), limit, offset)
    assert scores == sorted(scores, reverse=True)
    return ids


def arxiv_ids(engine, text, **kwargs):
    ids = search(engine, text, **kwargs)
    with engine.connect() as conn:
        rows = dict(conn.execute(papers.select().with_only_columns(papers.c.id, papers.c.arxiv_id)).all())
    return [rows[i] for i in ids]


@pytest.fixture
def corpus(add_papers):
    add_papers(
        make_record(
            "2501.00001",
            title="Graph neural networks for molecules",
            abstract="We apply message passing to predict molecular properties.",
            authors=("Ada Lovelace", "Alan Turing"),
            categories=("cs.LG", "q-bio.BM"),
            listings=(Listing(date(2025, 1, 6), "new"),),
        ),
        make_record(
            "2503.00002",
            title="Protein folding with diffusion",
            abstract="A diffusion model folds proteins; code at https://github.com/acme/fold.",
            authors=("Grace Hopper",),
            categories=("q-bio.BM",),
            listings=(Listing(date(2025, 3, 10), "new"),),
        ),
        make_record(
            "2506.00003",
            title="A survey of language models",
            abstract="We survey graph methods and the message of passing trends in language models.",
            authors=("Erwin Schrödinger", "Ada Byron"),
            categories=("cs.CL",),
            listings=(Listing(date(2025, 6, 2), "new"),),
        ),
    )


def test_words_must_all_match(engine, corpus):
    assert arxiv_ids(engine, "graph molecules") == ["2501.00001"]
    assert set(arxiv_ids(engine, "graph")) == {"2501.00001", "2506.00003"}


def test_words_fall_back_to_any_word_when_all_together_match_nothing(engine, corpus):
    # no paper has both, so papers with either come back
    assert set(arxiv_ids(engine, "molecules proteins")) == {"2501.00001", "2503.00002"}
    assert arxiv_ids(engine, "molecules proteins", offset=2) == []


def test_stemming_matches_other_forms(engine, corpus):
    assert arxiv_ids(engine, "molecule") == ["2501.00001"]
    assert arxiv_ids(engine, "folding protein") == ["2503.00002"]


def test_phrases_keep_word_order(engine, corpus):
    assert set(arxiv_ids(engine, "message passing")) == {"2501.00001", "2506.00003"}
    assert arxiv_ids(engine, '"message passing"') == ["2501.00001"]


def test_exclusions(engine, corpus):
    assert arxiv_ids(engine, "graph -survey") == ["2501.00001"]
    assert arxiv_ids(engine, 'graph -"message passing"') == ["2506.00003"]
    assert arxiv_ids(engine, "cat:q-bio.BM -diffusion") == ["2501.00001"]


def test_author_matches_within_authors_only(engine, corpus):
    assert arxiv_ids(engine, "author:lovelace") == ["2501.00001"]
    assert arxiv_ids(engine, 'author:"Grace Hopper"') == ["2503.00002"]
    assert arxiv_ids(engine, "author:molecules") == []  # a title word is not an author
    assert set(arxiv_ids(engine, "author:ada")) == {"2501.00001", "2506.00003"}
    assert arxiv_ids(engine, "author:ada author:turing") == ["2501.00001"]
    assert arxiv_ids(engine, "models author:byron") == ["2506.00003"]


def test_categories_any_of_them_and_archives(engine, corpus):
    assert arxiv_ids(engine, "graph cat:cs.LG") == ["2501.00001"]
    assert set(arxiv_ids(engine, "cat:cs.LG cat:cs.CL")) == {"2501.00001", "2506.00003"}
    assert set(arxiv_ids(engine, "cat:cs")) == {"2501.00001", "2506.00003"}
    assert set(arxiv_ids(engine, "cat:q-bio")) == {"2501.00001", "2503.00002"}


def test_dates_use_the_first_listing_day_inclusively(engine, corpus):
    assert arxiv_ids(engine, "after:2025-03-10") == ["2506.00003", "2503.00002"]  # browse: newest first
    assert arxiv_ids(engine, "before:2025-03-10") == ["2503.00002", "2501.00001"]
    assert arxiv_ids(engine, "graph after:2025-02 before:2025-12") == ["2506.00003"]


def test_dates_fall_back_to_submission_for_papers_never_listed(engine, add_papers):
    submitted = Version(1, datetime(2024, 5, 1, 23, 30, tzinfo=UTC))
    add_papers(make_record("2405.00001", title="Unlisted transformer", listings=(), versions=(submitted,)))
    assert arxiv_ids(engine, "transformer after:2024-05-01 before:2024-05-01") == ["2405.00001"]
    assert arxiv_ids(engine, "transformer after:2024-05-02") == []


def test_has_code_from_links_or_hugging_face(engine, corpus):
    assert arxiv_ids(engine, "has:code") == ["2503.00002"]
    with write_transaction(engine) as conn:
        pid = conn.execute(papers.select().where(papers.c.arxiv_id == "2501.00001")).one().id
        row = {
            "paper_id": pid,
            "upvotes": 1,
            "github_repo": "https://github.com/a/b",
            "fetched_at": now_utc(),
        }
        conn.execute(insert(hf_papers), row)
    assert set(arxiv_ids(engine, "has:code")) == {"2501.00001", "2503.00002"}


def test_a_title_match_ranks_above_an_abstract_match(engine, add_papers):
    add_papers(
        make_record("2501.00010", title="Notes on training", abstract="About transformers and training."),
        make_record("2501.00011", title="Transformers", abstract="Notes on training them."),
    )
    assert arxiv_ids(engine, "transformers") == ["2501.00011", "2501.00010"]


def test_pagination(engine, add_papers):
    add_papers(*(make_record(f"2501.{i:05d}", title=f"Sparse attention {i}") for i in range(1, 8)))
    first, second = search(engine, "sparse attention", limit=4), search(engine, "sparse attention", 4, 4)
    assert len(first) == 4
    assert len(second) == 3
    assert not set(first) & set(second)


@pytest.mark.parametrize(
    "text",
    [
        'NEAR(graph molecules) "a" AND b OR c NOT d',
        "graph* ^graph title : x {title abstract} : x",
        '"title: graph" "abstract:x" "authors : lovelace" "rank MATCH"',
        '(graph) ) ( "" "\'" "graph" + - ; -- /* */',
        "it's O'Reilly \\ % _ [a] @@ && || !! <-> :* 'x':A",
        'author:"NEAR(x" cat:cs.LG "AND" "OR" "NOT"',
        "C++ 3:1 arXiv:1706.03762 https://x.org/?q=1&b=2",
        "𝔊raph 😀 – — … 「グラフ」 ΣΑΣ ﷺ",
        "the of and",  # English stop words only (PostgreSQL ignores them)
    ],
)
def test_hostile_text_never_breaks_the_query(engine, corpus, text):
    search(engine, text)  # no database error whatever the reader types


def test_operators_in_text_are_words(engine, add_papers):
    add_papers(make_record("2501.00020", title="NEAR and AND operators", abstract="Boolean logic."))
    assert arxiv_ids(engine, "NEAR AND") == ["2501.00020"]


def test_diacritics_and_case_are_ignored(engine, corpus, add_papers):
    add_papers(make_record("2501.00030", title="Équations de Schrödinger", abstract="Über alles."))
    assert arxiv_ids(engine, "schrodinger") == ["2501.00030", "2506.00003"]  # a title, an author
    assert arxiv_ids(engine, "SCHRÖDINGER equations") == ["2501.00030"]
    assert arxiv_ids(engine, "equation") == ["2501.00030"]
    assert arxiv_ids(engine, "uber") == ["2501.00030"]
    assert arxiv_ids(engine, "author:schrodinger") == ["2506.00003"]


def test_non_latin_scripts(engine, add_papers):
    add_papers(make_record("2501.00040", title="Нейронные сети", abstract="Σύνοψη για γράφους."))
    assert arxiv_ids(engine, "нейронные") == ["2501.00040"]
    assert arxiv_ids(engine, "σύνοψη") == ["2501.00040"]


def test_a_new_version_replaces_the_old_text(engine, corpus, add_papers):
    add_papers(
        make_record(
            "2501.00001",
            title="Transformers for molecules",
            abstract="Attention predicts molecular properties.",
            authors=("Charles Babbage",),
            versions=(
                Version(1, datetime(2025, 1, 5, tzinfo=UTC)),
                Version(2, datetime(2025, 2, 5, tzinfo=UTC)),
            ),
        )
    )
    assert arxiv_ids(engine, "graph") == ["2506.00003"]
    assert arxiv_ids(engine, "transformers molecules") == ["2501.00001"]
    assert arxiv_ids(engine, "author:babbage") == ["2501.00001"]
    assert arxiv_ids(engine, "author:lovelace") == []
    with engine.connect() as conn:
        assert indexed_count(conn) == 3


def test_an_update_that_keeps_the_text_keeps_the_entry(engine, corpus, add_papers):
    add_papers(make_record("2503.00002", comment="Accepted at NeurIPS", **_same_text_as_protein_paper()))
    assert arxiv_ids(engine, "protein folding") == ["2503.00002"]


def _same_text_as_protein_paper():
    return {
        "title": "Protein folding with diffusion",
        "abstract": "A diffusion model folds proteins; code at https://github.com/acme/fold.",
        "authors": ("Grace Hopper",),
        "categories": ("q-bio.BM",),
        "listings": (Listing(date(2025, 3, 10), "new"),),
    }


def test_deleted_papers_leave_the_index(engine, corpus):
    with write_transaction(engine) as conn:
        conn.execute(delete(papers).where(papers.c.arxiv_id == "2501.00001"))
    assert arxiv_ids(engine, "graph") == ["2506.00003"]
    with engine.connect() as conn:
        assert indexed_count(conn) == 2


def test_remove_index_and_clear(engine, corpus):
    with write_transaction(engine) as conn:
        pid = conn.execute(papers.select().where(papers.c.arxiv_id == "2503.00002")).one().id
        remove_papers(conn, [pid])
        remove_papers(conn, [pid])  # removing what is not there is harmless
    assert arxiv_ids(engine, "protein") == []
    with write_transaction(engine) as conn:
        index_papers(conn, [pid, 999_999])
        index_papers(conn, [pid])  # indexing twice replaces
    assert arxiv_ids(engine, "protein") == ["2503.00002"]
    with write_transaction(engine) as conn:
        clear_index(conn)
        assert indexed_count(conn) == 0
    assert arxiv_ids(engine, "protein") == []
