"""`python -m bench.search_quality [--quick] [--embedder minilm|hashing]`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bench import search_quality
from bench.common import run_standalone


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.search_quality", description=search_quality.__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="40 train / 40 test queries, ~1,100 documents")
    parser.add_argument("--embedder", choices=("minilm", "hashing"), default="minilm")
    args = parser.parse_args(argv)
    return run_standalone(
        "search_quality", "search-quality-", lambda: search_quality.run(args.quick, args.embedder)
    )


if __name__ == "__main__":
    raise SystemExit(main())
