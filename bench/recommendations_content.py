"""The product's "For you" model in-process, and variants of its content part, on one half of
bench/recommendations.py's author leave-one-out cases (issue 16).

    python -m bench.recommendations_content                  # the tuning half: choose here
    python -m bench.recommendations_content --half test      # the test half: report only

No database: each case's period is its day's whole listing (as services/recommend.py reads it),
its tf-idf words and MiniLM rows made as the product makes them (domain/term_vectors.py, the
reference vectors), the reader's positives the library and, with authors, a follow of the
case's author; the background is 5,000 seeded random catalogue rows, as services/recommend.py
samples them (the words' idf to the power each variant says). Trending is flat (the benchmark's
corpus has no votes), so the blend at the default 75% orders by the personal score. Each variant
is scored with and without author signals.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np

from bench.common import BenchError, format_table
from bench.recommendations import (
    CASES,
    REFERENCE,
    Case,
    Data,
    build_cases,
    load_data,
    mean_measures,
)
from paperboy.domain.recommend import (
    DEFAULT_WEIGHTS,
    Background,
    Candidates,
    Known,
    Reader,
    Weights,
    background_model,
    blend,
    personal_scores,
)
from paperboy.domain.term_vectors import IDF_POWER, NO_REFERENCE, document_frequencies, term_matrix

BACKGROUND_PAPERS, BACKGROUND_SEED = 5_000, 20261207  # as services/recommend.py


@dataclass(frozen=True, slots=True)
class Variant:
    """A model to measure: the product's weights (with `author_words` as the "with authors"
    form; the content-only form turns names and the author term off)."""

    name: str
    weights: Weights
    reference: bool = True  # the idf counts the background sample's papers too
    idf_power: float = IDF_POWER


def variants() -> list[Variant]:
    return [
        Variant("idf: the period only, plain", DEFAULT_WEIGHTS, reference=False, idf_power=1.0),
        Variant("idf: the period + the 5,000-paper sample, plain", DEFAULT_WEIGHTS, idf_power=1.0),
        Variant("as shipped: that idf squared", DEFAULT_WEIGHTS),
    ]


def _text(data: Data, row: int, names: bool) -> str:
    return f"{data.texts[row]} {data.author_strings[row]}" if names else data.texts[row]


def run(half: str, count: int, chosen: Sequence[Variant]) -> dict[str, Any]:
    start = time.perf_counter()
    if not REFERENCE.is_file():
        raise BenchError(f"{REFERENCE} is absent (see ../shared/data/README.md)")
    data = load_data()
    vectors = np.asarray(np.load(REFERENCE), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    cases = [c for c in build_cases(data, count) if c.half == half]
    picked = np.random.default_rng(BACKGROUND_SEED).choice(
        np.arange(1, len(data.ids) + 1), size=BACKGROUND_PAPERS, replace=False
    )
    background = background_model(vectors[picked - 1])
    references = {
        names: document_frequencies([_text(data, n, names) for n in picked - 1]) for names in (True, False)
    }
    print(f"{half} half: {len(cases)} cases ({time.perf_counter() - start:.0f} s)", flush=True)

    @lru_cache(maxsize=8)
    def period(day: str, names: bool, reference: bool, idf_power: float) -> Candidates:
        rows = np.array(data.listing[day], dtype=np.int64)
        return Candidates(
            rows,
            [data.ids[n] for n in rows],
            ["" for _ in rows],
            [tuple(sorted(data.authors[n])) for n in rows],
            [data.categories[n] for n in rows],
            term_matrix(
                [_text(data, n, names) for n in rows],
                references[names] if reference else NO_REFERENCE,
                idf_power,
            ),
            vectors[rows],
        )

    scores: dict[tuple[str, bool], list[np.ndarray]] = {}
    for n, case in enumerate(cases):
        for variant in chosen:
            for with_authors in (True, False):
                weights = (
                    variant.weights
                    if with_authors
                    else replace(variant.weights, authors=0.0, author_words=False)
                )
                cands = period(case.day, weights.author_words, variant.reference, variant.idf_power)
                scores.setdefault((variant.name, with_authors), []).append(
                    case_scores(data, vectors, case, cands, background, weights, with_authors)
                )
        if (n + 1) % 100 == 0:
            print(f"  {n + 1} cases ({time.perf_counter() - start:.0f} s)", flush=True)
    rows = []
    for variant in chosen:
        mrr, rec = mean_measures(cases, scores[(variant.name, True)])
        free_mrr, free_rec = mean_measures(cases, scores[(variant.name, False)])
        rows.append([variant.name, f"{mrr:.4f}", f"{rec:.3f}", f"{free_mrr:.4f}", f"{free_rec:.3f}"])
    print(format_table(["variant", "MRR", "R@10", "MRR no authors", "R@10 no authors"], rows))
    return {"rows": rows}


def case_scores(
    data: Data,
    vectors: np.ndarray,
    case: Case,
    cands: Candidates,
    background: Background,
    weights: Weights,
    with_authors: bool,
) -> np.ndarray:
    """The product's final score of each of the case's candidates (its library's rows left out)."""
    names = weights.author_words
    reader = Reader(
        positives=[
            Known(int(n), data.ids[n], "", _text(data, n, names), tuple(sorted(data.authors[n])), vectors[n])
            for n in case.library
        ],
        followed_authors=[case.author] if with_authors else [],
    )
    personal = personal_scores(cands, reader, background, weights)
    scored = blend(personal, np.zeros(len(cands), dtype=np.float32), 0.75)
    where = {int(n): k for k, n in enumerate(cands.ids)}
    return np.array([scored.final[where[int(n)]] for n in case.candidates], dtype=np.float64)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recommendations_content")
    parser.add_argument("--half", choices=("tuning", "test"), default="tuning")
    args = parser.parse_args(argv)
    run(args.half, CASES, variants())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
