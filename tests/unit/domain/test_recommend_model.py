"""The "For you" model's pure parts: tf-idf words (domain/term_vectors.py) against a plain dense
computation, the features, z-scores and blend (domain/recommend.py), and the reasons
(domain/recommend_reasons.py)."""

from __future__ import annotations

import gc
import math
from collections import Counter

import numpy as np
import pytest

from paperboy.domain.recommend import (
    NO_BACKGROUND,
    Candidates,
    Known,
    Reader,
    background_model,
    blend,
    personal_scores,
    score_candidates,
    search_matches,
)
from paperboy.domain.recommend_reasons import reason_for
from paperboy.domain.term_vectors import (
    IDF_POWER,
    MAX_DF_SHARE,
    document_frequencies,
    term_matrix,
    terms_of,
    words_of,
)

TEXTS = [
    "Graph neural networks for molecules: message passing on molecular graphs.",
    "Speech recognition with acoustic models and spoken language.",
    "Quantum error correction with surface codes and qubits.",
    "Message passing graph networks scale to large molecular graphs.",
]


def _dense_tfidf(texts, reference=(), power=IDF_POWER):
    """tf-idf as the module documents it, written plainly: smoothed idf over the texts and the
    reference texts, to IDF_POWER, 1 + log tf, rows of norm 1 (fewer than 20 texts: no max_df cut)."""
    counted = [Counter(terms_of(text)) for text in texts]
    everyone = counted + [Counter(terms_of(text)) for text in reference]
    vocabulary = sorted({term for counts in counted for term in counts})
    df = {term: sum(term in counts for counts in everyone) for term in vocabulary}
    idf = {term: (math.log((1 + len(everyone)) / (1 + df[term])) + 1) ** power for term in vocabulary}
    rows = []
    for counts in counted:
        row = np.array([(1 + math.log(counts[t])) * idf[t] if t in counts else 0.0 for t in vocabulary])
        rows.append(row / np.linalg.norm(row))
    return vocabulary, idf, np.array(rows)


def test_words_drop_stop_words_and_single_letters_and_pairs_follow():
    assert words_of("The Graph of a network, and its x-ray") == ["graph", "network", "ray"]
    assert terms_of("graph neural networks") == [
        "graph",
        "neural",
        "networks",
        "graph neural",
        "neural networks",
    ]


REFERENCE = [
    "Graph neural networks on citation graphs.",
    "Graph theory: colouring planar graphs.",
    "Quantum codes beyond the surface code.",
    "Sparse reference text about proteins and folding.",
]


@pytest.mark.parametrize("reference", [(), REFERENCE], ids=["period alone", "with a reference"])
def test_tfidf_scores_match_a_plain_dense_computation(reference):
    matrix = term_matrix(TEXTS, document_frequencies(reference)) if reference else term_matrix(TEXTS)
    vocabulary, idf, dense = _dense_tfidf(TEXTS, reference)
    library = ["Message passing networks for molecular graphs", "unseenword graph proteins folding"]
    profile = matrix.profile(library)
    # The library's rows over the same idf (unseen terms weigh the largest idf in the norm).
    top_idf = max(idf.values())
    wanted = np.zeros(len(vocabulary))
    for text in library:
        counts = Counter(terms_of(text))
        weights = {t: (1 + math.log(c)) * idf.get(t, top_idf) for t, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        for n, term in enumerate(vocabulary):
            wanted[n] += weights.get(term, 0.0) / norm
    wanted /= len(library)
    np.testing.assert_allclose(matrix.scores(profile), dense @ wanted, rtol=1e-5, atol=1e-6)
    assert np.argmax(matrix.scores(profile)) in (0, 3)


def test_a_rare_shared_term_outweighs_several_common_ones():
    """term_matrix's idf_power: squared, one rare term in common with the library ranks a paper
    above one sharing three everyday words; plain idf reverses them (bench/README.md)."""
    texts = [
        "zeolite catalyst synthesis",
        "learning model data training",
        *[f"learning model data filler{n}" for n in range(6)],
        *[f"other{n} topic{n}" for n in range(8)],
    ]
    library = ["zeolite learning model data"]

    def scores(**power):
        matrix = term_matrix(texts, **power)
        return matrix.scores(matrix.profile(library))

    squared, plain = scores(idf_power=2.0), scores(idf_power=1.0)
    assert squared[0] > squared[1]
    assert plain[0] < plain[1]


def test_a_reference_lowers_the_idf_of_terms_common_in_the_catalogue():
    alone = term_matrix(TEXTS)
    referenced = term_matrix(TEXTS, document_frequencies(REFERENCE))

    def idf(matrix, word):
        return float(matrix.idf[np.searchsorted(matrix.terms, matrix.word_ids[word])])

    # "graph" and "speech" are each in one or two of the period's papers; the reference has
    # "graph" twice and "speech" never, so only there does "graph" weigh less.
    assert idf(alone, "speech") > idf(alone, "graph")
    assert idf(referenced, "speech") - idf(referenced, "graph") > idf(alone, "speech") - idf(alone, "graph")


def test_terms_in_too_many_papers_weigh_nothing():
    texts = ["common word here"] * 5 + [f"topic{n} alpha" for n in range(20)]
    matrix = term_matrix(texts)
    column = int(np.searchsorted(matrix.terms, matrix.word_ids["common"]))
    assert MAX_DF_SHARE * len(texts) < 5
    assert matrix.idf[column] == 0.0
    assert matrix.rows == len(texts)
    empty = term_matrix([])
    assert empty.rows == 0
    assert len(empty.scores(empty.profile(["anything"]))) == 0
    # No candidates, but the catalogue's sample knows some of the library's words (an IndexError before).
    sampled = term_matrix([], document_frequencies(["attention for transformers"]))
    assert len(sampled.scores(sampled.profile(["attention is all you need for zebras"]))) == 0


def _candidates(vectors, authors=None, categories=None, ids=None):
    n = len(vectors)
    return Candidates(
        ids=np.arange(1, n + 1, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64),
        arxiv_ids=[f"2506.{k:05d}" for k in range(1, n + 1)],
        titles=[f"Paper {k}" for k in range(1, n + 1)],
        authors=authors or [("Someone",)] * n,
        categories=categories or [("cs.LG",)] * n,
        terms=term_matrix([""] * n),
        vectors=np.asarray(vectors, dtype=np.float32),
        words=[" "] * n,
    )


def _unit(*values):
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _known(paper_id, vector, authors=("Nobody",), title="Kept"):
    return Known(paper_id, f"2505.{paper_id:05d}", title, "", authors, vector)


def test_positives_pull_similar_papers_up_and_negatives_push_theirs_down():
    vectors = [_unit(1, 0, 0), _unit(0.9, 0.1, 0), _unit(0, 1, 0), _unit(0, 0, 1)]
    candidates = _candidates(vectors)
    sample = np.random.default_rng(3).standard_normal((200, 3)).astype(np.float32)
    background = background_model(sample / np.linalg.norm(sample, axis=1, keepdims=True))
    reader = Reader(positives=[_known(90, _unit(1, 0.05, 0))])
    liked = score_candidates(candidates, reader, np.zeros(4, np.float32), background, personal_share=1.0)
    assert list(liked.order[:2]) == [0, 1]
    assert set(liked.personal.raw) == {
        "words",
        "nearest",
        "centroid",
        "classifier",
        "authors",
        "searches",
        "categories",
    }
    wary = Reader(positives=reader.positives, negatives=[_known(91, _unit(0.9, 0.12, 0))])
    pushed = personal_scores(candidates, wary, background)
    assert pushed.raw["not_interested"][1] < pushed.raw["not_interested"][3]
    assert pushed.personal[1] < liked.personal.personal[1]


def test_a_shared_author_comes_first_whatever_the_content():
    vectors = [_unit(1, 0), _unit(0, 1)]
    candidates = _candidates(vectors, authors=[("A B",), ("Grace Hopper",)])
    reader = Reader(positives=[_known(90, _unit(1, 0), authors=("Grace  Hopper",))])
    scored = score_candidates(candidates, reader, np.zeros(2, np.float32), NO_BACKGROUND)
    assert list(scored.order) == [1, 0]
    assert reason_for(scored.personal, 1).text == "by Grace Hopper, an author in your library"
    assert reason_for(scored.personal, 0).text == "close to Kept in your library"


def test_a_reason_is_made_once_per_model_and_kept_where_the_collector_does_not_look():
    vectors = [_unit(1, 0), _unit(0, 1)]
    candidates = _candidates(vectors, authors=[("A B",), ("Grace Hopper",)])
    reader = Reader(positives=[_known(90, _unit(1, 0), authors=("Grace Hopper",))])
    personal = score_candidates(candidates, reader, np.zeros(2, np.float32), NO_BACKGROUND).personal
    first = reason_for(personal, 1)
    assert list(personal.reasons) == [1]
    personal.reasons[1] = ("trending", "", "kept", "", None)  # what is kept is what is answered
    assert reason_for(personal, 1).text == "kept"
    assert first.kind == "library_author"
    gc.collect()
    assert not gc.is_tracked(personal.reasons[1])  # a kept page's reasons cost no collection time


def test_an_author_counts_once_per_positive_paper_and_once_more_followed():
    vectors = [_unit(1, 0)] * 4
    authors = [("Ada Lovelace",), ("Grace Hopper",), ("Ada Lovelace", "Grace Hopper"), ("Alan Turing",)]
    candidates = _candidates(vectors, authors=authors)
    positives = [
        _known(90, _unit(1, 0), authors=("Ada Lovelace", "Grace Hopper")),
        _known(91, _unit(1, 0), authors=("Ada  Lovelace",)),
    ]
    alone = personal_scores(candidates, Reader(positives=positives), NO_BACKGROUND)
    assert alone.raw["authors"].tolist() == [2.0, 1.0, 3.0, 0.0]
    followed = Reader(positives=positives, followed_authors=["Grace Hopper", "grace hopper", "Alan Turing"])
    assert personal_scores(candidates, followed, NO_BACKGROUND).raw["authors"].tolist() == [
        2.0,
        2.0,
        4.0,
        1.0,
    ]


def test_a_cold_reader_gets_trending_and_categories_say_why():
    candidates = _candidates([_unit(1, 0)] * 3, categories=[("cs.CL",), ("hep-th",), ("hep-th", "cs.CL")])
    trending = np.array([0.0, 5.0, 1.0], dtype=np.float32)
    cold = score_candidates(candidates, Reader(), trending, NO_BACKGROUND)
    assert cold.personal_share == 0.0
    assert list(cold.order) == [1, 2, 0]
    assert reason_for(cold.personal, 1).kind == "trending"
    follower = Reader(followed_categories=["cs.CL"])
    scored = score_candidates(candidates, follower, trending, NO_BACKGROUND, personal_share=1.0)
    assert list(scored.order) == [0, 2, 1]  # primary category first, then a cross-list
    assert reason_for(scored.personal, 0).text == "popular in cs.CL, a category you follow"


def test_the_readers_own_papers_in_the_period_do_not_move_the_others_scores():
    """Every z-score's mean and spread are the papers' the model did not learn from: a saved
    paper of the period (cosine 1 to itself) raised the average, and one plainly like the library
    scored below it, so it was not said to be close to the library (tests/browser/
    test_reader_flow.py: a day of 8 papers, 3 of them saved, 1 hidden)."""
    library = [_unit(1, 0.1, 0), _unit(1, 0, 0.1), _unit(1, 0.1, 0.1)]
    hidden = _unit(0, 0.1, 1)
    others = [_unit(0.8, 0.6, 0), _unit(0, 1, 0), _unit(0, 0, 1), _unit(0.1, 1, 0.5)]
    reader = Reader(
        positives=[_known(n, vector) for n, vector in enumerate(library, start=1)],
        negatives=[_known(4, hidden)],
        followed_categories=["cs.LG"],
    )
    trending = np.array([3.0, 0.0, 1.0, 2.0], dtype=np.float32)
    alone = score_candidates(_candidates(others, ids=[5, 6, 7, 8]), reader, trending, NO_BACKGROUND)
    period = _candidates([*library, hidden, *others], ids=range(1, 9))
    every = np.concatenate([np.array([9.0, 9.0, 9.0, 0.0], dtype=np.float32), trending])
    scored = score_candidates(period, reader, every, NO_BACKGROUND)
    for name, points in scored.personal.points.items():
        np.testing.assert_allclose(points[4:], alone.personal.points[name], atol=1e-5, err_msg=name)
    np.testing.assert_allclose(scored.final[4:], alone.final, atol=1e-5)
    assert reason_for(scored.personal, 4).text == "close to Kept in your library"


@pytest.mark.parametrize(("share", "first"), [(0.0, 1), (1.0, 0)])
def test_the_blend_moves_between_personal_and_trending(share, first):
    candidates = _candidates([_unit(1, 0), _unit(0, 1)])
    reader = Reader(positives=[_known(90, _unit(1, 0))])
    personal = personal_scores(candidates, reader, NO_BACKGROUND)
    scored = blend(personal, np.array([0.0, 9.0], dtype=np.float32), share)
    assert int(scored.order[0]) == first


def test_contributions_add_up_to_the_personal_score():
    candidates = _candidates([_unit(1, 0), _unit(0.5, 0.5), _unit(0, 1)])
    reader = Reader(positives=[_known(90, _unit(1, 0.1))], followed_authors=["Someone"])
    personal = personal_scores(candidates, reader, NO_BACKGROUND)
    for row in range(3):
        parts = personal.contributions(row)
        assert sum(p.points for p in parts) == pytest.approx(float(personal.personal[row]), abs=1e-5)
        assert abs(parts[0].points) >= abs(parts[-1].points)
    assert reason_for(personal, 2).text == "by an author you follow: Someone"


def test_saved_searches_match_words_phrases_exclusions_authors_and_categories():
    candidates = _candidates(
        [_unit(1, 0)] * 3,
        authors=[("Ada Lovelace",), ("Alan Turing",), ("Ada Lovelace",)],
        categories=[("cs.CL",), ("cs.LG",), ("hep-th",)],
    )
    candidates.words[:] = [
        " speech recognition noisy rooms ",
        " speech recognition robots ",
        " string theory speech ",
    ]
    searches = ['"speech recognition" -robots', "speech author:lovelace cat:cs", "string theory", "cat:("]
    matched = search_matches(candidates, searches)
    assert matched.tolist() == [
        [True, False, False],
        [True, False, False],
        [False, False, True],
        [False, False, False],  # not a query: matches nothing
    ]
    personal = personal_scores(candidates, Reader(followed_searches=searches), NO_BACKGROUND)
    assert personal.raw["searches"].tolist() == [2.0, 0.0, 1.0]
    assert reason_for(personal, 0).text == 'matches your saved search "speech recognition" -robots'
    assert reason_for(personal, 1).kind == "trending"
