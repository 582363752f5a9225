"""A user's public profile: the account and its recent activity, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from paperboy.domain.models import PaperActivity
from paperboy.domain.users import User, normalise_name
from paperboy.storage import profiles
from paperboy.storage.profiles import Capped, CommentActivity
from paperboy.storage.users import user_by_name

LIST_LIMIT = 30  # per list: a profile is a summary, not an archive


@dataclass(frozen=True, slots=True)
class Profile:
    user: User
    submitted: Capped[PaperActivity]
    upvoted: Capped[PaperActivity]
    comments: Capped[CommentActivity]


def user_profile(
    engine: Engine, name: str, *, moderator: bool = False, limit: int = LIST_LIMIT
) -> Profile | None:
    """The profile of the account `name`, or None. Moderators also see deleted and hidden comments."""
    with engine.connect() as conn:
        user = user_by_name(conn, normalise_name(name)[:64])
        if user is None:
            return None
        return Profile(
            user=user,
            submitted=profiles.submitted_papers(conn, user.id, limit),
            upvoted=profiles.upvoted_papers(conn, user.id, limit),
            comments=profiles.user_comments(conn, user.id, limit, include_removed=moderator),
        )
