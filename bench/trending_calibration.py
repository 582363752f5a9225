"""Calibrate the trending gravity on real Hugging Face upvotes (run by hand; prints tables).

    python -m bench.trending_calibration              # the full grid (about a minute)
    python -m bench.trending_calibration --seeds 1    # quicker

The data (../shared/data/hf/hf_daily_papers.jsonl.gz) holds each paper's FINAL upvote count, so
ranking by those counts alone always favours gravity 0. The replay needs a model of how votes
arrive, stated here and in docs/trending.md:

- Each paper appears at 00:00 UTC of its published day (as a listed paper does on paperboy).
- Each of its F final votes arrives independently, an exponentially distributed time after the
  paper appears, with half-life h (12, 24 or 48 hours: the sensitivity), drawn with fixed seeds.
- Every hour, the papers that appeared in the last 7 days (what a week page shows) are ranked by
  score = votes so far / (age_hours + offset) ^ gravity, ties newest first as on the site.
- The ranking is judged by nDCG@10 against the ideal order of the same papers by FINAL upvotes
  (linear gain F): trending should surface what the community will end up valuing, fairly
  between a paper that appeared this morning and one that has had a week to collect votes.
- A second figure, "hot", judges the same rankings against the votes each paper receives in the
  next 24 hours instead (what is rising now); it is reported, not used to choose.

The chosen (gravity, offset) maximises the worst case over the half-lives of nDCG@10 relative to
the best any (gravity, offset) reaches for that half-life.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench.common import SHARED, BenchError, format_table, run_standalone, section

DATA = SHARED / "data" / "hf" / "hf_daily_papers.jsonl.gz"
HALF_LIVES_H = (12, 24, 48)
OFFSETS_H = (1.0, 2.0, 4.0)
GRAVITIES = tuple(round(0.05 * step, 2) for step in range(51))  # 0 to 2.5
WINDOW_H = 7 * 24  # the papers a week page shows
HOT_H = 24  # "hot": the votes of the next 24 hours
TOP_K = 10
EVALUATE_FROM = date(2024, 1, 1)  # before this the data has a paper every few days
EPOCH = datetime(2023, 1, 1, tzinfo=UTC)
DISCOUNTS = [1 / math.log2(rank + 2) for rank in range(TOP_K)]


@dataclass(frozen=True, slots=True)
class Paper:
    arxiv_id: str
    appears_h: int  # hours since the epoch of the data (00:00 UTC of its published day)
    final: int  # final upvotes


@dataclass(frozen=True, slots=True)
class Cell:
    """Mean nDCG@10 of one (half-life, offset, gravity) over every snapshot and seed."""

    half_life: int
    offset: float
    gravity: float
    final: float
    final_log: float
    hot: float
    snapshots: int  # hourly rankings judged, over every seed


def load_papers(path: Path = DATA) -> list[Paper]:
    if not path.is_file():
        raise BenchError(f"{path} is absent (see ../shared/data/README.md)")
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    papers = [
        Paper(row["id"], _hours(date.fromisoformat(row["published"][:10])), int(row["hf_upvotes"]))
        for row in rows
    ]
    # Oldest first; the tie order (newest listing, then the higher id first) is the index order reversed.
    return sorted(papers, key=lambda paper: (paper.appears_h, paper.arxiv_id))


def vote_counts(papers: Sequence[Paper], half_life: float, seed: int) -> list[list[int]]:
    """counts[i][a]: votes paper i holds at age a hours (a = 0 .. WINDOW_H + HOT_H)."""
    rng = random.Random(f"{seed}:{half_life}")
    rate = math.log(2) / half_life
    counts = []
    for paper in papers:
        arrivals = sorted(rng.expovariate(rate) for _ in range(paper.final))
        counts.append([bisect_right(arrivals, age) for age in range(WINDOW_H + HOT_H + 1)])
    return counts


def evaluate(papers: Sequence[Paper], half_life: float, seed: int) -> dict[tuple[float, float], list[float]]:
    """(offset, gravity) -> [sums of final, final (log gain) and hot nDCG@10, snapshots]."""
    counts = vote_counts(papers, half_life, seed)
    appears = [paper.appears_h for paper in papers]
    first = appears[bisect_left(appears, _hours(EVALUATE_FROM))]
    totals = {(o, g): [0.0, 0.0, 0.0, 0.0] for o in OFFSETS_H for g in GRAVITIES}
    for now in range(first, appears[-1] + 24):
        visible = range(bisect_right(appears, now - WINDOW_H), bisect_right(appears, now))
        if len(visible) < 2:
            continue
        _snapshot(papers, counts, visible, now, totals)
    return totals


def _hours(day: date) -> int:
    """Hours from the data's epoch to 00:00 UTC of `day`."""
    return int((datetime(day.year, day.month, day.day, tzinfo=UTC) - EPOCH).total_seconds() // 3600)


def _snapshot(
    papers: Sequence[Paper],
    counts: list[list[int]],
    visible: range,
    now: int,
    totals: dict[tuple[float, float], list[float]],
) -> None:
    ages = [now - papers[i].appears_h for i in visible]
    votes = [counts[i][age] for i, age in zip(visible, ages, strict=True)]
    finals = [papers[i].final for i in visible]
    logs = [math.log2(1 + final) for final in finals]
    hots = [counts[i][age + HOT_H] - counts[i][age] for i, age in zip(visible, ages, strict=True)]
    ideals = [_dcg(sorted(gains, reverse=True)) for gains in (finals, logs, hots)]
    # log(score) = log(votes) - gravity * log(age + offset); no votes: last, newest first.
    log_votes = [math.log(v) if v else -math.inf for v in votes]
    order = list(range(len(votes)))  # index order: oldest first, so a higher index wins ties
    for offset in OFFSETS_H:
        log_ages = [math.log(age + offset) for age in ages]
        for gravity in GRAVITIES:
            keys = [lv - gravity * la for lv, la in zip(log_votes, log_ages, strict=True)]
            top = sorted(zip(keys, order, strict=True), reverse=True)[:TOP_K]
            cell = totals[(offset, gravity)]
            for n, (gains, ideal) in enumerate(zip((finals, logs, hots), ideals, strict=True)):
                cell[n] += _dcg([gains[j] for _, j in top]) / ideal if ideal else 1.0
            cell[3] += 1


def _dcg(gains: Sequence[float]) -> float:
    return sum(gain * discount for gain, discount in zip(gains, DISCOUNTS, strict=False))


def grid(papers: Sequence[Paper], seeds: int, workers: int | None = None) -> list[Cell]:
    jobs = [(h, seed) for h in HALF_LIVES_H for seed in range(seeds)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(_evaluate_job, [(papers, h, seed) for h, seed in jobs]))
    cells = []
    for h in HALF_LIVES_H:
        mine = [totals for (job_h, _), totals in zip(jobs, results, strict=True) if job_h == h]
        for key in sorted(mine[0]):
            sums = [sum(t[key][n] for t in mine) for n in range(4)]
            n = sums[3]
            cells.append(Cell(h, key[0], key[1], sums[0] / n, sums[1] / n, sums[2] / n, int(n)))
    return cells


def _evaluate_job(job: tuple[Sequence[Paper], int, int]) -> dict[tuple[float, float], list[float]]:
    papers, half_life, seed = job
    return evaluate(papers, half_life, seed)


GAINS = {"final": "final upvotes", "final_log": "log2(1 + final upvotes)"}


def choose(cells: Sequence[Cell], offset: float | None = None) -> tuple[float, float, float]:
    """(gravity, offset, worst relative nDCG): the best worst case over every scenario (half-life
    and gain), each nDCG taken relative to the best any (gravity, offset) reaches in that scenario.
    With `offset`, only that offset is considered."""
    best = {
        (h, gain): max(_metric(c, gain) for c in cells if c.half_life == h)
        for h in HALF_LIVES_H
        for gain in GAINS
    }
    worst: dict[tuple[float, float], float] = {}
    for c in cells:
        if offset is not None and c.offset != offset:
            continue
        key = (c.gravity, c.offset)
        for gain in GAINS:
            worst[key] = min(worst.get(key, 1.0), _metric(c, gain) / best[(c.half_life, gain)])
    # On a tie, the smaller gravity: it moves the site's existing rankings least.
    (gravity, chosen_offset), ratio = max(worst.items(), key=lambda item: (item[1], -item[0][0]))
    return gravity, chosen_offset, ratio


def _metric(cell: Cell, name: str) -> float:
    value: float = getattr(cell, name)
    return value


# Shown in the printed tables (the JSON keeps every gravity): every score keeps falling past 1.5.
SHOWN_GRAVITIES = [g for g in GRAVITIES if g <= 1.5 or g % 0.25 < 1e-9 or g % 0.25 > 0.2499]


def print_tables(cells: Sequence[Cell], chosen: tuple[float, float, float]) -> None:
    by = {(c.half_life, c.offset, c.gravity): c for c in cells}
    columns = [(h, o) for h in HALF_LIVES_H for o in OFFSETS_H]
    header = ["gravity", *(f"h{h}/o{o:g}" for h, o in columns)]
    for gain, label in GAINS.items():
        section(f"nDCG@10, gain {label}, by gravity (columns: half-life h / offset o hours)")
        rows = [
            [f"{g:.2f}", *(f"{_metric(by[(h, o, g)], gain):.4f}" for h, o in columns)]
            for g in SHOWN_GRAVITIES
        ]
        print(format_table(header, rows))
    section("Best gravity per half-life and offset, by criterion")
    summary = []
    for h, o in columns:
        row = [f"{h}", f"{o:g}", f"{by[(h, o, 0.0)].final:.4f}"]
        for name in ("final", "final_log", "hot"):
            top = max((by[(h, o, g)] for g in GRAVITIES), key=lambda c, name=name: _metric(c, name))
            row += [f"{top.gravity:.2f}", f"{_metric(top, name):.4f}"]
        summary.append(row)
    print(
        format_table(
            ["h", "o", "final@g=0", "best g", "final", "best g", "log gain", "best g", "hot"], summary
        )
    )
    section("Best worst-case gravity for each offset")
    for offset in OFFSETS_H:
        g, _, worst = choose(cells, offset)
        print(f"offset {offset:g} h: gravity {g:.2f} ({worst:.4f} of the best in the worst scenario)")
    gravity, offset, ratio = chosen
    section("Chosen")
    for h in HALF_LIVES_H:
        c = by[(h, offset, gravity)]
        print(f"half-life {h:>2} h: nDCG@10 final {c.final:.4f}, log gain {c.final_log:.4f}, hot {c.hot:.4f}")
    print(f"gravity {gravity:.2f}, offset {offset:g} h: in the worst scenario {ratio:.4f} of its best")


def run(seeds: int = 3, workers: int | None = None) -> dict[str, Any]:
    papers = load_papers()
    cells = grid(papers, seeds, workers)
    chosen = choose(cells)
    print(
        f"{len(papers)} papers; {cells[0].snapshots // seeds} hourly snapshots, each with {seeds} vote draws"
    )
    print_tables(cells, chosen)
    return {
        "papers": len(papers),
        "seeds": seeds,
        "chosen": {"gravity": chosen[0], "offset_hours": chosen[1], "worst_relative_ndcg": chosen[2]},
        "cells": [_cell_dict(c) for c in cells],
    }


def _cell_dict(cell: Cell) -> dict[str, float]:
    return {
        "half_life": cell.half_life,
        "offset": cell.offset,
        "gravity": cell.gravity,
        "final": cell.final,
        "final_log": cell.final_log,
        "hot": cell.hot,
        "snapshots": cell.snapshots,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.trending_calibration", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seeds", type=int, default=3, help="vote-arrival draws per half-life (default 3)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    args = parser.parse_args(argv)
    return run_standalone("trending", "trending-", lambda: run(args.seeds, args.workers))


if __name__ == "__main__":
    raise SystemExit(main())
