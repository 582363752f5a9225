"""bench/recommendations.py: its measures against brute force over every tie order, name matching,
the halves, and the leave-one-out cases built from a small corpus written here."""

import gzip
import itertools
import json
from fractions import Fraction

import numpy as np
import pytest

from bench.recommendations import (
    build_cases,
    grid_mrr,
    half_of,
    load_data,
    normalise_name,
    recall_at,
    reciprocal_rank,
)


def _every_order(scores, relevant):
    """Each ranking a random tie-break can give: candidates sorted by score, ties in every order."""
    for order in itertools.permutations(range(len(scores))):
        ranked = sorted(order, key=lambda n: -scores[n])  # stable: ties keep the permutation's order
        yield [bool(relevant[n]) for n in ranked]


def _brute_rr(scores, relevant):
    values = [Fraction(1, flags.index(True) + 1) for flags in _every_order(scores, relevant)]
    return float(sum(values) / len(values))


def _brute_recall(scores, relevant, k):
    values = [Fraction(sum(flags[:k]), sum(relevant)) for flags in _every_order(scores, relevant)]
    return float(sum(values) / len(values))


def test_reciprocal_rank_by_hand():
    relevant = np.array([False, True, False])
    assert reciprocal_rank(np.array([3.0, 2.0, 1.0]), relevant) == pytest.approx(1 / 2)
    assert reciprocal_rank(np.array([1.0, 2.0, 1.0]), relevant) == pytest.approx(1.0)
    # tied with one other at the top: rank 1 or 2, each half the time
    assert reciprocal_rank(np.array([2.0, 2.0, 1.0]), relevant) == pytest.approx(0.75)
    assert reciprocal_rank(np.array([1.0, 2.0]), np.array([False, False])) == 0.0


@pytest.mark.parametrize("seed", range(40))
def test_measures_equal_the_mean_over_every_tie_order(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(2, 7))
    scores = rng.integers(0, 3, size).astype(float)  # few values: many ties
    relevant = rng.random(size) < 0.4
    if not relevant.any():
        relevant[int(rng.integers(size))] = True
    assert reciprocal_rank(scores, relevant) == pytest.approx(_brute_rr(scores, relevant))
    for k in (1, 2, 3):
        assert recall_at(scores, relevant, k) == pytest.approx(_brute_recall(scores, relevant, k))


def test_grid_mrr_matches_the_exact_measure_without_ties():
    rng = np.random.default_rng(7)

    class Case:
        def __init__(self, relevant):
            self.relevant = relevant

    cases, matrices = [], []
    for _ in range(20):
        n = int(rng.integers(5, 30))
        relevant = np.zeros(n, dtype=bool)
        relevant[rng.choice(n, size=int(rng.integers(1, 3)), replace=False)] = True
        cases.append(Case(relevant))
        matrices.append(rng.normal(size=(n, 3)))
    weights = np.array([[1.0, 0.0, 0.0], [0.2, 0.5, 0.3]])
    grid = grid_mrr(cases, matrices, weights)
    for row, value in zip(weights, grid, strict=True):
        exact = np.mean([reciprocal_rank(m @ row, c.relevant) for c, m in zip(cases, matrices, strict=True)])
        assert value == pytest.approx(exact)


def test_names_are_matched_after_normalisation():
    assert normalise_name("José  García-López") == "jose garcia lopez"
    assert normalise_name("J. R. R. Tolkien") == normalise_name("j r r tolkien")
    assert normalise_name("Maarten de Rijke") != normalise_name("Maarten Rijke")


def test_halves_are_fixed_by_the_name_and_split_about_evenly():
    names = [f"author {n}" for n in range(2000)]
    halves = [half_of(name) for name in names]
    assert halves == [half_of(name) for name in names]
    assert 900 < halves.count("test") < 1100


def _write_corpus(folder, papers, listings):
    with gzip.open(folder / "papers.jsonl.gz", "wt", encoding="utf-8") as out:
        for arxiv_id, authors, first in papers:
            row = {
                "id": arxiv_id,
                "title": f"title {arxiv_id}",
                "abstract": "words",
                "authors": authors,
                "categories": ["cs.LG"],
                "first_listed": first,
            }
            out.write(json.dumps(row) + "\n")
    with gzip.open(folder / "listings.tsv.gz", "wt", encoding="utf-8") as out:
        out.writelines(f"{day}\t{arxiv_id}\n" for day, arxiv_id in listings)
    return load_data(folder / "papers.jsonl.gz", folder / "listings.tsv.gz")


def test_a_case_is_an_authors_earlier_papers_against_the_day_they_publish_again(tmp_path, monkeypatch):
    monkeypatch.setattr("bench.recommendations.MIN_CANDIDATES", 3)
    days = ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"]
    papers = [(f"2501.0000{n}", ["Ada Lovelace", f"Other {n}"], days[n]) for n in range(4)]
    papers += [(f"2501.1000{n}", [f"Stranger {n}"], days[3]) for n in range(3)]
    # day 4's listing: Ada's new paper, three strangers, and one of her old papers replaced
    listings = [(days[n], f"2501.0000{n}") for n in range(4)]
    listings += [(days[3], f"2501.1000{n}") for n in range(3)] + [(days[3], "2501.00001")]
    data = _write_corpus(tmp_path, papers, listings)
    cases = build_cases(data, 10)
    assert len(cases) == 1
    (case,) = cases
    assert case.author == "ada lovelace"
    assert case.day == days[3]
    assert sorted(data.ids[n] for n in case.library) == ["2501.00000", "2501.00001", "2501.00002"]
    candidates = [data.ids[n] for n in case.candidates]
    assert sorted(candidates) == ["2501.00003", "2501.10000", "2501.10001", "2501.10002"]
    assert [data.ids[n] for n in case.candidates[case.relevant]] == ["2501.00003"]
    assert not set(case.library) & set(case.candidates)


def test_too_few_earlier_papers_make_no_case(tmp_path, monkeypatch):
    monkeypatch.setattr("bench.recommendations.MIN_CANDIDATES", 1)
    papers = [(f"2501.0000{n}", ["Ada Lovelace"], f"2025-01-0{n + 1}") for n in range(3)]
    data = _write_corpus(tmp_path, papers, [(p[2], p[0]) for p in papers])
    assert build_cases(data, 10) == []
