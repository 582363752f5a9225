"""Search in a real browser: Chromium (Debian's, through Playwright) against `paperboy serve`,
over the first 120 papers of the real arXiv corpus, imported and indexed by the real commands
(`paperboy import`, `paperboy index`) with the real embedding model when the search extra is
installed (embedder "auto"; the hashing embedder otherwise).

A reader types a query into the header's search box, sees highlighted results, narrows them
with the category control, opens a result, and finds its similar papers, which can be ordered
by date. Screenshots are saved in artifacts/ (not committed).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import pytest
from chromium import chromium, screenshot  # noqa: F401 - chromium is a fixture
from conftest import REPO_ROOT, shared_path
from live_server import live_server, site_env

pytestmark = pytest.mark.browser

# MiniLM embeds ~5 abstracts a second on 2 busy cores: 120 papers keep the test near a minute.
SAMPLE = 120
QUERY = "gaussian splatting"  # in 8 of the sample's titles


@pytest.fixture
def sample(tmp_path):
    """The corpus's first SAMPLE papers, and their listing days, as files to import."""
    papers, ids = tmp_path / "papers.jsonl", set()
    with gzip.open(shared_path("data", "arxiv", "papers.jsonl.gz"), "rt") as lines, papers.open("w") as out:
        for line, _ in zip(lines, range(SAMPLE), strict=False):
            ids.add(json.loads(line)["id"])
            out.write(line)
    listings = tmp_path / "listings.tsv"
    with gzip.open(shared_path("data", "arxiv", "listings.tsv.gz"), "rt") as rows, listings.open("w") as out:
        out.writelines(row for row in rows if row.rstrip("\n").split("\t")[-1] in ids)
    return papers, listings


def _paperboy(env: dict[str, str], *args: str) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    done = subprocess.run(
        [sys.executable, "-m", "paperboy", *args],
        env={**base, **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_search_from_the_header_then_similar_papers(chromium, sample, database_url, tmp_path):  # noqa: F811
    papers, listings = sample
    env = {
        **site_env(database_url, tmp_path),
        "PAPERBOY_EMBEDDER": "auto",
    }
    _paperboy(env, "import", str(papers), "--listings", str(listings))
    _paperboy(env, "index")
    with live_server(env, tmp_path / "serve.log") as base:
        context = chromium.new_context(viewport={"width": 1100, "height": 900})
        page = context.new_page()
        page.goto(f"{base}/papers/date/2025-03-18")
        header = page.locator("header.site-header")
        header.get_by_role("searchbox", name="Search papers").fill(QUERY)
        header.get_by_role("button", name="Search").click()
        page.wait_for_url("**/search?q=gaussian+splatting")
        _see_highlighted_results(page)
        _narrow_with_the_category_control(page)
        _open_a_result_and_its_similar_papers(page)
        context.close()


def _see_highlighted_results(page) -> None:
    cards = page.locator("article.card.result")
    assert cards.count() >= 5
    first = cards.first
    marked = " ".join(first.locator("h2.card-title mark").all_inner_texts()).lower()
    assert "gaussian" in marked
    assert "splatting" in marked
    assert first.locator(".excerpt mark").count() > 0
    assert page.locator("#search-q").input_value() == QUERY
    assert page.locator(".search-summary").inner_text().split(":")[0].endswith("results")
    screenshot(page, "search-results")


def _narrow_with_the_category_control(page) -> None:
    page.get_by_label("Category").select_option("cs.CV")
    page.get_by_label("Sort by").select_option("date")  # the script searches again at once
    page.wait_for_url("**/search?q=gaussian+splatting&cat=cs.CV&sort=date")
    cards = page.locator("article.card.result")
    assert cards.count() >= 3
    for chips in cards.locator(".meta").all_inner_texts():
        assert "cs.CV" in chips
    assert "in cs.CV" in page.locator(".search-summary").inner_text()


def _open_a_result_and_its_similar_papers(page) -> None:
    link = page.locator("article.card.result h2.card-title a").first
    title = link.inner_text()
    link.click()
    page.wait_for_load_state()
    assert page.locator("article.paper h1").inner_text() == title
    similar = page.locator("#similar .similar-list article")
    assert similar.count() == 10
    assert title not in similar.locator("h3").all_inner_texts()
    screenshot(page, "paper-similar")
    page.locator("#similar").get_by_role("link", name="Newest").click()
    page.wait_for_url("**?similar=date#similar")
    assert page.locator("#similar .sort-tabs a.active").inner_text() == "Newest"
    assert page.locator("#similar .similar-list article").count() == 10
