"""Progress of a long command: tqdm's bar on a terminal, and plain lines elsewhere (systemd's
journal, a pipe, a cron mail), where a bar is unreadable and tqdm would print nothing at all."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

Progress = Callable[[int, int], None]  # (papers just done, papers in all)
LINE_EVERY_S = 10.0  # at most this long between two lines...
STEPS = 10  # ...and a line at each tenth of the work, whichever comes first


@contextmanager
def progress_report(
    desc: str, total: int | None = None, *, stream: TextIO | None = None
) -> Iterator[Progress]:
    """A `Progress` for (papers just done, papers in all): a tqdm bar when `stream` (stderr) is a
    terminal, progress lines otherwise."""
    stream = stream or sys.stderr
    if stream.isatty():
        with _bar(desc, total, stream) as progress:
            yield progress
        return
    lines = ProgressLines(desc, total, write=lambda line: print(line, file=stream, flush=True))
    yield lines.update
    lines.finish()  # not after an error or Ctrl-C: the last line stays the last progress made


@contextmanager
def _bar(desc: str, total: int | None, stream: TextIO) -> Iterator[Progress]:
    from tqdm import tqdm

    bar = tqdm(total=total, unit=" papers", desc=desc, file=stream, smoothing=0.1)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done)

    try:
        yield progress
    finally:
        bar.close()


class ProgressLines:
    """Lines such as "embedding: 3,000/74,728 papers (4%), 31.2 papers/s, about 38 min left":
    one each STEPS-th of the work or LINE_EVERY_S, whichever comes first, and one at the end."""

    def __init__(
        self,
        desc: str,
        total: int | None,
        *,
        write: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.desc, self.total, self.done = desc, total, 0
        self._write, self._clock = write, clock
        self._started = self._last_line = clock()
        self._step = 0  # the last tenth a line was written for

    def update(self, done: int, total: int) -> None:
        """`done` more papers, of `total` in all."""
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
        parts = [f"{self.desc}: {self.done:,}/{total:,} papers ({100 * self.done // max(total, 1)}%)"]
        rate = self.done / elapsed if elapsed > 0 else None
        if rate:
            parts.append(f"{rate:,.1f} papers/s")
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
