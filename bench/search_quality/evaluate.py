"""From the prepared rankings to the figures: each ranker alone, the fusion tuned on train for each
lexical variant, the chosen system on test, paired differences, the all-words summary, and every
system before (FTS5 ranking the words) and after (the keyword index) side by side."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from bench.search_quality.measures import paired_difference, per_query_ndcg, quality
from bench.search_quality.prepare import Prepared, progress
from bench.search_quality.rankers import AFTER, BEFORE, FTS5, KEYWORD_INDEX, Runs
from bench.search_quality.tuning import (
    Fusion,
    above_floor,
    from_tuning,
    fused_top,
    mirror_agreement,
    top_of,
    tune,
)
from paperboy.domain import fusion
from paperboy.services.search import DEFAULT_TUNING

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
            side: {mode: _both(prepared, top_of(runs)) for mode, runs in modes.items()}
            for side, modes in prepared.product.items()
        },
        "before_after": _before_after(prepared, by_variant),
        "test_ndcg@10_after_minus_before": _after_minus_before(prepared, by_variant),
        "keyword_index_unanswered": prepared.keyword_unanswered,
    }


def _both(prepared: Prepared, ranked: Callable[[str], list[int]]) -> dict[str, dict[str, float]]:
    split = prepared.split
    return {
        "train": quality(ranked, split.train, prepared.doc_of),
        "test": quality(ranked, split.test, prepared.doc_of),
    }


def _fixed_settings(prepared: Prepared) -> dict[str, dict[str, Any]]:
    """FIXED_SETTINGS on FTS5's ranking, on any word without stop words, and on the keyword index."""
    sem = prepared.semantic
    return {
        f"{setting.label()} | {name}": _both(prepared, fused_top(prepared.lexical[name], sem, setting))
        for setting in FIXED_SETTINGS
        for name in (FTS5, ANY_WORD_NO_STOP, KEYWORD_INDEX)
    }


def _paired(
    prepared: Prepared, chosen: str, setting: Fusion, by_variant: dict[str, Any]
) -> dict[str, dict[str, float]]:
    """The chosen hybrid's per-query test nDCG@10 minus other systems' on the same queries."""
    sem, fts5, test, doc_of = prepared.semantic, prepared.lexical[FTS5], prepared.split.test, prepared.doc_of
    fts5_tuned = Fusion(**by_variant[FTS5]["setting"])
    others: dict[str, Callable[[str], list[int]]] = {
        f"lexical: {FTS5}": top_of(fts5),
        f"lexical: {KEYWORD_INDEX}": top_of(prepared.lexical[KEYWORD_INDEX]),
        "semantic": top_of(sem),
        f"hybrid, FTS5 lexical, tuned: {fts5_tuned.label()}": fused_top(fts5, sem, fts5_tuned),
    }
    others |= {f"hybrid, FTS5 lexical: {s.label()}": fused_top(fts5, sem, s) for s in FIXED_SETTINGS[::2]}
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
    for name in (FTS5, "any word"):
        lex = prepared.lexical[name]
        summary[f"judged claims matching all words: lexical {name}"] = quality(top_of(lex), subset, doc_of)
        summary[f"judged claims matching all words: hybrid ({setting.label()}) on {name}"] = quality(
            fused_top(lex, sem, setting), subset, doc_of
        )
    summary["judged claims matching all words"] = len(subset)
    return summary


def _sides(
    prepared: Prepared, by_variant: dict[str, Any]
) -> dict[str, dict[str, Callable[[str], list[int]]]]:
    """BEFORE (FTS5) and AFTER (keyword index): each system's ranking of a query, by name."""
    sem, floor = prepared.semantic, above_floor(prepared.semantic, DEFAULT_TUNING.min_similarity)
    default = from_tuning(DEFAULT_TUNING)
    systems = {}
    for side, variant in ((BEFORE, FTS5), (AFTER, KEYWORD_INDEX)):
        lex: Runs = prepared.lexical[variant]
        best = Fusion(**by_variant[variant]["setting"])
        end_to_end = prepared.product[side]
        systems[side] = {
            "lexical": top_of(lex),
            "semantic": top_of(sem),
            f"hybrid, default Tuning ({default.label()}, similarity ≥ {DEFAULT_TUNING.min_similarity:g})": (
                fused_top(lex, floor, default)
            ),
            "hybrid, the grid's best on train": fused_top(lex, sem, best),
            **{f"end to end, {mode}": top_of(runs) for mode, runs in end_to_end.items()},
        }
    return systems


def _before_after(prepared: Prepared, by_variant: dict[str, Any]) -> dict[str, Any]:
    """Each system with FTS5 ranking the words (before) and with the keyword index (after)."""
    figures: dict[str, Any] = {
        side: {name: _both(prepared, ranked) for name, ranked in systems.items()}
        for side, systems in _sides(prepared, by_variant).items()
    }
    figures["best on train"] = {
        side: by_variant[variant]["label"] for side, variant in ((BEFORE, FTS5), (AFTER, KEYWORD_INDEX))
    }
    return figures


def _after_minus_before(prepared: Prepared, by_variant: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per-query test nDCG@10 after minus before, for each system that uses the lexical ranking."""
    sides, test, doc_of = _sides(prepared, by_variant), prepared.split.test, prepared.doc_of
    return {
        name: paired_difference(
            per_query_ndcg(sides[AFTER][name], test, doc_of), per_query_ndcg(ranked, test, doc_of)
        )
        for name, ranked in sides[BEFORE].items()
        if "semantic" not in name
    }
