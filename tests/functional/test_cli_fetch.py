"""`paperboy fetch ID…` against a local server answering with recorded arXiv API responses."""

from __future__ import annotations

import pytest
from conftest import shared_path
from fixture_server import fixture_server
from sqlalchemy import select

from paperboy.cli import main
from paperboy.storage.schema import papers

BODIES = ("fixtures", "arxiv_api", "arxiv.py_golden_2026", "bodies")
RECORDED = {
    "1707.08567": "id_1707.08567_s0_m100_6a1afebfc6a3.xml",
    "astro-ph/0601001": "id_astro-ph_0601001_s0_m100_3150dca9dc76.xml",
    # arXiv's answer for an id it does not know (recorded for 0808.05394): 200, no entries
    "2512.99999": "id_0808.05394_s0_m100_7b0c7d0a7cdd.xml",
}


def _respond(path, query):
    id_list = query.get("id_list", [""])[0]
    if id_list in RECORDED:
        return (
            200,
            {"Content-Type": "application/atom+xml"},
            shared_path(*BODIES, RECORDED[id_list]).read_bytes(),
        )
    return 400, {}, shared_path(*BODIES, "id_abc_s0_m100_b79c8dcf6bc3.xml").read_bytes()


@pytest.fixture
def api(monkeypatch, cli_env):
    with fixture_server(_respond) as (base, requests):
        monkeypatch.setenv("PAPERBOY_ARXIV_API_URL", f"{base}/api/query")
        yield requests


def _titles(engine):
    with engine.connect() as conn:
        return dict(conn.execute(select(papers.c.arxiv_id, papers.c.title)).all())


def test_fetch_adds_papers_by_any_spelling_of_their_id(api, engine, capsys):
    assert main(["fetch", "https://arxiv.org/abs/1707.08567v1"]) == 0
    assert main(["fetch", "arXiv:astro-ph/0601001"]) == 0
    titles = _titles(engine)
    assert set(titles) == {"1707.08567", "astro-ph/0601001"}
    assert all(titles.values())
    assert "1 new" in capsys.readouterr().out


def test_unknown_id_is_reported_and_known_ones_kept(api, engine, capsys):
    assert main(["fetch", "1707.08567"]) == 0
    assert main(["fetch", "2512.99999"]) == 1
    assert capsys.readouterr().err.strip() == "paperboy: error: arXiv does not know 2512.99999"
    assert set(_titles(engine)) == {"1707.08567"}


def test_malformed_id_fails_before_any_request(api, engine, capsys):
    assert main(["fetch", "not-an-id"]) == 1
    assert "is not an arXiv id" in capsys.readouterr().err
    assert api == []
    assert _titles(engine) == {}
