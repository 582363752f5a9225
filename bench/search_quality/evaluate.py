"""From the prepared rankings to the figures: each ranker alone, the fusion tuned on train for each
lexical variant, the chosen system on test, paired differences and the all-words summary."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from bench.search_quality.measures import paired_difference, per_query_ndcg, quality
from bench.search_quality.prepare import Prepared, progress
from bench.search_quality.rankers import VARIANTS
from bench.search_quality.tuning import Fusion, fused_top, mirror_agreement, top_of, tune
from paperboy.domain import fusion

FIXED_SETTINGS = (  # reported for reference (not chosen by): docs/search.md's defaults and simple ones
    Fusion("rrf", fusion.RRF_K, 0.5, 100, 100),
    Fusion("rrf", 10, 0.6, 200, 200),
    Fusion("minmax", 0, 0.5, 100, 100),
    Fusion("minmax", 0, 0.6, 200, 200),
)
ANY_WORD_NO_STOP = "any word; no stop words"


def evaluate(prepared: Prepared, quick: bool) -> dict[str, Any]:
    """Each ranker alone; the fusion tuned on train for every lexical variant; the variant with the
    best train hybrid chosen; its test figures, compared with the other systems."""
    split, doc_of, sem = prepared.split, prepared.doc_of, prepared.semantic
    alone = {f"semantic: {prepared.embedding['model']}": _both(prepared, top_of(sem))}
    alone |= {f"lexical: {name}": _both(prepared, top_of(runs)) for name, runs in prepared.lexical.items()}
    by_variant: dict[str, dict[str, Any]] = {}
    grids: dict[str, list[dict[str, Any]]] = {}
    for name, lex in prepared.lexical.items():
        progress(f"tuning the fusion on train for lexical '{name}'")
        scored = tune(lex, sem, split.train, doc_of, quick)
        best = scored[0][0]
        grids[name] = [{**asdict(s), **{f"train {m}": v for m, v in q.items()}} for s, q in scored]
        hybrid = _both(prepared, fused_top(lex, sem, best))
        by_variant[name] = {"setting": asdict(best), "label": best.label(), **hybrid}
    chosen = max(by_variant, key=lambda name: float(by_variant[name]["train"]["ndcg@10"]))
    setting = Fusion(**by_variant[chosen]["setting"])
    same, queries = mirror_agreement(prepared.lexical[chosen], sem, setting)
    return {
        "documents": len(doc_of),
        "queries": {"train": len(split.train), "test": len(split.test)},
        "query_paths": dict(prepared.query_paths),
        "embedding": prepared.embedding,
        "alone": alone,
        "hybrid_by_lexical_variant": by_variant,
        "fixed_settings": _fixed_settings(prepared),
        "chosen": {"lexical_variant": chosen, **by_variant[chosen]},
        "grid_mirror_agrees_with_domain_fusion": {"queries": queries, "same_top_100": same},
        "test_ndcg@10_chosen_hybrid_minus": _paired(prepared, chosen, setting, by_variant),
        "all_words_match": _all_words_summary(prepared, setting),
        "grid": grids,
        "lexical_ms_1000_deep_p50": {
            f"lexical: {name}": statistics.median(ms) for name, ms in prepared.lexical_ms.items()
        },
        "latency": prepared.latency,
        "product_end_to_end": {
            mode: _both(prepared, top_of(runs)) for mode, runs in prepared.product.items()
        },
    }


def _both(prepared: Prepared, ranked: Callable[[str], list[int]]) -> dict[str, dict[str, float]]:
    split = prepared.split
    return {
        "train": quality(ranked, split.train, prepared.doc_of),
        "test": quality(ranked, split.test, prepared.doc_of),
    }


def _fixed_settings(prepared: Prepared) -> dict[str, dict[str, Any]]:
    """FIXED_SETTINGS on the product's lexical ranking and on any word without stop words."""
    sem = prepared.semantic
    return {
        f"{setting.label()} | {name}": _both(prepared, fused_top(prepared.lexical[name], sem, setting))
        for setting in FIXED_SETTINGS
        for name in (VARIANTS[0].name, ANY_WORD_NO_STOP)
    }


def _paired(
    prepared: Prepared, chosen: str, setting: Fusion, by_variant: dict[str, Any]
) -> dict[str, dict[str, float]]:
    """The chosen hybrid's per-query test nDCG@10 minus other systems' on the same queries."""
    sem, product, test, doc_of = (
        prepared.semantic,
        prepared.lexical[VARIANTS[0].name],
        prepared.split.test,
        prepared.doc_of,
    )
    product_tuned = Fusion(**by_variant[VARIANTS[0].name]["setting"])
    others: dict[str, Callable[[str], list[int]]] = {
        f"lexical: {VARIANTS[0].name}": top_of(product),
        "semantic": top_of(sem),
        f"hybrid, product lexical, tuned: {product_tuned.label()}": (fused_top(product, sem, product_tuned)),
    }
    others |= {
        f"hybrid, product lexical: {s.label()}": fused_top(product, sem, s) for s in FIXED_SETTINGS[::2]
    }
    lex = prepared.lexical[chosen]
    ours = per_query_ndcg(fused_top(lex, sem, setting), test, doc_of)
    return {
        name: paired_difference(ours, per_query_ndcg(ranked, test, doc_of)) for name, ranked in others.items()
    }


def _all_words_summary(prepared: Prepared, setting: Fusion) -> dict[str, Any]:
    """How often all words match, and, on the judged claims where they do (as typed), the
    product's all-then-any lexical ranking against any word from the start, alone and fused."""
    summary: dict[str, Any] = {}
    for label, sizes in prepared.all_words.items():
        matched = [n for n in sizes.values() if n > 0]
        summary[label] = {
            "queries_matched": len(matched),
            "median_papers_when_matched": statistics.median(matched) if matched else 0,
        }
    judged = {**prepared.split.train, **prepared.split.test}
    subset = {qid: rel for qid, rel in judged.items() if prepared.all_words["as typed"][qid] > 0}
    if not subset:
        return summary
    sem, doc_of = prepared.semantic, prepared.doc_of
    for name in (VARIANTS[0].name, "any word"):
        lex = prepared.lexical[name]
        summary[f"judged claims matching all words: lexical {name}"] = quality(top_of(lex), subset, doc_of)
        summary[f"judged claims matching all words: hybrid ({setting.label()}) on {name}"] = quality(
            fused_top(lex, sem, setting), subset, doc_of
        )
    summary["judged claims matching all words"] = len(subset)
    return summary
