"""`python -m bench.search_quality [--quick] [--embedder minilm|hashing]`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bench import search_quality
from bench.common import BenchError, save_results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.search_quality", description=search_quality.__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="40 train / 40 test queries, ~1,100 documents")
    parser.add_argument("--embedder", choices=("minilm", "hashing"), default="minilm")
    args = parser.parse_args(argv)
    try:
        results = search_quality.run(args.quick, args.embedder)
    except BenchError as exc:
        print(f"bench search_quality: {exc}")
        return 1
    print(f"\nresults saved to {save_results(results, 'search-quality-')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
