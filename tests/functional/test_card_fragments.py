"""Feed cards rendered once and reused (web/fragments.py), through the real app: a card's body is
shared by every reader, its vote button never is; a vote, a new version of a paper and an edited
title show on the very next render."""

from __future__ import annotations

import re
from datetime import date

import pytest
from app_client import listed_ids, open_client
from community import log_in_as, make_member
from conftest import make_record

from paperboy.domain.models import Listing
from paperboy.services import votes
from paperboy.storage.papers import write_papers

DAY_DATE = date(2025, 6, 12)
DAY = f"/papers/date/{DAY_DATE}"
PAPERS = ("2506.00001", "2506.00002", "2506.00003")
_FORM = re.compile(r'<form class="vote" method="post" action="/papers/([^"/]+)/vote">(.*?)</form>', re.DOTALL)


@pytest.fixture
def catalogue(add_papers):
    add_papers(*(make_record(arxiv_id, listings=(Listing(DAY_DATE, "new"),)) for arxiv_id in PAPERS))


def _vote_forms(html: str) -> dict[str, str]:
    """The vote form of each card by arXiv id, as HTML."""
    return dict(_FORM.findall(html))


def _fragments(client):
    return client.app.state.paperboy.templates.env.globals["cached_fragment"]


def test_readers_share_card_bodies_but_never_vote_buttons(settings, engine, catalogue):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    votes.upvote_paper(engine, settings, ada, PAPERS[0], "192.0.2.1")
    with open_client(settings) as client:
        ada_csrf = log_in_as(client, ada)
        ada_page = client.get(DAY).text
        client.cookies.clear()
        bob_csrf = log_in_as(client, bob)
        bob_page = client.get(DAY).text
        client.cookies.clear()
        anonymous = client.get(DAY, headers={"Cache-Control": "no-cache"}).text
        # bob's page is ada's region filled with his state; the anonymous page (a region of its
        # own: no vote forms) reused the card bodies rendered for ada
        assert client.app.state.paperboy.templates.env.globals["shared_region"].hits >= 1
        assert _fragments(client).hits >= len(PAPERS)
    assert sorted(listed_ids(ada_page)) == sorted(listed_ids(bob_page)) == sorted(PAPERS)
    ada_forms, bob_forms = _vote_forms(ada_page), _vote_forms(bob_page)
    assert set(ada_forms) == set(bob_forms) == set(PAPERS)
    for arxiv_id in PAPERS:
        assert f'value="{ada_csrf}"' in ada_forms[arxiv_id]
        assert f'value="{bob_csrf}"' in bob_forms[arxiv_id]
        assert ada_csrf not in bob_forms[arxiv_id]
    assert 'aria-pressed="true"' in ada_forms[PAPERS[0]]
    assert 'aria-pressed="false"' in bob_forms[PAPERS[0]]
    assert ada_csrf not in bob_page
    assert ada_csrf not in anonymous
    assert bob_csrf not in anonymous
    assert "Log in to upvote" in anonymous
    assert 'class="vote"' not in anonymous


def test_a_vote_a_new_version_and_an_edited_title_show_on_the_next_render(settings, engine, catalogue):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    with open_client(settings) as client:
        log_in_as(client, ada)
        first = client.get(DAY).text
        assert '<span class="vote-count">0</span>' in _vote_forms(first)[PAPERS[1]]
        votes.upvote_paper(engine, settings, bob, PAPERS[1], "192.0.2.2")
        voted = client.get(DAY).text
        assert '<span class="vote-count">1</span>' in _vote_forms(voted)[PAPERS[1]]
        retitled = make_record(
            PAPERS[2],
            title="An edited title",
            abstract="A second version with a new abstract.",
            authors=("Grace Hopper",),
            listings=(Listing(DAY_DATE, "new"),),
        )
        write_papers(engine, [retitled])
        edited = client.get(DAY).text
    assert "An edited title" in edited
    assert "A second version with a new abstract." in edited
    assert "Grace Hopper" in edited
    assert f"A study of {PAPERS[2]}" not in edited
    assert f"A study of {PAPERS[2]}" in first


# --- the feed page's shared region (web/regions.py) -------------------------------------------


def _regions(client):
    return client.app.state.paperboy.templates.env.globals["shared_region"]


def _next_of(form: str) -> str:
    found = re.search(r'name="next" value="([^"]*)"', form)
    assert found, form
    return found.group(1)


def test_the_page_is_made_once_and_each_reader_gets_their_own_votes_token_and_address(
    settings, engine, catalogue
):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    votes.upvote_paper(engine, settings, ada, PAPERS[0], "192.0.2.1")
    votes.upvote_paper(engine, settings, bob, PAPERS[2], "192.0.2.2")
    with open_client(settings) as client:
        ada_csrf = log_in_as(client, ada)
        ada_page = client.get(DAY).text
        client.cookies.clear()
        bob_csrf = log_in_as(client, bob)
        bob_page = client.get(DAY).text
        bob_again = client.get(DAY + "?page=1").text  # the same page at another address
        regions = _regions(client)
        assert (regions.misses, regions.hits) == (1, 2)  # made for ada, filled for bob twice
    ada_forms, bob_forms, again_forms = _vote_forms(ada_page), _vote_forms(bob_page), _vote_forms(bob_again)
    pressed = {
        name: {arxiv_id for arxiv_id, form in forms.items() if 'aria-pressed="true"' in form}
        for name, forms in (("ada", ada_forms), ("bob", bob_forms), ("again", again_forms))
    }
    assert pressed == {"ada": {PAPERS[0]}, "bob": {PAPERS[2]}, "again": {PAPERS[2]}}
    assert 'value="remove"' in ada_forms[PAPERS[0]]
    assert 'value="up"' in bob_forms[PAPERS[0]]
    assert all(f'value="{ada_csrf}"' in form for form in ada_forms.values())
    assert all(f'value="{bob_csrf}"' in form for form in bob_forms.values())
    assert ada_csrf not in bob_page
    assert ada_csrf not in bob_again
    assert {_next_of(form) for form in bob_forms.values()} == {DAY}
    assert {_next_of(form) for form in again_forms.values()} == {DAY + "?page=1"}
    assert "\x00" not in ada_page + bob_page + bob_again  # no marker left unfilled


def test_members_who_may_not_vote_and_anonymous_readers_never_get_a_members_region(
    settings, engine, catalogue
):
    ada = make_member(engine, "ada")
    newcomer = make_member(engine, "newcomer", verified=False)
    with open_client(settings) as client:
        ada_csrf = log_in_as(client, ada)
        ada_page = client.get(DAY).text
        client.cookies.clear()
        log_in_as(client, newcomer)
        newcomer_page = client.get(DAY).text
        client.cookies.clear()
        anonymous = client.get(DAY, headers={"Cache-Control": "no-cache"}).text
    assert set(_vote_forms(ada_page)) == set(PAPERS)
    assert _vote_forms(newcomer_page) == {}
    assert _vote_forms(anonymous) == {}
    assert newcomer_page.count('title="Confirm your address to vote"') == len(PAPERS)
    assert anonymous.count('title="Log in to upvote"') == len(PAPERS)
    assert ada_csrf not in newcomer_page + anonymous


def test_a_readers_own_vote_shows_on_their_next_page(settings, engine, catalogue):
    ada = make_member(engine, "ada")
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        before = _vote_forms(client.get(DAY).text)
        answer = client.post(
            f"/papers/{PAPERS[1]}/vote",
            data={"csrf_token": csrf, "action": "up", "next": DAY},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        after = _vote_forms(client.get(DAY).text)
    assert 'aria-pressed="false"' in before[PAPERS[1]]
    assert 'aria-pressed="true"' in after[PAPERS[1]]
    assert '<span class="vote-count">1</span>' in after[PAPERS[1]]
    assert all('aria-pressed="false"' in after[arxiv_id] for arxiv_id in (PAPERS[0], PAPERS[2]))
