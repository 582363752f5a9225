"""The grid of bench/questions_tuning.py, and how its winner is chosen and reported: pure code
over the target's ranks (numpy arrays), no I/O but printing."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.common import format_table
from bench.lexical_engines import quality
from bench.lexical_engines.queries import TEST, TUNING
from paperboy.services.search import Tuning
from paperboy.storage.keyword_index import Weights

PAGE = 20  # the search page's first page: MRR counts the target within it
LEXICAL_DEPTH, SEMANTIC_DEPTH, MIN_SIMILARITY = 1000, 200, 0.3  # the product's Tuning
TITLE = (0.0, 0.25, 0.5, 1.0)
AUTHORS = (0.0, 0.5, 1.0)
RULES = ("all, then any", "any")
MIN_MAX = tuple(round(0.3 + 0.05 * i, 2) for i in range(11))  # lexical weight 0.3 … 0.8
RRF_K = (10, 20, 30, 45, 60, 80, 100)
RRF_WEIGHT = (0.4, 0.5, 0.6, 0.7)
WORD_LIMITS = (2, 3, 4, 5, 6, 8)  # "keyword-like": at most this many content words
MARGIN = 0.01  # MRR a change must gain (1.3 of the 130 tuning questions moving from 2nd to 1st)
BEFORE_WEIGHTS = Weights(title=0.0, authors=1.0)  # the defaults before this tuning
BEFORE = Tuning(fusion="min_max", lexical_weight=0.6, semantic_weight=0.4)
KINDS = ("questions", "keywords", "gist")

Variant = tuple[float, float, str]  # title weight, authors weight, match rule
Fusion = tuple[Any, ...]  # ("min_max", w) | ("rrf", k, w) | ("lexical",) | ("semantic",)


@dataclass(frozen=True, slots=True)
class Asked:
    kind: str  # questions, keywords, gist
    half: str  # TUNING or TEST (known items: development half as TUNING)
    text: str
    arxiv_id: str
    words: int = 0  # content words (stop words left out)


def variants() -> list[Variant]:
    return [(t, a, rule) for rule in RULES for t in TITLE for a in AUTHORS]


def fusions() -> list[Fusion]:
    found: list[Fusion] = [("lexical",), ("semantic",)]
    found += [("min_max", w) for w in MIN_MAX]
    found += [("rrf", k, w) for k in RRF_K for w in RRF_WEIGHT]
    return found


@dataclass(frozen=True, slots=True)
class Collected:
    candidates: list[tuple[Variant, Fusion]]
    ranks: np.ndarray  # [query, candidate]: the target's rank, 0 when not on the first page
    words: np.ndarray  # [query]: content words
    product: np.ndarray  # [query]: the rank the product's own hybrid search gives
    product_defaults: tuple[Variant, Fusion]


# --- choosing and reporting ---

BEFORE_CANDIDATE: tuple[Variant, Fusion] = (
    (BEFORE_WEIGHTS.title, BEFORE_WEIGHTS.authors, "all, then any"),
    ("min_max", BEFORE.lexical_weight),
)


@dataclass(frozen=True, slots=True)
class Choice:
    name: str
    ranks: np.ndarray  # [query]


def _figures(ranks: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    return quality([int(r) or None for r in ranks[mask]])


def _key(figures: dict[str, float]) -> tuple[float, ...]:
    return tuple(round(figures[m], 6) for m in ("mrr", "r@1", "r@5", "r@10"))


def _name(candidate: tuple[Variant, Fusion]) -> str:
    return f"{_variant_name(candidate[0])}; {_fusion_name(candidate[1])}"


def _variant_name(variant: Variant) -> str:
    title, authors, rule = variant
    return f"title {title:g}, authors {authors:g}, {rule}"


def _fusion_name(fusion: Fusion) -> str:
    kind, *rest = fusion
    return {"min_max": "min-max lex {}", "rrf": "rrf k={} lex {}"}.get(kind, kind).format(*rest)


def report(asked: Sequence[Asked], collected: Collected, bm25s: Sequence[int | None]) -> dict[str, Any]:
    masks = {
        (k, h): np.array([a.kind == k and a.half == h for a in asked]) for k in KINDS for h in (TUNING, TEST)
    }
    tuning = masks[("questions", TUNING)]
    known = bool(masks[("keywords", TUNING)].any())
    candidates, ranks = collected.candidates, collected.ranks
    index = {c: i for i, c in enumerate(candidates)}
    before = index[BEFORE_CANDIDATE]
    scored = [_key(_figures(ranks[:, i], tuning)) for i in range(len(candidates))]
    # Ties go to the candidate nearest the defaults before: a change must earn its place.
    best = max(range(len(candidates)), key=lambda i: (scored[i], -_distance(candidates[i])))
    print(f"\nTUNING half, questions: the best fusion of each keyword variant (MRR within {PAGE}):\n")
    lines = []
    for variant in variants():
        own = [index[(variant, f)] for f in fusions()]
        top = max(own, key=lambda i: (scored[i], -_distance(candidates[i])))
        lexical = scored[index[(variant, ("lexical",))]]
        lines.append(
            [
                _name(candidates[top]),
                *_cells([*lexical[:2], *scored[top], *_known_mrr(ranks[:, top], masks, TUNING)]),
            ]
        )
    headers = [
        "variant; its best fusion",
        "lex MRR",
        "lex R@1",
        "MRR",
        "R@1",
        "R@5",
        "R@10",
        "kw MRR",
        "gist MRR",
    ]
    print(format_table(headers, lines if known else [line[:-2] for line in lines]))
    variant = candidates[best][0]
    print(f"\nTUNING half, every fusion of {_variant_name(variant)} (kw, gist: known items, dev half):\n")
    lines = []
    for fusion in fusions():
        i = index[(variant, fusion)]
        lines.append([_fusion_name(fusion), *_cells([*scored[i], *_known_mrr(ranks[:, i], masks, TUNING)])])
    print(format_table(["fusion", "MRR", "R@1", "R@5", "R@10", "kw MRR", "gist MRR"], lines))
    single = Choice(_name(candidates[best]), ranks[:, best])
    chosen = _with_query_length(single, candidates[best], collected, masks, index) if known else single
    adopted = _decide(chosen, Choice(_name(BEFORE_CANDIDATE), ranks[:, before]), masks, known)
    lexical_of = {c: ranks[:, index[(c[0], ("lexical",))]] for c in (candidates[best], BEFORE_CANDIDATE)}
    rows = {
        f"chosen: {chosen.name}": chosen.ranks,
        f"before: {_name(BEFORE_CANDIDATE)}": ranks[:, before],
        "chosen keyword variant alone": lexical_of[candidates[best]],
        "before keyword variant alone": lexical_of[BEFORE_CANDIDATE],
        "semantic alone": ranks[:, index[(BEFORE_CANDIDATE[0], ("semantic",))]],
        "plain BM25 (bm25s)": np.array([r if r and r <= PAGE else 0 for r in bm25s], np.int16),
    }
    results: dict[str, Any] = {"adopted": adopted, "chosen": chosen.name}
    results["tuning_candidates"] = {_name(c): scored[i] for i, c in enumerate(candidates)}
    for half in (TUNING, TEST):
        results[half] = _print_half(rows, masks, half, known)
    _check_product(collected, masks, index)
    return results


def _distance(candidate: tuple[Variant, Fusion]) -> int:
    """How many of weights, rule and fusion differ from the defaults before."""
    (title, authors, rule), fusion = candidate
    (title0, authors0, rule0), fusion0 = BEFORE_CANDIDATE
    return (title != title0) + (authors != authors0) + (rule != rule0) + (fusion != fusion0)


def _cells(values: Sequence[float]) -> list[str]:
    return [f"{v:.3f}" for v in values]


def _known_mrr(ranks: np.ndarray, masks: dict[tuple[str, str], np.ndarray], half: str) -> list[float]:
    return [
        _figures(ranks, masks[(kind, half)])["mrr"]
        for kind in ("keywords", "gist")
        if masks[(kind, half)].any()
    ]


def _with_query_length(
    single: Choice,
    candidate: tuple[Variant, Fusion],
    collected: Collected,
    masks: dict[tuple[str, str], np.ndarray],
    index: dict[Any, int],
) -> Choice:
    """A second lexical weight for queries of at most `n` content words, chosen on the known
    items' development half, kept only when it gains MARGIN there without costing the questions."""
    variant, fusion = candidate
    if fusion[0] != "min_max":
        print("\n  (a query-dependent weight is tried for min-max only; the best fusion is not min-max)")
        return single
    known = masks[("keywords", TUNING)] | masks[("gist", TUNING)]
    tuning = masks[("questions", TUNING)]
    tried = []
    for limit, short in itertools.product(WORD_LIMITS, MIN_MAX):
        mixed = np.where(
            collected.words <= limit, collected.ranks[:, index[(variant, ("min_max", short))]], single.ranks
        )
        tried.append((_figures(mixed, known)["mrr"], _figures(mixed, tuning)["mrr"], limit, short, mixed))
    tried.sort(key=lambda t: (-t[0], -t[1], t[2], abs(t[3] - fusion[1])))
    base = (_figures(single.ranks, known)["mrr"], _figures(single.ranks, tuning)["mrr"])
    print(f"\nQuery-dependent lexical weight on {single.name} (long queries keep lex {fusion[1]:g}):\n")
    lines = [[f"≤ {n} words: lex {w:g}", *_cells([kmrr, qmrr])] for kmrr, qmrr, n, w, _ in tried[:8]]
    print(
        format_table(
            ["short queries", "known items dev MRR", "questions tuning MRR"],
            [["(one weight)", *_cells(base)], *lines],
        )
    )
    kmrr, qmrr, limit, short, mixed = tried[0]
    if kmrr >= base[0] + MARGIN and qmrr >= base[1]:
        print(f"  kept: lex {short:g} for queries of at most {limit} content words")
        return Choice(f"{single.name}, lex {short:g} at ≤ {limit} words", mixed)
    print(f"  not kept: {kmrr:.3f} against {base[0]:.3f} on the known items (needs +{MARGIN})")
    return single


def _decide(chosen: Choice, before: Choice, masks: dict[tuple[str, str], np.ndarray], known: bool) -> bool:
    tuning = masks[("questions", TUNING)]
    new, old = _figures(chosen.ranks, tuning), _figures(before.ranks, tuning)
    ahead = sum(
        _reciprocal(a) > _reciprocal(b)
        for a, b in zip(chosen.ranks[tuning], before.ranks[tuning], strict=True)
    )
    behind = sum(
        _reciprocal(a) < _reciprocal(b)
        for a, b in zip(chosen.ranks[tuning], before.ranks[tuning], strict=True)
    )
    print(f"\nBest on the tuning half: {chosen.name}")
    print(f"  against the defaults before ({before.name}): MRR {new['mrr']:.3f} vs {old['mrr']:.3f};")
    print(f"  the target placed higher for {ahead} questions, lower for {behind}")
    wins = new["mrr"] >= old["mrr"] + MARGIN and all(new[m] >= old[m] for m in ("r@1", "r@5", "r@10"))
    for kind in ("keywords", "gist") if known else ():
        mask = masks[(kind, TUNING)]
        a, b = _figures(chosen.ranks, mask)["mrr"], _figures(before.ranks, mask)["mrr"]
        print(f"  known items ({kind}, development half): MRR {a:.3f} vs {b:.3f}")
        wins = wins and a >= b - MARGIN
    print(f"  {'ADOPTED: it wins by the margin' if wins else 'NOT ADOPTED: the defaults before stay'}")
    return wins


def _reciprocal(rank: int) -> float:
    return 1 / rank if rank else 0.0


def _print_half(
    rows: dict[str, np.ndarray], masks: dict[tuple[str, str], np.ndarray], half: str, known: bool
) -> dict[str, Any]:
    title = "TEST half (the measure; reported once)" if half == TEST else "TUNING half"
    headers = ["ranking", "MRR", "R@1", "R@5", "R@10"] + (
        ["kw MRR", "kw R@10", "gist MRR", "gist R@10"] if known else []
    )
    lines, found = [], {}
    for name, ranks in rows.items():
        found[name] = {
            kind: _figures(ranks, masks[(kind, half)]) for kind in KINDS if masks[(kind, half)].any()
        }
        cells = [found[name]["questions"][m] for m in ("mrr", "r@1", "r@5", "r@10")]
        for kind in ("keywords", "gist") if known else ():
            cells += [found[name][kind]["mrr"], found[name][kind]["r@10"]]
        lines.append([name, *_cells(cells)])
    n = int(masks[("questions", half)].sum())
    print(f"\n{title}: {n} questions (kw, gist: the known items' {half} half), MRR within {PAGE}:\n")
    print(format_table(headers, lines))
    return found


def _check_product(
    collected: Collected, masks: dict[tuple[str, str], np.ndarray], index: dict[Any, int]
) -> None:
    """The product's own hybrid search against the offline rank of the candidate its defaults name."""
    offline = collected.ranks[:, index[collected.product_defaults]]
    same = int((offline == collected.product).sum())
    print(f"\nThe product's hybrid search (defaults in the code: {_name(collected.product_defaults)}):")
    print(f"  the same rank as offline for {same} of {len(offline)} queries")
    for half in (TUNING, TEST):
        figures = _figures(collected.product, masks[("questions", half)])
        print(f"  questions {half}: " + ", ".join(f"{m} {v:.3f}" for m, v in figures.items()))
