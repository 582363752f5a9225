"""The "For you" model for many readers at once (domain/recommend_many.py, a digest run's
batches) gives each reader what the model gives them alone (domain/recommend.py): every raw
feature, the points, the nearest positives and the reasons; and `TermMatrix.text_scores` is each
text's own profile scored."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from paperboy.domain.recommend import (
    Candidates,
    Known,
    Reader,
    background_model,
    personal_scores,
)
from paperboy.domain.recommend_many import WordRows, personal_scores_many
from paperboy.domain.recommend_reasons import reason_for
from paperboy.domain.term_vectors import document_frequencies, term_matrix

TOPICS = [
    "graph neural networks message passing molecular graphs",
    "speech recognition acoustic models spoken language",
    "quantum error correction surface codes qubits",
    "diffusion models image synthesis denoising samplers",
    "reinforcement learning reward policy gradients agents",
]


def _text(n: int) -> str:
    return (
        f"Study {n} of {TOPICS[n % len(TOPICS)]} with setting{n % 7} and {TOPICS[(n * 3) % len(TOPICS)][:20]}"
    )


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(40, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[5] = 0.0  # a paper not embedded yet
    texts = [_text(n) for n in range(40)]
    candidates = Candidates(
        ids=np.arange(1, 41, dtype=np.int64),
        arxiv_ids=[f"2506.{k:05d}" for k in range(1, 41)],
        titles=[f"Paper {k}" for k in range(1, 41)],
        authors=[(f"Author {k % 9}", f"Author {k % 4 + 20}") for k in range(40)],
        categories=[("cs.LG", "cs.CL") if k % 3 else ("quant-ph",) for k in range(40)],
        terms=term_matrix(texts),
        vectors=vectors,
        words=[f" {t.lower()} " for t in texts],
    )
    library = rng.normal(size=(30, 8)).astype(np.float32)
    library /= np.linalg.norm(library, axis=1, keepdims=True)
    background = background_model(rng.normal(size=(200, 8)).astype(np.float32))
    return candidates, library, background


def _known(n: int, library, *, vector: bool = True) -> Known:
    text = _text(n + 100) + " unseenword" * (n % 2)
    return Known(
        1000 + n, f"2505.{n:05d}", f"Kept {n}", text, (f"Author {n % 9}",), library[n] if vector else None
    )


def _readers(library) -> list[Reader]:
    return [
        Reader(),  # cold
        Reader(positives=[_known(n, library) for n in (0, 1, 2)]),
        Reader(
            positives=[_known(n, library) for n in (2, 3)], negatives=[_known(n, library) for n in (4, 5)]
        ),
        Reader(positives=[_known(6, library, vector=False), _known(7, library)]),  # one not embedded
        Reader(positives=[_known(8, library, vector=False)]),  # words only
        Reader(followed_authors=("Author 3",), followed_categories=("quant-ph",)),
        Reader(positives=[_known(1, library)], followed_searches=("speech -quantum",)),
    ]


def test_each_reader_of_a_batch_gets_what_the_model_gives_them_alone(world):
    candidates, library, background = world
    readers = _readers(library)
    batch = personal_scores_many(candidates, readers, background)
    for reader, many in zip(readers, batch, strict=True):
        alone = personal_scores(candidates, reader, background)
        assert set(many.raw) == set(alone.raw)
        for name in alone.raw:
            np.testing.assert_allclose(many.raw[name], alone.raw[name], rtol=1e-5, atol=1e-5, err_msg=name)
            np.testing.assert_allclose(
                many.points[name], alone.points[name], rtol=1e-4, atol=1e-4, err_msg=name
            )
        np.testing.assert_array_equal(many.nearest_positive, alone.nearest_positive)
        np.testing.assert_array_equal(many.searches_matched, alone.searches_matched)
        assert [reason_for(many, row).text for row in range(len(candidates))] == [
            reason_for(alone, row).text for row in range(len(candidates))
        ]
    assert batch[2].raw["not_interested"].any()  # the batch had every feature to compare
    assert "classifier" in batch[1].raw
    assert "words" in batch[4].raw
    assert "classifier" not in batch[4].raw


def test_a_batch_without_any_vector_ranks_by_words_names_and_follows(world):
    candidates, library, background = world
    readers = [Reader(positives=[_known(n, library, vector=False)]) for n in range(3)]
    for reader, many in zip(readers, personal_scores_many(candidates, readers, background), strict=True):
        alone = personal_scores(candidates, reader, background)
        assert set(many.raw) == set(alone.raw) == {"words", "authors", "searches", "categories"}
        np.testing.assert_allclose(many.personal, alone.personal, rtol=1e-4, atol=1e-4)


def test_text_scores_are_each_texts_own_profile_scored(world):
    candidates, _, _ = world
    terms = candidates.terms
    texts = [_text(n + 200) for n in range(5)] + ["", "nothing known here at all", _text(3)]
    scores = terms.text_scores(texts)
    assert scores.shape == (len(texts), len(candidates))
    for n, text in enumerate(texts):
        np.testing.assert_allclose(scores[n], terms.scores(terms.profile([text])), rtol=1e-5, atol=1e-6)
    assert scores[-1].argmax() == 3  # a candidate's own text scores it highest
    assert not scores[5].any()
    assert term_matrix([]).text_scores(["anything"]).shape == (1, 0)


def test_text_scores_match_the_profile_with_a_catalogue_reference():
    # Words the candidates lack but the reference sample has (magnets, theory) make pairs that
    # count as one repeated term in both ways of scoring, not one unknown term each time.
    reference = document_frequencies(
        ["theory of magnets and spin glass", "magnets at low temperature", "a theory of glasses"]
    )
    terms = term_matrix(
        ["spin glass dynamics", "protein folding kinetics", "glass transition of spin models"], reference
    )
    texts = [
        "theory of magnets, theory of magnets, theory of magnets: spin glass",
        "magnets theory magnets theory",
    ]
    expected = np.vstack([terms.scores(terms.profile([text])) for text in texts])
    np.testing.assert_allclose(terms.text_scores(texts), expected, rtol=1e-5, atol=1e-6)


def test_word_rows_are_kept_across_batches_within_their_budget(world):
    candidates, library, background = world
    kept = WordRows(max_values=2 * len(candidates))  # room for two papers' rows
    first = [Reader(positives=[_known(n, library) for n in (0, 1, 2)])]
    personal_scores_many(candidates, first, background, words_kept=kept)
    assert set(kept.rows) == {1000, 1001}
    rows = kept.of(candidates, {1000: "not read again: the kept row answers", 1003: _known(3, library).text})
    np.testing.assert_array_equal(rows[1000], candidates.terms.text_scores([_known(0, library).text])[0])
    assert set(kept.rows) == {1000, 1001}  # full: 1003 made, not kept
    second = [Reader(positives=[_known(n, library) for n in (1, 3)])]
    (many,) = personal_scores_many(candidates, second, background, words_kept=kept)
    np.testing.assert_allclose(
        many.raw["words"],
        personal_scores(candidates, second[0], background).raw["words"],
        rtol=1e-5,
        atol=1e-6,
    )
    other = dataclasses.replace(candidates, ids=candidates.ids + 100)
    kept.of(other, {})
    assert kept.rows == {}  # another period's candidates: nothing kept applies
