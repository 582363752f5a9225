"""Threaded discussion on paper pages: post, edit and delete comments; read a paper's thread.

- Comments are Markdown, rendered and sanitised once, when written (domain/markup.py).
- paper_stats.comments counts visible comments (not deleted, not hidden) and changes in the
  same transaction as the comment it counts.
- Only a comment's author may edit or delete it; moderators hide (services/moderation.py).
- Posting and editing share one rate limit, per account and per IP address. The size check and
  the limit come before the Markdown is rendered: a flood past the limit costs no rendering.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from paperboy.config import Settings
from paperboy.domain.comments import BadRequest, Comment, CommentNode, Forbidden, NotFound, build_thread
from paperboy.domain.markup import clean_comment_text, render_comment
from paperboy.domain.users import User
from paperboy.services import rate_limits
from paperboy.storage import comments as store
from paperboy.storage.engine import now_utc
from paperboy.storage.paper_stats import add_to_stats
from paperboy.storage.queries import paper_id_by_arxiv_id
from paperboy.storage.transactions import write_transaction


def post_comment(
    engine: Engine,
    settings: Settings,
    user: User,
    arxiv_id: str,
    body: str,
    parent_id: int | None,
    ip: str,
) -> Comment:
    """A new comment on a paper, or a reply to one of its comments."""
    _check_can_take_part(user)
    text = clean_comment_text(body)  # size first, then the limit: both before the costly render
    rate_limits.hit(engine, *comment_limits(settings, user, ip), what="comments")
    html = render_comment(text)
    with write_transaction(engine) as conn:
        paper_id = paper_id_by_arxiv_id(conn, arxiv_id)
        if paper_id is None:
            raise NotFound(f"arXiv paper {arxiv_id} is not in this catalogue.", "Paper not found")
        if parent_id is not None:
            _check_parent(conn, paper_id, parent_id)
        comment_id = store.insert_comment(
            conn,
            paper_id=paper_id,
            user_id=user.id,
            parent_id=parent_id,
            body=text,
            body_html=html,
            now=now_utc(),
        )
        add_to_stats(conn, paper_id, comments=1)
        return _reread(conn, comment_id)


def edit_comment(
    engine: Engine, settings: Settings, user: User, comment_id: int, body: str, ip: str
) -> Comment:
    """The author's new text; shown as "edited". An unchanged text changes nothing."""
    _check_can_take_part(user)
    with engine.connect() as conn:
        _check_editable(_existing(conn, comment_id), user)
    text = clean_comment_text(body)
    rate_limits.hit(engine, *comment_limits(settings, user, ip), what="comments")
    html = render_comment(text)
    with write_transaction(engine) as conn:
        comment = _existing(conn, comment_id, for_update=True)
        _check_editable(comment, user)
        if comment.body == text:
            return comment
        store.set_body(conn, comment_id, body=text, body_html=html, now=now_utc())
        return _reread(conn, comment_id)


def delete_comment(engine: Engine, user: User, comment_id: int) -> Comment:
    """The author's soft delete: the comment disappears, or becomes "[deleted]" above replies.

    Deleting a deleted comment again changes nothing (a form sent twice)."""
    with write_transaction(engine) as conn:
        comment = _existing(conn, comment_id, for_update=True)
        if comment.user_id != user.id:
            raise Forbidden("Only its author can delete a comment.")
        if comment.deleted:
            return comment
        store.mark_deleted(conn, comment_id, now_utc())
        if comment.visible:  # a hidden comment is already out of the count
            add_to_stats(conn, comment.paper_id, comments=-1)
        return _reread(conn, comment_id)


def comment_for_editing(engine: Engine, user: User, comment_id: int) -> Comment:
    """The comment, if `user` may edit it (the edit form)."""
    with engine.connect() as conn:
        comment = _existing(conn, comment_id)
    _check_editable(comment, user)
    return comment


def comment_thread(engine: Engine, paper_id: int, viewer_user: User | None) -> list[CommentNode]:
    """The paper's discussion as `viewer_user` may see it (one query, whatever its size)."""
    with engine.connect() as conn:
        return thread_in(conn, paper_id, viewer_user)


def thread_in(conn: Connection, paper_id: int, viewer_user: User | None) -> list[CommentNode]:
    """comment_thread on a connection the caller holds (a page read in one connection)."""
    moderator = viewer_user is not None and viewer_user.is_moderator
    return build_thread(store.paper_comments(conn, paper_id), moderator=moderator)


def find_comment(engine: Engine, comment_id: int) -> Comment:
    """A comment by id, whatever its state; NotFound when there is none."""
    with engine.connect() as conn:
        return _existing(conn, comment_id)


def user_comments(
    engine: Engine, user_id: int, *, limit: int = 20, before: int | None = None
) -> list[Comment]:
    """A person's visible comments, newest first (for their profile page)."""
    with engine.connect() as conn:
        return store.comments_by_user(conn, user_id, limit=limit, before=before)


def comment_limits(settings: Settings, user: User, ip: str) -> list[rate_limits.Limit]:
    return rate_limits.member_limits(
        "comment", user.id, ip, settings.rate_limit_comment, settings.rate_limit_ip_factor
    )


# --- checks ---------------------------------------------------------------------------------------


def _check_can_take_part(user: User) -> None:
    if user.banned:
        raise Forbidden("This account is banned from taking part.", "Account banned")
    if not user.verified:
        raise Forbidden("Confirm your e-mail address first; then you can comment.", "Address not confirmed")


def _check_parent(conn: Connection, paper_id: int, parent_id: int) -> None:
    parent = store.comment_by_id(conn, parent_id)
    if parent is None:
        raise NotFound(f"There is no comment {parent_id} to reply to.", "Comment not found")
    if parent.paper_id != paper_id:
        raise BadRequest(f"Comment {parent_id} belongs to another paper's discussion.", "Wrong discussion")
    if parent.deleted:
        raise BadRequest("That comment was deleted: reply to the discussion instead.", "Comment deleted")
    if parent.hidden:
        raise BadRequest("A moderator hid that comment: it takes no replies.", "Comment hidden")


def _check_editable(comment: Comment, user: User) -> None:
    if comment.user_id != user.id:
        raise Forbidden("Only its author can edit a comment.")
    if comment.deleted:
        raise NotFound(f"Comment {comment.id} was deleted.", "Comment deleted")
    if comment.hidden:
        raise Forbidden("A moderator hid this comment: it can no longer be edited.", "Comment hidden")


def _existing(conn: Connection, comment_id: int, *, for_update: bool = False) -> Comment:
    comment = store.comment_by_id(conn, comment_id, for_update=for_update)
    if comment is None:
        raise NotFound(f"There is no comment {comment_id}.", "Comment not found")
    return comment


def _reread(conn: Connection, comment_id: int) -> Comment:
    comment = store.comment_by_id(conn, comment_id)
    assert comment is not None  # written in this very transaction
    return comment
