"""/users/NAME: a member's submissions, upvotes and comments, newest first, in a fixed number of
queries; removed comments only for moderators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app_client import counted_statements, open_client
from community import log_in_as, make_member
from conftest import make_record
from sqlalchemy import insert, select

from paperboy.services.profiles import LIST_LIMIT
from paperboy.storage.engine import now_utc
from paperboy.storage.schema import comments, papers, submissions, votes
from paperboy.storage.transactions import write_transaction
from paperboy.storage.users import update_user

START = datetime(2025, 6, 12, 9, 0, tzinfo=UTC)


def _paper_ids(engine, add_papers, count: int) -> list[int]:
    add_papers(*(make_record(f"2506.{10000 + n}", title=f"Paper number {n}") for n in range(count)))
    with engine.connect() as conn:
        return list(conn.execute(select(papers.c.id).order_by(papers.c.arxiv_id)).scalars())


def _activity(engine, user_id: int, paper_ids: list[int], first: int = 0, **comment: object) -> None:
    """For each paper, in order an hour apart: a submission, an upvote and "Comment N" by the user."""
    with write_transaction(engine) as conn:
        for n, paper_id in enumerate(paper_ids, start=first):
            at = START + timedelta(hours=n)
            conn.execute(
                insert(submissions).values(paper_id=paper_id, user_id=user_id, day=at.date(), submitted_at=at)
            )
            conn.execute(insert(votes).values(paper_id=paper_id, user_id=user_id, created_at=at))
            body = f"Comment {n} on the method"
            values = {"paper_id": paper_id, "user_id": user_id, "body": body, "body_html": f"<p>{body}</p>"}
            conn.execute(insert(comments).values(**values, created_at=at, **comment))


def test_a_profile_lists_activity_newest_first_with_links(settings, engine, add_papers):
    ada = make_member(engine, "ada")
    _activity(engine, ada.id, _paper_ids(engine, add_papers, 3))
    with open_client(settings) as client:
        page = client.get("/users/ada")
    assert page.status_code == 200
    html = page.text
    assert html.index("Paper number 2") < html.index("Paper number 1") < html.index("Paper number 0")
    assert 'href="/papers/2506.10002"' in html
    assert "Comment 2 on the method" in html
    assert html.count('href="/papers/2506.10001') == 3  # submitted, upvoted, commented on


def test_the_query_count_does_not_grow_with_the_lists(settings, engine, add_papers):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    paper_ids = _paper_ids(engine, add_papers, LIST_LIMIT + 6)
    _activity(engine, ada.id, paper_ids[:1])
    _activity(engine, bob.id, paper_ids[1:])
    with open_client(settings) as client:
        client.get("/users/ada")  # warm up: start-up work is not the page's
        counts = []
        for name in ("ada", "bob"):
            with counted_statements(client) as statements:
                page = client.get(f"/users/{name}")
            counts.append(len(statements))
    assert counts[0] == counts[1] <= 4
    assert f"latest {LIST_LIMIT} of {LIST_LIMIT + 5}" in page.text
    assert page.text.count("Comment ") == LIST_LIMIT


def test_removed_comments_show_to_moderators_only(settings, engine, add_papers):
    ada = make_member(engine, "ada")
    mod = make_member(engine, "mod", role="moderator")
    paper_ids = _paper_ids(engine, add_papers, 3)
    _activity(engine, ada.id, paper_ids[:1])
    _activity(engine, ada.id, paper_ids[1:2], 1, deleted_at=now_utc())
    _activity(engine, ada.id, paper_ids[2:], 2, hidden_at=now_utc(), hidden_by=mod.id)
    with open_client(settings) as client:
        public = client.get("/users/ada").text
        log_in_as(client, ada)
        own = client.get("/users/ada").text
        log_in_as(client, mod)
        moderated = client.get("/users/ada").text
    for page in (public, own):
        assert "Comment 0 on the method" in page
        assert "Comment 1 on the method" not in page
        assert "Comment 2 on the method" not in page
    assert "Comment 1 on the method" in moderated
    assert "deleted" in moderated
    assert "Comment 2 on the method" in moderated
    assert "hidden" in moderated


def test_role_and_ban_are_shown(settings, engine):
    make_member(engine, "mod", role="moderator")
    spammer = make_member(engine, "spammer")
    with write_transaction(engine) as conn:
        update_user(conn, spammer.id, banned_at=now_utc(), ban_reason="link spam")
    with open_client(settings) as client:
        assert "badge-role" in client.get("/users/mod").text
        banned = client.get("/users/spammer").text
        assert "banned" in banned
        assert "link spam" not in banned


def test_unknown_users_get_404_and_capitals_redirect(settings, engine):
    make_member(engine, "ada")
    with open_client(settings) as client:
        missing = client.get("/users/nobody")
        assert missing.status_code == 404
        assert "No account is named" in missing.text
        moved = client.get("/users/Ada")
        assert (moved.status_code, moved.headers["location"]) == (301, "/users/ada")
        empty = client.get("/users/ada").text
        assert "No submissions yet." in empty
        assert "No comments yet." in empty
