"""services/moderation.py on the real database: hiding, bans, who may do what, the log."""

from __future__ import annotations

import threading
from contextlib import suppress

import pytest
from community import PASSWORD, make_member
from conftest import make_record

from paperboy.domain.comments import BadRequest, Conflict, Forbidden, NotFound
from paperboy.services import comments, moderation
from paperboy.services.accounts import LoginFailed, log_in
from paperboy.services.sessions import open_session, viewer_for_token
from paperboy.storage import comments as store
from paperboy.storage.paper_stats import stats_of
from paperboy.storage.queries import paper_id_by_arxiv_id

IP = "192.0.2.7"


@pytest.fixture
def make_user(engine):
    return lambda name, role="member": make_member(engine, name, role=role)


@pytest.fixture
def settings(settings):
    return settings.replace(rate_limit_comment="1000/minute")


@pytest.fixture
def papers(add_papers):
    add_papers(make_record("2506.12229"), make_record("2506.00002"))
    return ["2506.12229", "2506.00002"]


@pytest.fixture
def post(engine, settings, papers):
    def post(user, body="A comment.", arxiv_id=papers[0]):
        return comments.post_comment(engine, settings, user, arxiv_id, body, None, IP)

    return post


def _counts(engine, arxiv_id):
    with engine.connect() as conn:
        paper_id = paper_id_by_arxiv_id(conn, arxiv_id)
        return stats_of(conn, paper_id)[1], store.count_visible(conn, paper_id=paper_id)


def _log(engine):
    return [
        (entry.action, entry.moderator, entry.user, entry.comment_id, entry.reason)
        for entry in reversed(moderation.moderation_log(engine))
    ]


def test_hiding_and_showing_again_are_logged(engine, post, make_user, papers):
    ada, mod = make_user("ada"), make_user("mod", "moderator")
    comment = post(ada, "rude")
    hidden = moderation.hide_comment(engine, mod, comment.id, "  off   topic ")
    assert hidden.hidden
    assert hidden.hidden_by == mod.id
    assert hidden.body == "rude"  # hiding keeps the text, unlike deleting
    assert _counts(engine, papers[0]) == (0, 0)
    shown = moderation.unhide_comment(engine, mod, comment.id)
    assert shown.visible
    assert _counts(engine, papers[0]) == (1, 1)
    assert _log(engine) == [
        ("hide_comment", "mod", "ada", comment.id, "off topic"),
        ("unhide_comment", "mod", "ada", comment.id, None),
    ]


def test_hiding_twice_or_hiding_the_deleted_is_a_conflict(engine, post, make_user):
    ada, mod = make_user("ada"), make_user("mod", "moderator")
    first, second = post(ada), post(ada)
    moderation.hide_comment(engine, mod, first.id)
    with pytest.raises(Conflict, match="hidden already"):
        moderation.hide_comment(engine, mod, first.id)
    comments.delete_comment(engine, ada, second.id)
    with pytest.raises(Conflict, match="deleted"):
        moderation.hide_comment(engine, mod, second.id)
    with pytest.raises(Conflict, match="not hidden"):
        moderation.unhide_comment(engine, mod, second.id)
    with pytest.raises(NotFound):
        moderation.hide_comment(engine, mod, 99999)
    assert len(_log(engine)) == 1


def test_members_cannot_moderate(engine, post, make_user):
    ada, bob = make_user("ada"), make_user("bob")
    comment = post(ada)
    with pytest.raises(Forbidden, match="Only moderators"):
        moderation.hide_comment(engine, bob, comment.id)
    with pytest.raises(Forbidden, match="Only moderators"):
        moderation.unhide_comment(engine, bob, comment.id)
    with pytest.raises(Forbidden, match="Only moderators"):
        moderation.ban_user(engine, bob, "ada", "no")
    with pytest.raises(Forbidden, match="Only moderators"):
        moderation.unban_user(engine, bob, "ada")
    assert _log(engine) == []


def test_a_ban_ends_every_session_and_stops_logging_in(engine, settings, post, make_user):
    ada, mod = make_user("ada"), make_user("mod", "moderator")
    sessions = [open_session(engine, settings, ada) for _ in range(2)]
    comment = post(ada, "stays up")
    banned = moderation.ban_user(engine, mod, "Ada", "spam links")
    assert banned.banned
    assert banned.ban_reason == "spam links"
    for session in sessions:
        assert viewer_for_token(engine, settings, session.token).user is None
    with pytest.raises(LoginFailed, match="banned: spam links"):
        log_in(engine, settings, email="ada@example.org", password=PASSWORD, ip=IP)
    assert comments.find_comment(engine, comment.id).visible  # nothing hidden unless asked
    assert _log(engine) == [("ban", "mod", "ada", None, "spam links")]


def test_a_ban_can_hide_all_their_comments(engine, post, make_user, papers):
    ada, bob, mod = make_user("ada"), make_user("bob"), make_user("mod", "moderator")
    first, second = post(ada, "one"), post(ada, "two", papers[1])
    already = post(ada, "hidden before")
    moderation.hide_comment(engine, mod, already.id)
    deleted = post(ada, "deleted")
    comments.delete_comment(engine, ada, deleted.id)
    post(bob, "bob's")
    moderation.ban_user(engine, mod, "ada", "spam", hide_comments=True)
    assert _counts(engine, papers[0]) == (1, 1)
    assert _counts(engine, papers[1]) == (0, 0)
    assert [comments.find_comment(engine, c.id).hidden for c in (first, second)] == [True, True]
    assert not comments.find_comment(engine, deleted.id).hidden
    assert _log(engine)[1:] == [
        ("ban", "mod", "ada", None, "spam"),
        ("hide_comment", "mod", "ada", first.id, "spam"),
        ("hide_comment", "mod", "ada", second.id, "spam"),
    ]
    # Lifting the ban shows nothing again by itself.
    moderation.unban_user(engine, mod, "ada", "appeal accepted")
    assert _counts(engine, papers[0]) == (1, 1)
    assert _log(engine)[-1] == ("unban", "mod", "ada", None, "appeal accepted")


def test_who_may_ban_whom(engine, make_user):
    admin, other_admin = make_user("boss", "admin"), make_user("boss2", "admin")
    mod, other_mod = make_user("mod", "moderator"), make_user("mod2", "moderator")
    make_user("ada")
    with pytest.raises(Forbidden, match="yourself"):
        moderation.ban_user(engine, mod, "mod", "oops")
    with pytest.raises(Forbidden, match="Administrators cannot be banned"):
        moderation.ban_user(engine, mod, "boss", "coup")
    with pytest.raises(Forbidden, match="Administrators cannot be banned"):
        moderation.ban_user(engine, admin, "boss2", "coup")
    with pytest.raises(Forbidden, match="Only administrators can ban or unban moderators"):
        moderation.ban_user(engine, mod, "mod2", "rival")
    assert moderation.ban_user(engine, admin, "mod2", "abuse").banned
    with pytest.raises(Forbidden, match="Only administrators"):
        moderation.unban_user(engine, mod, "mod2")
    assert not moderation.unban_user(engine, admin, "mod2").banned
    assert moderation.ban_user(engine, mod, "ada", "spam").banned
    assert other_admin.role == "admin"
    assert other_mod.role == "moderator"


def test_ban_input_errors(engine, make_user):
    mod = make_user("mod", "moderator")
    make_user("ada")
    with pytest.raises(BadRequest, match="Give a reason"):
        moderation.ban_user(engine, mod, "ada", "   ")
    with pytest.raises(BadRequest, match="under 500"):
        moderation.ban_user(engine, mod, "ada", "x" * 501)
    with pytest.raises(NotFound, match="No account is named 'nobody'"):
        moderation.ban_user(engine, mod, "nobody", "spam")
    moderation.ban_user(engine, mod, "ada", "spam")
    with pytest.raises(Conflict, match="banned already"):
        moderation.ban_user(engine, mod, "ada", "again")
    moderation.unban_user(engine, mod, "ada")
    with pytest.raises(Conflict, match="not banned"):
        moderation.unban_user(engine, mod, "ada")


def test_a_banned_moderator_cannot_moderate(engine, post, make_user):
    admin = make_user("boss", "admin")
    make_user("mod", "moderator")
    comment = post(make_user("ada"))
    banned = moderation.ban_user(engine, admin, "mod", "abuse")
    with pytest.raises(Forbidden):
        moderation.hide_comment(engine, banned, comment.id)


def test_counts_stay_exact_when_authors_and_moderators_race(engine, post, make_user, papers):
    """Authors delete while two moderators hide and show the same comments, all at once."""
    authors = [make_user(f"author{n}") for n in range(4)]
    mods = [make_user(f"mod{n}", "moderator") for n in range(2)]
    posted = [post(author, f"comment {n}") for n in range(3) for author in authors]
    barrier = threading.Barrier(len(authors) + len(mods))
    errors: list[BaseException] = []

    def run(work):
        try:
            barrier.wait()
            work()
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    def delete_own(author):
        for comment in posted[::2]:
            if comment.user_id == author.id:
                comments.delete_comment(engine, author, comment.id)

    def toggle(moderator):
        for comment in posted:
            for action in (moderation.hide_comment, moderation.unhide_comment):
                with suppress(Conflict):  # the other moderator, or the author, got there first
                    action(engine, moderator, comment.id)

    jobs = [lambda a=a: delete_own(a) for a in authors] + [lambda m=m: toggle(m) for m in mods]
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    # Each moderator's last word on a comment is "show", so only the deletions remain.
    assert _counts(engine, papers[0]) == (6, 6)
