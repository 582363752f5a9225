""" "For you" through services/recommend.py on a real database (SQLite, or PostgreSQL with
PAPERBOY_TEST_DATABASE_URL), with stored vectors: a save moves similar papers up, "not
interested" pushes a paper and its near neighbours down, shared and followed authors come first,
a new member gets trending or their categories, the blend and the reset, and every action is in
the very next answer (the kept scores are keyed by the signals)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np
import pytest
from community import make_member
from conftest import make_record
from sqlalchemy import event, func, select

from paperboy.domain.calendar import day_period
from paperboy.domain.models import Listing
from paperboy.domain.personal_bytes import personal_bytes, personal_from_bytes
from paperboy.services.recommend import (
    explain_recommendation,
    recommend_papers,
    reset_recommendations,
    set_personal_share,
)
from paperboy.services.vector_index import VectorIndex
from paperboy.services.vector_search import open_vectors
from paperboy.storage.engine import make_engine, now_utc
from paperboy.storage.feedback import NOT_INTERESTED, clear_signal, set_signal
from paperboy.storage.follows import insert_follow
from paperboy.storage.library import delete_saved, insert_saved
from paperboy.storage.schema import papers, reader_scores
from paperboy.storage.transactions import write_transaction
from paperboy.storage.vectors import store_embeddings

MODEL = "test-model"
DAY = date(2025, 6, 12)
EARLIER = date(2025, 6, 11)
NOW = datetime(2025, 6, 13, 12, tzinfo=UTC)
TOPICS = {
    "graphs": "graph neural networks message passing molecules node embeddings",
    "speech": "speech recognition acoustic models spoken language transcription",
    "quantum": "quantum error correction surface codes qubits decoding",
    "robots": "reinforcement learning robot manipulation grasping policies",
}
# Each topic's papers on DAY: (arXiv id, topic, first author). "graphs" has two near neighbours.
TODAY = [
    ("2506.10001", "graphs", "Nina Graph"),
    ("2506.10002", "graphs", "Omar Node"),
    ("2506.10003", "speech", "Pia Voice"),
    ("2506.10004", "speech", "Quinn Sound"),
    ("2506.10005", "quantum", "Rosa Qubit"),
    ("2506.10006", "quantum", "Sam Code"),
    ("2506.10007", "robots", "Tara Grasp"),
    ("2506.10008", "robots", "Grace Hopper"),
]
LIBRARY = {"graphs": "2506.09001", "speech": "2506.09002", "quantum": "2506.09003"}


def _directions() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {topic: rng.standard_normal(32) for topic in TOPICS}


@pytest.fixture
def catalogue(engine, add_papers):
    records = [
        make_record(
            arxiv_id,
            title=f"{TOPICS[topic].split()[0].title()} study {arxiv_id}",
            abstract=f"We study {TOPICS[topic]} with new methods ({arxiv_id}).",
            authors=(author, "Common Coauthor"),
            categories=("cs.LG",) if topic != "quantum" else ("quant-ph",),
            listings=(Listing(DAY, "new"),),
        )
        for arxiv_id, topic, author in TODAY
    ]
    records += [
        make_record(
            arxiv_id,
            title=f"Earlier {topic} work",
            abstract=f"An earlier look at {TOPICS[topic]}.",
            authors=("Grace Hopper",) if topic == "speech" else ("Someone Else",),
            categories=("cs.LG",),
            listings=(Listing(EARLIER, "new"),),
        )
        for topic, arxiv_id in LIBRARY.items()
    ]
    add_papers(*records)
    with engine.connect() as conn:
        ids = dict(conn.execute(select(papers.c.arxiv_id, papers.c.id)).all())
    rng, directions = np.random.default_rng(11), _directions()
    topic_of = {a: t for a, t, _ in TODAY} | {a: t for t, a in LIBRARY.items()}
    rows = []
    for arxiv_id in sorted(ids):
        vector = directions[topic_of[arxiv_id]] + 0.3 * rng.standard_normal(32)
        rows.append(vector / np.linalg.norm(vector))
    with write_transaction(engine) as conn:
        store_embeddings(conn, MODEL, [(ids[a], 1) for a in sorted(ids)], np.asarray(rows, dtype=np.float32))
    return ids


@pytest.fixture
def index(engine):
    # The per-host index, or on PostgreSQL with pgvector (make test's third pass) the database's.
    index = open_vectors(engine, MODEL, refresh_seconds=3600.0)
    yield index
    index.close()


def _ranked(engine, index, user, **kwargs):
    found = recommend_papers(engine, index, user.id, day_period(DAY), now=NOW, **kwargs)
    return found, [item.arxiv_id for item in found.page(0, 100)]


def _save(engine, user, paper_id):
    with write_transaction(engine) as conn:
        insert_saved(conn, user.id, paper_id, now_utc())


def test_a_new_member_gets_the_whole_day_in_trending_order(engine, catalogue, index):
    found, order = _ranked(engine, index, make_member(engine, "ada"))
    assert found.cold
    assert sorted(order) == sorted(a for a, _, _ in TODAY)
    assert {item.reason.kind for item in found.page(0, 100)} == {"trending"}


def test_a_save_moves_papers_like_it_up_and_the_next_answer_has_it(engine, catalogue, index):
    ada = make_member(engine, "ada")
    _save(engine, ada, catalogue[LIBRARY["quantum"]])
    found, order = _ranked(engine, index, ada)
    assert set(order[:2]) == {"2506.10005", "2506.10006"}
    first = found.page(0, 1)[0]
    assert first.reason.kind == "close_to"
    assert first.reason.subject == "Earlier quantum work"
    with write_transaction(engine) as conn:  # taken out again: the kept scores are not used
        delete_saved(conn, ada.id, catalogue[LIBRARY["quantum"]])
    assert _ranked(engine, index, ada)[0].cold


def test_not_interested_pushes_a_paper_and_its_neighbours_down(engine, catalogue, index):
    ada = make_member(engine, "ada")
    for topic in ("graphs", "quantum"):
        _save(engine, ada, catalogue[LIBRARY[topic]])
    found, before = _ranked(engine, index, ada)
    assert set(before[:4]) == {"2506.10001", "2506.10002", "2506.10005", "2506.10006"}
    neighbour = catalogue["2506.10002"]
    score_before = dict(zip(*found.ranking(), strict=True))[neighbour]
    with write_transaction(engine) as conn:
        set_signal(conn, ada.id, catalogue["2506.10001"], NOT_INTERESTED, now_utc())
    found, after = _ranked(engine, index, ada)
    assert "2506.10001" not in after  # hidden: never recommended
    assert dict(zip(*found.ranking(), strict=True))[neighbour] < score_before - 0.1  # its neighbour went down
    assert found.page(0, 1)[0].reason.subject == "Earlier quantum work"
    with write_transaction(engine) as conn:
        clear_signal(conn, ada.id, catalogue["2506.10001"])
    assert _ranked(engine, index, ada)[1] == before


def test_an_author_in_the_library_or_followed_comes_first_and_says_so(engine, catalogue, index):
    ada = make_member(engine, "ada")
    _save(engine, ada, catalogue[LIBRARY["speech"]])  # by Grace Hopper
    found, order = _ranked(engine, index, ada)
    assert order[0] == "2506.10008"  # a robots paper, by Grace Hopper
    assert found.page(0, 1)[0].reason.text == "by Grace Hopper, an author in your library"
    with write_transaction(engine) as conn:
        insert_follow(conn, ada.id, "author", "tara grasp", "Tara Grasp", now_utc())
    found, order = _ranked(engine, index, ada)
    assert set(order[:2]) == {"2506.10007", "2506.10008"}
    reasons = {item.arxiv_id: item.reason.text for item in found.page(0, 2)}
    assert reasons["2506.10007"] == "by an author you follow: Tara Grasp"


def test_followed_categories_are_the_cold_start(engine, catalogue, index):
    ada = make_member(engine, "ada")
    with write_transaction(engine) as conn:
        insert_follow(conn, ada.id, "category", "quant-ph", "quant-ph", now_utc())
    found, order = _ranked(engine, index, ada)
    assert set(order[:2]) == {"2506.10005", "2506.10006"}
    assert len(order) == len(TODAY)
    assert found.page(0, 1)[0].reason.text == "popular in quant-ph, a category you follow"


def test_the_blend_and_the_reset(engine, catalogue, index):
    ada = make_member(engine, "ada")
    _save(engine, ada, catalogue[LIBRARY["quantum"]])
    assert set_personal_share(engine, ada.id, 0) == 0
    found, _ = _ranked(engine, index, ada)
    assert found.signals.personal_share == 0
    assert found.scored.personal_share == 0.0
    with pytest.raises(ValueError, match="0 to 100"):
        set_personal_share(engine, ada.id, 101)
    set_personal_share(engine, ada.id, 100)
    reset_recommendations(engine, ada.id)
    found, order = _ranked(engine, index, ada)
    assert found.cold
    assert found.signals.reset
    assert found.signals.personal_share == 100
    assert LIBRARY["quantum"] not in order  # still saved: the library is untouched


def test_why_lists_the_contributions(engine, catalogue, index):
    ada = make_member(engine, "ada")
    _save(engine, ada, catalogue[LIBRARY["quantum"]])
    why = explain_recommendation(engine, index, ada.id, "2506.10005", now=NOW)
    assert why is not None
    assert why.rank in (1, 2)
    assert why.total == len(TODAY)
    assert {part.feature for part in why.contributions} >= {"classifier", "words", "nearest", "centroid"}
    assert why.reason.kind == "close_to"
    assert explain_recommendation(engine, index, ada.id, "2506.99999", now=NOW) is None


def test_another_members_signals_are_never_used(engine, catalogue, index):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    _save(engine, ada, catalogue[LIBRARY["quantum"]])
    assert _ranked(engine, index, bob)[0].cold


def test_a_saved_search_lifts_what_it_matches_and_says_so(engine, catalogue, index):
    ada = make_member(engine, "ada")
    with write_transaction(engine) as conn:
        insert_follow(conn, ada.id, "search", '"speech recognition" -grasping', "speech", now_utc())
    found, order = _ranked(engine, index, ada)
    assert set(order[:2]) == {"2506.10003", "2506.10004"}
    assert found.page(0, 1)[0].reason.text == 'matches your saved search "speech recognition" -grasping'


def _another_process(engine):
    """An engine of its own on the same database: what another worker or host has (every kept
    thing is per engine), with the statements it runs."""
    other = make_engine(engine.url.render_as_string(hide_password=False))
    statements: list[str] = []
    event.listen(other, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return other, statements


def test_a_readers_scores_fitted_once_serve_every_other_process(engine, catalogue, index):
    ada = make_member(engine, "ada")
    _save(engine, ada, catalogue[LIBRARY["quantum"]])
    found, order = _ranked(engine, index, ada)
    other, statements = _another_process(engine)
    other_index = VectorIndex(other, MODEL, refresh_seconds=3600.0)
    try:
        again, again_order = _ranked(other, other_index, ada)
        assert again_order == order
        assert [i.reason for i in again.page(0, 100)] == [i.reason for i in found.page(0, 100)]
        assert any("FROM reader_scores" in s for s in statements)
        assert not any("INSERT INTO reader_scores" in s for s in statements)  # read, not fitted
        # an action changes what the scores are made from: the other process fits and stores anew
        _save(other, ada, catalogue[LIBRARY["graphs"]])
        statements.clear()
        moved, _ = _ranked(other, other_index, ada)
        assert any("INSERT INTO reader_scores" in s for s in statements)
        assert moved.signals != found.signals
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(reader_scores)).scalar_one() == 1
    finally:
        other_index.close()
        other.dispose()


def test_stored_scores_of_other_candidates_are_never_used(engine, catalogue, index):
    ada = make_member(engine, "ada")
    _save(engine, ada, catalogue[LIBRARY["quantum"]])
    found, _ = _ranked(engine, index, ada)
    blob = personal_bytes(found.scored.personal)
    candidates = found.scored.candidates
    shuffled = replace(candidates, ids=candidates.ids[::-1].copy())
    assert personal_from_bytes(blob, candidates) is not None
    assert personal_from_bytes(blob, shuffled) is None
    assert personal_from_bytes(b"not an archive", candidates) is None
    assert personal_from_bytes(blob[: len(blob) - 8], candidates) is None  # cut short
    old = io.BytesIO()
    np.savez(old, ids=candidates.ids)  # the .npz rows stored before: fitted again, never misread
    assert personal_from_bytes(old.getvalue(), candidates) is None


def test_stored_scores_read_back_as_they_were_fitted(engine, catalogue, index):
    ada = make_member(engine, "ada")
    _save(engine, ada, catalogue[LIBRARY["quantum"]])
    with engine.begin() as conn:
        insert_follow(conn, ada.id, "author", "tara grasp", "Tara Grasp", now_utc())
    fitted = _ranked(engine, index, ada)[0].scored.personal
    read = personal_from_bytes(personal_bytes(fitted), fitted.candidates)
    assert read is not None
    assert read.reader.positives[0].title == fitted.reader.positives[0].title
    assert read.reader.followed_authors == fitted.reader.followed_authors
    for name in ("personal", "nearest_positive", "searches_matched"):
        assert np.array_equal(getattr(read, name), getattr(fitted, name)), name
        assert getattr(read, name).dtype == getattr(fitted, name).dtype, name
    assert read.raw.keys() == fitted.raw.keys()
    assert all(np.array_equal(read.points[k], fitted.points[k]) for k in fitted.points)
    read.personal[0] = 0.5  # copies of the stored bytes, which are read-only


def test_a_run_that_does_not_store_leaves_no_row(engine, catalogue, index):
    ada = make_member(engine, "ada")
    _save(engine, ada, catalogue[LIBRARY["quantum"]])
    _ranked(engine, index, ada, store=False)  # a digest's run over every member
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(reader_scores)).scalar_one() == 0
    _ranked(engine, index, ada)  # kept in the process: the page reads it, nothing fitted or stored
    _save(engine, ada, catalogue[LIBRARY["graphs"]])
    _ranked(engine, index, ada)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(reader_scores)).scalar_one() == 1
