"""The digest benchmark's members: accounts whose libraries, marks and follows are drawn as
bench/personal.py draws its 10,000 members', so that each digest's "For you" section is ranked
from a real reader's signals (issue 16).

Each member has a taste: one of the corpus's 40 largest primary categories (drawn by size), whose
papers make 70% of their 20 saves, the rest drawn across the corpus (bench/member_saves.py, the
draw bench/personal.py makes too); 5 "not interested" marks drawn from the same category, a
quarter of the saved papers seen, and two follows: their category and an author of their first
saved paper. Every paper is one listed before the edition's day, so nothing a member saved is in
the edition they are mailed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from bench import member_saves
from bench.digest_subscribers import member_rows
from bench.member_saves import draw_saves
from paperboy.domain.follows import author_key

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

SAVES_PER_MEMBER = 20
HIDDEN_PER_MEMBER = 5
TOP_CATEGORIES = 40


def add_members(engine: Engine, count: int, day: date, now: datetime, seed: int) -> list[int]:
    """`count` accounts with their saves, marks and follows; their ids, in order."""
    from sqlalchemy import select

    from paperboy.storage.bulk import insert_rows
    from paperboy.storage.schema import follows, library_items, paper_feedback, seen_papers, users
    from paperboy.storage.transactions import write_transaction

    rng = random.Random(seed)
    with write_transaction(engine) as conn:
        insert_rows(conn, users, member_rows(count, now))
    with engine.connect() as conn:
        members = select(users.c.id).where(users.c.email.like("%@members.bench.example"))
        ids = list(conn.execute(members.order_by(users.c.id)).scalars())
        by_category = papers_by_category(conn, day)
    tastes = taste_of(rng, ids, by_category)
    saves = save_rows(rng, tastes, by_category, now)
    with engine.connect() as conn:
        authors = first_authors(conn, saves)
    tables = [
        (library_items, saves),
        (seen_papers, list(seen_rows(saves))),
        (paper_feedback, hidden_rows(rng, tastes, by_category, saves, now)),
        (follows, follow_rows(rng, tastes, saves, authors, now)),
    ]
    for table, rows in tables:
        for start in range(0, len(rows), 50_000):
            with write_transaction(engine) as conn:
                insert_rows(conn, table, rows[start : start + 50_000])
    return ids


def papers_by_category(conn: Connection, day: date) -> dict[str, list[int]]:
    """Papers listed before `day`, by primary category."""
    from sqlalchemy import select

    from paperboy.storage.schema import listings, paper_categories

    rows = conn.execute(
        select(paper_categories.c.category, paper_categories.c.paper_id)
        .join(listings, listings.c.paper_id == paper_categories.c.paper_id)
        .where(paper_categories.c.position == 0, listings.c.day < day)
        .distinct()
        .order_by(paper_categories.c.category, paper_categories.c.paper_id)
    )
    found: dict[str, list[int]] = {}
    for category, paper_id in rows:
        found.setdefault(category, []).append(int(paper_id))
    return found


def taste_of(rng: random.Random, ids: Sequence[int], by_category: dict[str, list[int]]) -> dict[int, str]:
    categories = sorted(by_category, key=lambda c: (-len(by_category[c]), c))[:TOP_CATEGORIES]
    weights = [len(by_category[c]) for c in categories]
    return {uid: rng.choices(categories, weights)[0] for uid in ids}


def save_rows(
    rng: random.Random, tastes: dict[int, str], by_category: dict[str, list[int]], now: datetime
) -> list[dict[str, Any]]:
    return member_saves.save_rows(draw_saves(rng, tastes, by_category, SAVES_PER_MEMBER), now)


def seen_rows(saves: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for save in saves[::4]:  # a quarter of the saved papers were opened too
        user_id, paper_id = save["user_id"], save["paper_id"]
        yield {"user_id": user_id, "paper_id": paper_id, "seen_at": save["saved_at"], "how": "opened"}


def hidden_rows(
    rng: random.Random,
    tastes: dict[int, str],
    by_category: dict[str, list[int]],
    saves: list[dict[str, Any]],
    now: datetime,
) -> list[dict[str, Any]]:
    saved: dict[int, set[int]] = {}
    for save in saves:
        saved.setdefault(save["user_id"], set()).add(save["paper_id"])
    rows = []
    for uid, taste in tastes.items():
        drawn = {rng.choice(by_category[taste]) for _ in range(HIDDEN_PER_MEMBER)}
        rows += [
            {"user_id": uid, "paper_id": pid, "signal": "not_interested", "created_at": now}
            for pid in sorted(drawn - saved.get(uid, set()))
        ]
    return rows


def first_authors(conn: Connection, saves: list[dict[str, Any]]) -> dict[int, list[str]]:
    """The author names of each member's first saved paper, by paper id."""
    from sqlalchemy import select

    from paperboy.storage.schema import paper_authors

    wanted = sorted({save["paper_id"] for save in _first_saves(saves).values()})
    names: dict[int, list[str]] = {}
    for start in range(0, len(wanted), 5000):
        query = (
            select(paper_authors.c.paper_id, paper_authors.c.name)
            .where(paper_authors.c.paper_id.in_(wanted[start : start + 5000]))
            .order_by(paper_authors.c.paper_id, paper_authors.c.position)
        )
        for paper_id, name in conn.execute(query):
            names.setdefault(int(paper_id), []).append(name)
    return names


def follow_rows(
    rng: random.Random,
    tastes: dict[int, str],
    saves: list[dict[str, Any]],
    authors: dict[int, list[str]],
    now: datetime,
) -> list[dict[str, Any]]:
    """Each member follows their category and an author of their first saved paper."""
    rows = [
        {"user_id": uid, "kind": "category", "value": taste, "label": taste, "created_at": now}
        for uid, taste in tastes.items()
    ]
    for uid, save in _first_saves(saves).items():
        name = rng.choice(authors.get(save["paper_id"]) or [""])
        if author_key(name):
            key = author_key(name)
            rows.append({"user_id": uid, "kind": "author", "value": key, "label": name, "created_at": now})
    return rows


def _first_saves(saves: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    first: dict[int, dict[str, Any]] = {}
    for save in saves:
        first.setdefault(save["user_id"], save)
    return first
