"""A small catalogue and many subscribers for the digest tests, and reading digests back out of
the mails a real SMTP server received.

Not a conftest.py (see app_client.py): import what you need.
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Engine, select

from paperboy.domain.calendar import day_period
from paperboy.domain.digest import Preferences
from paperboy.domain.models import Listing, PaperRecord, Version
from paperboy.services.feed import feed_for_period
from paperboy.storage import digests as store
from paperboy.storage.engine import now_utc
from paperboy.storage.paper_stats import add_to_stats
from paperboy.storage.schema import papers
from paperboy.storage.transactions import write_transaction

DAY = date(2025, 6, 12)  # a Thursday: the listing day of the daily edition
TOPICS = ("diffusion", "graph", "language model", "reinforcement", "robot", "protein")
CATEGORIES = (
    ("cs.LG", "stat.ML"),
    ("cs.CV",),
    ("cs.CL", "cs.AI"),
    ("math.OC",),
    ("cs.RO", "cs.LG"),
    ("q-bio.BM",),
)
_PAPER_LINK = re.compile(r"/papers/([0-9]{4}\.[0-9]{4,5})\b")


def catalogue_records(count: int = 48, day: date = DAY, prefix: str = "2506") -> list[PaperRecord]:
    """`count` papers listed on `day`, their topics and categories in turn, titles that say so."""
    records = []
    for i in range(count):
        topic, categories = TOPICS[i % len(TOPICS)], CATEGORIES[(i // 2) % len(CATEGORIES)]
        arxiv_id = f"{prefix}.{10000 + i}"
        records.append(
            PaperRecord(
                arxiv_id=arxiv_id,
                title=f"Scaling {topic} methods, study {i}",
                abstract=f"We examine {topic} systems under shift. Result number {i} holds.",
                authors=("Ada Lovelace", "Émilie du Châtelet", "Alan Turing"),
                categories=categories,
                versions=(Version(1, datetime.combine(day - timedelta(days=1), datetime.min.time(), UTC)),),
                listings=(Listing(day, "new"),),
            )
        )
    return records


def add_upvotes(engine: Engine, seed: int = 7) -> None:
    """Seeded upvotes on about half the papers, so that trending order is not just newest first."""
    rng = random.Random(seed)
    with write_transaction(engine) as conn:
        ids = list(conn.execute(select(papers.c.id).order_by(papers.c.id)).scalars())
        for paper_id in ids:
            if rng.random() < 0.5:
                add_to_stats(conn, paper_id, upvotes=rng.randint(1, 40))


def random_preferences(rng: random.Random, frequency: str = "daily", weekday: int = 0) -> Preferences:
    categories: tuple[str, ...] = rng.choice([(), (), ("cs.LG",), ("cs.CV", "cs.CL"), ("cs",), ("math.OC",)])
    include: tuple[str, ...] = rng.choice([(), (), ("diffusion",), ("graph", "robot"), ("language model",)])
    exclude: tuple[str, ...] = rng.choice([(), (), (), ("protein",), ("graph",)])
    return Preferences(
        frequency=frequency,  # type: ignore[arg-type]
        weekday=weekday,
        top_n=rng.randint(1, 12),
        categories=categories,
        include=include,
        exclude=exclude,
        only_new=rng.random() < 0.7,
    )


def add_subscribers(
    engine: Engine,
    count: int,
    *,
    seed: int = 1,
    status: str = "active",
    make: Callable[[random.Random], Preferences] | None = None,
) -> dict[str, int]:
    """`count` subscribers with seeded preferences: {email: subscription id}."""
    rng = random.Random(seed)
    made = {}
    with write_transaction(engine) as conn:
        for i in range(count):
            email = f"reader{i}@example.org"
            preferences = make(rng) if make else random_preferences(rng)
            made[email] = store.insert_subscription(
                conn,
                email=email,
                status=status,
                nonce=secrets.token_urlsafe(12),
                preferences=preferences,
                now=now_utc(),
            )
    return made


def trending_order(engine: Engine, day: date = DAY) -> list[tuple[str, str, tuple[str, ...]]]:
    """The day's papers as the trending page lists them: (arXiv id, title + abstract, categories)."""
    feed = feed_for_period(engine, day_period(day), page_size=1000)
    return [
        (i.paper.arxiv_id, f"{i.paper.title} {i.paper.abstract}", tuple(i.paper.categories))
        for i in feed.items
    ]


def expected_papers(
    order: Sequence[tuple[str, str, tuple[str, ...]]],
    preferences: Preferences,
    mailed: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[str]:
    """What a subscriber should get, worked out independently of domain/digest.py: word prefixes
    for keywords, exact categories or a whole archive, top N after leaving out mailed papers."""
    chosen = []
    for arxiv_id, text, categories in order:
        words = re.findall(r"\w+", text.lower())
        if preferences.categories and not any(
            c in categories or any(p.startswith(c + ".") for p in categories) for c in preferences.categories
        ):
            continue
        if preferences.include and not any(_has(words, k) for k in preferences.include):
            continue
        if any(_has(words, k) for k in preferences.exclude):
            continue
        if preferences.only_new and arxiv_id in mailed:
            continue
        chosen.append(arxiv_id)
    return chosen[: preferences.top_n]


def _has(words: list[str], keyword: str) -> bool:
    parts = keyword.lower().split()
    return any(
        all(i + j < len(words) and words[i + j].startswith(part) for j, part in enumerate(parts))
        for i in range(len(words))
    )


def papers_in(message: EmailMessage) -> list[str]:
    """The arXiv ids a digest lists, in order, read from its plain-text part."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    text: str = part.get_content()  # type: ignore[attr-defined]
    return list(dict.fromkeys(_PAPER_LINK.findall(text)))


def html_papers_in(message: EmailMessage) -> list[str]:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    html: str = part.get_content()  # type: ignore[attr-defined]
    return list(dict.fromkeys(_PAPER_LINK.findall(html)))
