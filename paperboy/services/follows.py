"""Follows: a member follows authors, categories, saved searches and single papers; alerts
(services/alerts.py) and "For you" read them. Following is idempotent (a second follow of the same
thing is the first), capped at `follows_max` per member, and counted against `rate_limit_library`
like saves: what a member keeps for themselves. Follows are private to their member.

Values are normalised (domain/follows.py): an author by `author_key`, a category must be one the
catalogue has papers in, a search must parse (the parser's message otherwise), a paper must be in
the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from paperboy.config import Settings
from paperboy.domain.follows import Follow, FollowKind, InvalidFollow, follow_kind, normalised_value
from paperboy.domain.users import User
from paperboy.services.library import change_counted
from paperboy.services.votes import PaperNotFound
from paperboy.storage import follows as store
from paperboy.storage.engine import now_utc
from paperboy.storage.queries import paper_id_by_arxiv_id

__all__ = [
    "Follow",
    "FollowNotFound",
    "FollowResult",
    "InvalidFollow",
    "PaperNotFound",
    "TooManyFollows",
    "follow_states",
    "follow_thing",
    "follows_list",
    "unfollow_by_id",
    "unfollow_thing",
]


class FollowNotFound(LookupError):
    """No follow of this member has that id (another member's ids included)."""


class TooManyFollows(InvalidFollow):
    """The member follows `follows_max` things already."""


@dataclass(frozen=True, slots=True)
class FollowResult:
    follow: Follow | None  # None after an unfollow
    created: bool  # whether a row was added (follow) or removed (unfollow)


def follow_thing(
    engine: Engine, settings: Settings, user: User, kind: str, text: str, ip: str
) -> FollowResult:
    """Follow an author, category, search or paper; again returns the existing follow.
    InvalidFollow (its message says why), TooManyFollows, PaperNotFound, RateLimited."""
    checked = follow_kind(kind)
    value, label = normalised_value(checked, text)

    def change(conn: Connection) -> FollowResult:
        _check_exists(conn, checked, value)
        known = store.find_follow(conn, user.id, checked, value)
        if known is not None:
            return FollowResult(known, False)
        if store.count_follows(conn, user.id) >= settings.follows_max:
            raise TooManyFollows(f"you follow {settings.follows_max} things already: unfollow some first")
        made = store.insert_follow(conn, user.id, checked, value, label, now_utc())
        return FollowResult(made, made is not None)

    return change_counted(engine, settings, user, ip, change)


def unfollow_by_id(engine: Engine, settings: Settings, user: User, follow_id: int, ip: str) -> FollowResult:
    """Unfollow; FollowNotFound when the member has no follow with this id. RateLimited."""

    def change(conn: Connection) -> FollowResult:
        if not store.delete_follow(conn, user.id, follow_id):
            raise FollowNotFound(f"you follow nothing with id {follow_id}")
        return FollowResult(None, True)

    return change_counted(engine, settings, user, ip, change)


def unfollow_thing(
    engine: Engine, settings: Settings, user: User, kind: str, text: str, ip: str
) -> FollowResult:
    """Unfollow by kind and value as the follow buttons send them (none is fine). RateLimited."""
    checked = follow_kind(kind)
    value = normalised_value(checked, text)[0]
    return change_counted(
        engine,
        settings,
        user,
        ip,
        lambda conn: FollowResult(None, store.delete_follow_of(conn, user.id, checked, value)),
    )


def follows_list(engine: Engine, user: User, kinds: list[FollowKind] | None = None) -> list[Follow]:
    """The member's follows, the latest first."""
    with engine.connect() as conn:
        return store.follows_of(conn, user.id, kinds)


def follow_states(engine: Engine, user: User | None, kind: FollowKind, values: list[str]) -> dict[str, int]:
    """Which of these values the reader follows (value -> follow id), for the buttons."""
    if user is None or not values:
        return {}
    with engine.connect() as conn:
        return store.followed_values(conn, user.id, kind, values)


def _check_exists(conn: Connection, kind: FollowKind, value: str) -> None:
    if kind == "category" and not store.category_known(conn, value):
        raise InvalidFollow(f"no paper of this catalogue is in the category {value!r}")
    if kind == "paper" and paper_id_by_arxiv_id(conn, value) is None:
        raise PaperNotFound(f"arXiv paper {value} is not in this catalogue.")
