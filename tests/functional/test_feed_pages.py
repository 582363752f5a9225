"""Day, week and month pages, and / (the latest listing day), through HTTP."""

from __future__ import annotations

import re
from datetime import date

import pytest
from app_client import link_to, listed_ids, open_client
from conftest import make_record
from sqlalchemy import insert, select

from paperboy.domain.models import Listing
from paperboy.storage.engine import now_utc
from paperboy.storage.schema import hf_papers, papers


@pytest.fixture
def client(settings):
    with open_client(settings) as client:
        yield client


def listed(arxiv_id, *days, announce="new", **fields):
    return make_record(arxiv_id, listings=tuple(Listing(day, announce) for day in days), **fields)


@pytest.fixture
def june(add_papers):
    """Week 24 of 2025 (Mon 9 to Fri 13 June) and Monday 16 June; nothing on the weekend."""
    add_papers(
        listed("2506.00101", date(2025, 6, 9), title="Monday paper"),
        listed("2506.00201", date(2025, 6, 12), title="Thursday early"),
        listed("2506.00202", date(2025, 6, 12), title="Thursday late", categories=("cs.CV",)),
        listed("2506.00301", date(2025, 6, 13), title="Friday paper"),
        listed("2505.09999", date(2025, 6, 10), date(2025, 6, 13), title="Listed twice", announce="replace"),
        listed("2506.00401", date(2025, 6, 16), title="Next Monday", categories=("cs.CL", "cs.CV")),
        listed("2505.00001", date(2025, 5, 30), title="Late May"),
    )


def test_home_renders_the_latest_listing_day_without_redirecting(client, june):
    response = client.get("/")
    assert response.status_code == 200
    assert listed_ids(response.text) == ["2506.00401"]
    assert "<h1>Monday, 16 June 2025</h1>" in response.text
    assert '<link rel="canonical" href="/papers/date/2025-06-16">' in response.text


def test_day_page_sorted_newest_lists_that_day_newest_id_first(client, june):
    response = client.get("/papers/date/2025-06-12", params={"sort": "newest"})
    assert response.status_code == 200
    assert listed_ids(response.text) == ["2506.00202", "2506.00201"]
    assert "Monday paper" not in response.text
    assert "2 papers" in response.text


def test_day_navigation_skips_the_weekend(client, june):
    html = client.get("/papers/date/2025-06-13").text
    assert link_to(html, "prev") == "/papers/date/2025-06-12"
    assert link_to(html, "next") == "/papers/date/2025-06-16"
    html = client.get("/papers/date/2025-06-16").text
    assert link_to(html, "prev") == "/papers/date/2025-06-13"
    assert link_to(html, "next") is None


def test_week_sorted_newest_lists_each_paper_once_ordered_by_day_then_id(client, june):
    html = client.get("/papers/week/2025-W24", params={"sort": "newest"}).text
    assert listed_ids(html) == ["2506.00301", "2506.00202", "2506.00201", "2505.09999", "2506.00101"]
    assert "5 papers" in html
    assert "Week 24, 2025 (9–15 June 2025)" in html
    assert link_to(html, "prev") == "/papers/week/2025-W22?sort=newest"  # W23 (2 to 6 June) has no listings
    assert link_to(html, "next") == "/papers/week/2025-W25?sort=newest"


def test_week_shows_a_paper_under_its_first_listing_in_the_week(client, june):
    html = client.get("/papers/week/2025-W24").text
    card = html[html.index("/papers/2505.09999") :]
    card = card[: card.index("</article>")]
    assert 'href="/papers/date/2025-06-10"' in card
    assert "replaced" in card


def test_month_differs_from_its_weeks(client, june):
    html = client.get("/papers/month/2025-06").text
    assert len(listed_ids(html)) == 6
    assert "2505.00001" not in listed_ids(html)
    assert link_to(html, "prev") == "/papers/month/2025-05"
    assert link_to(html, "next") is None
    assert listed_ids(client.get("/papers/month/2025-05").text) == ["2505.00001"]


def test_period_tabs_point_at_the_same_moment(client, june):
    html = client.get("/papers/date/2025-06-12").text
    assert '<a href="/papers/week/2025-W24">Week</a>' in html
    assert '<a href="/papers/month/2025-06">Month</a>' in html
    html = client.get("/papers/month/2025-06").text
    assert '<a href="/papers/date/2025-06-16">Day</a>' in html  # the month's last listing day


def test_category_filter_keeps_primary_and_cross_lists(client, june):
    html = client.get("/papers/month/2025-06", params={"category": "cs.CV"}).text
    assert sorted(listed_ids(html)) == ["2506.00202", "2506.00401"]
    assert '<option value="cs.CV" selected>cs.CV (2)</option>' in html
    assert '<option value="cs.LG">cs.LG (4)</option>' in html
    assert link_to(html, "prev") == "/papers/month/2025-05?category=cs.CV"


def test_unknown_category_is_an_empty_page_with_a_message(client, june):
    response = client.get("/papers/week/2025-W24", params={"category": "math.XX"})
    assert response.status_code == 200
    assert listed_ids(response.text) == []
    assert "No papers in math.XX were listed in Week 24, 2025" in response.text
    assert '<option value="math.XX" selected>math.XX (0)</option>' in response.text


def test_pages_split_a_long_listing(client, settings, add_papers):
    add_papers(*(listed(f"2506.{n:05d}", date(2025, 6, 12)) for n in range(1, 8)))
    with open_client(settings.replace(page_size=3)) as small:
        first = small.get("/papers/date/2025-06-12?sort=newest")
        last = small.get("/papers/date/2025-06-12?sort=newest&page=3")
        beyond = small.get("/papers/date/2025-06-12?page=4")
    assert listed_ids(first.text) == ["2506.00007", "2506.00006", "2506.00005"]
    assert "Page 1 of 3" in first.text
    assert 'rel="next" href="/papers/date/2025-06-12?sort=newest&amp;page=2"' in first.text
    assert listed_ids(last.text) == ["2506.00001"]
    assert "Page 3 of 3" in last.text
    assert beyond.status_code == 404
    assert "page 4 does not exist: Thursday, 12 June 2025 has only 3 pages" in beyond.text


@pytest.mark.parametrize("page", ["0", "-1", "two", "1.5", "٣"])
def test_bad_page_numbers_get_a_400_page(client, june, page):
    response = client.get("/papers/date/2025-06-12", params={"page": page})
    assert response.status_code == 400
    assert "<h1>" in response.text
    assert "page" in response.text
    assert "Traceback" not in response.text


def test_absurd_page_numbers_are_not_found(client, june):
    response = client.get("/papers/date/2025-06-12", params={"page": "9" * 40})
    assert response.status_code == 404
    assert "does not exist" in response.text


def test_unknown_sort_gets_a_400_page_naming_the_sorts(client, june):
    response = client.get("/papers/date/2025-06-12", params={"sort": "oldest"})
    assert response.status_code == 400
    assert "unknown sort &#39;oldest&#39;: choose one of trending, newest" in response.text


def test_weekend_day_explains_itself_and_links_the_listing_days(client, june):
    response = client.get("/papers/date/2025-06-14")
    assert response.status_code == 200
    assert "No listing on Saturday, 14 June 2025 — arXiv does not announce on weekends." in response.text
    assert link_to(response.text, "prev") == "/papers/date/2025-06-13"
    assert link_to(response.text, "next") == "/papers/date/2025-06-16"


def test_weekday_without_listing_is_a_holiday(client, june):
    html = client.get("/papers/date/2025-06-11").text
    assert "No listing on Wednesday, 11 June 2025 — arXiv did not announce that day" in html


def test_future_and_unsynced_days_say_so(client, june):
    assert "is in the future" in client.get("/papers/date/2999-01-01").text
    html = client.get("/papers/date/2025-06-18").text
    assert "No listing on Wednesday, 18 June 2025 yet: it has not been synced" in html
    assert "latest listing in the catalogue is Monday, 16 June 2025" in html


def test_day_before_the_catalogue_says_where_it_starts(client, june):
    html = client.get("/papers/week/2025-W01").text
    assert "the catalogue starts on Friday, 30 May 2025" in html
    assert link_to(html, "next") == "/papers/week/2025-W22"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/papers/date/2025-02-30", "February 2025 has no day 30"),
        ("/papers/date/yesterday", "is not a day: expected YYYY-MM-DD"),
        ("/papers/week/2025-W53", "2025 has no week 53"),
        ("/papers/month/2025-13", "month 13 does not exist"),
    ],
)
def test_malformed_periods_get_a_404_page_with_the_reason(client, path, reason):
    response = client.get(path)
    assert response.status_code == 404
    assert reason in response.text
    assert response.headers["content-type"].startswith("text/html")


def test_hf_upvotes_and_links_show_on_cards(client, add_papers, engine):
    add_papers(listed("2506.00001", date(2025, 6, 12), comment="Code: https://github.com/ada/engine."))
    _add_hf(engine, "2506.00001", upvotes=42, project_page="https://ada.github.io/engine")
    html = client.get("/papers/date/2025-06-12").text
    assert "▲ 42" in html
    assert 'href="https://github.com/ada/engine"' in html
    assert 'href="https://ada.github.io/engine"' in html
    assert 'href="https://arxiv.org/pdf/2506.00001"' in html


def test_long_author_lists_are_cut_with_a_count(client, add_papers):
    authors = tuple(f"Author {n}" for n in range(1, 13))
    add_papers(listed("2506.00001", date(2025, 6, 12), authors=authors))
    html = client.get("/papers/date/2025-06-12").text
    line = re.search(r'<p class="authors">(.*?)</p>', html).group(1)
    assert re.sub(r"<[^>]+>", "", line) == "Author 1, Author 2, Author 3 et al. (12 authors)"
    assert '<a href="/authors/Author%201">Author 1</a>' in line  # each name leads to its author page
    assert "Author 12" not in html


def _add_hf(engine, arxiv_id, **values):
    with engine.begin() as conn:
        paper_id = conn.execute(select(papers.c.id).where(papers.c.arxiv_id == arxiv_id)).scalar_one()
        conn.execute(insert(hf_papers).values(paper_id=paper_id, fetched_at=now_utc(), **values))
