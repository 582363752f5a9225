"""The paper page's caches (issue 15): its paper per catalogue version (services/hydrate.py),
its similar papers per vectors snapshot (services/neighbour_cache.py), its statements built once.
Through the real app and database: what one reader sees of their own (their vote, their CSRF
token, their name, whether they may comment, edit or moderate) never reaches another reader,
and a vote, a new comment, a new version and an edited title show on the very next render."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from app_client import load_new_vectors, open_client
from community import log_in_as, make_member
from conftest import make_record
from sqlalchemy import event

from paperboy.domain.models import Version
from paperboy.integrations.embedder import make_embedder
from paperboy.services import comments, votes
from paperboy.services.search_index import embed_papers
from paperboy.storage.papers import write_papers

PAPERS = ("2506.00001", "2506.00002", "2506.00003", "2506.00004")
PAGE = f"/papers/{PAPERS[0]}"
_HEAD_VOTE = re.compile(r'<div class="paper-head">.*?</div>', re.DOTALL)


@pytest.fixture
def settings(settings):
    # Similar papers by the hashing embedder (milliseconds, not MiniLM's seconds); no page cache,
    # which keeps anonymous pages up to a second past a write (web/page_cache.py): what is
    # tested is the page rendered anew, as logged-in readers always get it.
    return settings.replace(embedder="hashing", page_cache_mb=0)


@pytest.fixture
def catalogue(engine, add_papers):
    add_papers(
        *(
            make_record(arxiv_id, title=f"Sparse attention, part {n}", abstract=_abstract(n))
            for n, arxiv_id in enumerate(PAPERS)
        )
    )
    embed_papers(engine, make_embedder("hashing"), batch_size=16)


def _head(html: str) -> str:
    """The title and the paper's own vote button."""
    found = _HEAD_VOTE.search(html)
    assert found, html
    return found.group(0)


def test_one_readers_own_state_never_shows_to_another(settings, engine, catalogue):
    ada, bob = make_member(engine, "ada", role="moderator"), make_member(engine, "bob")
    votes.upvote_paper(engine, settings, ada, PAPERS[0], "192.0.2.1")
    comments.post_comment(engine, settings, ada, PAPERS[0], "Ada's own remark", None, "192.0.2.1")
    with open_client(settings) as client:
        ada_csrf = log_in_as(client, ada)
        ada_page = client.get(PAGE).text
        client.cookies.clear()
        bob_csrf = log_in_as(client, bob)
        bob_page = client.get(PAGE).text
        client.cookies.clear()
        anonymous = client.get(PAGE).text
    assert 'class="similar-list"' in ada_page  # the similar papers' vote buttons are checked too
    assert ada_page.count(f'value="{ada_csrf}"') > 3  # vote forms, the comment form, moderation
    assert ada_csrf not in bob_page
    assert ada_csrf not in anonymous
    assert bob_page.count(f'value="{bob_csrf}"') > 3
    assert bob_csrf not in anonymous
    assert 'aria-pressed="true"' in _head(ada_page)
    assert 'aria-pressed="false"' in _head(bob_page)
    assert 'aria-pressed="true"' not in bob_page
    assert "Log in to upvote" in anonymous
    assert 'class="vote"' not in anonymous
    assert 'class="moderate"' in ada_page
    assert 'class="moderate"' not in bob_page
    assert 'class="edit-link"' in ada_page
    assert 'class="edit-link"' not in bob_page
    assert "Add to the discussion" in bob_page
    assert "Add to the discussion" not in anonymous
    assert "Log in to comment" in anonymous
    assert "Log in to comment" not in bob_page
    assert 'class="moderate"' not in anonymous
    assert 'class="edit-link"' not in anonymous
    for page in (ada_page, bob_page, anonymous):
        assert "Ada&#39;s own remark" in page or "Ada's own remark" in page


def test_a_vote_a_comment_a_new_version_and_an_edited_title_show_on_the_next_render(
    settings, engine, catalogue
):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    with open_client(settings) as client:
        anonymous_first = client.get(PAGE).text
        log_in_as(client, ada)
        first = client.get(PAGE).text
        assert '<span class="vote-count">0</span>' in _head(first)
        assert "0 comments" in first
        votes.upvote_paper(engine, settings, bob, PAPERS[0], "192.0.2.2")
        voted = client.get(PAGE).text
        assert '<span class="vote-count">1</span>' in _head(voted)
        assert "1 upvote here" in voted
        comments.post_comment(engine, settings, bob, PAPERS[0], "A first comment from Bob", None, "192.0.2.2")
        commented = client.get(PAGE).text
        assert "A first comment from Bob" in commented
        assert "1 comment" in commented
        retitled = make_record(
            PAPERS[0],
            title="An edited title",
            abstract="A second version with a new abstract.",
            authors=("Grace Hopper",),
            versions=(
                Version(1, datetime(2025, 6, 11, tzinfo=UTC)),
                Version(2, datetime(2025, 6, 20, tzinfo=UTC)),
            ),
        )
        write_papers(engine, [retitled])
        edited = client.get(PAGE).text
        client.cookies.clear()
        anonymous_edited = client.get(PAGE).text
    for page in (edited, anonymous_edited):
        assert "<h1>An edited title</h1>" in page
        assert "A second version with a new abstract." in page
        assert "Grace Hopper" in page
        assert "(v2)" in page
        assert "A first comment from Bob" in page
    assert "Sparse attention, part 0" in first
    assert "Sparse attention, part 0" in anonymous_first
    assert "Sparse attention, part 0</h1>" not in edited


def _similar_card(html: str, arxiv_id: str) -> str:
    """The similar card of `arxiv_id` on a paper page."""
    for card in re.findall(r'<article class="card similar-card">.*?</article>', html, re.DOTALL):
        if f'href="/papers/{arxiv_id}"' in card:
            return card
    raise AssertionError(f"no similar card of {arxiv_id}")


def test_a_similar_papers_comment_and_edited_title_show_on_the_next_render(settings, engine, catalogue):
    # A similar card's title, authors and meta are kept per paper object and comment count
    # (web/fragments.py): both must show the very next render.
    bob = make_member(engine, "bob")
    with open_client(settings) as client:
        first = _similar_card(client.get(PAGE).text, PAPERS[1])
        comments.post_comment(engine, settings, bob, PAPERS[1], "On the similar one", None, "192.0.2.2")
        commented = _similar_card(client.get(PAGE).text, PAPERS[1])
        write_papers(engine, [make_record(PAPERS[1], title="A retitled neighbour", abstract=_abstract(1))])
        retitled = _similar_card(client.get(PAGE).text, PAPERS[1])
    assert "Sparse attention, part 1" in first
    assert 'class="comments"' not in first
    assert f'<a class="comments" href="/papers/{PAPERS[1]}#comments">1 comment</a>' in commented
    assert "A retitled neighbour" in retitled
    assert "Sparse attention, part 1" not in retitled
    assert "1 comment" in retitled


def test_a_paper_embedded_later_joins_the_similar_papers_on_the_next_render(
    settings, engine, add_papers, catalogue
):
    with open_client(settings) as client:
        before = client.get(PAGE).text
        add_papers(make_record("2506.00009", title="Sparse attention, part 0", abstract=_abstract(0)))
        embed_papers(engine, make_embedder("hashing"), batch_size=16)
        load_new_vectors(client)
        after = client.get(PAGE).text
    assert "/papers/2506.00009" not in before
    assert "/papers/2506.00009" in after


def _abstract(n: int) -> str:
    return f"Sparse attention over long sequences, with a twist number {n} in the kernels."


def test_a_paper_page_is_read_in_one_connection(settings, engine, catalogue):
    checkouts = []

    def count(*_):
        checkouts.append(1)

    with open_client(settings) as client:
        assert client.get(PAGE).status_code == 200  # its paper, neighbours and similar papers cached
        pool = client.app.state.paperboy.engine.pool
        event.listen(pool, "checkout", count)
        try:
            assert client.get(PAGE).status_code == 200
        finally:
            event.remove(pool, "checkout", count)
    assert len(checkouts) == 1  # the paper, its counts, its discussion and its similar papers
