"""services/submissions.py on the real database. arXiv is faked by the real HttpClient on a mock
transport serving responses recorded from the live API (../shared/fixtures); the clock is passed in."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from community import make_member
from conftest import make_record, shared_path
from sqlalchemy import func, select

from paperboy.domain.calendar import day_period
from paperboy.domain.models import Listing, PaperRecord, Version
from paperboy.integrations.http import HttpClient
from paperboy.services.feed import feed_for_period
from paperboy.services.rate_limits import RateLimited
from paperboy.services.submissions import (
    ArxivUnavailable,
    SubmissionRefused,
    SubmissionResult,
    arxiv_fetcher,
    parse_submission,
    submit_paper,
)
from paperboy.storage.paper_stats import stats_of
from paperboy.storage.papers import load_records, write_papers
from paperboy.storage.schema import listings, paper_stats, papers, submissions, votes
from paperboy.storage.submissions import submission_of
from paperboy.storage.sync_state import catalogue_version

IP = "192.0.2.7"
V1 = datetime(2025, 6, 11, 17, 0, tzinfo=UTC)  # make_record's first version
SOON = V1 + timedelta(days=3)
BODIES = ("fixtures", "arxiv_api", "arxiv.py_golden_2026", "bodies")
RECORDED = {  # id_list -> recorded arXiv API answer
    "1707.08567": "id_1707.08567_s0_m100_6a1afebfc6a3.xml",  # v1 published 2017-07-27T08:18:33Z
    "astro-ph/0601001": "id_astro-ph_0601001_s0_m100_3150dca9dc76.xml",
    "2512.99999": "id_0808.05394_s0_m100_7b0c7d0a7cdd.xml",  # arXiv's answer for an unknown id
}
RECORDED_V1 = datetime(2017, 7, 27, 8, 18, 33, tzinfo=UTC)
COMMUNITY_TABLES = (papers, listings, submissions, votes, paper_stats)


def _member(engine, name="ada"):
    return make_member(engine, name)


def _recorded_api(status=200, seen=None):
    """A fetch backed by the real HttpClient and arXiv parser, on recorded responses."""

    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request.url.params["id_list"])
        if status != 200:
            return httpx.Response(status, text="Service Unavailable")
        body = shared_path(*BODIES, RECORDED[request.url.params["id_list"]]).read_bytes()
        return httpx.Response(200, content=body, headers={"Content-Type": "application/atom+xml"})

    client = HttpClient(transport=httpx.MockTransport(handle), retries=0, sleep=lambda _: None)
    return client


def _fetch(settings, status=200, seen=None):
    return arxiv_fetcher(settings, client=_recorded_api(status, seen))


def _no_fetch(arxiv_id):
    raise AssertionError(f"{arxiv_id} is in the catalogue: arXiv must not be asked")


def _rows(engine, table):
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _stored(engine, arxiv_id):
    with engine.connect() as conn:
        return load_records(conn, [arxiv_id])[arxiv_id][1]


def _first_listed(engine, arxiv_id):
    with engine.connect() as conn:
        return conn.execute(select(papers.c.first_listed).where(papers.c.arxiv_id == arxiv_id)).scalar()


def _feed_ids(engine, day):
    return [item.paper.arxiv_id for item in feed_for_period(engine, day_period(day)).items]


@pytest.fixture
def unlisted(add_papers):
    """A recent paper in the catalogue that no listing brought (another category, say)."""
    add_papers(make_record("2506.12229", listings=()), make_record("hep-th/9901001", listings=()))
    return "2506.12229"


# --- ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2506.12229", "2506.12229"),
        ("  2506.12229v2 ", "2506.12229"),
        ("arXiv:2506.12229", "2506.12229"),
        ("https://arxiv.org/abs/2506.12229", "2506.12229"),
        ("https://arxiv.org/abs/2506.12229v3", "2506.12229"),
        ("http://export.arxiv.org/abs/2506.12229", "2506.12229"),
        ("arxiv.org/abs/2506.12229?context=cs.LG", "2506.12229"),
        ("https://arxiv.org/pdf/2506.12229v1", "2506.12229"),
        ("https://arxiv.org/pdf/2506.12229v1.pdf", "2506.12229"),
        ("https://arxiv.org/html/2506.12229v2#S3", "2506.12229"),
        ("0704.0001", "0704.0001"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("https://arxiv.org/abs/hep-th/9901001v1", "hep-th/9901001"),
        ("math.GT/0309136", "math/0309136"),
    ],
)
def test_every_spelling_of_an_id_is_accepted(text, expected):
    assert parse_submission(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Enter an arXiv id"),
        ("   ", "Enter an arXiv id"),
        ("a great paper", "is not an arXiv id"),
        ("2506.1222", "wrong number of digits for 2506.$"),
        ("https://example.org/abs/2506.12229", "is not an arXiv id"),
        ("2513.12229", "month 13"),
        ("x" * 5000, "at most a few dozen characters"),
    ],
)
def test_text_that_is_no_id_is_refused_before_anything_happens(engine, settings, text, reason):
    with pytest.raises(SubmissionRefused, match=reason):
        submit_paper(engine, settings, _member(engine), text, IP, fetch=_no_fetch)
    assert _rows(engine, papers) == 0


@pytest.mark.parametrize(
    "spelling", ["https://arxiv.org/abs/2506.12229v2", "https://arxiv.org/pdf/2506.12229.pdf", "2506.12229v1"]
)
def test_a_catalogue_paper_is_submitted_by_link_or_versioned_id(engine, settings, unlisted, spelling):
    result = submit_paper(engine, settings, _member(engine), spelling, IP, fetch=_no_fetch, now=SOON)
    assert result == SubmissionResult("2506.12229", submitted=True, day=SOON.date())


def test_an_old_style_id_is_submitted(engine, settings, add_papers):
    add_papers(make_record("hep-th/9901001", listings=()))
    result = submit_paper(
        engine, settings, _member(engine), "hep-th/9901001v1", IP, fetch=_no_fetch, now=SOON
    )
    assert result.submitted
    assert _feed_ids(engine, SOON.date()) == ["hep-th/9901001"]


# --- what a submission does -------------------------------------------------------------------


def test_a_submission_lists_the_paper_today_with_the_submitters_upvote(engine, settings, unlisted):
    ada = _member(engine)
    with engine.connect() as conn:
        version_before = catalogue_version(conn)
    result = submit_paper(engine, settings, ada, unlisted, IP, fetch=_no_fetch, now=SOON)
    assert result.notice == "submitted"
    today = SOON.date()
    assert _stored(engine, unlisted).listings == (Listing(today, "submitted"),)
    assert _first_listed(engine, unlisted) == today
    assert _feed_ids(engine, today) == [unlisted]
    with engine.connect() as conn:
        paper_id = conn.execute(select(papers.c.id).where(papers.c.arxiv_id == unlisted)).scalar_one()
        submission = submission_of(conn, paper_id)
        assert stats_of(conn, paper_id) == (1, 0)
        assert catalogue_version(conn) != version_before  # feeds change: cached pages go
    assert submission is not None
    assert (submission.user_name, submission.day, submission.submitted_at) == ("ada", today, SOON)
    assert _rows(engine, votes) == 1


def test_the_window_ends_exactly_window_days_after_the_first_version(engine, settings, unlisted):
    window = timedelta(days=settings.submission_window_days)
    late = V1 + window + timedelta(seconds=1)
    with pytest.raises(SubmissionRefused) as refused:
        submit_paper(engine, settings, _member(engine, "ada"), unlisted, IP, fetch=_no_fetch, now=late)
    message = str(refused.value)
    assert "too old" in message
    assert "2025-06-11, 14 days ago" in message
    assert "at most 14 days old" in message
    assert _rows(engine, submissions) == 0
    on_time = submit_paper(
        engine, settings, _member(engine, "bob"), unlisted, IP, fetch=_no_fetch, now=V1 + window
    )
    assert on_time.submitted


def test_the_window_follows_the_setting(engine, settings, unlisted):
    narrow = settings.replace(submission_window_days=2)
    with pytest.raises(SubmissionRefused, match=r"3 days ago\. .* at most 2 days old"):
        submit_paper(engine, narrow, _member(engine), unlisted, IP, fetch=_no_fetch, now=SOON)


def test_a_paper_already_listed_is_not_submitted(engine, settings, add_papers):
    add_papers(make_record("2506.12229"))  # listed on 2025-06-12 by arXiv
    result = submit_paper(engine, settings, _member(engine), "2506.12229", IP, fetch=_no_fetch, now=SOON)
    assert result == SubmissionResult("2506.12229", submitted=False)
    assert result.notice == "already-on-feed"
    assert (_rows(engine, submissions), _rows(engine, votes), _rows(engine, listings)) == (0, 0, 1)


def test_a_paper_already_submitted_is_not_submitted_again(engine, settings, unlisted):
    ada, bob = _member(engine, "ada"), _member(engine, "bob")
    assert submit_paper(engine, settings, ada, unlisted, IP, fetch=_no_fetch, now=SOON).submitted
    later = SOON + timedelta(days=1)
    again = submit_paper(engine, settings, bob, unlisted, IP, fetch=_no_fetch, now=later)
    assert again == SubmissionResult(unlisted, submitted=False)
    assert _stored(engine, unlisted).listings == (Listing(SOON.date(), "submitted"),)
    assert (_rows(engine, submissions), _rows(engine, votes)) == (1, 1)


def test_submissions_are_limited_per_account(engine, settings, unlisted):
    limited = settings.replace(rate_limit_submit="1/day")
    ada = _member(engine)
    submit_paper(engine, limited, ada, unlisted, IP, fetch=_no_fetch, now=SOON)
    with pytest.raises(RateLimited, match="Too many submissions"):
        submit_paper(engine, limited, ada, "hep-th/9901001", IP, fetch=_no_fetch, now=SOON)


# --- papers the catalogue does not hold ---------------------------------------------------------


def test_an_unknown_paper_is_fetched_from_arxiv_and_submitted(engine, settings):
    seen: list[str] = []
    now = RECORDED_V1 + timedelta(days=2)
    result = submit_paper(
        engine, settings, _member(engine), "https://arxiv.org/abs/1707.08567v1", IP,
        fetch=_fetch(settings, seen=seen), now=now,
    )  # fmt: skip
    assert result.submitted
    assert seen == ["1707.08567"]
    stored = _stored(engine, "1707.08567")
    assert (stored.title or "").startswith("Proceedings of Workshop AEW10")
    assert stored.versions[0].created == RECORDED_V1
    assert stored.listings == (Listing(now.date(), "submitted"),)
    assert _feed_ids(engine, now.date()) == ["1707.08567"]
    assert (_rows(engine, submissions), _rows(engine, votes)) == (1, 1)


def test_an_old_style_unknown_paper_is_fetched_by_its_canonical_id(engine, settings):
    now = datetime(2006, 1, 5, tzinfo=UTC)
    fetch = _fetch(settings)
    result = submit_paper(engine, settings, _member(engine), "astro-ph/0601001v1", IP, fetch=fetch, now=now)
    assert result.submitted


def test_a_known_paper_without_a_first_version_date_is_looked_up(engine, settings, add_papers):
    add_papers(make_record("1707.08567", versions=(), listings=()))
    seen: list[str] = []
    now = RECORDED_V1 + timedelta(days=1)
    fetch = _fetch(settings, seen=seen)
    assert submit_paper(engine, settings, _member(engine), "1707.08567", IP, fetch=fetch, now=now).submitted
    assert seen == ["1707.08567"]


def test_a_fetched_paper_too_old_is_refused_and_not_stored(engine, settings):
    with pytest.raises(SubmissionRefused, match="2017-07-27"):
        submit_paper(
            engine, settings, _member(engine), "1707.08567", IP,
            fetch=_fetch(settings), now=datetime(2026, 1, 1, tzinfo=UTC),
        )  # fmt: skip
    assert [_rows(engine, table) for table in COMMUNITY_TABLES] == [0, 0, 0, 0, 0]


def test_a_paper_arxiv_does_not_know_is_refused(engine, settings):
    with pytest.raises(SubmissionRefused, match=r"arXiv has no paper 2512\.99999"):
        submit_paper(engine, settings, _member(engine), "2512.99999", IP, fetch=_fetch(settings), now=SOON)
    assert _rows(engine, papers) == 0


def test_an_arxiv_failure_writes_nothing(engine, settings):
    with pytest.raises(ArxivUnavailable, match="try again in a few minutes"):
        submit_paper(
            engine, settings, _member(engine), "1707.08567", IP,
            fetch=_fetch(settings, status=503), now=RECORDED_V1,
        )  # fmt: skip
    assert [_rows(engine, table) for table in COMMUNITY_TABLES] == [0, 0, 0, 0, 0]


# --- later syncs ------------------------------------------------------------------------------


def test_a_reimport_of_the_paper_keeps_the_submissions_listing(engine, settings, unlisted):
    submit_paper(engine, settings, _member(engine), unlisted, IP, fetch=_no_fetch, now=SOON)
    today = SOON.date()
    write_papers(engine, [make_record(unlisted, listings=())])  # the very record first imported
    write_papers(engine, [make_record(unlisted, listings=(), comment="Accepted at ICML")])
    stored = _stored(engine, unlisted)
    assert stored.comment == "Accepted at ICML"
    assert stored.listings == (Listing(today, "submitted"),)
    assert _first_listed(engine, unlisted) == today
    assert _feed_ids(engine, today) == [unlisted]
    # arXiv announcing it later adds a day; the submission's day stays
    later = today + timedelta(days=1)
    write_papers(engine, [PaperRecord(unlisted, listings=(Listing(later, "cross"),))])
    assert _stored(engine, unlisted).listings == (Listing(today, "submitted"), Listing(later, "cross"))
    assert _first_listed(engine, unlisted) == today
    assert _rows(engine, submissions) == 1


# --- races ------------------------------------------------------------------------------------


def _race(engine, settings, text, fetch, now, racers=6):
    members = [_member(engine, f"racer{i}") for i in range(racers)]
    barrier = threading.Barrier(racers)
    results: list[SubmissionResult] = []
    errors: list[BaseException] = []

    def submit(member):
        try:
            barrier.wait()
            results.append(submit_paper(engine, settings, member, text, IP, fetch=fetch, now=now))
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results


def test_members_racing_to_submit_a_catalogue_paper_end_with_one_submission(engine, settings, unlisted):
    results = _race(engine, settings, unlisted, _no_fetch, SOON)
    assert sorted(result.submitted for result in results) == [False] * 5 + [True]
    assert (_rows(engine, submissions), _rows(engine, votes), _rows(engine, listings)) == (1, 1, 1)


def test_members_racing_to_submit_an_unknown_paper_end_with_one_submission(engine, settings):
    record = make_record("2506.12229", listings=())

    def fetch(arxiv_id):
        return record if arxiv_id == record.arxiv_id else None

    results = _race(engine, settings, "2506.12229", fetch, SOON)
    assert sorted(result.submitted for result in results) == [False] * 5 + [True]
    assert (_rows(engine, papers), _rows(engine, submissions), _rows(engine, votes)) == (1, 1, 1)


def test_a_future_dated_first_version_is_within_the_window(engine, settings, add_papers):
    """Clocks disagree by minutes: a paper "from the future" is simply recent."""
    add_papers(make_record("2506.12229", listings=(), versions=(Version(1, SOON + timedelta(minutes=5)),)))
    assert submit_paper(
        engine, settings, _member(engine), "2506.12229", IP, fetch=_no_fetch, now=SOON
    ).submitted


def test_results_name_the_day(engine, settings, unlisted):
    result = submit_paper(engine, settings, _member(engine), unlisted, IP, fetch=_no_fetch, now=SOON)
    assert result.day == date(2025, 6, 14)
