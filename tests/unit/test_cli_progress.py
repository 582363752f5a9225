"""cli_progress: the lines a long command prints where no terminal shows a bar (the process's own
output through a pipe is tests/functional/test_cli_index.py's)."""

from __future__ import annotations

import io

import pytest

from paperboy.cli_progress import (
    LINE_EVERY_S,
    MEBIBYTES,
    ProgressLines,
    format_seconds,
    print_line,
    progress_report,
)


def _lines(total: int | None, now: list[float]) -> tuple[ProgressLines, list[str]]:
    written: list[str] = []
    return ProgressLines("embedding", total, write=written.append, clock=lambda: now[0]), written


def test_a_line_each_tenth_of_the_work_with_rate_and_time_left() -> None:
    now = [0.0]
    lines, written = _lines(1000, now)
    for _ in range(9):
        now[0] += 1
        lines.update(50, 1000)  # a line at 100, 200, 300 and 400 papers
    assert written == [
        f"embedding: {done}/1,000 papers ({done // 10}%), 50.0 papers/s, about {format_seconds(left)} left"
        for done, left in ((100, 18), (200, 16), (300, 14), (400, 12))
    ]
    now[0] += 11
    lines.update(550, 1000)
    lines.finish()
    assert written[-1] == "embedding: 1,000/1,000 papers (100%), 50.0 papers/s, done in 20.0 s"
    assert len(written) == 5  # the last update is said by the closing line alone


def test_a_line_every_few_seconds_when_the_tenths_are_slow() -> None:
    now = [0.0]
    lines, written = _lines(100_000, now)
    for _ in range(3):
        now[0] += LINE_EVERY_S / 2
        lines.update(30, 100_000)
    assert written == ["embedding: 60/100,000 papers (0%), 6.0 papers/s, about 4 h 37 min left"]


def test_nothing_done_says_nothing_and_an_unknown_total_counts_up() -> None:
    now = [0.0]
    lines, written = _lines(0, now)
    lines.finish()
    assert written == []
    lines, written = _lines(None, now)
    now[0] = 2.0
    lines.update(10, 10)
    lines.finish()
    assert written == ["embedding: 10/10 papers (100%), 5.0 papers/s, done in 2.0 s"]


def test_bytes_read_as_mebibytes() -> None:
    """`paperboy import` counts bytes of its files: the lines say MiB, to a tenth."""
    now = [0.0]
    written: list[str] = []
    lines = ProgressLines("importing", None, unit=MEBIBYTES, write=written.append, clock=lambda: now[0])
    total = 40 << 20
    now[0] = 2.0
    lines.update(6 << 20, total)
    now[0] = 8.0
    lines.update(total - (6 << 20), total)
    lines.finish()
    assert written == [
        "importing: 6.0/40.0 MiB (15%), 3.0 MiB/s, about 11.3 s left",
        "importing: 40.0/40.0 MiB (100%), 5.0 MiB/s, done in 8.0 s",
    ]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.04, "0.0 s"), (59.9, "59.9 s"), (60, "1 min 00 s"), (245, "4 min 05 s"), (7620, "2 h 07 min")],
)
def test_durations_read_as_a_person_would_say_them(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


def test_off_a_terminal_the_report_writes_lines_not_a_bar() -> None:
    stream = io.StringIO()
    with progress_report("indexing", stream=stream) as progress:
        progress(5, 5)
    assert stream.getvalue().startswith("indexing: 5/5 papers (100%)")
    assert "\r" not in stream.getvalue()


def test_a_message_off_a_terminal_is_a_plain_line() -> None:
    stream = io.StringIO()
    with progress_report("importing", 10, unit=MEBIBYTES, stream=stream) as progress:
        print_line("skipped f.jsonl, line 2: not valid JSON", stream=stream)
        progress(10, 10)
    assert stream.getvalue().splitlines()[0] == "skipped f.jsonl, line 2: not valid JSON"
