"""The API's declared patterns say what the code under them checks."""

from __future__ import annotations

import re
import sys

from paperboy.domain.markup import InvalidComment, render_comment
from paperboy.web.api.models import NOT_BLANK

BLANK = [chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()] + ["\x00"]


def test_a_comment_is_blank_exactly_when_the_declared_pattern_finds_nothing():
    for character in BLANK:
        assert not re.search(NOT_BLANK, character), repr(character)
        try:
            render_comment(character * 3)
        except InvalidComment:
            continue
        raise AssertionError(f"{character!r} alone was not refused")
    for text in ["a", "\ufeff", "\u200b", "-", "\x01"]:
        assert re.search(NOT_BLANK, text), repr(text)
        render_comment(text)  # accepted
