"""Discussion threads: comments, the tree a paper page shows, and the errors people can cause.

Pure code: the services load a paper's comments in one query and `build_thread` turns them
into the tree a reader may see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

MAX_DEPTH = 6  # levels of nesting on a page; deeper replies are shown at this level
MAX_REASON = 500  # characters of a moderator's reason
DELETED = "[deleted]"
HIDDEN = "[hidden by a moderator]"


class DiscussionError(Exception):
    """Something a person asked that cannot be done; the message says why (shown as is)."""

    status = 400
    title = "Cannot do that"

    def __init__(self, message: str, title: str | None = None) -> None:
        super().__init__(message)
        if title is not None:
            self.title = title


class BadRequest(DiscussionError):
    status = 400
    title = "Bad request"


class Forbidden(DiscussionError):
    status = 403
    title = "Not allowed"


class NotFound(DiscussionError):
    status = 404
    title = "Not found"


class Conflict(DiscussionError):
    status = 409
    title = "Already done"


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    paper_id: int
    arxiv_id: str
    user_id: int
    author: str
    author_role: str
    author_banned: bool
    parent_id: int | None
    body: str  # Markdown as written
    body_html: str  # sanitised when written (domain/markup.py)
    created_at: datetime
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    hidden_at: datetime | None = None
    hidden_by: int | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def visible(self) -> bool:
        """Shown to everyone, and counted in the paper's comment count."""
        return not self.deleted and not self.hidden


@dataclass(slots=True)
class CommentNode:
    """One comment in a thread as a viewer may see it.

    `comment` is None for a placeholder: a deleted comment, or one hidden from this viewer, kept
    because replies hang under it. A moderator gets hidden comments in full with `hidden` set.
    `flattened` marks a reply deeper than MAX_DEPTH, shown at that level after its parent;
    `reply_to` then names whom it answers (the parent's author, or its placeholder).
    """

    id: int
    depth: int
    created_at: datetime
    comment: Comment | None
    placeholder: str = ""
    hidden: bool = False
    flattened: bool = False
    reply_to: str | None = None
    children: list[CommentNode] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ModerationEntry:
    id: int
    action: str  # hide_comment | unhide_comment | ban | unban
    moderator: str | None
    user: str | None
    comment_id: int | None
    reason: str | None
    created_at: datetime


def build_thread(
    comments: Sequence[Comment], *, moderator: bool = False, max_depth: int = MAX_DEPTH
) -> list[CommentNode]:
    """The tree of `comments` (any order) for a viewer; top-level comments and replies oldest first."""
    ordered = sorted(comments, key=lambda c: c.id)
    kept = _kept_ids(ordered, moderator)
    roots: list[CommentNode] = []
    nodes: dict[int, CommentNode] = {}
    containers: dict[int, list[CommentNode]] = {}  # where a comment's replies go
    for comment in ordered:
        if comment.id not in kept:
            continue
        parent = nodes.get(comment.parent_id) if comment.parent_id is not None else None
        depth = parent.depth + 1 if parent else 1
        node = _node(comment, min(depth, max_depth), moderator)
        if depth > max_depth and parent is not None:
            node.flattened = True
            node.reply_to = parent.comment.author if parent.comment else parent.placeholder
        siblings = containers[parent.id] if parent else roots
        siblings.append(node)
        nodes[comment.id] = node
        # Replies to a node at the deepest level go beside it, under the same parent.
        containers[comment.id] = siblings if depth >= max_depth else node.children
    return roots


def _kept_ids(ordered: Sequence[Comment], moderator: bool) -> set[int]:
    """Comments shown in full, plus those kept as placeholders because a reply below is shown.

    Replies always have larger ids than their parents (a parent exists before its replies), so
    walking from the newest marks every reply before its parent is looked at.
    """
    known = {comment.id for comment in ordered}
    kept: set[int] = set()
    for comment in reversed(ordered):
        if comment.id in kept or _shown_in_full(comment, moderator):
            kept.add(comment.id)
            if comment.parent_id in known:
                kept.add(comment.parent_id)
    return kept


def _shown_in_full(comment: Comment, moderator: bool) -> bool:
    return comment.visible or (moderator and comment.hidden and not comment.deleted)


def _node(comment: Comment, depth: int, moderator: bool) -> CommentNode:
    if _shown_in_full(comment, moderator):
        return CommentNode(comment.id, depth, comment.created_at, comment, hidden=comment.hidden)
    placeholder = DELETED if comment.deleted else HIDDEN
    return CommentNode(comment.id, depth, comment.created_at, None, placeholder=placeholder)


def count_visible(comments: Sequence[Comment]) -> int:
    return sum(1 for comment in comments if comment.visible)


def count_nodes(nodes: Sequence[CommentNode]) -> int:
    """Comments a thread shows in full (placeholders aside)."""
    return sum((node.comment is not None) + count_nodes(node.children) for node in nodes)


def check_reason(reason: str | None, *, required: bool = False) -> str | None:
    """A moderator's reason, trimmed; BadRequest when required and missing, or too long."""
    text = " ".join((reason or "").split())
    if required and not text:
        raise BadRequest("Give a reason: the person affected sees it.", "Reason needed")
    if len(text) > MAX_REASON:
        raise BadRequest(f"Keep the reason under {MAX_REASON} characters.", "Reason too long")
    return text or None
