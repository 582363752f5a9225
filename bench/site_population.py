"""A community on an imported catalogue, with a row in every table paperboy declares: what
`paperboy move-to` is tested and measured on (tests/functional/test_move_site.py, bench/move.py).

Members vote (Zipf over the papers), comment (threads with replies), save papers into their
library and collections, take notes, follow authors and categories, get alerts, subscribe to
digests that were sent; some have sessions, API tokens, password resets, submissions, imports,
rate counters. Counters (paper_stats) agree with the rows. Rows are inserted directly (what the
services would write, without their per-row cost), in one transaction.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, select, text

from paperboy.services.accounts import hash_password
from paperboy.services.api_tokens import TOKEN_PREFIX
from paperboy.services.sessions import token_digest
from paperboy.storage import schema as s

SEED = 20251207
VOTES_PER_MEMBER = 20
COMMENTS_PER_MEMBER = 2
SAVES_PER_MEMBER = 5


@dataclass(frozen=True, slots=True)
class Population:
    members: int
    votes: int
    comments: int
    api_token: str  # the plaintext of member 0's token (scope read)
    subscriber: str  # the e-mail of an active daily digest subscription


def populate_site(engine: Engine, members: int = 2000) -> Population:
    """Members and everything they make, on the papers the database holds; refuses a database
    that has members already."""
    rng = random.Random(SEED)
    now = datetime(2025, 6, 16, 9, 30, 15, 123456, tzinfo=UTC)
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(s.users)).scalar_one():
            raise ValueError("the database has members already: populate a fresh import")
        paper_ids = list(conn.execute(select(s.papers.c.id).order_by(s.papers.c.id)).scalars())
        users = _members(conn, members, now)
        votes = _votes(conn, rng, users, paper_ids, now)
        comments = _comments(conn, rng, users, paper_ids, now)
        _counters(conn, now)
        _library(conn, rng, users, paper_ids, now)
        _follows_and_alerts(conn, rng, users, paper_ids, now)
        token = _access(conn, users, paper_ids, now)
        subscriber = _digests(conn, users, paper_ids, now)
        _upstream(conn, paper_ids, now)
        _machinery(conn, users, paper_ids, now)
    return Population(len(users), votes, comments, token, subscriber)


def empty_tables(conn: Connection, skip: tuple[str, ...] = ()) -> list[str]:
    """paperboy's tables (less `skip`) without a row: a table this module does not fill yet."""
    return [
        table.name
        for table in s.metadata.sorted_tables
        if table.name not in skip
        and conn.execute(select(text("1")).select_from(table).limit(1)).first() is None
    ]


def _add(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        conn.execute(insert(table), rows[start : start + 5000])


def _members(conn: Connection, count: int, now: datetime) -> list[int]:
    password = hash_password("move member password")
    rows = [
        {
            "email": f"member{i}@move.invalid",
            "name": f"member{i}",
            "password_hash": password,
            "role": "admin" if i == 0 else "member",
            "email_verified_at": now,
            "created_at": now - timedelta(days=30, seconds=i),
            "password_changed_at": now,
            "hide_seen": i % 7 == 0,
        }
        for i in range(count)
    ]
    _add(conn, s.users, rows)
    users = list(conn.execute(select(s.users.c.id).order_by(s.users.c.id)).scalars())
    sessions = [
        {
            "id": token_digest(f"session {uid}"),
            "user_id": uid,
            "csrf_token": f"csrf{uid:060d}",
            "created_at": now,
            "expires_at": now + timedelta(days=30),
            "last_seen_at": now,
            "user_agent": "Firefox on Linux",
            "client_ip": "192.0.2.1",
        }
        for uid in users[:500]
    ]
    _add(conn, s.sessions, sessions)
    return users


def _zipf(rng: random.Random, paper_ids: list[int], k: int) -> Iterator[set[int]]:
    shuffled = paper_ids[:]
    rng.shuffle(shuffled)
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(shuffled))))
    while True:
        yield set(rng.choices(shuffled, cum_weights=cumulative, k=k))


def _votes(
    conn: Connection, rng: random.Random, users: list[int], paper_ids: list[int], now: datetime
) -> int:
    rows = []
    for uid, chosen in zip(users, _zipf(rng, paper_ids, VOTES_PER_MEMBER), strict=False):
        rows += [
            {"paper_id": pid, "user_id": uid, "created_at": now - timedelta(minutes=n)}
            for n, pid in enumerate(sorted(chosen))
        ]
    _add(conn, s.votes, rows)
    return len(rows)


def _comments(
    conn: Connection, rng: random.Random, users: list[int], paper_ids: list[int], now: datetime
) -> int:
    threads = paper_ids[: max(1, len(paper_ids) // 10)]
    rows = []
    for n in range(len(users) * COMMENTS_PER_MEMBER):
        body = f"Comment {n}: the ablation in §{n % 7} ☃ — see `code` and *this*."
        rows.append(
            {
                "paper_id": rng.choice(threads),
                "user_id": users[n % len(users)],
                "body": body,
                "body_html": f"<p>{body}</p>",
                "created_at": now - timedelta(seconds=len(users) * COMMENTS_PER_MEMBER - n),
                "edited_at": now if n % 11 == 0 else None,
                "deleted_at": now if n % 97 == 0 else None,
            }
        )
    _add(conn, s.comments, rows)
    first = list(
        conn.execute(select(s.comments.c.id, s.comments.c.paper_id).order_by(s.comments.c.id).limit(200))
    )
    replies = [
        {
            "paper_id": paper_id,
            "user_id": users[(i + 1) % len(users)],
            "parent_id": comment_id,
            "body": "A reply.",
            "body_html": "<p>A reply.</p>",
            "created_at": now,
            "hidden_at": now if i % 50 == 0 else None,
            "hidden_by": users[0] if i % 50 == 0 else None,
        }
        for i, (comment_id, paper_id) in enumerate(first)
    ]
    _add(conn, s.comments, replies)
    log = [
        {
            "moderator_id": users[0],
            "action": "hide_comment",
            "comment_id": row["parent_id"],
            "reason": "off topic",
            "created_at": now,
        }
        for row in replies
        if row["hidden_at"]
    ]
    _add(conn, s.moderation_log, log)
    return len(rows) + len(replies)


def _counters(conn: Connection, now: datetime) -> None:
    """paper_stats as the services keep them: upvotes, and comments neither deleted nor hidden."""
    upvotes = select(s.votes.c.paper_id, func.count().label("n")).group_by(s.votes.c.paper_id).subquery()
    visible = (
        select(s.comments.c.paper_id, func.count().label("n"))
        .where(s.comments.c.deleted_at.is_(None), s.comments.c.hidden_at.is_(None))
        .group_by(s.comments.c.paper_id)
        .subquery()
    )
    rows = conn.execute(
        select(s.papers.c.id, func.coalesce(upvotes.c.n, 0), func.coalesce(visible.c.n, 0))
        .outerjoin(upvotes, upvotes.c.paper_id == s.papers.c.id)
        .outerjoin(visible, visible.c.paper_id == s.papers.c.id)
        .where((upvotes.c.n.is_not(None)) | (visible.c.n.is_not(None)))
    )
    _add(
        conn,
        s.paper_stats,
        [{"paper_id": p, "upvotes": u, "comments": c, "updated_at": now} for p, u, c in rows],
    )
    conn.execute(
        text("INSERT INTO sync_state (key, value, updated_at) VALUES ('community:version', '4242', :now)"),
        {"now": now},
    )


def _library(
    conn: Connection, rng: random.Random, users: list[int], paper_ids: list[int], now: datetime
) -> None:
    saves = []
    for uid in users:
        for n, pid in enumerate(sorted(rng.sample(paper_ids, min(SAVES_PER_MEMBER, len(paper_ids))))):
            saves.append(
                {
                    "user_id": uid,
                    "paper_id": pid,
                    "saved_at": now - timedelta(hours=n),
                    "read_at": now if n == 0 else None,
                }
            )
    _add(conn, s.library_items, saves)
    _add(
        conn,
        s.seen_papers,
        [
            {"user_id": r["user_id"], "paper_id": r["paper_id"], "seen_at": now, "how": "opened"}
            for r in saves[::3]
        ],
    )
    _add(
        conn,
        s.library_notes,
        [
            {
                "user_id": r["user_id"],
                "paper_id": r["paper_id"],
                "note": "read §3 again\nthen 4",
                "updated_at": now,
            }
            for r in saves[::10]
        ],
    )
    owners = users[::10]
    _add(
        conn,
        s.collections,
        [
            {
                "user_id": uid,
                "name": f"Reading group {uid}",
                "slug": f"reading-group-{uid}",
                "description": "Ünïcode ✓",
                "is_public": uid % 2 == 0,
                "position": 1,
                "created_at": now,
                "updated_at": now,
            }
            for uid in owners
        ],
    )
    collection_of = dict(conn.execute(select(s.collections.c.user_id, s.collections.c.id)).all())
    items = [
        {
            "collection_id": collection_of[r["user_id"]],
            "paper_id": r["paper_id"],
            "position": n + 1,
            "added_at": now,
        }
        for n, r in enumerate(saves)
        if r["user_id"] in collection_of
    ]
    _add(conn, s.collection_items, items)
    hidden = [
        {
            "user_id": uid,
            "paper_id": paper_ids[-1 - (uid % 50)],
            "signal": "not_interested",
            "created_at": now,
        }
        for uid in users[::4]
    ]
    _add(conn, s.paper_feedback, hidden)
    _add(
        conn,
        s.reader_preferences,
        [{"user_id": uid, "personal_share": 60, "reset_at": None, "updated_at": now} for uid in users[::20]],
    )


def _follows_and_alerts(
    conn: Connection, rng: random.Random, users: list[int], paper_ids: list[int], now: datetime
) -> None:
    categories = sorted(set(conn.execute(select(s.paper_categories.c.category).limit(200)).scalars()))
    follows = [
        {
            "user_id": uid,
            "kind": "category",
            "value": categories[uid % len(categories)],
            "label": categories[uid % len(categories)],
            "created_at": now,
        }
        for uid in users
    ]
    _add(conn, s.follows, follows)
    follow_ids = list(
        conn.execute(select(s.follows.c.id, s.follows.c.user_id).order_by(s.follows.c.id).limit(300))
    )
    alerts = [
        {
            "user_id": uid,
            "kind": "new_paper",
            "paper_id": rng.choice(paper_ids),
            "follow_id": fid,
            "dedupe_key": "1",
            "detail": "a new paper in your category",
            "created_at": now,
            "seen_at": now if fid % 2 else None,
        }
        for fid, uid in follow_ids
    ]
    _add(conn, s.notifications, alerts)
    _add(
        conn,
        s.paper_alert_marks,
        [{"paper_id": pid, "activity": 5, "updated_at": now} for pid in paper_ids[:100]],
    )


def _access(conn: Connection, users: list[int], paper_ids: list[int], now: datetime) -> str:
    token = f"{TOKEN_PREFIX}move-test-token-{SEED}"
    tokens = [
        {
            "user_id": uid,
            "name": f"script {uid}",
            "token_hash": token_digest(token if uid == users[0] else f"{TOKEN_PREFIX}{uid}"),
            "prefix": token[:8] if uid == users[0] else f"{TOKEN_PREFIX}{uid}"[:8],
            "scopes": "read vote",
            "created_at": now,
            "last_used_at": None,
            "revoked_at": now if uid % 9 == 0 and uid != users[0] else None,
        }
        for uid in users[:50]
    ]
    _add(conn, s.api_tokens, tokens)
    _add(
        conn,
        s.password_resets,
        [
            {
                "id": token_digest(f"reset {uid}"),
                "user_id": uid,
                "created_at": now,
                "expires_at": now + timedelta(hours=1),
                "used_at": None,
            }
            for uid in users[:10]
        ],
    )
    days = dict(
        conn.execute(
            select(s.listings.c.paper_id, s.listings.c.day).where(s.listings.c.paper_id.in_(paper_ids[:30]))
        ).all()
    )
    _add(
        conn,
        s.submissions,
        [
            {"paper_id": pid, "user_id": users[n % len(users)], "day": day, "submitted_at": now}
            for n, (pid, day) in enumerate(sorted(days.items()))
        ],
    )
    _add(
        conn,
        s.rate_counters,
        [
            {
                "bucket": f"vote:user:{uid}",
                "window_start": 1_765_000_000,
                "hits": 3,
                "expires_at": 1_765_003_600,
            }
            for uid in users[:20]
        ],
    )
    _add(
        conn,
        s.login_throttle,
        [
            {
                "bucket": f"login:email:member{n}@move.invalid:ip:192.0.2.9",
                "failures": 2,
                "blocked_until": 0,
                "expires_at": 1_765_003_600,
            }
            for n in range(5)
        ],
    )
    conn.execute(
        insert(s.library_imports),
        [
            {
                "user_id": users[1],
                "collection_id": None,
                "collection_offset": 0,
                "kind": "ids",
                "filename": "ids.txt",
                "status": "done",
                "total": 2,
                "matched": 1,
                "fetched": 1,
                "unmatched": "[]",
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
                "finished_at": now,
            }
        ],
    )
    import_id = conn.execute(select(func.max(s.library_imports.c.id))).scalar_one()
    arxiv_ids = list(conn.execute(select(s.papers.c.arxiv_id).order_by(s.papers.c.id).limit(2)).scalars())
    _add(
        conn,
        s.library_import_items,
        [
            {"import_id": import_id, "position": n, "arxiv_id": a, "title": None, "state": "saved"}
            for n, a in enumerate(arxiv_ids)
        ],
    )
    return token


def _digests(conn: Connection, users: list[int], paper_ids: list[int], now: datetime) -> str:
    subscriptions = [
        {
            "email": f"member{n}@move.invalid",
            "user_id": uid,
            "status": "active" if n % 5 else "unsubscribed",
            "nonce": f"{uid:032x}",
            "frequency": "daily" if n % 2 == 0 else "weekly",
            "weekday": 0,
            "top_n": 10,
            "categories": "",
            "include_keywords": "",
            "exclude_keywords": "",
            "only_new": True,
            "for_you": n % 3 == 0,
            "created_at": now,
            "confirmed_at": now,
            "changed_at": now,
        }
        for n, uid in enumerate(users[:500])
    ]
    _add(conn, s.digest_subscriptions, subscriptions)
    key = "daily:2025-06-13"
    edition = {
        "key": key,
        "frequency": "daily",
        "period_start": datetime(2025, 6, 12).date(),
        "period_end": datetime(2025, 6, 12).date(),
        "created_at": now,
        "sender": None,
        "heartbeat_at": None,
        "finished_at": now,
    }
    _add(conn, s.digest_editions, [edition])
    ids = list(
        conn.execute(
            select(s.digest_subscriptions.c.id).order_by(s.digest_subscriptions.c.id).limit(100)
        ).scalars()
    )
    _add(
        conn,
        s.digest_sends,
        [
            {
                "edition": key,
                "subscription_id": sid,
                "status": "sent",
                "attempts": 1,
                "message_id": f"<{sid}@move.invalid>",
                "papers": "",
                "at": now,
            }
            for sid in ids
        ],
    )
    _add(
        conn,
        s.digest_mailed,
        [
            {"subscription_id": sid, "paper_id": paper_ids[sid % len(paper_ids)], "mailed_at": now}
            for sid in ids
        ],
    )
    return "member2@move.invalid"  # n = 2: active, daily, not For you


def _upstream(conn: Connection, paper_ids: list[int], now: datetime) -> None:
    rows = [
        {
            "paper_id": pid,
            "upvotes": n % 40,
            "submitted_on_daily_at": now,
            "submitted_by": "akhaliq",
            "github_repo": None if n % 3 else "https://github.com/o/r",
            "github_stars": n if n % 3 == 0 else None,
            "project_page": None,
            "num_comments": n % 4,
            "fetched_at": now,
        }
        for n, pid in enumerate(paper_ids[:300])
    ]
    _add(conn, s.hf_papers, rows)
    versions = [
        {"paper_id": pid, "version": 1, "created_at": now - timedelta(days=3), "size": "1 MB"}
        for pid in paper_ids[:500]
    ]
    _add(conn, s.paper_versions, versions)


def _machinery(conn: Connection, users: list[int], paper_ids: list[int], now: datetime) -> None:
    """The rows the site's own machinery writes: jobs of every state, stored neighbour lists
    and members' stored "For you" scores (bytes: a move copies them as they are)."""
    job = {"args": "{}", "max_attempts": 5, "worker": None, "lease_until": None, "started_at": None}
    _add(
        conn,
        s.jobs,
        [
            job
            | {
                "kind": "sync",
                "unique_key": "sync@2025-06-16T09:00:00+00:00",
                "state": "done",
                "attempts": 1,
                "run_after": now,
                "created_at": now,
                "started_at": now,
                "finished_at": now,
                "worker": "host-a:101",
                "last_error": None,
            },
            job
            | {
                "kind": "embed",
                "unique_key": None,
                "state": "failed",
                "attempts": 5,
                "run_after": now,
                "created_at": now,
                "finished_at": now,
                "last_error": "RuntimeError: the model could not load",
            },
            job
            | {
                "kind": "alerts",
                "unique_key": None,
                "state": "queued",
                "attempts": 0,
                "run_after": now + timedelta(minutes=5),
                "created_at": now,
                "finished_at": None,
                "last_error": None,
            },
        ],
    )
    lists = []
    for n, pid in enumerate(paper_ids[:50]):
        near = [other for other in paper_ids[n + 1 : n + 12] if other != pid][:10]
        lists += [
            {
                "paper_id": pid,
                "model": "all-MiniLM-L6-v2",
                "rank": rank,
                "neighbour_id": other,
                "score": 0.9 - rank / 100,
                "version": 1,
                "neighbour_version": 1,
                "listed": len(near),
                "generation": 7,
            }
            for rank, other in enumerate(near)
        ]
    _add(conn, s.paper_neighbours, lists)
    _add(
        conn,
        s.reader_scores,
        [
            {
                "user_id": uid,
                "scope": "day:2025-06-12",
                "version": f"{uid:064x}",
                "scores": bytes(range(uid % 200, uid % 200 + 48)),
                "made_at": now,
            }
            for uid in users[:20]
        ],
    )
