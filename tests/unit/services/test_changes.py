"""The incremental sync's cursor: opaque, round-trips exactly, refuses what it did not make."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import pytest

from paperboy.services.changes import CURSOR_PATTERN, InvalidCursor, decode_cursor, encode_cursor


def test_a_cursor_round_trips_to_the_microsecond():
    moment = datetime(2025, 6, 12, 17, 0, 1, 123456, tzinfo=UTC)
    cursor = encode_cursor(moment, 42)
    assert "=" not in cursor
    assert decode_cursor(cursor) == (moment, 42)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        "!!!",
        "1-",
        "-1",
        "1-2-3",
        "١-1",
        "1" * 18 + "-1",
        encode_cursor(datetime(2025, 1, 1, tzinfo=UTC), 1)[:-3],
    ],
)
def test_a_cursor_this_api_did_not_make_is_refused(cursor):
    with pytest.raises(InvalidCursor, match="next_cursor"):
        decode_cursor(cursor)


def test_a_cursor_has_the_shape_the_api_declares():
    cursor = encode_cursor(datetime(2025, 6, 12, 17, 0, 1, 123456, tzinfo=UTC), 42)
    assert re.fullmatch(CURSOR_PATTERN, cursor)
    assert cursor == "1749747601123456-42"


def test_every_text_of_the_declared_shape_is_a_cursor():
    assert decode_cursor("0-0") == (datetime(1970, 1, 1, tzinfo=UTC), 0)
    assert decode_cursor("9" * 17 + "-" + "9" * 18)[1] == 10**18 - 1


def test_a_cursor_written_before_cursors_were_plain_numbers_still_works():
    legacy = base64.urlsafe_b64encode(b"2025-06-12T17:00:01.123456+00:00|42").decode().rstrip("=")
    assert decode_cursor(legacy) == (datetime(2025, 6, 12, 17, 0, 1, 123456, tzinfo=UTC), 42)
