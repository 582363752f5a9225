from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from conftest import PG_ADMIN_URL
from sqlalchemy import text
from sqlalchemy.engine import make_url

from paperboy.storage.engine import make_engine, utc


def test_utc_normalises_naive_and_foreign_zones():
    plus_two = timezone(timedelta(hours=2))
    assert utc(datetime(2025, 6, 12, 4, 30, tzinfo=plus_two)) == datetime(2025, 6, 12, 2, 30, tzinfo=UTC)
    assert utc(datetime(2025, 6, 12, 2, 30)).tzinfo is UTC
    assert utc(None) is None


@pytest.mark.skipif(not PG_ADMIN_URL, reason="needs PAPERBOY_TEST_DATABASE_URL (PostgreSQL)")
def test_postgres_sessions_are_utc_and_keep_the_urls_own_options():
    url = make_url(PG_ADMIN_URL).update_query_dict({"options": "-c search_path=paperboy_elsewhere"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW timezone")).scalar() == "UTC"
            assert conn.execute(text("SHOW search_path")).scalar() == "paperboy_elsewhere"
    finally:
        engine.dispose()
