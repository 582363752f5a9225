"""A member's feedback on papers, for themselves alone. "Not interested" hides a paper from their
feeds (undo brings it back) and will train their recommendations; the papers they hid are listed
on their library page. Idempotent, and rate-limited with the library's changes.

Like saves, feedback changes no shared count and so no version: each reader's hidden papers are
left out of the shared parts of a feed page per request (web/regions.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from paperboy.config import Settings
from paperboy.domain.users import User
from paperboy.services.library import change_readers_own
from paperboy.services.votes import PaperNotFound
from paperboy.storage import feedback as store
from paperboy.storage.engine import now_utc
from paperboy.storage.feedback import NOT_INTERESTED, SIGNALS, MarkedPaper

__all__ = ["NOT_INTERESTED", "SIGNALS", "FeedbackResult", "PaperNotFound", "give_feedback", "hidden_papers"]
HIDDEN_SHOWN = 200  # papers the library page lists as hidden


@dataclass(frozen=True, slots=True)
class FeedbackResult:
    arxiv_id: str
    signal: str | None  # the member's feedback on the paper now (None: none)


def give_feedback(
    engine: Engine, settings: Settings, user: User, arxiv_id: str, ip: str, signal: str | None
) -> FeedbackResult:
    """Record the member's `signal` for the paper (one of SIGNALS), or forget it (None); again is
    fine. ValueError for another signal, PaperNotFound, RateLimited."""
    if signal is not None and signal not in SIGNALS:
        raise ValueError(f"signal must be one of {', '.join(SIGNALS)}, not {signal[:30]!r}")

    def change(conn: Connection, paper_id: int) -> None:
        if signal is None:
            store.clear_signal(conn, user.id, paper_id)
        else:
            store.set_signal(conn, user.id, paper_id, signal, now_utc())

    return FeedbackResult(change_readers_own(engine, settings, user, arxiv_id, ip, change), signal)


def hidden_papers(engine: Engine, user: User, limit: int = HIDDEN_SHOWN) -> tuple[list[MarkedPaper], int]:
    """The papers the member marked not interested (arXiv id and title: what the library page
    lists, with an undo), the latest first (up to `limit`), and how many."""
    with engine.connect() as conn:
        return store.latest_with_signal(conn, user.id, NOT_INTERESTED, limit)
