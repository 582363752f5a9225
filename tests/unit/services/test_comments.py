"""services/comments.py on the real database: threads, placeholders, exact counts, permissions,
rate limits."""

from __future__ import annotations

import pytest
from community import make_member
from conftest import make_record
from sqlalchemy import event

from paperboy.domain.comments import DELETED, HIDDEN, MAX_DEPTH, BadRequest, Forbidden, NotFound, count_nodes
from paperboy.domain.markup import InvalidComment
from paperboy.services import comments, moderation
from paperboy.services.rate_limits import RateLimited
from paperboy.storage import comments as store
from paperboy.storage.paper_stats import stats_of
from paperboy.storage.queries import paper_id_by_arxiv_id

IP = "192.0.2.7"
PAPER = "2506.12229"


def _user(engine, name, *, role="member", verified=True):
    return make_member(engine, name, role=role, verified=verified)


def _paper_id(engine, arxiv_id=PAPER):
    with engine.connect() as conn:
        return paper_id_by_arxiv_id(conn, arxiv_id)


def _counts(engine, arxiv_id=PAPER):
    """(paper_stats.comments, visible comment rows): the counter and the truth it mirrors."""
    paper_id = _paper_id(engine, arxiv_id)
    with engine.connect() as conn:
        return stats_of(conn, paper_id)[1], store.count_visible(conn, paper_id=paper_id)


@pytest.fixture
def settings(settings):
    """Room for the many comments these tests post; the rate-limit tests set their own."""
    return settings.replace(rate_limit_comment="1000/minute")


@pytest.fixture
def paper(add_papers):
    add_papers(make_record(PAPER), make_record("2506.00002"), make_record("hep-th/9901001"))
    return PAPER


@pytest.fixture
def post(engine, settings, paper):
    def post(user, body="A comment.", parent=None, arxiv_id=paper):
        parent_id = parent.id if parent is not None else None
        return comments.post_comment(engine, settings, user, arxiv_id, body, parent_id, IP)

    return post


@pytest.fixture
def ada(engine):
    return _user(engine, "ada")


@pytest.fixture
def bob(engine):
    return _user(engine, "bob")


@pytest.fixture
def mod(engine):
    return _user(engine, "mod", role="moderator")


def _thread(engine, viewer=None, arxiv_id=PAPER):
    return comments.comment_thread(engine, _paper_id(engine, arxiv_id), viewer)


def _shape(nodes):
    """The tree as nested (id, what is shown) pairs."""
    return [(node.id, node.placeholder or node.comment.body, _shape(node.children)) for node in nodes]


def test_a_comment_is_stored_rendered_and_counted(engine, post, ada):
    comment = post(ada, "Nice *result*: $a_1 * b_2$ <script>x</script>")
    assert comment.author == "ada"
    assert comment.arxiv_id == PAPER
    assert comment.body == "Nice *result*: $a_1 * b_2$ <script>x</script>"
    assert comment.body_html == "<p>Nice <em>result</em>: $a_1 * b_2$ &lt;script&gt;x&lt;/script&gt;</p>"
    assert comment.edited_at is None
    assert _counts(engine) == (1, 1)


def test_replies_build_a_tree_oldest_first(engine, post, ada, bob):
    first = post(ada, "first")
    second = post(bob, "second")
    reply = post(bob, "reply", first)
    reply_to_reply = post(ada, "reply to reply", reply)
    other = post(ada, "elsewhere", arxiv_id="2506.00002")
    assert _shape(_thread(engine)) == [
        (first.id, "first", [(reply.id, "reply", [(reply_to_reply.id, "reply to reply", [])])]),
        (second.id, "second", []),
    ]
    assert _shape(_thread(engine, arxiv_id="2506.00002")) == [(other.id, "elsewhere", [])]
    assert _counts(engine) == (4, 4)


def test_old_style_ids_take_comments(engine, post, ada):
    comment = post(ada, "old", arxiv_id="hep-th/9901001")
    assert comment.arxiv_id == "hep-th/9901001"
    assert _counts(engine, "hep-th/9901001") == (1, 1)


def test_deep_replies_are_shown_at_the_deepest_level(engine, post, ada, bob):
    chain = [post(ada, "level 1")]
    for level in range(2, MAX_DEPTH + 4):
        chain.append(post(bob if level % 2 else ada, f"level {level}", chain[-1]))
    nodes = _thread(engine)
    depth_of, flattened = {}, {}

    def walk(items):
        for node in items:
            depth_of[node.comment.body] = node.depth
            flattened[node.comment.body] = (node.flattened, node.reply_to)
            walk(node.children)

    walk(nodes)
    assert [depth_of[f"level {n}"] for n in range(1, MAX_DEPTH + 4)] == [*range(1, MAX_DEPTH + 1), 6, 6, 6]
    assert flattened[f"level {MAX_DEPTH}"] == (False, None)
    deeper = chain[MAX_DEPTH]
    assert flattened[deeper.body] == (True, chain[MAX_DEPTH - 1].author)
    # Deeper replies sit beside their parent, under the level-(MAX_DEPTH - 1) comment.
    level_5 = nodes[0]
    for _ in range(MAX_DEPTH - 2):
        level_5 = level_5.children[0]
    assert [node.comment.body for node in level_5.children] == [
        f"level {n}" for n in range(MAX_DEPTH, MAX_DEPTH + 4)
    ]


def test_a_deleted_comment_with_replies_stays_as_a_placeholder(engine, post, ada, bob):
    parent = post(ada, "parent")
    reply = post(bob, "reply", parent)
    lonely = post(ada, "lonely")
    comments.delete_comment(engine, ada, parent.id)
    comments.delete_comment(engine, ada, lonely.id)
    assert _shape(_thread(engine)) == [(parent.id, DELETED, [(reply.id, "reply", [])])]
    placeholder = _thread(engine)[0]
    assert placeholder.comment is None  # neither text nor author reach the page
    assert _counts(engine) == (1, 1)


def test_a_deleted_chain_disappears_when_nothing_below_is_shown(engine, post, ada, bob):
    parent = post(ada, "parent")
    reply = post(bob, "reply", parent)
    comments.delete_comment(engine, bob, reply.id)
    comments.delete_comment(engine, ada, parent.id)
    assert _thread(engine) == []
    assert _counts(engine) == (0, 0)


def test_hidden_comments_are_for_moderators_only(engine, post, ada, bob, mod):
    parent = post(ada, "rude")
    reply = post(bob, "reply", parent)
    alone = post(ada, "also rude")
    moderation.hide_comment(engine, mod, parent.id, "rude")
    moderation.hide_comment(engine, mod, alone.id, "rude")
    for viewer in (None, ada, bob):
        assert _shape(_thread(engine, viewer)) == [(parent.id, HIDDEN, [(reply.id, "reply", [])])]
    as_moderator = _thread(engine, mod)
    assert _shape(as_moderator) == [
        (parent.id, "rude", [(reply.id, "reply", [])]),
        (alone.id, "also rude", []),
    ]
    assert [node.hidden for node in as_moderator] == [True, True]
    assert count_nodes(as_moderator) == 3
    assert _counts(engine) == (1, 1)


def test_a_thread_is_one_query(engine, post, ada, bob, mod):
    parent = post(ada, "parent")
    for n in range(30):
        parent = post(bob if n % 2 else ada, f"reply {n}", parent if n % 3 else None)
    statements = []

    def record(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    paper_id = _paper_id(engine)
    event.listen(engine, "before_cursor_execute", record)
    try:
        for viewer in (None, ada, mod):
            comments.comment_thread(engine, paper_id, viewer)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 3


def test_counts_stay_exact_through_every_change(engine, settings, post, ada, bob, mod):
    one, two, three = post(ada, "one"), post(bob, "two"), post(ada, "three")
    assert _counts(engine) == (3, 3)
    comments.edit_comment(engine, settings, ada, one.id, "one, edited", IP)
    assert _counts(engine) == (3, 3)
    moderation.hide_comment(engine, mod, two.id)
    assert _counts(engine) == (2, 2)
    comments.delete_comment(engine, bob, two.id)  # hidden, then deleted: counted out once
    assert _counts(engine) == (2, 2)
    moderation.unhide_comment(engine, mod, two.id)  # deleted stays out
    assert _counts(engine) == (2, 2)
    comments.delete_comment(engine, ada, three.id)
    comments.delete_comment(engine, ada, three.id)  # a second delete changes nothing
    assert _counts(engine) == (1, 1)
    moderation.hide_comment(engine, mod, one.id)
    moderation.unhide_comment(engine, mod, one.id)
    assert _counts(engine) == (1, 1)


def test_editing_marks_the_comment_edited(engine, settings, post, ada):
    comment = post(ada, "frist")
    unchanged = comments.edit_comment(engine, settings, ada, comment.id, "frist", IP)
    assert unchanged.edited_at is None
    edited = comments.edit_comment(engine, settings, ada, comment.id, "**first**", IP)
    assert edited.edited_at is not None
    assert edited.body == "**first**"
    assert edited.body_html == "<p><strong>first</strong></p>"
    assert _thread(engine)[0].comment.edited_at == edited.edited_at


def test_only_the_author_edits_or_deletes(engine, settings, post, ada, bob, mod):
    comment = post(ada, "mine")
    for user in (bob, mod):
        with pytest.raises(Forbidden, match="Only its author can edit"):
            comments.edit_comment(engine, settings, user, comment.id, "theirs", IP)
        with pytest.raises(Forbidden, match="Only its author can delete"):
            comments.delete_comment(engine, user, comment.id)
        with pytest.raises(Forbidden):
            comments.comment_for_editing(engine, user, comment.id)
    assert comments.comment_for_editing(engine, ada, comment.id).body == "mine"


def test_hidden_or_deleted_comments_cannot_be_edited(engine, settings, post, ada, mod):
    hidden, deleted = post(ada, "hidden"), post(ada, "deleted")
    moderation.hide_comment(engine, mod, hidden.id)
    comments.delete_comment(engine, ada, deleted.id)
    with pytest.raises(Forbidden, match="hid this comment"):
        comments.edit_comment(engine, settings, ada, hidden.id, "sneaky", IP)
    with pytest.raises(NotFound, match="was deleted"):
        comments.edit_comment(engine, settings, ada, deleted.id, "back", IP)


def test_replies_must_fit_the_discussion(engine, settings, post, ada, bob, mod):
    here = post(ada, "here")
    elsewhere = post(ada, "elsewhere", arxiv_id="2506.00002")
    gone, hidden = post(ada, "gone"), post(ada, "hidden")
    comments.delete_comment(engine, ada, gone.id)
    moderation.hide_comment(engine, mod, hidden.id)
    with pytest.raises(BadRequest, match="another paper"):
        post(bob, "reply", elsewhere)
    with pytest.raises(BadRequest, match="deleted"):
        post(bob, "reply", gone)
    with pytest.raises(BadRequest, match="hid"):
        post(bob, "reply", hidden)
    with pytest.raises(NotFound, match="no comment 999"):
        comments.post_comment(engine, settings, bob, PAPER, "x", 999, IP)
    assert post(bob, "fine", here).parent_id == here.id
    assert _counts(engine) == (2, 2)


def test_unknown_papers_and_comments_are_not_found(engine, settings, post, ada):
    with pytest.raises(NotFound, match="not in this catalogue"):
        comments.post_comment(engine, settings, ada, "2401.99999", "hi", None, IP)
    with pytest.raises(NotFound):
        comments.edit_comment(engine, settings, ada, 12345, "hi", IP)
    with pytest.raises(NotFound):
        comments.delete_comment(engine, ada, 12345)


def test_unverified_and_banned_accounts_cannot_comment(engine, settings, post, ada, mod):
    carol = _user(engine, "carol", verified=False)
    with pytest.raises(Forbidden, match="Confirm your e-mail"):
        post(carol)
    comment = post(ada, "before the ban")
    banned = moderation.ban_user(engine, mod, "ada", "spam")
    with pytest.raises(Forbidden, match="banned"):
        post(banned)
    with pytest.raises(Forbidden, match="banned"):
        comments.edit_comment(engine, settings, banned, comment.id, "after", IP)


def test_bad_bodies_are_refused_before_anything_is_written(engine, post, ada):
    with pytest.raises(InvalidComment, match="empty"):
        post(ada, "   ")
    with pytest.raises(InvalidComment, match="at most 10,000"):
        post(ada, "x" * 10_001)
    assert _thread(engine) == []


def test_posting_and_editing_are_rate_limited_per_account(engine, settings, paper, ada, bob):
    # Windows of a day: a test that straddles a window's end would see its count reset.
    limited = settings.replace(rate_limit_comment="2/day", rate_limit_ip_factor=10)
    first = comments.post_comment(engine, limited, ada, paper, "one", None, IP)
    comments.edit_comment(engine, limited, ada, first.id, "one, edited", IP)
    with pytest.raises(RateLimited, match="Too many comments") as refused:
        comments.post_comment(engine, limited, ada, paper, "three", None, IP)
    assert 1 <= refused.value.retry_after <= 86400
    comments.post_comment(engine, limited, bob, paper, "bob is fine", None, IP)
    assert _counts(engine) == (2, 2)


def test_posting_is_rate_limited_per_address(engine, settings, paper):
    limited = settings.replace(rate_limit_comment="1/day", rate_limit_ip_factor=2)
    people = [_user(engine, f"user{n}") for n in range(4)]
    comments.post_comment(engine, limited, people[0], paper, "one", None, IP)
    comments.post_comment(engine, limited, people[1], paper, "two", None, IP)
    with pytest.raises(RateLimited):
        comments.post_comment(engine, limited, people[2], paper, "three", None, IP)
    comments.post_comment(engine, limited, people[3], paper, "elsewhere", None, "198.51.100.1")


def test_a_persons_comments_newest_first(engine, post, ada, bob, mod):
    first, second, third = post(ada, "a"), post(ada, "b"), post(ada, "c")
    post(bob, "not ada's")
    moderation.hide_comment(engine, mod, second.id)
    assert [c.id for c in comments.user_comments(engine, ada.id)] == [third.id, first.id]
    assert [c.id for c in comments.user_comments(engine, ada.id, before=third.id)] == [first.id]
