"""Moderation: hiding comments and banning accounts, each action written to the moderation log.

- Hiding is not deleting: a hidden comment keeps its text, moderators still see it (marked
  hidden) and can show it again; readers see nothing, or a placeholder above its replies.
- A ban ends every session of the account at once and stops it logging in, posting, voting and
  commenting. Its comments stay up unless the moderator also asks to hide them.
- Moderators may ban members; only admins may ban moderators; nobody bans an admin here
  (`paperboy` admin commands change roles first) or themselves.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Connection, Engine

from paperboy.domain.comments import (
    Comment,
    Conflict,
    Forbidden,
    ModerationEntry,
    NotFound,
    check_reason,
)
from paperboy.domain.users import User, normalise_name
from paperboy.storage import comments as comment_store
from paperboy.storage import moderation as log_store
from paperboy.storage import users as user_store
from paperboy.storage.engine import now_utc
from paperboy.storage.paper_stats import add_to_stats
from paperboy.storage.transactions import write_transaction


def hide_comment(engine: Engine, moderator: User, comment_id: int, reason: str | None = None) -> Comment:
    _check_moderator(moderator)
    why = check_reason(reason)
    now = now_utc()
    with write_transaction(engine) as conn:
        comment = _locked_comment(conn, comment_id)
        if comment.deleted:
            raise Conflict("Its author deleted that comment: there is nothing to hide.")
        if comment.hidden:
            raise Conflict("That comment is hidden already.")
        comment_store.set_hidden(conn, [comment_id], now=now, by=moderator.id)
        add_to_stats(conn, comment.paper_id, comments=-1)
        _log(conn, moderator, "hide_comment", [(comment.user_id, comment_id)], why)
        return _reread(conn, comment_id)


def unhide_comment(engine: Engine, moderator: User, comment_id: int, reason: str | None = None) -> Comment:
    _check_moderator(moderator)
    why = check_reason(reason)
    with write_transaction(engine) as conn:
        comment = _locked_comment(conn, comment_id)
        if not comment.hidden:
            raise Conflict("That comment is not hidden.")
        comment_store.set_hidden(conn, [comment_id], now=None, by=None)
        if not comment.deleted:
            add_to_stats(conn, comment.paper_id, comments=1)
        _log(conn, moderator, "unhide_comment", [(comment.user_id, comment_id)], why)
        return _reread(conn, comment_id)


def ban_user(engine: Engine, moderator: User, name: str, reason: str, *, hide_comments: bool = False) -> User:
    """Ban an account, log it out everywhere and revoke its API tokens; with hide_comments, hide
    its visible comments too."""
    _check_moderator(moderator)
    why = check_reason(reason, required=True)
    now = now_utc()
    with write_transaction(engine) as conn:
        target = _target(conn, moderator, name)
        if target.banned:
            raise Conflict(f"{target.name} is banned already.")
        user_store.update_user(conn, target.id, banned_at=now, ban_reason=why)
        user_store.end_credentials(conn, target.id, now)  # every session and API token, lifted or not
        _log(conn, moderator, "ban", [(target.id, None)], why)
        if hide_comments:
            _hide_all_comments(conn, moderator, target, why)
        return _reread_user(conn, target.id)


def unban_user(engine: Engine, moderator: User, name: str, reason: str | None = None) -> User:
    """Lift a ban. Comments hidden with it stay hidden: unhide them one by one if they should return."""
    _check_moderator(moderator)
    why = check_reason(reason)
    with write_transaction(engine) as conn:
        target = _target(conn, moderator, name)
        if not target.banned:
            raise Conflict(f"{target.name} is not banned.")
        user_store.update_user(conn, target.id, banned_at=None, ban_reason=None)
        _log(conn, moderator, "unban", [(target.id, None)], why)
        return _reread_user(conn, target.id)


def moderation_log(engine: Engine, *, limit: int = 50, user_id: int | None = None) -> list[ModerationEntry]:
    with engine.connect() as conn:
        return log_store.recent_actions(conn, limit=limit, user_id=user_id)


# --- helpers --------------------------------------------------------------------------------------


def _check_moderator(user: User) -> None:
    if not user.is_moderator:
        raise Forbidden("Only moderators can do that.", "Moderators only")


def _target(conn: Connection, moderator: User, name: str) -> User:
    """The account a ban or unban is about, if `moderator` may act on it."""
    target = user_store.user_by_name(conn, normalise_name(name)[:64])
    if target is None:
        raise NotFound(f"No account is named {name[:64]!r}.", "No such account")
    if target.id == moderator.id:
        raise Forbidden("You cannot ban or unban yourself.")
    if target.role == "admin":
        raise Forbidden("Administrators cannot be banned: an administrator must change their role first.")
    if target.role == "moderator" and not moderator.is_admin:
        raise Forbidden("Only administrators can ban or unban moderators.")
    return target


def _hide_all_comments(conn: Connection, moderator: User, target: User, why: str | None) -> None:
    found = comment_store.visible_comments_of(conn, target.id)
    comment_store.set_hidden(conn, [comment_id for comment_id, _ in found], now=now_utc(), by=moderator.id)
    for paper_id, count in sorted(Counter(paper_id for _, paper_id in found).items()):
        add_to_stats(conn, paper_id, comments=-count)
    _log(conn, moderator, "hide_comment", [(target.id, comment_id) for comment_id, _ in found], why)


def _locked_comment(conn: Connection, comment_id: int) -> Comment:
    comment = comment_store.comment_by_id(conn, comment_id, for_update=True)
    if comment is None:
        raise NotFound(f"There is no comment {comment_id}.", "Comment not found")
    return comment


def _log(
    conn: Connection,
    moderator: User,
    action: str,
    targets: list[tuple[int | None, int | None]],
    why: str | None,
) -> None:
    log_store.log_actions(
        conn, moderator_id=moderator.id, action=action, targets=targets, reason=why, now=now_utc()
    )


def _reread(conn: Connection, comment_id: int) -> Comment:
    comment = comment_store.comment_by_id(conn, comment_id)
    assert comment is not None  # locked in this very transaction
    return comment


def _reread_user(conn: Connection, user_id: int) -> User:
    user = user_store.user_by_id(conn, user_id)
    assert user is not None  # locked in this very transaction
    return user
