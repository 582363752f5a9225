"""The incremental sync's cursor: opaque, round-trips exactly, refuses what it did not make."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from paperboy.services.changes import InvalidCursor, decode_cursor, encode_cursor


def test_a_cursor_round_trips_to_the_microsecond():
    moment = datetime(2025, 6, 12, 17, 0, 1, 123456, tzinfo=UTC)
    cursor = encode_cursor(moment, 42)
    assert "=" not in cursor
    assert decode_cursor(cursor) == (moment, 42)


@pytest.mark.parametrize(
    "cursor", ["garbage", "", "!!!", encode_cursor(datetime(2025, 1, 1, tzinfo=UTC), 1)[:-3]]
)
def test_a_cursor_this_api_did_not_make_is_refused(cursor):
    with pytest.raises(InvalidCursor, match="next_cursor"):
        decode_cursor(cursor)
