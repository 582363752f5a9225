"""A web process of `serve` renders its front page and its first paper's page before it answers
(web/warm_pages.py): its first readers find the templates compiled, the statements compiled and
the pages in the page cache. Apps made for tests do not warm unless asked."""

from __future__ import annotations

import asyncio

from app_client import counted_statements, listed_ids, open_client, wait_for_warm_up
from conftest import make_record
from fastapi.testclient import TestClient

from paperboy.app import create_app
from paperboy.web.warm_pages import warm_pages


def test_the_first_front_page_of_a_warmed_app_is_served_from_the_page_cache(settings, add_papers):
    add_papers(make_record("2506.00001"), make_record("2506.00002"))
    # The hashing embedder: the real model's warm-up can outlast a cached page's freshness.
    settings = settings.replace(embedder="hashing")
    with TestClient(create_app(settings, serving=True)) as client:
        wait_for_warm_up()
        for path in ("/", "/papers/2506.00002"):  # the front page, then its first card's paper
            with counted_statements(client) as statements:
                page = client.get(path)
            assert page.status_code == 200
            assert len(statements) <= 1, statements  # at most the catalogue version
    with open_client(settings) as client:  # not warmed: the first front page is rendered now
        with counted_statements(client) as statements:
            assert sorted(listed_ids(client.get("/").text)) == ["2506.00001", "2506.00002"]
        assert len(statements) > 1


def test_warming_says_what_answered_and_an_empty_site_warms_its_front_page(settings, add_papers):
    with open_client(settings) as client:
        context = client.app.state.paperboy  # type: ignore[attr-defined]
        assert asyncio.run(warm_pages(client.app, context)) == ["/"]  # the welcome page: no paper
        env = context.templates.env
        assert set(env.list_templates(extensions=["html"])) <= {name for _, name in env.cache}
