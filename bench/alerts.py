"""Alerts at scale (issue 16: "alerts for a sync of 1,000 new papers computed for all members in
under 60 s"): the real corpus less its 1,000 newest papers (by arXiv id) goes in first; then
10,000 members with 20,000 follows (half authors among the corpus' most prolific, a fifth
categories, a fifth saved searches drawn from 400 distinct queries, a tenth papers) and 200,000
saves; then one "sync" writes the 1,000 held-back papers and 1,000 changes to saved papers (a
new version each; 200 also a code link, 200 a journal reference) through `upsert_papers`, and
`services.alerts` makes the alerts for every member: the figure is its wall time.

    PYTHONPATH=$PWD .venv/bin/python -m bench alerts
    PYTHONPATH=$PWD .venv/bin/python -m bench.alerts --database-url postgresql+psycopg://…/db
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from bench.common import Corpus, find_corpus
from paperboy.domain.follows import author_key
from paperboy.domain.iterables import batched
from paperboy.domain.models import PaperRecord, Version
from paperboy.integrations.bulk_jsonl import ParsedLine, read_papers
from paperboy.services.alerts import alert_on_activity, alert_on_changes
from paperboy.storage.engine import make_engine
from paperboy.storage.migrate import upgrade
from paperboy.storage.papers import upsert_papers, write_papers
from paperboy.storage.schema import follows, library_items, papers, users
from paperboy.storage.transactions import write_transaction

MEMBERS, FOLLOWS, SAVES, NEW, CHANGED = 10_000, 20_000, 200_000, 1_000, 1_000
SEARCHES = 400
NOW = datetime(2026, 12, 7, tzinfo=UTC)


def run(corpus: Corpus, database_url: str | None = None, seed: int = 16) -> dict[str, Any]:
    rng = random.Random(seed)
    records = [r.record for r in read_papers(corpus.papers) if isinstance(r, ParsedLine)]
    records.sort(key=lambda r: r.arxiv_id)
    base, held = records[:-NEW], records[-NEW:]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(database_url or f"sqlite:///{Path(tmp) / 'alerts.sqlite3'}")
        upgrade(engine)
        started = time.perf_counter()
        for batch in batched(base, 2000):
            write_papers(engine, list(batch))
        loaded = time.perf_counter() - started
        saved_ids = _members(engine, base, rng)
        changed = _changes(engine, base, saved_ids, rng)
        result = _sync(engine, held + changed)
        engine.dispose()
    result.update(catalogue=len(base), catalogue_load_s=round(loaded, 1), database=engine.dialect.name)
    _print(result)
    return result


def _members(engine: Engine, base: list[PaperRecord], rng: random.Random) -> list[int]:
    """Members, follows and saves; the ids of saved papers."""
    names = Counter(author_key(n) for r in base for n in r.authors)
    prolific = [(key, key) for key, _ in names.most_common(5000)]
    categories = sorted({c for r in base for c in r.categories})
    words = Counter(w.lower() for r in base for w in r.title.split() if w.isalpha() and len(w) > 6)
    common = [w for w, _ in words.most_common(300)]
    searches = sorted({" ".join(rng.sample(common, 2)) for _ in range(SEARCHES * 2)})[:SEARCHES]
    with write_transaction(engine) as conn:
        conn.execute(insert(users), [_user(n) for n in range(1, MEMBERS + 1)])
        user_ids = list(conn.execute(select(users.c.id)).scalars())
        paper_ids = list(conn.execute(select(papers.c.id, papers.c.arxiv_id).order_by(papers.c.id)))
        chosen: dict[tuple[int, str, str], str] = {}
        while len(chosen) < FOLLOWS:
            roll, user = rng.random(), rng.choice(user_ids)
            kind, value = (
                ("author", rng.choice(prolific)[0])
                if roll < 0.5
                else ("category", rng.choice(categories))
                if roll < 0.7
                else ("search", rng.choice(searches))
                if roll < 0.9
                else ("paper", rng.choice(paper_ids).arxiv_id)
            )
            chosen[(user, kind, value)] = value
        rows = [{"user_id": u, "kind": k, "value": v, "label": v, "created_at": NOW} for (u, k, v) in chosen]
        conn.execute(insert(follows), rows)
        recent = [row.id for row in paper_ids[-20_000:]]  # saves lean to recent papers
        saves = {(rng.choice(user_ids), rng.choice(recent)) for _ in range(SAVES)}
        conn.execute(
            insert(library_items), [{"user_id": u, "paper_id": p, "saved_at": NOW} for u, p in saves]
        )
    return sorted({p for _, p in saves})


def _user(n: int) -> dict[str, Any]:
    return {
        "email": f"member{n:05d}@bench.example",
        "name": f"member{n:05d}",
        "password_hash": "x",
        "role": "member",
        "email_verified_at": NOW,
        "created_at": NOW,
        "password_changed_at": NOW,
    }


def _changes(
    engine: Engine, base: list[PaperRecord], saved_ids: list[int], rng: random.Random
) -> list[PaperRecord]:
    """New versions of saved papers; a fifth also gain a code link, a fifth a journal reference."""
    by_id = {r.arxiv_id: r for r in base}
    with engine.connect() as conn:
        pick = rng.sample(saved_ids, CHANGED)
        arxiv_ids = list(conn.execute(select(papers.c.arxiv_id).where(papers.c.id.in_(pick))).scalars())
    out = []
    for n, arxiv_id in enumerate(sorted(arxiv_ids)):
        record = by_id[arxiv_id]
        last = record.versions[-1] if record.versions else Version(0, NOW)
        change = replace(
            record, versions=(*record.versions, Version(last.number + 1, NOW + timedelta(hours=1)))
        )
        if n % 5 == 0:
            change = replace(
                change, abstract=change.abstract + " Code: https://github.com/bench/repo" + str(n)
            )
        if n % 5 == 1:
            change = replace(change, journal_ref=f"Journal of Benchmarks {n} (2026)")
        out.append(change)
    return out


def _sync(engine: Engine, records: list[PaperRecord]) -> dict[str, Any]:
    started = time.perf_counter()
    with write_transaction(engine) as conn:
        written = upsert_papers(conn, records)
    written_s = time.perf_counter() - started
    made = alert_on_changes(engine, written.changes)
    activity = alert_on_activity(engine, 10)  # the first pass after saves: marks, no alerts
    return {
        "members": MEMBERS,
        "follows": FOLLOWS,
        "saves": SAVES,
        "new_papers": written.inserted,
        "changed_papers": written.updated,
        "write_s": round(written_s, 2),
        "alerts_s": round(made.seconds, 2),
        "activity_s": round(activity.seconds, 2),
        "searches_evaluated": made.searches,
        "alerts": dict(made.made),
        "alerts_total": made.total,
    }


def _print(result: dict[str, Any]) -> None:
    print(f"\n## alerts ({result['database']})")
    print(
        f"{result['members']:,} members, {result['follows']:,} follows, {result['saves']:,} saves, "
        f"{result['catalogue']:,} papers (loaded in {result['catalogue_load_s']} s)"
    )
    print(
        f"sync of {result['new_papers']:,} new and {result['changed_papers']:,} changed papers: "
        f"written in {result['write_s']} s; alerts for every member in {result['alerts_s']} s "
        f"({result['alerts_total']:,} alerts: {result['alerts']}; {result['searches_evaluated']} saved "
        f"searches evaluated once each); activity pass {result['activity_s']} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.alerts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args()
    run(find_corpus(), args.database_url)


if __name__ == "__main__":
    main()
