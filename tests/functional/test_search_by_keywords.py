"""A default app ranks keywords with its keyword index (services/keyword_ranker.py): the start-up
warm-up builds it in data_dir/keywords, searches are ranked by it (its BM25 scores, not the
database's), and a paper written after start is found by the very next search."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime

import pytest
from app_client import open_client
from conftest import make_record
from search_corpus import MESSAGES, MOLECULES, SURVEY, add_corpus

from paperboy.domain.models import Listing, Version
from paperboy.domain.search_query import parse_search_query
from paperboy.services.keyword_ranker import KEYWORD_DIRECTORY, KeywordRanker
from paperboy.storage.papers import write_papers

BUILT_WITHIN_S = 60.0  # five papers take milliseconds; two busy shared cores make it slower


def _wait_until_current(keywords: KeywordRanker) -> None:
    deadline = time.monotonic() + BUILT_WITHIN_S
    while keywords.status().state != "current" and time.monotonic() < deadline:
        time.sleep(0.1)


def _keyword_scores(keywords: KeywordRanker, engine, text: str) -> object:
    """What the index itself scores for `text`, best first, as the API rounds them."""
    with engine.connect() as conn:
        hits = keywords.search(conn, parse_search_query(text), 20, all_words=True)
    assert hits is not None
    return pytest.approx(hits.scores, abs=1e-5)


def _lexical_search(client, text: str) -> list[dict[str, object]]:
    response = client.get("/api/v1/search", params={"q": text, "mode": "lexical"})
    assert response.status_code == 200, response.text
    results: list[dict[str, object]] = response.json()["results"]
    return results


def test_a_default_app_searches_with_its_keyword_index(settings, add_papers, engine):
    add_corpus(add_papers, engine, embed=False)
    with open_client(settings) as client:
        context = client.app.state.paperboy  # type: ignore[attr-defined]
        keywords = context.searcher.keywords
        assert keywords is not None
        _wait_until_current(keywords)  # built by the warm-up, before any search asked
        status = keywords.status()
        assert (status.state, status.papers, status.writer, status.failure) == ("current", 5, True, None)
        state = json.loads((settings.data_dir / KEYWORD_DIRECTORY / "state.json").read_text())
        assert state["complete"] is True

        results = _lexical_search(client, "message passing")
        assert {r["arxiv_id"] for r in results} == {MOLECULES, MESSAGES, SURVEY}
        assert [r["score"] for r in results] == _keyword_scores(keywords, context.engine, "message passing")

        # Written the way import and sync write papers, then searched at once.
        day = date(2025, 6, 20)
        write_papers(
            context.engine,
            [
                make_record(
                    "2506.00099",
                    title="Zeolite catalysts for message passing chemistry",
                    abstract="Zeolites host reactions.",
                    versions=(Version(1, datetime(2025, 6, 19, tzinfo=UTC)),),
                    listings=(Listing(day, "new"),),
                )
            ],
        )
        results = _lexical_search(client, "zeolite")
        assert [r["arxiv_id"] for r in results] == ["2506.00099"]
        assert [r["score"] for r in results] == _keyword_scores(keywords, context.engine, "zeolite")
        assert keywords.status().papers == 6
        assert keywords.status().state == "current"
