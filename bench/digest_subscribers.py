"""The digest benchmark's subscribers (pure): seeded-random preferences a reader could choose, and
the confirmed daily subscriptions written in bulk as digest_subscriptions rows."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from paperboy.domain.digest import Preferences
from paperboy.storage.digests import preference_columns

KEYWORDS = (
    "language model", "diffusion", "graph", "reinforcement", "transformer", "agent", "reasoning",
    "video", "multimodal", "segmentation", "attention", "medical", "robot", "neural network", "3d",
)  # fmt: skip
EXCLUDED = ("survey", "benchmark", "medical", "video", "quantum")


def subscriber_preferences(rng: random.Random, categories: Sequence[str]) -> Preferences:
    """One daily subscriber's choices: 5-20 papers; every category (45%), one or two of the
    edition's common `categories` (35%) or a whole archive such as "cs" (20%); no keyword (50%)
    or one to three common ones; now and then a word excluded; mostly new papers only."""
    roll = rng.random()
    if roll < 0.45 or not categories:
        chosen: tuple[str, ...] = ()
    elif roll < 0.80:
        chosen = tuple(rng.sample(list(categories), min(len(categories), rng.choice((1, 2)))))
    else:
        chosen = (rng.choice(categories).split(".")[0],)
    include = () if rng.random() < 0.5 else tuple(rng.sample(KEYWORDS, rng.randint(1, 3)))
    excluded = rng.choice(EXCLUDED) if rng.random() < 0.15 else None
    exclude = (excluded,) if excluded and excluded not in include else ()
    return Preferences(
        frequency="daily",
        top_n=rng.randint(5, 20),
        categories=chosen,
        include=include,
        exclude=exclude,
        only_new=rng.random() < 0.9,
    )


def subscriber_rows(
    count: int, seed: int, categories: Sequence[str], now: datetime, members: Sequence[int] = ()
) -> list[dict[str, Any]]:
    """`count` confirmed daily subscriptions as digest_subscriptions rows (unique e-mails); the
    accounts `members` own every (count // len(members))-th one, a fifth of them ranked "For you"."""
    rng = random.Random(seed)
    every = count // len(members) if members else 0
    rows = []
    for n in range(1, count + 1):
        preferences = subscriber_preferences(rng, categories)
        owner = members[n // every - 1] if every and n % every == 0 and n // every <= len(members) else None
        if owner is not None and rng.random() < 0.2:
            preferences = replace(preferences, for_you=True)
        rows.append(
            {
                "email": f"reader{n:06d}@bench.example",
                "status": "active",
                "nonce": f"{rng.getrandbits(128):032x}",
                "created_at": now,
                "confirmed_at": now,
                "changed_at": now,
                "user_id": owner,
                **preference_columns(preferences),
            }
        )
    return rows


def member_rows(count: int, now: datetime) -> list[dict[str, Any]]:
    """`count` verified accounts as users rows (the password hash is a placeholder: they never log in)."""
    return [
        {
            "email": f"member{n:06d}@members.bench.example",
            "name": f"bench-member-{n:06d}",
            "password_hash": "not-a-hash",
            "role": "member",
            "email_verified_at": now,
            "created_at": now,
            "password_changed_at": now,
        }
        for n in range(1, count + 1)
    ]
