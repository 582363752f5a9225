"""The benchmark's quality measures, on hand-computed cases and on the real SciFact files."""

import math

import pytest
from conftest import shared_path

from bench.retrieval_metrics import load_scifact, mean_over_queries, ndcg_at_k, recall_at_k


def test_ndcg_by_hand():
    relevant = {"a": 1, "b": 1}
    assert ndcg_at_k(["a", "b", "c"], relevant) == pytest.approx(1.0)
    # b found at rank 2 only: (1/log2(3)) / (1 + 1/log2(3))
    expected = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["x", "b"], relevant) == pytest.approx(expected)
    assert ndcg_at_k(["x", "y"], relevant) == 0.0
    assert ndcg_at_k(["b"] + ["x"] * 20 + ["a"], relevant, k=10) < 1


def test_graded_gains_prefer_the_more_relevant_first():
    relevant = {"a": 2, "b": 1}
    assert ndcg_at_k(["a", "b"], relevant) > ndcg_at_k(["b", "a"], relevant)


def test_recall_counts_the_relevant_within_k():
    relevant = {"a": 1, "b": 1, "c": 1, "d": 1}
    assert recall_at_k(["a", "x", "c"], relevant, k=100) == 0.5
    assert recall_at_k(["x", "a"], relevant, k=1) == 0.0


def test_unranked_judged_queries_count_as_zero():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    assert mean_over_queries({"q1": ["a"]}, qrels, "ndcg", 10) == 0.5


def test_scifact_loads_with_the_documented_sizes():
    data = load_scifact(shared_path("data", "scifact"))
    assert len(data.corpus) == 5183
    assert len(data.queries) == 1109
    assert len(data.test) == 300
    assert sum(len(docs) for docs in data.test.values()) == 339
    assert len(data.train) == 809
    assert all(doc in data.corpus for docs in data.test.values() for doc in docs)
