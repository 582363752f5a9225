from __future__ import annotations

from datetime import UTC, date, datetime

from conftest import make_record
from sqlalchemy import func, select

from paperboy.domain.models import Listing, Version
from paperboy.storage.papers import load_records, upsert_papers
from paperboy.storage.schema import listings, paper_authors, paper_links, paper_versions, papers


def _count(conn, table):
    return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_insert_then_same_records_change_nothing(engine):
    records = [make_record("2506.00001"), make_record("2506.00002")]
    with engine.begin() as conn:
        first = upsert_papers(conn, records)
    with engine.begin() as conn:
        again = upsert_papers(conn, records)
        changed = conn.execute(select(papers.c.changed_at)).scalars().all()
    assert (first.inserted, first.updated) == (2, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert len(changed) == 2


def test_new_version_updates_paper_without_duplicating(engine):
    v1 = make_record("2506.00001")
    v2 = make_record(
        "2506.00001",
        title="A better title",
        versions=(Version(2, datetime(2025, 6, 20, 9, 30, tzinfo=UTC)),),
        listings=(Listing(date(2025, 6, 23), "replace"),),
    )
    with engine.begin() as conn:
        upsert_papers(conn, [v1])
    with engine.begin() as conn:
        result = upsert_papers(conn, [v2])
        stored = load_records(conn, ["2506.00001"])["2506.00001"][1]
        row = conn.execute(select(papers)).one()
        assert _count(conn, papers) == 1
        assert _count(conn, paper_versions) == 2
        assert _count(conn, listings) == 2
    assert result.updated == 1
    assert stored.title == "A better title"
    assert [v.number for v in stored.versions] == [1, 2]
    assert [item.announce_type for item in stored.listings] == ["new", "replace"]
    assert row.latest_version == 2
    assert row.first_listed == date(2025, 6, 12)


def test_unknown_fields_never_erase_known_ones(engine):
    with engine.begin() as conn:
        upsert_papers(
            conn, [make_record("2506.00001", doi="10.1/x", comment="Code: https://github.com/a/b.")]
        )
        upsert_papers(conn, [make_record("2506.00001", doi=None, comment=None, authors=())])
        stored = load_records(conn, ["2506.00001"])["2506.00001"][1]
        link = conn.execute(select(paper_links.c.url)).scalar_one()
    assert stored.doi == "10.1/x"
    assert stored.authors == ("Ada Lovelace", "Alan Turing")
    assert link == "https://github.com/a/b"


def test_listing_for_absent_paper_is_reported_not_invented(engine):
    from paperboy.domain.models import PaperRecord

    with engine.begin() as conn:
        result = upsert_papers(conn, [PaperRecord("2506.09999", listings=(Listing(date(2025, 6, 12)),))])
        assert _count(conn, papers) == 0
    assert result.unknown == ["2506.09999"]


def test_authors_keep_their_order(engine):
    names = tuple(f"Author {i}" for i in range(12))
    with engine.begin() as conn:
        upsert_papers(conn, [make_record("2506.00001", authors=names)])
        stored = conn.execute(select(paper_authors.c.name).order_by(paper_authors.c.position)).scalars()
        assert tuple(stored) == names


def test_reapplying_an_older_record_after_another_source_still_merges(engine):
    from_bulk = make_record("2506.00001", title="Bulk title", doi=None)
    from_api = make_record("2506.00001", title="API title", doi="10.1/api")
    with engine.begin() as conn:
        upsert_papers(conn, [from_bulk])
        assert upsert_papers(conn, [from_bulk]).unchanged == 1
        assert upsert_papers(conn, [from_api]).updated == 1
        again = upsert_papers(conn, [from_bulk])
        stored = load_records(conn, ["2506.00001"])["2506.00001"][1]
    assert again.updated == 1
    assert stored.title == "Bulk title"
    assert stored.doi == "10.1/api"
