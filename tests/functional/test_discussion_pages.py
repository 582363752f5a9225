"""Discussion end to end, in-process: the comment, edit, delete, hide and ban routes, their
status codes, and the thread on the paper page."""

from __future__ import annotations

import dataclasses
import re
from types import SimpleNamespace

import pytest
from app_client import open_client
from community import csrf_from, log_in_as, make_member
from conftest import make_record

from paperboy.services import comments, moderation
from paperboy.services.sessions import ANONYMOUS, Viewer
from paperboy.storage import comments as store
from paperboy.storage.queries import paper_id_by_arxiv_id

PAPER = "2506.12229"
OTHER = "2506.00002"
ANON_CSRF = "anonymous-form-token"


@pytest.fixture
def settings(settings):
    # No page cache: these tests read pages right after changing the discussion.
    return settings.replace(rate_limit_comment="1000/minute", page_cache_mb=0)


@pytest.fixture
def client(settings, add_papers):
    add_papers(make_record(PAPER), make_record(OTHER), make_record("hep-th/9901001"))
    with open_client(settings) as client:
        yield client


@pytest.fixture
def people(engine):
    return {
        "ada": make_member(engine, "ada"),
        "bob": make_member(engine, "bob"),
        "carol": make_member(engine, "carol", verified=False),
        "mod": make_member(engine, "mod", role="moderator"),
        "boss": make_member(engine, "boss", role="admin"),
    }


def _as(client, user):
    """Log `client` in as `user` (None: anonymous, with a form token cookie); the CSRF token."""
    client.cookies.clear()
    if user is None:
        client.cookies.set("paperboy_csrf", ANON_CSRF)
        return ANON_CSRF
    return log_in_as(client, user)


def _post(client, path, token, **data):
    return client.post(path, data={"csrf_token": token, **data} if token else data)


def _comment_id(response):
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/papers/[^#]+#comment-(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def _new_comment(client, user, body="A comment.", arxiv_id=PAPER, **data):
    token = _as(client, user)
    return _comment_id(_post(client, f"/papers/{arxiv_id}/comments", token, body=body, **data))


def _stored(engine, comment_id):
    with engine.connect() as conn:
        return store.comment_by_id(conn, comment_id)


# --- posting -----------------------------------------------------------------------------------


def test_a_member_posts_and_replies(client, engine, people):
    first = _new_comment(client, people["ada"], "Hello *there*")
    reply = _new_comment(client, people["bob"], "Hi!", parent_id=str(first))
    assert _stored(engine, first).body_html == "<p>Hello <em>there</em></p>"
    assert _stored(engine, reply).parent_id == first
    old_style = _new_comment(client, people["ada"], "old id", arxiv_id="hep-th/9901001")
    assert _stored(engine, old_style).arxiv_id == "hep-th/9901001"


def test_anonymous_posts_get_401(client, people):
    token = _as(client, None)
    response = _post(client, f"/papers/{PAPER}/comments", token, body="hi")
    assert response.status_code == 401
    assert "Log in first" in response.text


def test_unverified_members_get_403(client, people):
    token = _as(client, people["carol"])
    response = _post(client, f"/papers/{PAPER}/comments", token, body="hi")
    assert response.status_code == 403
    assert "Confirm your address" in response.text


def test_a_missing_or_wrong_csrf_token_gets_403(client, people):
    token = _as(client, people["ada"])
    assert _post(client, f"/papers/{PAPER}/comments", None, body="hi").status_code == 403
    assert _post(client, f"/papers/{PAPER}/comments", "forged", body="hi").status_code == 403
    response = client.post(
        f"/papers/{PAPER}/comments",
        data={"csrf_token": token, "body": "hi"},
        headers={"origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert "another site" in response.text


@pytest.mark.parametrize(
    ("path", "data", "status", "says"),
    [
        (f"/papers/{PAPER}/comments", {"body": ""}, 400, "empty"),
        (f"/papers/{PAPER}/comments", {"body": "x" * 10_001}, 400, "at most 10,000 characters"),
        (f"/papers/{PAPER}/comments", {"body": "hi", "parent_id": "abc"}, 400, "whole number"),
        (f"/papers/{PAPER}/comments", {"body": "hi", "parent_id": "99999"}, 404, "no comment 99999"),
        ("/papers/2401.99999/comments", {"body": "hi"}, 404, "not in this catalogue"),
        ("/papers/not-an-id/comments", {"body": "hi"}, 404, "Not an arXiv id"),
    ],
)
def test_bad_posts_say_why(client, people, path, data, status, says):
    token = _as(client, people["ada"])
    response = _post(client, path, token, **data)
    assert response.status_code == status
    assert says in response.text


def test_replies_to_other_papers_or_gone_comments_are_refused(client, engine, people):
    elsewhere = _new_comment(client, people["ada"], "elsewhere", arxiv_id=OTHER)
    gone = _new_comment(client, people["ada"], "gone")
    comments.delete_comment(engine, people["ada"], gone)
    token = _as(client, people["bob"])
    response = _post(client, f"/papers/{PAPER}/comments", token, body="hi", parent_id=str(elsewhere))
    assert response.status_code == 400
    assert "another paper" in response.text
    response = _post(client, f"/papers/{PAPER}/comments", token, body="hi", parent_id=str(gone))
    assert response.status_code == 400


def test_scripts_get_json_errors(client, people):
    token = _as(client, people["carol"])
    response = client.post(
        f"/papers/{PAPER}/comments",
        data={"csrf_token": token, "body": "hi"},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_posting_is_rate_limited_with_retry_after(client, people):
    client.app.state.paperboy = _with_settings(client, rate_limit_comment="2/day")
    token = _as(client, people["ada"])
    for n in range(2):
        assert _post(client, f"/papers/{PAPER}/comments", token, body=f"n{n}").status_code == 303
    response = _post(client, f"/papers/{PAPER}/comments", token, body="too many")
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert "Too many comments" in response.text


def _with_settings(client, **changes):
    """The app's context with changed settings (the routes read settings per request)."""
    ctx = client.app.state.paperboy
    return dataclasses.replace(ctx, settings=ctx.settings.replace(**changes))


# --- editing and deleting ------------------------------------------------------------------------


def test_the_author_edits_through_the_form(client, engine, people):
    comment_id = _new_comment(client, people["ada"], "frist <b>")
    _as(client, people["ada"])
    page = client.get(f"/comments/{comment_id}/edit")
    assert page.status_code == 200
    assert "frist &lt;b&gt;</textarea>" in page.text
    response = _post(client, f"/comments/{comment_id}/edit", csrf_from(page.text), body="**first**")
    assert _comment_id(response) == comment_id
    edited = _stored(engine, comment_id)
    assert edited.body_html == "<p><strong>first</strong></p>"
    assert edited.edited_at is not None


def test_an_invalid_edit_keeps_the_text_typed(client, people):
    comment_id = _new_comment(client, people["ada"], "short")
    token = _as(client, people["ada"])
    response = _post(client, f"/comments/{comment_id}/edit", token, body="   ")
    assert response.status_code == 400
    assert "the comment is empty" in response.text
    assert 'action="/comments/' in response.text


def test_only_the_author_may_edit_or_delete(client, engine, people):
    comment_id = _new_comment(client, people["ada"], "mine")
    for who in ("bob", "mod"):
        token = _as(client, people[who])
        assert client.get(f"/comments/{comment_id}/edit").status_code == 403
        assert _post(client, f"/comments/{comment_id}/edit", token, body="theirs").status_code == 403
        assert _post(client, f"/comments/{comment_id}/edit", token, body="").status_code == 403
        assert _post(client, f"/comments/{comment_id}/delete", token).status_code == 403
    _as(client, None)
    assert client.get(f"/comments/{comment_id}/edit").status_code == 401
    assert _stored(engine, comment_id).body == "mine"


def test_the_author_deletes(client, engine, people):
    comment_id = _new_comment(client, people["ada"], "oops")
    token = _as(client, people["ada"])
    response = _post(client, f"/comments/{comment_id}/delete", token)
    assert response.status_code == 303
    assert response.headers["location"] == f"/papers/{PAPER}#comments"
    assert _stored(engine, comment_id).deleted


@pytest.mark.parametrize("comment_id", ["99999", "abc", "99999999999999999999"])
def test_unknown_comments_are_404(client, people, comment_id):
    token = _as(client, people["mod"])
    assert client.get(f"/comments/{comment_id}/edit").status_code == 404
    for action in ("edit", "delete", "hide", "unhide"):
        response = _post(client, f"/comments/{comment_id}/{action}", token, body="x")
        assert response.status_code == 404, action


# --- moderation ----------------------------------------------------------------------------------


def test_moderators_hide_and_show_again(client, engine, people):
    comment_id = _new_comment(client, people["ada"], "rude")
    token = _as(client, people["bob"])
    assert _post(client, f"/comments/{comment_id}/hide", token, reason="no").status_code == 403
    token = _as(client, people["mod"])
    response = _post(client, f"/comments/{comment_id}/hide", token, reason="rude")
    assert _comment_id(response) == comment_id
    assert _stored(engine, comment_id).hidden
    assert _post(client, f"/comments/{comment_id}/hide", token).status_code == 409
    assert _comment_id(_post(client, f"/comments/{comment_id}/unhide", token)) == comment_id
    assert _stored(engine, comment_id).visible
    assert [e.action for e in moderation.moderation_log(engine)] == ["unhide_comment", "hide_comment"]


def test_a_ban_logs_the_member_out_and_stops_posting(client, engine, people):
    _new_comment(client, people["ada"], "before")
    ada_token = _as(client, people["ada"])
    ada_cookie = client.cookies.get("paperboy_session")
    token = _as(client, people["bob"])
    assert _post(client, "/users/ada/ban", token, reason="spam").status_code == 403
    token = _as(client, people["mod"])
    response = _post(client, "/users/ada/ban", token, reason="spam", next=f"/papers/{PAPER}#comments")
    assert response.status_code == 303
    assert response.headers["location"] == f"/papers/{PAPER}#comments"
    client.cookies.clear()
    client.cookies.set("paperboy_session", ada_cookie)
    response = _post(client, f"/papers/{PAPER}/comments", ada_token, body="after")
    assert response.status_code == 401  # logged out: the old session no longer exists
    assert [e.action for e in moderation.moderation_log(engine)] == ["ban"]


def test_ban_rules_over_http(client, people):
    token = _as(client, people["mod"])
    assert _post(client, "/users/boss/ban", token, reason="coup").status_code == 403
    assert _post(client, "/users/mod/ban", token, reason="self").status_code == 403
    assert _post(client, "/users/nobody/ban", token, reason="x").status_code == 404
    assert _post(client, "/users/ada/ban", token, reason="").status_code == 400
    response = _post(client, "/users/ada/ban", token, reason="spam", next="//evil.example/")
    assert response.headers["location"] == "/users/ada"
    assert _post(client, "/users/ada/unban", token).headers["location"] == "/users/ada"


# --- the thread on the paper page (shows once paper.html includes the discussion macro) ---------------


def _paper_page(client, user):
    _as(client, user)
    response = client.get(f"/papers/{PAPER}")
    assert response.status_code == 200
    return response.text


def test_the_paper_page_shows_the_thread(client, engine, people):
    first = _new_comment(client, people["ada"], "First! $a_1 * b_2$ <script>alert(1)</script>")
    reply = _new_comment(client, people["bob"], "A reply", parent_id=str(first))
    page = _paper_page(client, None)
    assert f'id="comment-{first}"' in page
    assert f'id="comment-{reply}"' in page
    assert "<p>First! $a_1 * b_2$ &lt;script&gt;alert(1)&lt;/script&gt;</p>" in page
    assert '<a class="author" href="/users/ada">ada</a>' in page
    assert "Log in to comment" in page
    assert 'name="body"' not in page


def test_forms_depend_on_who_is_reading(client, engine, people):
    comment_id = _new_comment(client, people["ada"], "Mine")
    ada_page = _paper_page(client, people["ada"])
    assert 'action="/papers/2506.12229/comments"' in ada_page
    assert f'href="/comments/{comment_id}/edit"' in ada_page
    assert f'action="/comments/{comment_id}/delete"' in ada_page
    assert f'action="/comments/{comment_id}/hide"' not in ada_page
    bob_page = _paper_page(client, people["bob"])
    assert f'name="parent_id" value="{comment_id}"' in bob_page
    assert f'action="/comments/{comment_id}/delete"' not in bob_page
    assert "Confirm your address to comment" in _paper_page(client, people["carol"])
    mod_page = _paper_page(client, people["mod"])
    assert f'action="/comments/{comment_id}/hide"' in mod_page
    assert 'action="/users/ada/ban"' in mod_page


def test_hidden_and_deleted_comments_on_the_page(client, engine, people):
    hidden = _new_comment(client, people["ada"], "Rude words")
    reply = _new_comment(client, people["bob"], "Answer", parent_id=str(hidden))
    deleted = _new_comment(client, people["ada"], "Gone words")
    _new_comment(client, people["bob"], "Answer two", parent_id=str(deleted))
    moderation.hide_comment(engine, people["mod"], hidden)
    comments.delete_comment(engine, people["ada"], deleted)
    for reader in (None, people["bob"]):
        page = _paper_page(client, reader)
        assert "Rude words" not in page
        assert "Gone words" not in page
        assert "[hidden by a moderator]" in page
        assert "[deleted]" in page
        assert f'id="comment-{reply}"' in page
    mod_page = _paper_page(client, people["mod"])
    assert "Rude words" in mod_page
    assert "badge-hidden" in mod_page
    assert f'action="/comments/{hidden}/unhide"' in mod_page
    assert "Gone words" not in mod_page


# --- the macro on its own (no route needed) ------------------------------------------------------------


def test_the_macro_renders_a_thread(client, engine, people):
    first = _new_comment(client, people["ada"], "Macro *test* [x](javascript:alert(1))")
    reply = _new_comment(client, people["bob"], "Reply", parent_id=str(first))
    with engine.connect() as conn:
        paper_id = paper_id_by_arxiv_id(conn, PAPER)
    html = _render_macro(client, paper_id, people["mod"], Viewer(people["mod"], "s", "tok"))
    assert f'<li class="comment" id="comment-{first}">' in html
    assert f'<li class="comment" id="comment-{reply}">' in html
    assert "<p>Macro <em>test</em> [x](javascript:alert(1))</p>" in html
    assert "2 comments" in html
    assert 'value="tok"' in html
    assert 'action="/users/bob/ban"' in html
    anonymous = _render_macro(client, paper_id, None, ANONYMOUS)
    assert "Log in to comment" in anonymous
    assert 'value="tok"' not in anonymous


def _render_macro(client, paper_id, user, viewer):
    ctx = client.app.state.paperboy
    thread = comments.comment_thread(ctx.engine, paper_id, user)
    template = ctx.templates.env.from_string(
        '{% from "_comments.html" import discussion %}{{ discussion(reader, paper, thread, 2) }}'
    )
    paper = type("Paper", (), {"arxiv_id": PAPER, "id": paper_id})()
    # What the macro reads of the page's `reader` (web/templating.py's Reader, made from a request).
    reader = SimpleNamespace(viewer=viewer, csrf_token=lambda: "tok")
    return template.render(paper=paper, thread=thread, reader=reader)
