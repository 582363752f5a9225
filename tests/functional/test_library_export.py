"""Exporting a library (paperboy JSON, BibTeX, RIS: files to keep, never shared) and importing
it back on another paperboy site: a second, separately migrated database whose catalogue lacks
some of the papers, which the import fetches from a fake arXiv serving recorded responses.
Afterwards both sites export the same library: saves and when, read marks, notes, collections
with their order, descriptions and visibility. Imports into a collection keep the file's order."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator

import pytest
from app_client import open_client
from arxiv_fake import fake_arxiv, recorded_feed
from community import log_in_as, make_member
from conftest import PG_ADMIN_URL, empty_postgresql_database, make_record

from paperboy.integrations.arxiv_api import parse_feed
from paperboy.services import collections, library
from paperboy.services.api_tokens import create_token
from paperboy.services.library_imports import run_library_imports
from paperboy.storage.engine import make_engine
from paperboy.storage.migrate import upgrade
from paperboy.storage.papers import write_papers

HERE = ("2506.00001", "2506.00002")
FETCHED = ("1707.08567", "astro-ph/0601001")
IP = "127.0.0.1"


@pytest.fixture
def other_site_url(_template_database, tmp_path) -> Iterator[str]:
    """A second site's database, migrated from nothing like any new site's."""
    if PG_ADMIN_URL:
        with empty_postgresql_database("paperboy_other_site") as url:
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            yield url
    else:
        path = tmp_path / "other-site.sqlite3"
        shutil.copy(_template_database, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def kept_library(settings, engine, add_papers):
    """A member's library on the first site: four papers saved, one read, one with a note, two
    collections (one public, with a description; the other in a chosen order)."""
    add_papers(*(make_record(arxiv_id) for arxiv_id in HERE))
    write_papers(engine, parse_feed(recorded_feed(list(FETCHED))))
    ada = make_member(engine, "ada")
    for arxiv_id in (*HERE, *FETCHED):
        library.save_paper(engine, settings, ada, arxiv_id, IP, save=True)
        time.sleep(0.002)  # distinct saved_at
    library.mark_read(engine, settings, ada, HERE[1], IP, read=True)
    library.write_note(engine, settings, ada, FETCHED[0], IP, "Read §3 first.\nThen the appendix.")
    talks = collections.create_collection(
        engine, settings, ada, IP, "Talks", "For the reading group", is_public=True
    )
    later = collections.create_collection(engine, settings, ada, IP, "Later")
    for arxiv_id in (FETCHED[1], HERE[0], FETCHED[0]):
        collections.add_to_collection(engine, settings, ada, IP, talks.id, arxiv_id)
    collections.add_to_collection(engine, settings, ada, IP, later.id, HERE[1])
    return ada


def _library(export: bytes) -> dict[str, object]:
    document = json.loads(export)
    assert document["format"] == "paperboy-library"
    assert document["version"] == 1
    return {key: value for key, value in document.items() if key not in ("exported_at", "site")}


def test_every_format_is_a_private_attachment(settings, engine, kept_library):
    token = create_token(engine, kept_library, "export", ["read"]).plaintext
    with open_client(settings) as client:
        log_in_as(client, kept_library)
        for fmt, media, marker in (
            ("json", "application/json", '"paperboy-library"'),
            ("bibtex", "application/x-bibtex", "eprint = {1707.08567}"),
            ("ris", "application/x-research-info-systems", "AN  - arXiv:astro-ph/0601001"),
        ):
            page = client.get(f"/library/export?format={fmt}")
            assert page.status_code == 200
            assert page.headers["content-type"].startswith(media)
            assert page.headers["cache-control"] == "private, no-store"
            assert page.headers["content-disposition"].startswith(
                'attachment; filename="paperboy-library-ada.'
            )
            assert marker in page.text
            client.cookies.clear()
            api = client.get(
                f"/api/v1/me/library/export?format={fmt}", headers={"Authorization": f"Bearer {token}"}
            )
            assert api.status_code == 200
            assert api.content == page.content or fmt == "json"  # the JSON holds its moment
            log_in_as(client, kept_library)
        assert client.get("/library/export?format=xml").status_code == 400
        client.cookies.clear()
        assert client.get("/library/export").headers["location"].startswith("/login")


def test_a_library_exported_and_imported_on_another_site_is_the_same_library(
    settings, engine, kept_library, other_site_url, tmp_path
):
    with open_client(settings) as client:
        log_in_as(client, kept_library)
        exported = client.get("/library/export?format=json").content
    other_settings = settings.replace(database_url=other_site_url, data_dir=tmp_path / "other-data")
    with (
        fake_arxiv() as (arxiv_url, asked),
        open_client(other_settings.replace(arxiv_api_url=arxiv_url)) as other,
    ):
        other_engine = other.app.state.paperboy.engine
        write_papers(other_engine, [make_record(arxiv_id) for arxiv_id in HERE])  # not the other two
        csrf = log_in_as(other, make_member(other_engine, "ada-elsewhere"))
        files = {"file": ("paperboy-library-ada.json", exported, "application/json")}
        answer = other.post("/library/imports", data={"csrf_token": csrf}, files=files)
        assert answer.status_code == 303, answer.text
        assert run_library_imports(other_engine, other_settings.replace(arxiv_api_url=arxiv_url)) == 1
        assert [sorted(ids.split(",")) for ids in asked] == [sorted(FETCHED)]  # one request for both
        progress = other.get(answer.headers["location"]).text
        assert "paperboy library" in progress
        imported = other.get("/library/export?format=json").content
    assert _library(imported) == _library(exported)
    restored = _library(imported)
    assert [c["name"] for c in restored["collections"]] == ["Talks", "Later"]  # type: ignore[index]
    assert restored["collections"][0] == {  # type: ignore[index]
        "name": "Talks",
        "description": "For the reading group",
        "public": True,
        "papers": [FETCHED[1], HERE[0], FETCHED[0]],
    }


def test_importing_into_a_new_collection_and_an_existing_one_keeps_the_files_order(
    settings, engine, add_papers
):
    add_papers(*(make_record(arxiv_id) for arxiv_id in HERE))
    ada = make_member(engine, "ada")
    reading = collections.create_collection(engine, settings, ada, IP, "Reading")
    collections.add_to_collection(engine, settings, ada, IP, reading.id, HERE[1])
    pasted = f"{FETCHED[0]}\n{HERE[0]}\n{FETCHED[1]}"
    token = create_token(engine, ada, "import", ["library", "read"]).plaintext
    bearer = {"Authorization": f"Bearer {token}"}
    with fake_arxiv() as (arxiv_url, _), open_client(settings.replace(arxiv_api_url=arxiv_url)) as client:
        csrf = log_in_as(client, ada)
        files = {"file": ("Group reading_2025.txt", pasted.encode(), "text/plain")}
        made = client.post("/library/imports", data={"csrf_token": csrf, "collection": "new"}, files=files)
        assert made.status_code == 303
        client.cookies.clear()
        into = client.post(
            "/api/v1/me/library/imports",
            json={"ids": pasted.split(), "collection": reading.id},
            headers=bearer,
        )
        assert into.status_code == 202, into.text
        assert into.json()["collection_id"] == reading.id
        assert (into.json()["matched"], into.json()["waiting"]) == (1, 2)
        run_library_imports(engine, settings.replace(arxiv_api_url=arxiv_url))
        status = client.get(f"/api/v1/me/library/imports/{into.json()['id']}", headers=bearer).json()
        assert (status["status"], status["fetched"], status["waiting"]) == ("done", 2, 0)
        assert status["unmatched"] == []
    rows = {row.name: row for row in collections.collections_of(engine, ada)}
    assert set(rows) == {"Reading", "Group reading 2025"}
    order = {
        name: [e.view.paper.arxiv_id for e in collections.collection_page(engine, ada, row.id).entries]
        for name, row in rows.items()
    }
    assert order == {
        "Reading": [HERE[1], FETCHED[0], HERE[0], FETCHED[1]],  # after what it held
        "Group reading 2025": [FETCHED[0], HERE[0], FETCHED[1]],
    }


def test_another_members_collection_or_import_is_not_found(settings, engine, add_papers):
    add_papers(make_record(HERE[0]))
    ada, eve = make_member(engine, "ada"), make_member(engine, "eve", role="admin")
    private = collections.create_collection(engine, settings, ada, IP, "Private")
    token = create_token(engine, eve, "import", ["library", "read"]).plaintext
    bearer = {"Authorization": f"Bearer {token}"}
    with open_client(settings) as client:
        refused = client.post(
            "/api/v1/me/library/imports", json={"ids": [HERE[0]], "collection": private.id}, headers=bearer
        )
        assert refused.status_code == 404
        csrf = log_in_as(client, ada)
        own = client.post(
            "/library/imports", data={"csrf_token": csrf, "ids": HERE[0], "collection": str(private.id)}
        )
        import_id = own.headers["location"].rsplit("/", 1)[1]
        client.cookies.clear()
        assert client.get(f"/api/v1/me/library/imports/{import_id}", headers=bearer).status_code == 404
        read_only = create_token(engine, eve, "reader", ["read"]).plaintext
        scoped = client.post(
            "/api/v1/me/library/imports",
            json={"ids": [HERE[0]]},
            headers={"Authorization": f"Bearer {read_only}"},
        )
        assert scoped.status_code == 403
    assert [row.papers for row in collections.collections_of(engine, ada)] == [1]
    assert collections.collections_of(engine, eve) == []
