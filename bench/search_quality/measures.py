"""Retrieval quality over judged queries (BEIR's nDCG@10 and recall@100), and paired differences."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

from bench.retrieval_metrics import ndcg_at_k, recall_at_k


def quality(
    ranked: Callable[[str], list[int]], qrels: dict[str, dict[str, int]], doc_of: dict[int, str]
) -> dict[str, float]:
    """Mean nDCG@10 and recall@100 over the judged queries of `qrels`."""
    ndcg, recall = [], []
    for qid, relevant in qrels.items():
        docs = [doc_of[paper_id] for paper_id in ranked(qid)[:100]]
        ndcg.append(ndcg_at_k(docs, relevant, 10))
        recall.append(recall_at_k(docs, relevant, 100))
    return {"ndcg@10": statistics.fmean(ndcg), "recall@100": statistics.fmean(recall)}


def per_query_ndcg(
    ranked: Callable[[str], list[int]], qrels: dict[str, dict[str, int]], doc_of: dict[int, str]
) -> list[float]:
    return [ndcg_at_k([doc_of[i] for i in ranked(qid)[:10]], relevant, 10) for qid, relevant in qrels.items()]


def paired_difference(ours: Sequence[float], theirs: Sequence[float]) -> dict[str, float]:
    """Mean per-query difference with a normal 95% interval (±1.96 standard errors): whether a
    gap between two systems on the same queries is more than the queries' noise."""
    diffs = [a - b for a, b in zip(ours, theirs, strict=True)]
    half = 1.96 * statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else float("nan")
    return {"mean": statistics.fmean(diffs), "ci95_half_width": half}
