"""Importing a BibTeX file in a real browser: Chromium (Debian's, through Playwright) against
`paperboy serve`, whose background job fetches the papers the catalogue lacks from a fake arXiv
(a real HTTP server on 127.0.0.1 answering with recorded responses).

A member opens the import page from the library, uploads a small BibTeX file into a new
collection, and watches the import's page refresh itself until the fetch is done; it then lists
what could not be matched, and the library and the new collection hold the rest in the file's
order.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from arxiv_fake import TITLES, fake_arxiv
from chromium import chromium  # noqa: F401 - a fixture
from community import PASSWORD, make_member
from conftest import make_record
from live_server import live_server, site_env
from playwright.sync_api import expect

from paperboy.domain.models import Listing

pytestmark = pytest.mark.browser

HERE = "2512.00201"
BIBTEX = r"""@misc{lovelace2025saving,
      title={Saving papers for later},
      author={Ada Lovelace},
      year={2025},
      eprint={2512.00201},
      archivePrefix={arXiv},
      primaryClass={cs.DL},
      url={https://arxiv.org/abs/2512.00201},
}

@misc{markov2016,
  title = {Heat-bath random walks with {Markov} bases},
  url = {http://arxiv.org/abs/1605.08386v1},
  note = {arXiv:1605.08386 [math]},
}

@misc{missing2025,
  title={A paper arXiv never had},
  eprint={2512.99999},
  archivePrefix={arXiv},
}
"""


@pytest.fixture
def world(engine, add_papers):
    today = datetime.now(UTC).date()
    add_papers(make_record(HERE, title="Saving papers for later", listings=(Listing(today, "new"),)))
    make_member(engine, "keeper")


def test_upload_a_bibtex_file_and_watch_it_arrive(chromium, world, database_url, tmp_path):  # noqa: F811
    upload = tmp_path / "Reading group.bib"
    upload.write_text(BIBTEX)
    with fake_arxiv() as (arxiv_url, asked):
        # The fake arXiv on 127.0.0.1 needs no politeness interval: arXiv's 3 s would only slow the test.
        env = {
            **site_env(database_url, tmp_path),
            "PAPERBOY_ARXIV_API_URL": arxiv_url,
            "PAPERBOY_ARXIV_DELAY": "0",
        }
        with live_server(env, tmp_path / "serve.log") as base:
            context = chromium.new_context()
            page = context.new_page()
            page.goto(f"{base}/login")
            page.get_by_label("E-mail address").fill("keeper@example.org")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state()
            page.goto(f"{base}/library")
            page.get_by_role("link", name="Import or export your library").click()
            page.get_by_label("A file").set_input_files(str(upload))
            page.get_by_label("Also put the papers in").select_option("new")
            page.get_by_role("button", name="Import").click()
            expect(page.get_by_role("heading", name="Import of Reading group.bib")).to_be_visible()
            # serve's background job takes it up within seconds; the page refreshes itself meanwhile
            expect(page.get_by_text("Finished")).to_be_visible(timeout=60_000)
            expect(page.locator("#count-matched")).to_have_text("1")
            expect(page.locator("#count-fetched")).to_have_text("1")
            expect(page.locator(".unmatched-list li")).to_have_text(["2512.99999: A paper arXiv never had"])
            assert [sorted(ids.split(",")) for ids in asked] == [["1605.08386", "2512.99999"]]
            page.get_by_role("link", name="the collection it fills").click()
            expect(page.get_by_role("heading", name="Your library: Reading group")).to_be_visible()
            titles = page.locator("article.card h2").all_inner_texts()
            assert titles == ["Saving papers for later", TITLES["1605.08386"]]
            context.close()
