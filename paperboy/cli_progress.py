"""Progress of a long command (`paperboy index`, `paperboy import`): tqdm's bar on a terminal, and
plain lines elsewhere (systemd's journal, a pipe, a cron mail), where a bar is unreadable and tqdm
would print nothing at all."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

Progress = Callable[[int, int], None]  # (units just done, units in all)
LINE_EVERY_S = 10.0  # at most this long between two lines...
STEPS = 10  # ...and a line at each tenth of the work, whichever comes first


@dataclass(frozen=True)
class Unit:
    """What a command counts, and how a line and a bar write an amount of it."""

    name: str  # "papers", "MiB"
    divisor: int = 1  # counted things in one `name` (bytes in a MiB)
    decimals: int = 0
    bar: Mapping[str, Any] = field(default_factory=dict)  # tqdm's options for the same unit

    def amount(self, count: float) -> str:
        return f"{count / self.divisor:,.{self.decimals}f}"


PAPERS = Unit("papers", bar={"unit": " papers"})
MEBIBYTES = Unit("MiB", 1 << 20, 1, bar={"unit": "B", "unit_scale": True, "unit_divisor": 1024})


@contextmanager
def progress_report(
    desc: str, total: int | None = None, *, unit: Unit = PAPERS, stream: TextIO | None = None
) -> Iterator[Progress]:
    """A `Progress` for (units just done, units in all): a tqdm bar when `stream` (stderr) is a
    terminal, progress lines otherwise."""
    stream = stream or sys.stderr
    if stream.isatty():
        with _bar(desc, total, unit, stream) as progress:
            yield progress
        return
    lines = ProgressLines(desc, total, unit=unit, write=lambda line: print(line, file=stream, flush=True))
    yield lines.update
    lines.finish()  # not after an error or Ctrl-C: the last line stays the last progress made


def print_line(line: str, *, stream: TextIO | None = None) -> None:
    """A message (a skipped line, a warning) during a `progress_report`: above the bar on a
    terminal, which tqdm then draws again below it; a plain line elsewhere."""
    stream = stream or sys.stderr
    if stream.isatty():
        from tqdm import tqdm

        tqdm.write(line, file=stream)
        return
    print(line, file=stream, flush=True)


@contextmanager
def _bar(desc: str, total: int | None, unit: Unit, stream: TextIO) -> Iterator[Progress]:
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, file=stream, smoothing=0.1, **unit.bar)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done)

    try:
        yield progress
    finally:
        bar.close()


class ProgressLines:
    """Lines such as "embedding: 3,000/74,728 papers (4%), 31.2 papers/s, about 38 min left" or
    "importing: 12.0/40.4 MiB (29%), 2.9 MiB/s, about 9.8 s left": one each STEPS-th of the work
    or LINE_EVERY_S, whichever comes first, and one at the end."""

    def __init__(
        self,
        desc: str,
        total: int | None,
        *,
        write: Callable[[str], None],
        unit: Unit = PAPERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.desc, self.total, self.done, self.unit = desc, total, 0, unit
        self._write, self._clock = write, clock
        self._started = self._last_line = clock()
        self._step = 0  # the last tenth a line was written for

    def update(self, done: int, total: int) -> None:
        """`done` more units, of `total` in all."""
        self.done, self.total = self.done + done, total
        if self.done >= total:
            return  # `finish` says it
        now = self._clock()
        step = self.done * STEPS // total if total else 0
        if step > self._step or now - self._last_line >= LINE_EVERY_S:
            self._step, self._last_line = step, now
            self._write(self._line(now, finished=False))

    def finish(self) -> None:
        """The closing line: how many, how fast, how long (nothing when there was nothing to do)."""
        if self.done:
            self._write(self._line(self._clock(), finished=True))

    def _line(self, now: float, *, finished: bool) -> str:
        elapsed = now - self._started
        total = self.total or self.done
        unit = self.unit
        done_of_total = f"{unit.amount(self.done)}/{unit.amount(total)} {unit.name}"
        parts = [f"{self.desc}: {done_of_total} ({100 * self.done // max(total, 1)}%)"]
        rate = self.done / elapsed if elapsed > 0 else None
        if rate:
            parts.append(f"{rate / unit.divisor:,.1f} {unit.name}/s")
        if finished:
            parts.append(f"done in {format_seconds(elapsed)}")
        elif rate:
            parts.append(f"about {format_seconds((total - self.done) / rate)} left")
        return ", ".join(parts)


def format_seconds(seconds: float) -> str:
    """12.3 s, 4 min 05 s, 2 h 07 min: as precise as a reader of a log needs."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min {int(seconds % 60):02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"
