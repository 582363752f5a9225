"""The product end to end for bench/recommendations.py: "For you" through the real app.

For the cases it is given (the test half), exactly:

- the corpus is imported by `paperboy import papers.jsonl.gz --listings listings.tsv.gz` into a
  fresh SQLite database, and the reference MiniLM rows are stored as the papers' vectors
  (bench/reference_vectors.py: what `paperboy index` computes, in seconds);
- the app is `create_app(settings)` in-process (Starlette's test client: real HTTP semantics, no
  socket) with the product's defaults, but for the rate limits of library changes and of the API,
  raised so that saving a few thousand papers in a minute is not refused;
- for each case, a new verified member with a `read` + `library` token saves the library's papers
  with `PUT /api/v1/me/library/{id}`, then `GET /api/v1/me/recommendations?date=D&limit=1000`;
  the candidates are ranked as the answer lists them, and candidates it leaves out (none, unless a
  day lists more than 1,000 papers) tie below all of them;
- "with authors": the member also follows the case's author (storage/follows.py, as the follow
  button will), the product's default model; "without": another member, who follows no one, with
  the model's author-overlap weight set to 0 and the authors' names out of its words
  (`services.recommend.WEIGHTS`, for this run only): no author signal at all.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import BenchError, child_env, paperboy_command, run_measured, tail
from bench.reference_vectors import store_reference_vectors
from bench.workspace import SQLITE, Workspace

LIMIT = 1000  # the API's largest page: a whole day's listing


@dataclass(frozen=True, slots=True)
class ProductRun:
    with_authors: list[np.ndarray]  # per case, a score per candidate (higher first)
    content_only: list[np.ndarray]
    seconds: float  # import and vectors
    api_seconds: float  # the members, their saves and the recommendations


def run_product(cases: Sequence[Any], ids: Sequence[str], papers: Path, listings: Path) -> ProductRun:
    """Scores of the product for `cases` (bench/recommendations.Case), through the API."""
    start = time.perf_counter()
    with Workspace(pg_admin=None) as ws:
        target = ws.fresh(SQLITE)
        command = paperboy_command("import", str(papers), "--listings", str(listings))
        measured = run_measured(command, child_env(**target.env), ws.root / "import-logs")
        if measured.returncode != 0:
            raise BenchError(f"paperboy import failed: {tail(measured.stderr, 3)}")
        stored = store_reference_vectors(target.url, ids)
        print(
            f"product: corpus imported, {stored:,} reference vectors stored "
            f"({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
        ready = time.perf_counter()
        with_a, without = _through_api(cases, ids, target.url, Path(target.env["PAPERBOY_DATA_DIR"]))
    return ProductRun(with_a, without, ready - start, time.perf_counter() - ready)


def _through_api(
    cases: Sequence[Any], ids: Sequence[str], url: str, data_dir: Path
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    from paperboy.app import create_app
    from paperboy.config import load_settings
    from paperboy.domain.recommend import DEFAULT_WEIGHTS
    from paperboy.services import recommend

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient

    settings = load_settings(
        environ={},
        toml_path=data_dir / "absent.toml",
        data_dir=data_dir,
        database_url=url,
        sync_on_empty=False,
        sync_interval_hours=0,
        # Thousands of saves in a minute from one address: not what these limits are for.
        rate_limit_library="1000000/minute",
        rate_limit_api="1000000/hour",
        rate_limit_api_ip="1000000/hour",
    )
    with TestClient(create_app(settings)) as client:
        engine = client.app.state.paperboy.engine  # type: ignore[attr-defined]
        with_a = [_case_scores(client, engine, case, ids, n, follow=True) for n, case in enumerate(cases)]
        saved = recommend.WEIGHTS
        recommend.WEIGHTS = replace(DEFAULT_WEIGHTS, authors=0.0, author_words=False)
        try:
            without = [
                _case_scores(client, engine, case, ids, n, follow=False) for n, case in enumerate(cases)
            ]
        finally:
            recommend.WEIGHTS = saved
    return with_a, without


def _case_scores(
    client: Any, engine: Any, case: Any, ids: Sequence[str], n: int, *, follow: bool
) -> np.ndarray:
    from paperboy.domain.follows import author_key
    from paperboy.services.api_tokens import create_token
    from paperboy.storage.engine import now_utc
    from paperboy.storage.follows import insert_follow
    from paperboy.storage.transactions import write_transaction
    from paperboy.storage.users import insert_user

    with write_transaction(engine) as conn:
        user = insert_user(
            conn,
            email=f"case{n}-{int(follow)}@example.org",
            name=f"case{n}x{int(follow)}",
            password_hash="never used: this member never logs in",
            role="member",
            now=now_utc(),
            verified=True,
        )
        if follow:
            insert_follow(conn, user.id, "author", author_key(case.author), case.author, now_utc())
    token = create_token(engine, user, "bench", ["read", "library"]).plaintext
    headers = {"Authorization": f"Bearer {token}"}
    for row in case.library:
        answer = client.put(f"/api/v1/me/library/{ids[row]}", headers=headers)
        if answer.status_code != 200:
            raise BenchError(f"saving {ids[row]} answered {answer.status_code}: {answer.text[:200]}")
    answer = client.get(f"/api/v1/me/recommendations?date={case.day}&limit={LIMIT}", headers=headers)
    if answer.status_code != 200:
        raise BenchError(f"recommendations for {case.day} answered {answer.status_code}: {answer.text[:200]}")
    place = {item["id"]: k for k, item in enumerate(answer.json()["items"])}
    return np.array([-place.get(ids[row], LIMIT + 1) for row in case.candidates], dtype=np.float64)
