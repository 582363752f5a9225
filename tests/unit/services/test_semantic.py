"""services/semantic.SemanticRanker's state for monitors (/healthz/search), on the real database:
idle, loading, no vectors yet, live and off, read without loading the model or the vectors."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import pytest
from conftest import make_record
from sqlalchemy import Engine

from paperboy.integrations.embedder import EmbedderUnavailable, HashingEmbedder
from paperboy.services import semantic as semantic_module
from paperboy.services.loading import LOADING_NICENESS, this_thread_niceness
from paperboy.services.search_index import embed_papers
from paperboy.services.semantic import EMBEDDER_RETRY_S, WAITING_KEPT_S, SemanticRanker

AddPapers = Callable[..., None]  # the add_papers fixture
CAUSE = "cannot import name 'AutoModel' from 'transformers'"


@pytest.fixture
def now() -> list[float]:
    return [1000.0]


@pytest.fixture
def ranker(engine: Engine, now: list[float]) -> Iterator[SemanticRanker]:
    ranker = SemanticRanker(engine, "hashing", refresh_seconds=0, clock=lambda: now[0])
    yield ranker
    ranker.close()


def _add(add_papers: AddPapers, *numbers: int) -> None:
    add_papers(*(make_record(f"2501.{n:05d}", title=f"Paper {n}") for n in numbers))


def test_asking_loads_nothing_and_a_warm_up_makes_it_live(
    ranker: SemanticRanker, engine: Engine, add_papers: AddPapers
) -> None:
    _add(add_papers, 1, 2)
    before = ranker.status()
    assert (before.state, before.model, before.vectors, before.waiting) == ("idle", "hashing-v1", None, 2)
    assert ranker.vector_index().loaded_size() is None  # still not loaded
    assert ranker.state() == "idle"

    ranker.warm_up()
    assert ranker.state() == "no vectors yet"
    embed_papers(engine, HashingEmbedder(), batch_size=10)
    ranker.vector_index().refresh()
    assert ranker.state() == "live"
    live = ranker.status()
    assert (live.live, live.vectors, live.failure, live.retry_in_s) == (True, 2, None, None)


def test_the_count_of_papers_waiting_is_kept_a_few_seconds(
    ranker: SemanticRanker, add_papers: AddPapers, now: list[float]
) -> None:
    _add(add_papers, 1)
    assert ranker.status().waiting == 1
    _add(add_papers, 2, 3)
    now[0] += WAITING_KEPT_S - 0.1
    assert ranker.status().waiting == 1
    now[0] += 0.1
    assert ranker.status().waiting == 3


def test_loading_while_the_warm_up_runs(ranker: SemanticRanker, monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()

    def slow_embedder(name: str, **options: object) -> HashingEmbedder:
        started.set()
        release.wait(30)
        return HashingEmbedder()

    monkeypatch.setattr(semantic_module, "make_embedder", slow_embedder)
    warm_up = ranker.start_warm_up()
    assert ranker.state() == "loading"  # at once: before the thread has done anything
    assert started.wait(30)
    assert ranker.status().state == "loading"
    release.set()
    warm_up.join(30)
    assert ranker.state() == "no vectors yet"


def test_off_with_its_cause_and_when_it_is_tried_again(
    ranker: SemanticRanker,
    engine: Engine,
    add_papers: AddPapers,
    monkeypatch: pytest.MonkeyPatch,
    now: list[float],
) -> None:
    _add(add_papers, 1)
    embed_papers(engine, HashingEmbedder(), batch_size=10)
    causes = [CAUSE]

    def make_embedder(name: str, **options: object) -> HashingEmbedder:
        if causes:
            raise EmbedderUnavailable(causes.pop())
        return HashingEmbedder()

    monkeypatch.setattr(semantic_module, "make_embedder", make_embedder)
    ranker.start_warm_up().join(30)
    now[0] += 15
    off = ranker.status()
    assert (off.state, off.live, off.failure, off.vectors) == ("off", False, CAUSE, 1)
    assert off.retry_in_s == pytest.approx(EMBEDDER_RETRY_S - 15)
    assert off.failed_at is not None

    now[0] += EMBEDDER_RETRY_S
    assert ranker.status().retry_in_s == 0  # due: the next search tries again
    assert ranker.state() == "off"  # a health check does not
    ranker.warm_up()
    recovered = ranker.status()
    assert (recovered.state, recovered.retry_in_s) == ("live", None)
    assert (recovered.failure, recovered.failed_at) == (CAUSE, off.failed_at)  # the last one, kept


def test_a_warm_up_after_close_loads_nothing(ranker: SemanticRanker, add_papers: AddPapers) -> None:
    """`serve` stopping while its warm-up waited for the keyword index: the model (seconds) and
    the vectors are not loaded only to be thrown away."""
    _add(add_papers, 1)
    ranker.close()
    ranker.start_warm_up().join(30)
    assert ranker.state() == "idle"
    assert ranker.vector_index().loaded_size() is None


@pytest.mark.skipif(sys.platform != "linux", reason="threads have their own priority on Linux")
def test_the_warm_up_loads_at_the_lowest_priority_and_search_comes_on(
    ranker: SemanticRanker, engine: Engine, add_papers: AddPapers
) -> None:
    """Loading runs on what requests leave (services/loading.py), and still ends live."""
    _add(add_papers, 1)
    embed_papers(engine, HashingEmbedder(), batch_size=10)
    priorities: list[int | None] = []
    ranker.start_warm_up(first=lambda: priorities.append(this_thread_niceness())).join(30)
    assert priorities == [LOADING_NICENESS]
    assert ranker.state() == "live"
