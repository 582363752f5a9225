"""services/search_index.embed_papers on the real database, with the hashing embedder: every paper
embedded once, changed papers again, and an interrupted run resumed without repeating a batch."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import numpy as np
import pytest
from conftest import make_record
from sqlalchemy import select

from paperboy.domain.models import Version
from paperboy.integrations.embedder import HashingEmbedder, paper_text
from paperboy.services import search_index
from paperboy.services.search_index import (
    clear_embeddings,
    count_papers_to_embed,
    embed_papers,
    embed_waiting_papers,
)
from paperboy.storage.schema import paper_embeddings, papers
from paperboy.storage.vectors import count_embeddings, load_vectors, store_embeddings


class CountingEmbedder:
    """The hashing embedder, recording the texts of each call; raises on call number `fail_on`."""

    def __init__(self, engine=None, fail_on: int | None = None) -> None:
        self.inner = HashingEmbedder()
        self.model_id = self.inner.model_id
        self.dimensions = self.inner.dimensions
        self.calls: list[list[str]] = []
        self.engine = engine
        self.fail_on = fail_on
        self.connections_open: list[int] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        if self.engine is not None:
            self.connections_open.append(self.engine.pool.checkedout())
        if self.fail_on is not None and len(self.calls) == self.fail_on:
            raise KeyboardInterrupt
        return self.inner.embed(texts)


def _add(add_papers, n, start=0):
    add_papers(
        *(make_record(f"2501.{i:05d}", title=f"Paper about topic{i}") for i in range(start, start + n))
    )


def _stored(engine, model="hashing-v1"):
    with engine.connect() as conn:
        return dict(
            conn.execute(
                select(paper_embeddings.c.paper_id, paper_embeddings.c.version).where(
                    paper_embeddings.c.model == model
                )
            ).all()
        )


def test_embeds_every_paper_in_batches_with_no_connection_held_while_embedding(engine, add_papers):
    _add(add_papers, 10)
    embedder = CountingEmbedder(engine)
    seen = []
    report = embed_papers(
        engine, embedder, batch_size=4, progress=lambda done, total: seen.append((done, total))
    )
    assert report.embedded == 10
    assert report.stored == 10
    assert report.model == "hashing-v1"
    assert report.seconds >= 0
    assert "10 papers embedded" in report.summary()
    assert [len(call) for call in embedder.calls] == [4, 4, 2]
    assert seen == [(4, 10), (4, 10), (2, 10)]
    assert embedder.connections_open == [0, 0, 0]  # nothing open, let alone a write transaction
    with engine.connect() as conn:
        matrix, ids = load_vectors(conn, "hashing-v1")
        rows = dict(conn.execute(select(papers.c.id, papers.c.title)).all())
    assert sorted(ids.tolist()) == sorted(rows)
    first = int(ids[0])
    with engine.connect() as conn:
        abstract = conn.execute(select(papers.c.abstract).where(papers.c.id == first)).scalar_one()
    expected = HashingEmbedder().embed([paper_text(rows[first], abstract)])[0]
    assert float(matrix[0] @ expected) > 0.9999


def test_a_second_run_embeds_nothing(engine, add_papers):
    _add(add_papers, 5)
    embed_papers(engine, HashingEmbedder(), batch_size=32)
    embedder = CountingEmbedder()
    report = embed_papers(engine, embedder, batch_size=32)
    assert report.embedded == 0
    assert report.stored == 5
    assert embedder.calls == []
    assert count_papers_to_embed(engine, embedder.model_id) == 0


def test_a_new_version_of_a_paper_is_embedded_again(engine, add_papers):
    _add(add_papers, 3)
    embed_papers(engine, HashingEmbedder(), batch_size=32)
    v1 = Version(1, datetime(2025, 6, 11, 17, 0, tzinfo=UTC))
    v2 = Version(2, datetime(2025, 6, 20, 9, 0, tzinfo=UTC))
    add_papers(make_record("2501.00001", title="Paper about topic1, revised", versions=(v1, v2)))
    embedder = CountingEmbedder()
    assert count_papers_to_embed(engine, embedder.model_id) == 1
    report = embed_papers(engine, embedder, batch_size=32)
    assert report.embedded == 1
    assert len(embedder.calls) == 1
    assert embedder.calls[0][0].startswith("Paper about topic1, revised. ")
    assert sorted(_stored(engine).values()) == [1, 1, 2]


def test_each_batch_is_read_after_the_last_paper_of_the_one_before(engine, add_papers):
    """A run moves forward by id instead of scanning from the first paper for every batch (which
    cost in proportion to the vectors stored): a paper changed behind that point while the run
    goes on is left to the next run, which embeds it."""
    _add(add_papers, 6)
    embed_papers(engine, HashingEmbedder(), batch_size=32)
    _add(add_papers, 6, start=6)
    v1 = Version(1, datetime(2025, 6, 11, 17, 0, tzinfo=UTC))
    v2 = Version(2, datetime(2025, 6, 20, 9, 0, tzinfo=UTC))

    class ChangingEmbedder(CountingEmbedder):
        def embed(self, texts):
            if len(self.calls) == 1:  # during the second batch, paper 1 (behind the run) changes
                add_papers(make_record("2501.00001", title="Paper about topic1, revised", versions=(v1, v2)))
            return super().embed(texts)

    embedder = ChangingEmbedder()
    assert embed_papers(engine, embedder, batch_size=2).embedded == 6
    assert [text.split(".")[0] for call in embedder.calls for text in call] == [
        f"Paper about topic{i}" for i in range(6, 12)
    ]
    later = CountingEmbedder()
    assert embed_papers(engine, later, batch_size=2).embedded == 1
    assert later.calls[0][0].startswith("Paper about topic1, revised. ")


def test_an_interrupted_run_resumes_and_embeds_the_rest_exactly_once(engine, add_papers):
    _add(add_papers, 10)
    failing = CountingEmbedder(fail_on=2)
    with pytest.raises(KeyboardInterrupt):
        embed_papers(engine, failing, batch_size=4)
    assert len(_stored(engine)) == 4  # the first batch was stored before the second was computed

    resumed = CountingEmbedder()
    report = embed_papers(engine, resumed, batch_size=4)
    assert report.embedded == 6
    assert report.stored == 10
    first_batch = set(failing.calls[0])
    later = [text for call in resumed.calls for text in call]
    assert len(later) == len(set(later)) == 6
    assert first_batch.isdisjoint(later)


def test_a_stop_ends_the_run_after_the_batch_in_hand_and_the_next_run_goes_on(engine, add_papers):
    """What `serve` does on SIGTERM: its background embedding stops between batches."""
    _add(add_papers, 10)
    stop = threading.Event()
    embedder = CountingEmbedder()
    report = embed_papers(engine, embedder, batch_size=4, stop=stop, progress=lambda done, total: stop.set())
    assert report.embedded == 4
    assert len(_stored(engine)) == 4
    assert embed_papers(engine, embedder, batch_size=4).embedded == 6


def test_limit_and_clearing_one_model(engine, add_papers):
    _add(add_papers, 7)
    report = embed_papers(engine, HashingEmbedder(), batch_size=3, limit=5)
    assert report.embedded == 5
    with engine.begin() as conn:  # another model's vectors are not touched by clearing hashing-v1
        paper_id = min(_stored(engine))
        store_embeddings(conn, "other-model", [(paper_id, 1)], np.ones((1, 384), dtype=np.float32))
    assert clear_embeddings(engine, HashingEmbedder()) == 5
    with engine.connect() as conn:
        assert count_embeddings(conn, "hashing-v1") == 0
        assert count_embeddings(conn, "other-model") == 1


def test_a_bad_batch_size_is_refused(engine):
    with pytest.raises(ValueError, match="at least 1"):
        embed_papers(engine, HashingEmbedder(), batch_size=0)


def test_with_no_paper_waiting_the_model_is_not_loaded(engine, settings, add_papers):
    """`serve`'s background embedding looks every few minutes: nothing waiting, no model loaded
    (MiniLM's is seconds of importing torch while the first requests are served)."""
    settings = settings.replace(embedder="hashing", embed_batch_size=7)  # a key no other test loads
    key = ("hashing", 7, 3)
    assert embed_waiting_papers(engine, settings, threads=3) is None
    assert key not in search_index._embedders
    add_papers(make_record("2501.00001"))
    report = embed_waiting_papers(engine, settings, threads=3)
    assert report is not None
    assert (report.embedded, report.stored) == (1, 1)
    assert key in search_index._embedders
    assert embed_waiting_papers(engine, settings, threads=3) is None  # done: nothing waits
