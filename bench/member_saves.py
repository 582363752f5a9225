"""Members' saves as the benchmarks draw them (bench/personal.py's 10,000 members, the digest
benchmark's members in bench/digest_members.py): each member has a taste, one category, whose
papers make TASTE_SHARE of their saves, the rest drawn across the corpus."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

TASTE_SHARE = 0.7


def draw_saves(
    rng: random.Random, tastes: dict[int, str], by_category: dict[str, list[int]], per_member: int
) -> dict[int, list[int]]:
    """Each member's `per_member` distinct papers, in the order first drawn: each draw from their
    taste's papers with probability TASTE_SHARE, else from every paper of `by_category`."""
    everything = sorted({pid for ids in by_category.values() for pid in ids})
    drawn: dict[int, list[int]] = {}
    for uid, taste in tastes.items():
        chosen: dict[int, None] = {}
        while len(chosen) < per_member:
            pool = by_category[taste] if rng.random() < TASTE_SHARE else everything
            chosen[rng.choice(pool)] = None
        drawn[uid] = list(chosen)
    return drawn


def save_rows(drawn: dict[int, list[int]], now: datetime) -> list[dict[str, Any]]:
    """library_items rows: each member's papers saved a minute apart, the first most recently."""
    return [
        {"user_id": uid, "paper_id": pid, "saved_at": now - timedelta(minutes=n)}
        for uid, papers in drawn.items()
        for n, pid in enumerate(papers)
    ]
