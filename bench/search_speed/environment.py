"""What every part of the search-speed benchmark shares: where it keeps its databases, the model
and its reference vectors, the server's environment, and reading the corpus."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT

CACHE = REPO_ROOT / "bench" / ".cache" / "search-speed"
MODEL = "all-MiniLM-L6-v2"
REFERENCE = "minilm-l6-v2.f16.npy"
MODES = ("lexical", "semantic", "hybrid")
SERVER_ENV = {
    "PAPERBOY_EMBEDDER": "minilm",
    "PAPERBOY_PAGE_CACHE_MB": "0",  # measure searches, not the cache of finished responses
    "PAPERBOY_SYNC_ON_EMPTY": "0",
    "PAPERBOY_SYNC_INTERVAL_HOURS": "0",
    "PAPERBOY_EMBED_ON_SYNC": "0",
    # The API's and the searches' per-IP budgets (issue 12) would answer wrk 429 in a fraction of a
    # millisecond: this measures searches, not the rate limiter.
    "PAPERBOY_RATE_LIMIT_API_IP": "1000000000/hour",
    "PAPERBOY_RATE_LIMIT_API": "1000000000/hour",
    "PAPERBOY_RATE_LIMIT_SEARCH": "1000000000/minute",
}


def read_records(papers: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(papers, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def open_engine(data_dir: Path) -> Any:
    from paperboy.storage.engine import make_engine

    return make_engine(f"sqlite:///{data_dir / 'paperboy.sqlite3'}")
