"""Feeds ranked by trending, the all-time top list, and the pages that explain the score."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from app_client import listed_ids, open_client
from community import log_in_as, make_member
from conftest import make_record
from sqlalchemy import insert, select

from paperboy.domain.models import Listing
from paperboy.storage.engine import now_utc
from paperboy.storage.schema import hf_papers, listings, paper_stats, papers, submissions, votes
from paperboy.web.filters import figure
from paperboy.web.page_cache import PageCache

MONDAY, THURSDAY, FRIDAY = date(2025, 6, 9), date(2025, 6, 12), date(2025, 6, 13)


@pytest.fixture
def client(settings):
    with open_client(settings) as client:
        yield client


def listed(arxiv_id, *days, **fields):
    return make_record(arxiv_id, listings=tuple(Listing(day, "new") for day in days), **fields)


def paper_id(engine, arxiv_id):
    with engine.connect() as conn:
        return conn.execute(select(papers.c.id).where(papers.c.arxiv_id == arxiv_id)).scalar_one()


def add_stats(engine, arxiv_id, upvotes=0, comments=0):
    with engine.begin() as conn:
        conn.execute(
            insert(paper_stats).values(
                paper_id=paper_id(engine, arxiv_id), upvotes=upvotes, comments=comments, updated_at=now_utc()
            )
        )


def add_hf(engine, arxiv_id, upvotes=0, github_stars=None):
    with engine.begin() as conn:
        conn.execute(
            insert(hf_papers).values(
                paper_id=paper_id(engine, arxiv_id),
                upvotes=upvotes,
                github_stars=github_stars,
                fetched_at=now_utc(),
            )
        )


def add_submission(engine, arxiv_id, user, submitted_at):
    """A member's submission, and the listing of its day that comes with it."""
    pid = paper_id(engine, arxiv_id)
    with engine.begin() as conn:
        conn.execute(
            insert(submissions).values(
                paper_id=pid, user_id=user.id, day=submitted_at.date(), submitted_at=submitted_at
            )
        )
        conn.execute(
            insert(listings).values(day=submitted_at.date(), paper_id=pid, announce_type="submitted")
        )


def card_of(html, arxiv_id):
    card = html[html.index(f'<h2 class="card-title"><a href="/papers/{arxiv_id}">') :]
    return card[: card.index("</article>")]


@pytest.fixture
def thursday(add_papers, engine):
    """Four papers on Thursday 12 June 2025 with points 3, 12.5, 0 and 7 (in id order)."""
    add_papers(*(listed(f"2506.0000{n}", THURSDAY) for n in range(1, 5)))
    add_stats(engine, "2506.00001", upvotes=3)
    add_stats(engine, "2506.00002", upvotes=2, comments=1)  # 2 + 0.5
    add_hf(engine, "2506.00002", upvotes=10)
    add_hf(engine, "2506.00004", upvotes=4, github_stars=7)  # 4 + log2(8)


# --- feeds ---------------------------------------------------------------------------------


def test_a_past_day_is_ranked_by_points_by_default(client, thursday):
    html = client.get("/papers/date/2025-06-12").text
    assert listed_ids(html) == ["2506.00002", "2506.00004", "2506.00001", "2506.00003"]
    assert "Trending as of 13 Jun 2025, 00:00 UTC" in html
    assert '<a href="/papers/date/2025-06-12" class="active" aria-current="true">Trending</a>' in html
    assert '<a href="/papers/date/2025-06-12?sort=newest">Newest</a>' in html


def test_newest_still_orders_by_id(client, thursday):
    html = client.get("/papers/date/2025-06-12", params={"sort": "newest"}).text
    assert listed_ids(html) == ["2506.00004", "2506.00003", "2506.00002", "2506.00001"]
    assert "Trending as of" not in html
    assert '<input type="hidden" name="sort" value="newest">' in html


def test_a_bogus_sort_is_a_400(client, thursday):
    response = client.get("/papers/date/2025-06-12", params={"sort": "bogus"})
    assert response.status_code == 400
    assert "choose one of trending, newest" in response.text


def test_the_defaults_are_those_the_hand_computed_orders_use(settings):
    names = ("gravity", "offset_hours", "comment_weight", "hf_weight", "stars_weight")
    assert [getattr(settings, f"trending_{name}") for name in names] == [0.45, 2.0, 0.5, 1.0, 1.0]


def test_a_week_mixes_its_days_by_the_formula(client, add_papers, engine):
    """Expected order worked out by hand from docs/trending.md with the default settings: week 24
    of 2025 is over, so ages run to Monday 16 June 00:00 UTC. Neighbours are chosen close enough
    that gravity 0, 0.4, 0.5 or 1, no offset, ages in days or from 15 June, the last listing instead
    of the first, a submission counted from its day's start, a comment weighing 1, Hugging Face
    upvotes ignored, or stars not as log2(1 + stars) each put some pair in another order.

        paper       listed             points                              age h  (age+2)^0.45  score
        2506.00301  Fri                7 upvotes                     = 7      72       6.937   1.009
        2506.00101  Mon                6 + 0.5*4 comments + log2(1+3) = 10    168      10.086   0.991
        2506.00401  submitted Sun 23h  1 + 0.5*1                     = 1.5     1       1.640   0.915
        2506.00102  Mon                2 + 0.5*2 + 1 HF + log2(1+3)  = 6     168      10.086   0.595
        2506.00302  Fri                4                             = 4      72       6.937   0.577
        2506.00201  Thu                3                             = 3      96       7.871   0.381
        2506.00103  Mon and Fri        3 (from Monday, its first)    = 3     168      10.086   0.297
        2506.00303  Fri                none: 0, and ties go to the newest listing first
        2506.00104  Mon                none: 0
    """
    add_papers(
        listed("2506.00101", MONDAY),
        listed("2506.00102", MONDAY),
        listed("2506.00103", MONDAY, FRIDAY),
        listed("2506.00104", MONDAY),
        listed("2506.00201", THURSDAY),
        listed("2506.00301", FRIDAY),
        listed("2506.00302", FRIDAY),
        listed("2506.00303", FRIDAY),
        make_record("2506.00401", listings=()),
    )
    add_submission(engine, "2506.00401", make_member(engine, "ada"), datetime(2025, 6, 15, 23, 0, tzinfo=UTC))
    for arxiv_id, upvotes, comments in [
        ("2506.00301", 7, 0),
        ("2506.00101", 6, 4),
        ("2506.00401", 1, 1),
        ("2506.00102", 2, 2),
        ("2506.00302", 4, 0),
        ("2506.00201", 3, 0),
        ("2506.00103", 3, 0),
    ]:
        add_stats(engine, arxiv_id, upvotes=upvotes, comments=comments)
    add_hf(engine, "2506.00101", upvotes=0, github_stars=3)
    add_hf(engine, "2506.00102", upvotes=1, github_stars=3)
    html = client.get("/papers/week/2025-W24").text
    assert listed_ids(html) == [
        "2506.00301",
        "2506.00101",
        "2506.00401",
        "2506.00102",
        "2506.00302",
        "2506.00201",
        "2506.00103",
        "2506.00303",
        "2506.00104",
    ]


def test_category_filter_with_trending(client, add_papers, engine):
    add_papers(
        listed("2506.00001", THURSDAY, categories=("cs.CV",)),
        listed("2506.00002", THURSDAY, categories=("cs.LG", "cs.CV")),
        listed("2506.00003", THURSDAY, categories=("cs.LG",)),
    )
    add_stats(engine, "2506.00001", upvotes=1)
    add_stats(engine, "2506.00002", upvotes=5)
    add_stats(engine, "2506.00003", upvotes=9)
    html = client.get("/papers/date/2025-06-12", params={"category": "cs.CV"}).text
    assert listed_ids(html) == ["2506.00002", "2506.00001"]


def test_trending_pages_cover_every_paper_exactly_once(settings, add_papers, engine):
    add_papers(*(listed(f"2506.{n:05d}", MONDAY if n % 2 else THURSDAY) for n in range(1, 24)))
    for n in range(1, 24, 3):
        add_stats(engine, f"2506.{n:05d}", upvotes=n % 4)  # ties on points, across two days
    with open_client(settings.replace(page_size=5)) as small:
        pages = [listed_ids(small.get(f"/papers/week/2025-W24?page={page}").text) for page in range(1, 6)]
        assert small.get("/papers/week/2025-W24?page=6").status_code == 404
    with open_client(settings) as large:
        whole = listed_ids(large.get("/papers/week/2025-W24").text)
    seen = [arxiv_id for page in pages for arxiv_id in page]
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    assert sorted(seen) == sorted(f"2506.{n:05d}" for n in range(1, 24))  # each exactly once
    assert seen == whole  # in the order of the one-page ranking
    # By hand: n % 3 == 1 has n % 4 upvotes; odd n is listed Monday (age 168 h at the week's end,
    # divisor 170^0.45 = 10.086), even n Thursday (96 h, 98^0.45 = 7.871). 3/10.086 = 0.297 (7, 19)
    # > 2/7.871 = 0.254 (10, 22) > 1/10.086 = 0.099 (1, 13); equal scores go to the higher arXiv id.
    # Everything else scores 0 and ties go newest first: Thursday's, then Monday's, higher id first.
    by_hand = [19, 7, 22, 10, 13, 1, 20, 18, 16, 14, 12, 8, 6, 4, 2, 23, 21, 17, 15, 11, 9, 5, 3]
    assert seen == [f"2506.{n:05d}" for n in by_hand]


def test_a_submission_counts_its_age_from_its_submission_time(client, add_papers, engine):
    add_papers(listed("2506.00001", THURSDAY), make_record("2506.00002", listings=()))
    member = make_member(engine, "ada")
    add_submission(engine, "2506.00002", member, datetime(2025, 6, 12, 20, 0, tzinfo=UTC))
    add_stats(engine, "2506.00001", upvotes=4)
    add_stats(engine, "2506.00002", upvotes=4)  # as many points, but 20 hours younger
    html = client.get("/papers/date/2025-06-12").text
    assert listed_ids(html) == ["2506.00002", "2506.00001"]
    card = card_of(html, "2506.00002")
    assert 'submitted by <a href="/users/ada">ada</a>' in card
    assert "badge-submitted" in card


# --- cards ---------------------------------------------------------------------------------


def test_cards_show_votes_hf_upvotes_comments_and_why(client, thursday):
    html = client.get("/papers/date/2025-06-12").text
    card = card_of(html, "2506.00002")
    assert '<a class="vote vote-button" href="/login?next=/papers/2506.00002"' in card
    assert '<span class="vote-count">2</span>' in card
    assert "HF ▲ 10" in card
    assert '<a class="comments" href="/papers/2506.00002#comments">1 comment</a>' in card
    assert 'href="/papers/2506.00002/why"' in card
    assert "Trending score" in card
    assert "HF ▲" not in card_of(html, "2506.00001")  # no Hugging Face record: no chip


def test_a_logged_in_readers_cards_show_their_votes(client, thursday, engine):
    reader = make_member(engine, "reader")
    with engine.begin() as conn:
        conn.execute(
            insert(votes).values(
                paper_id=paper_id(engine, "2506.00001"), user_id=reader.id, created_at=now_utc()
            )
        )
    log_in_as(client, reader)
    html = client.get("/papers/date/2025-06-12").text
    assert 'class="vote-button voted" aria-pressed="true"' in card_of(html, "2506.00001")
    assert 'class="vote-button" aria-pressed="false"' in card_of(html, "2506.00002")
    assert 'action="/papers/2506.00002/vote"' in card_of(html, "2506.00002")


# --- the all-time top list -----------------------------------------------------------------


def test_top_ranks_papers_with_signals_by_points_whatever_their_age(client, add_papers, engine):
    add_papers(
        listed("2401.00001", date(2024, 1, 10), categories=("cs.CL",)),
        listed("2506.00001", THURSDAY),
        listed("2506.00002", THURSDAY),
        listed("2506.00003", THURSDAY),  # no signal at all
    )
    add_hf(engine, "2401.00001", upvotes=50)
    add_stats(engine, "2506.00001", upvotes=3, comments=2)
    add_hf(engine, "2506.00002", upvotes=0, github_stars=1023)  # 10 points from stars alone
    html = client.get("/papers/top").text
    assert listed_ids(html) == ["2401.00001", "2506.00002", "2506.00001"]
    assert "3 papers" in html
    only_cl = client.get("/papers/top", params={"category": "cs.CL"}).text
    assert listed_ids(only_cl) == ["2401.00001"]
    assert 'href="/papers/top?category=cs.LG"' in html  # category chips stay on the top list


def test_top_is_paginated(settings, add_papers, engine):
    add_papers(*(listed(f"2506.{n:05d}", THURSDAY) for n in range(1, 8)))
    for n in range(1, 8):
        add_stats(engine, f"2506.{n:05d}", upvotes=n)
    with open_client(settings.replace(page_size=3)) as small:
        first, last = small.get("/papers/top"), small.get("/papers/top?page=3")
        beyond = small.get("/papers/top?page=4")
    assert listed_ids(first.text) == ["2506.00007", "2506.00006", "2506.00005"]
    assert 'rel="next" href="/papers/top?page=2"' in first.text
    assert listed_ids(last.text) == ["2506.00001"]
    assert beyond.status_code == 404


# --- why is this here ----------------------------------------------------------------------


def test_the_why_page_shows_the_numbers_of_the_formula(client, thursday):
    html = client.get("/papers/2506.00004/why").text
    points = 4 + math.log2(1 + 7)  # 4 Hugging Face upvotes, 7 stars: 7
    day_divisor = (24 + 2) ** 0.45  # Thursday's page is ranked as of Friday 00:00: 24 hours old
    assert '<td class="points total-points">7</td>' in html
    assert f"= {figure(day_divisor)}</dd>" in html
    assert f"<strong>{figure(points / day_divisor)}</strong>" in html
    assert "log2(1 + 7) = 3" in html
    assert '<td class="rank">#2 of 4</td>' in html  # on its day
    week_divisor = (96 + 2) ** 0.45  # week 24 as of Monday 16 June 00:00
    assert f"<td>{figure(points / week_divisor)}</td>" in html
    assert "Week 24, 2025" in html


def test_the_why_page_is_linked_from_the_paper_page_and_redirects_versions(client, thursday):
    assert 'href="/papers/2506.00004/why"' in client.get("/papers/2506.00004").text
    response = client.get("/papers/2506.00004v2/why")
    assert response.status_code == 301
    assert response.headers["location"] == "/papers/2506.00004/why"
    assert client.get("/papers/2506.99999/why").status_code == 404
    assert client.get("/papers/not-an-id/why").status_code == 404


def test_a_paper_on_no_feed_is_explained_as_of_now(client, add_papers, engine):
    add_papers(make_record("2506.00009", listings=()))
    add_hf(engine, "2506.00009", upvotes=6)
    html = client.get("/papers/2506.00009/why").text
    assert "has not been on any daily feed" in html
    assert '<td class="points total-points">6</td>' in html


# --- about -------------------------------------------------------------------------------------


def test_about_trending_shows_the_configured_values(settings):
    custom = settings.replace(
        trending_gravity=1.35,
        trending_offset_hours=3.5,
        trending_comment_weight=0.75,
        trending_hf_weight=0.2,
        trending_stars_weight=2.5,
    )
    with open_client(custom) as client:
        html = client.get("/about/trending").text
    assert "score  = points / (age_hours + 3.5) ^ 1.35" in html
    assert "+ 0.75 × comments" in html
    assert "+ 0.2 × Hugging Face upvotes" in html
    assert "+ 2.5 × log2(1 + GitHub stars)" in html
    assert "(this site uses 1.35 instead)" in html
    for name in ("GRAVITY", "OFFSET_HOURS", "COMMENT_WEIGHT", "HF_WEIGHT", "STARS_WEIGHT"):
        assert f"<code>PAPERBOY_TRENDING_{name}</code>" in html


def test_trending_pages_are_cached_for_anonymous_readers(client, thursday):
    paths = ["/about/trending", "/papers/top", "/papers/2506.00004/why", "/papers/2506.00004"]
    for path in paths:
        assert client.get(path).status_code == 200
    assert {key[0] for key in _page_cache(client).pages} >= set(paths)


def _page_cache(client):
    app = client.app.middleware_stack
    while not isinstance(app, PageCache):
        app = app.app
    return app


# --- the paper page ----------------------------------------------------------------------------


def test_the_paper_page_shows_counts_submitter_and_the_readers_vote(client, add_papers, engine):
    add_papers(make_record("2506.00002", listings=()))
    member = make_member(engine, "ada")
    add_submission(engine, "2506.00002", member, datetime(2025, 6, 12, 20, 0, tzinfo=UTC))
    add_stats(engine, "2506.00002", upvotes=1, comments=3)
    with engine.begin() as conn:
        conn.execute(
            insert(votes).values(
                paper_id=paper_id(engine, "2506.00002"), user_id=member.id, created_at=now_utc()
            )
        )
    anonymous = client.get("/papers/2506.00002").text
    assert '<a class="vote vote-button" href="/login?next=/papers/2506.00002"' in anonymous
    assert '<a class="comments" href="#comments">3 comments</a>' in anonymous
    assert 'submitted by <a href="/users/ada">ada</a>' in anonymous
    assert 'id="comments"' in anonymous  # where the card's comment link leads
    log_in_as(client, member)
    html = client.get("/papers/2506.00002").text
    assert 'class="vote-button voted" aria-pressed="true"' in html


@pytest.mark.parametrize(
    ("notice", "text"),
    [
        ("submitted", "Thanks — your submission is on today&#39;s feed"),
        ("already-on-feed", "This paper is already on a feed — here it is; upvote it instead"),
    ],
)
def test_the_paper_page_shows_submission_notices(client, thursday, notice, text):
    assert text in client.get("/papers/2506.00001", params={"notice": notice}).text


def test_unknown_notices_are_ignored(client, thursday):
    html = client.get("/papers/2506.00001", params={"notice": "<script>"}).text
    assert "<script>" not in html.split("<main", 1)[1].split("</main>")[0]
    assert 'class="notice"' not in html
