"""Hugging Face daily-papers signals (upvotes, GitHub repository and stars) per paper."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from paperboy.domain.models import HfSignal
from paperboy.storage.dialect import insert_into
from paperboy.storage.engine import now_utc
from paperboy.storage.queries import paper_ids_by_arxiv_ids
from paperboy.storage.schema import hf_papers
from paperboy.storage.transactions import mark_catalogue_changed


def upsert_hf_signals(conn: Connection, signals: Sequence[HfSignal]) -> int:
    """Replace the stored signal of each paper that is in the catalogue; returns how many were stored."""
    wanted = {signal.arxiv_id: signal for signal in signals}
    if not wanted:
        return 0
    ids = paper_ids_by_arxiv_ids(conn, wanted)
    if not ids:
        return 0
    now = now_utc()
    rows = [
        {
            "paper_id": ids[arxiv_id],
            "upvotes": s.upvotes,
            "submitted_on_daily_at": s.submitted_on_daily_at,
            "submitted_by": s.submitted_by,
            "github_repo": s.github_repo,
            "github_stars": s.github_stars,
            "project_page": s.project_page,
            "num_comments": s.num_comments,
            "fetched_at": now,
        }
        for arxiv_id, s in sorted(wanted.items())  # one lock order for concurrent syncs
        if arxiv_id in ids
    ]
    statement = insert_into(conn, hf_papers)
    replace_all = {c.name: statement.excluded[c.name] for c in hf_papers.c if c.name != "paper_id"}
    conn.execute(
        statement.on_conflict_do_update(index_elements=[hf_papers.c.paper_id], set_=replace_all), rows
    )
    mark_catalogue_changed(conn)
    return len(rows)
