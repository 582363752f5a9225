"""`python -m bench.search_speed [--million] [--ann-only]`."""

from __future__ import annotations

import argparse

from bench import search_speed
from bench.common import find_corpus, run_standalone


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.search_speed", description=search_speed.__doc__.split("\n")[0]
    )
    search_speed.add_arguments(parser)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--workers", type=int, default=2, help="paperboy serve worker processes")
    args = parser.parse_args()
    return run_standalone("search", "search-speed-", lambda: search_speed.run(find_corpus(), args))


if __name__ == "__main__":
    raise SystemExit(main())
