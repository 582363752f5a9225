"""The reader's own paperboy in a real browser (issue 16): Chromium (Debian's, through Playwright)
against `paperboy serve` with the product's defaults (the real model embeds the papers).

A newcomer signs up choosing two categories and an author and finds a non-empty "For you" that
says why each paper is there; saves three papers into a new collection from their pages; marks a
paper not interested on "For you" (it disappears and stays gone); sees the reasons change to
their library; imports a small BibTeX file into a collection; receives an alert for a new version
of a saved paper after an import of the catalogue (the same write path as a sync); and opens the
public collection's feed in a feed parser.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from chromium import chromium  # noqa: F401 - a fixture
from conftest import make_record
from live_server import live_server
from playwright.sync_api import expect

from paperboy.domain.models import Listing

pytestmark = pytest.mark.browser

LANGUAGE = {
    "2512.00301": ("Instruction tuning for small language models", ("Grace Hopper", "Ada Byron")),
    "2512.00302": ("Retrieval augmented generation for question answering", ("Kurt Gödel",)),
    "2512.00303": ("Tokenisation and multilingual language models", ("Emmy Noether",)),
    "2512.00304": ("Long context attention in language models", ("John Backus",)),
    "2512.00305": ("Preference optimisation of chat language models", ("Barbara Liskov",)),
}
VISION = {
    "2512.00311": ("Semantic segmentation of street images", ("Alan Kay",)),
    "2512.00312": ("Object detection with vision transformers", ("Edsger Dijkstra",)),
    "2512.00313": ("Depth estimation from a single image", ("Donald Knuth",)),
}
BIBTEX = """@misc{kay2025segmentation,
      title={Semantic segmentation of street images},
      author={Alan Kay},
      year={2025},
      eprint={2512.00311},
      archivePrefix={arXiv},
      primaryClass={cs.CV},
      url={https://arxiv.org/abs/2512.00311},
}
@misc{dijkstra2025detection,
      title={Object detection with vision transformers},
      author={Edsger Dijkstra},
      year={2025},
      eprint={2512.00312},
      archivePrefix={arXiv},
      primaryClass={cs.CV},
      url={https://arxiv.org/abs/2512.00312},
}
"""
ABSTRACTS = {
    "cs.CL": "We train and evaluate language models on text: tokens, prompts, answers and dialogue.",
    "cs.CV": "We train convolutional and transformer networks on images and pixels for visual tasks.",
}


@pytest.fixture
def world(add_papers):
    today = datetime.now(UTC).date()
    records = [
        make_record(
            arxiv_id,
            title=title,
            abstract=f"{title}. {ABSTRACTS[category]}",
            authors=authors,
            categories=(category,),
            listings=(Listing(today, "new"),),
        )
        for category, papers in (("cs.CL", LANGUAGE), ("cs.CV", VISION))
        for arxiv_id, (title, authors) in papers.items()
    ]
    add_papers(*records)


def _sign_up_and_log_in(page, base: str) -> None:
    page.goto(f"{base}/signup")
    page.get_by_label("User name").fill("reader")
    page.get_by_label("E-mail address").fill("reader@example.org")
    page.get_by_label("Password").fill("a long enough secret")
    page.get_by_label("cs.CL").check()
    page.get_by_label("cs.CV").check()
    page.get_by_label("Authors, one per line").fill("grace hopper")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_load_state()
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill("reader@example.org")
    page.get_by_label("Password").fill("a long enough secret")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def _wait_for_vectors(page, base: str) -> None:
    """The default serve embeds the papers in the background: For you's content features need them."""
    for _ in range(240):
        answer = page.request.get(f"{base}/healthz/search")
        state = answer.json()
        if (
            answer.status == 200
            and state["vectors_loaded"] >= len(LANGUAGE) + len(VISION)
            and not state["papers_waiting"]
        ):
            return
        page.wait_for_timeout(500)
    pytest.fail(f"the papers were not embedded in time: {answer.text()}")


def _reasons(page) -> dict[str, str]:
    cards = page.locator("article.card")
    found = {}
    for i in range(cards.count()):
        card = cards.nth(i)
        href = card.locator("h2 a").get_attribute("href")
        found[href.rsplit("/", 1)[-1]] = card.locator("p.reason").inner_text()
    return found


def _import_new_version(base_env: dict[str, str], tmp_path, arxiv_id: str) -> None:
    """A second version of a paper through `paperboy import` (the write path every sync takes)."""
    title, authors = LANGUAGE[arxiv_id]
    day = datetime.now(UTC) - timedelta(days=2)
    line = {
        "id": arxiv_id,
        "title": title,
        "abstract": f"{title}. {ABSTRACTS['cs.CL']}",
        "authors": ", ".join(authors),
        "categories": "cs.CL",
        "versions": [
            {"version": "v1", "created": (day - timedelta(days=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")},
            {"version": "v2", "created": day.strftime("%a, %d %b %Y %H:%M:%S GMT")},
        ],
    }
    path = tmp_path / "update.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "paperboy", "import", str(path)],
        env=base_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_sign_up_for_you_collection_not_interested_alert_and_public_feed(
    chromium,  # noqa: F811
    world,
    database_url,
    tmp_path,
):
    env = {"PAPERBOY_DATABASE_URL": database_url, "PAPERBOY_DATA_DIR": str(tmp_path / "data")}
    with live_server(env, tmp_path / "serve.log") as base:
        context = chromium.new_context()
        page = context.new_page()
        _sign_up_and_log_in(page, base)
        _wait_for_vectors(page, base)

        page.goto(f"{base}/for-you")
        cold = _reasons(page)
        assert len(cold) == len(LANGUAGE) + len(VISION)  # not empty: every paper of the day
        assert "by an author you follow: Grace Hopper" in cold["2512.00301"]
        assert "a category you follow" in cold["2512.00312"]
        assert not any("in your library" in reason for reason in cold.values())

        kept = ["2512.00302", "2512.00303", "2512.00304"]
        for n, arxiv_id in enumerate(kept):
            page.goto(f"{base}/papers/{arxiv_id}")
            save_to = page.locator("form.save-to")
            if n == 0:
                save_to.get_by_label("New collection").fill("Language models")
            else:
                save_to.get_by_label("Language models").check()
            save_to.get_by_role("button", name="Save to collections").click()
            page.wait_for_load_state()
            expect(page.locator("form.save-to").get_by_label("Language models")).to_be_checked()

        page.goto(f"{base}/for-you")
        hidden = "2512.00313"
        card = page.locator(f'article.card:has(h2 a[href="/papers/{hidden}"])')
        card.get_by_role("button", name="Not interested").click()
        expect(page.get_by_text("Hidden from your feeds.")).to_be_visible()  # folded in place
        page.goto(f"{base}/for-you")
        trained = _reasons(page)
        assert hidden not in trained  # and it stays gone
        assert not set(kept) & set(trained)  # what the reader saved is not offered again
        assert "in your library" in trained["2512.00305"]  # the reasons changed: now their library
        assert trained["2512.00305"] != cold["2512.00305"]

        # A small BibTeX file, as arXiv's "Export BibTeX" writes it, into a new collection.
        upload = tmp_path / "Vision.bib"
        upload.write_text(BIBTEX, encoding="utf-8")
        page.goto(f"{base}/library")
        page.get_by_role("link", name="Import or export your library").click()
        page.get_by_label("A file").set_input_files(str(upload))
        page.get_by_label("Also put the papers in").select_option("new")
        page.get_by_role("button", name="Import").click()
        expect(page.get_by_text("Finished")).to_be_visible(timeout=60_000)
        expect(page.locator("#count-matched")).to_have_text("2")
        page.get_by_role("link", name="the collection it fills").click()
        expect(page.get_by_role("heading", name="Your library: Vision")).to_be_visible()
        assert sorted(page.locator("article.card h2").all_inner_texts()) == sorted(
            VISION[i][0] for i in ("2512.00311", "2512.00312")
        )

        # An alert: a saved paper's new version, after an import of the catalogue.
        _import_new_version(env, tmp_path, kept[0])
        page.goto(base + "/")
        expect(page.locator("header .alert-count")).to_have_text("1")  # the header's count of unseen alerts
        page.goto(f"{base}/notifications")
        expect(page.locator("main")).to_contain_text(LANGUAGE[kept[0]][0])
        expect(page.locator("main")).to_contain_text("version")

        # The collection made public; its feed read by a feed parser, logged out.
        page.goto(f"{base}/library")
        edit = page.locator("li.collection-item", has_text="Language models").locator(
            "details.collection-edit"
        )
        edit.locator("summary").click()
        edit.get_by_label("Anyone (a page and feeds)").check()
        edit.get_by_role("button", name="Save changes").click()
        page.wait_for_load_state()
        public_path = page.get_by_role("link", name="public page").get_attribute("href")
        context.close()

        visitor = chromium.new_context()
        page = visitor.new_page()
        page.goto(base + public_path)
        rss_href = page.get_by_role("link", name="RSS").get_attribute("href")
        feed = feedparser.parse(page.request.get(base + rss_href).body())
        assert not feed.bozo
        assert sorted(entry.title for entry in feed.entries) == sorted(LANGUAGE[i][0] for i in kept)
        visitor.close()
