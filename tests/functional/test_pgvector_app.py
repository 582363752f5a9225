"""The app on PostgreSQL with pgvector: search by meaning, similar papers and "For you" answered by
the database's HNSW index (services/pgvector_index.py), with the same results as the per-host
index on the same database, and a paper embedded after the app started found by its next search,
with no refresh. Needs PAPERBOY_TEST_PGVECTOR_URL (conftest.pgvector_database: a skip locally
without it, a failure under CI)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from app_client import open_client
from community import make_member
from conftest import make_record, pgvector_database
from search_corpus import MOLECULES, add_corpus, hashing_settings

from paperboy.domain.models import Listing
from paperboy.integrations.embedder import make_embedder
from paperboy.services.api_tokens import create_token
from paperboy.services.pgvector_index import PgVectorIndex
from paperboy.services.search_index import embed_papers
from paperboy.services.vector_index import VectorIndex


@pytest.fixture
def database_url() -> Iterator[str]:
    """Every fixture of this module (engine, settings, add_papers) on a pgvector database."""
    with pgvector_database() as url:
        yield url


@pytest.fixture
def settings(settings):
    return hashing_settings(settings)  # the corpus's vectors are the hashing embedder's


@pytest.fixture
def corpus(add_papers, engine):
    add_corpus(add_papers, engine, extra=12)


def _both(settings, ask):
    """`ask(client)` answered by the database's index and by the per-host one."""
    answers = []
    for search, kind in (("auto", PgVectorIndex), ("per-host", VectorIndex)):
        with open_client(settings.replace(vector_search=search)) as client:
            assert isinstance(client.app.state.paperboy.searcher.meaning.vector_index(), kind)
            answers.append(ask(client))
    return answers


def test_search_by_meaning_answers_as_the_per_host_index(settings, corpus):
    query = "sparse attention for long documents, efficient kernels"

    def ask(client):
        body = client.get("/api/v1/search", params={"q": query, "mode": "semantic"}).json()
        assert body["used"] == ["semantic"]
        assert body["notice"] is None
        return [(item["arxiv_id"], round(item["score"], 4)) for item in body["results"]]

    in_database, per_host = _both(settings, ask)
    assert len(in_database) >= 10
    # The same papers with the same scores; papers whose scores tie to the float32 rounding of
    # two engines (the twelve near-identical ones) may come in either order.
    assert sorted(in_database) == sorted(per_host)


def test_similar_papers_answer_as_the_per_host_index(settings, corpus):
    def ask(client):
        body = client.get(f"/api/v1/papers/{MOLECULES}/similar").json()
        assert body["notice"] is None
        return [item["arxiv_id"] for item in body["results"]]

    in_database, per_host = _both(settings, ask)
    assert len(in_database) == 10
    assert MOLECULES not in in_database
    assert in_database[:4] == per_host[:4]  # the corpus's own papers, then near-identical ones
    assert set(in_database) <= set(per_host) | {f"2506.{100 + n:05d}" for n in range(12)}
    with open_client(settings) as client:  # the page shows them too
        page = client.get(f"/papers/{MOLECULES}").text
        assert all(f'href="/papers/{arxiv_id}"' in page for arxiv_id in in_database[:3])


def test_a_paper_embedded_after_start_is_found_by_the_next_search(settings, corpus, add_papers, engine):
    with open_client(settings) as client:
        title = "Zebrafish fin regeneration by osteoblast dedifferentiation"
        add_papers(make_record("2507.00001", title=title, abstract="Zebrafish fins regrow bone."))
        embed_papers(engine, make_embedder("hashing"), batch_size=64)  # as another host's sync would
        body = client.get("/api/v1/search", params={"q": title, "mode": "semantic"}).json()
        assert body["results"][0]["arxiv_id"] == "2507.00001"  # no refresh: the database answered


def test_for_you_ranks_by_the_database_vectors(settings, engine, add_papers):
    day = date(2025, 6, 12)
    topics = {
        "2506.00001": "Surface codes for quantum error correction with qubits",
        "2506.00002": "Speech recognition for spoken dialects",
        "2506.00003": "Robot grasping with reinforcement learning",
    }
    add_papers(
        *(
            make_record(i, title=t, abstract=t, authors=(f"Author {i}",), listings=(Listing(day, "new"),))
            for i, t in topics.items()
        ),
        make_record("2506.09001", title="Quantum surface codes and qubits revisited", authors=("Else",)),
    )
    embed_papers(engine, make_embedder("hashing"), batch_size=64)
    bob = make_member(engine, "bob")
    token = create_token(engine, bob, "script", ["read", "library"]).plaintext
    headers = {"Authorization": f"Bearer {token}"}

    def ask(client):
        assert client.put("/api/v1/me/library/2506.09001", headers=headers).status_code == 200
        body = client.get("/api/v1/me/recommendations?date=2025-06-12", headers=headers).json()
        assert body["cold"] is False
        return [(item["id"], item["reason_kind"]) for item in body["items"]]

    in_database, per_host = _both(settings, ask)
    assert in_database[0] == ("2506.00001", "close_to")
    assert in_database == per_host
