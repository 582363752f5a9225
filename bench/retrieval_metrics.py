"""Retrieval quality measures, as BEIR / MTEB compute them, and the SciFact benchmark's files.

nDCG@k uses graded gains (the qrels' scores) with the log2(rank + 1) discount and the ideal order
of the judged documents; recall@k is the share of a query's relevant documents found in its top k.
Queries without judgments are skipped; a ranking may repeat no document.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

Qrels = Mapping[str, Mapping[str, int]]  # query id -> {document id: relevance > 0}


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int = 100) -> float:
    wanted = {doc for doc, gain in relevant.items() if gain > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def mean_over_queries(rankings: Mapping[str, Sequence[str]], qrels: Qrels, measure: str, k: int) -> float:
    """The mean of `measure` ("ndcg" or "recall") over the judged queries; a judged query with no
    ranking counts as 0."""
    score = ndcg_at_k if measure == "ndcg" else recall_at_k
    values = [score(rankings.get(query, []), relevant, k) for query, relevant in qrels.items() if relevant]
    return sum(values) / len(values) if values else 0.0


@dataclass(frozen=True, slots=True)
class Scifact:
    corpus: dict[str, tuple[str, str]]  # document id -> (title, text)
    queries: dict[str, str]
    train: dict[str, dict[str, int]]
    test: dict[str, dict[str, int]]


def load_scifact(folder: Path) -> Scifact:
    """The BEIR-format SciFact files in ../shared/data/scifact."""
    corpus = {}
    with gzip.open(folder / "corpus.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            doc = json.loads(line)
            corpus[str(doc["_id"])] = (doc.get("title") or "", doc.get("text") or "")
    with (folder / "queries.jsonl").open(encoding="utf-8") as lines:
        queries = {str(q["_id"]): q["text"] for q in map(json.loads, lines)}
    return Scifact(
        corpus, queries, _qrels(folder / "qrels" / "train.tsv"), _qrels(folder / "qrels" / "test.tsv")
    )


def _qrels(path: Path) -> dict[str, dict[str, int]]:
    judged: defaultdict[str, dict[str, int]] = defaultdict(dict)
    with path.open(encoding="utf-8", newline="") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            if int(row["score"]) > 0:
                judged[row["query-id"]][row["corpus-id"]] = int(row["score"])
    return dict(judged)
