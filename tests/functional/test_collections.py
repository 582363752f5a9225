"""Collections, notes and read marks end to end, in-process: the library page's forms and filters,
"Save to…" on a paper page, public collection pages and their feeds and exports, privacy (a
private collection or note is nobody else's: other members, moderators, admins, anonymous
readers), hostile input, and the statements the library page costs."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from app_client import counted_statements, listed_ids, open_client
from community import log_in_as, make_member
from conftest import make_record

from paperboy.domain import collections as rules
from paperboy.domain.models import Listing
from paperboy.services import collections as service
from paperboy.services.library import mark_read, save_paper, write_note

PAPERS = ("2506.00001", "2506.00002", "2506.00003")
IP = "192.0.2.9"
JSON = {"Accept": "application/json"}


@pytest.fixture
def catalogue(add_papers):
    add_papers(
        *(
            make_record(
                arxiv_id, title=f"Sparse attention part {n}", listings=(Listing(date(2025, 6, 12), "new"),)
            )
            for n, arxiv_id in enumerate(PAPERS)
        )
    )


def _create(client, csrf, name, visibility="private", description=""):
    data = {"csrf_token": csrf, "name": name, "description": description, "visibility": visibility}
    return client.post("/library/collections", data=data)


def _collection_id(answer) -> int:
    return int(re.search(r"collection=(\d+)", answer.headers["location"]).group(1))


def test_a_collection_is_made_filled_from_paper_pages_ordered_and_published(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        made = _create(client, csrf, "Sparse reading", description="Attention, made sparse.")
        assert made.status_code == 303
        number = _collection_id(made)
        page = client.get(f"/papers/{PAPERS[0]}")
        assert page.headers["cache-control"] == "private, no-store"
        assert f'name="collection" value="{number}"' in page.text  # the Save to… control
        for arxiv_id in PAPERS:
            data = {"csrf_token": csrf, "collection": str(number), "next": f"/papers/{arxiv_id}"}
            answer = client.post(f"/papers/{arxiv_id}/collections", data=data)
            assert answer.status_code == 303
            assert answer.headers["location"] == f"/papers/{arxiv_id}"
        assert f'value="{number}" checked' in client.get(f"/papers/{PAPERS[1]}").text
        library = client.get(f"/library?collection={number}")
        assert library.headers["cache-control"] == "private, no-store"
        assert listed_ids(library.text) == list(PAPERS)
        move = {"csrf_token": csrf, "action": "up"}
        assert client.post(f"/library/collections/{number}/papers/{PAPERS[2]}", data=move).status_code == 303
        assert listed_ids(client.get(f"/library?collection={number}").text) == [
            PAPERS[0],
            PAPERS[2],
            PAPERS[1],
        ]
        own = client.get(f"/collections/{number}")
        assert own.status_code == 301  # the slug is added
        path = own.headers["location"]
        assert path == f"/collections/{number}-sparse-reading"
        assert client.get(path).headers["cache-control"] == "private, no-store"
        update = {"csrf_token": csrf, "action": "update", "name": "Sparse reading", "visibility": "public"}
        update["description"] = "Attention, made sparse."
        assert client.post(f"/library/collections/{number}", data=update).status_code == 303
    with open_client(settings) as anonymous:
        public = anonymous.get(path)
        assert public.status_code == 200
        assert public.headers["cache-control"] == "no-cache"
        assert listed_ids(public.text) == [PAPERS[0], PAPERS[2], PAPERS[1]]
        assert 'A collection by <a href="/users/ada">ada</a>' in public.text
        assert "Attention, made sparse." in public.text
        assert anonymous.get(f"/collections/{number}-old-name").headers["location"] == path


def test_public_feeds_parse_and_exports_cite_every_paper(settings, engine, catalogue):
    ada = make_member(engine, "ada")
    made = service.create_collection(
        engine, settings, ada, IP, "Sparse <reading> & more", "A & B", is_public=True
    )
    for arxiv_id in PAPERS:
        service.add_to_collection(engine, settings, ada, IP, made.id, arxiv_id)
    base = f"/collections/{made.id}-{made.slug}"
    with open_client(settings) as client:
        rss = client.get(base + ".rss")
        assert rss.status_code == 200
        assert rss.headers["cache-control"] == "no-cache"
        channel = ET.fromstring(rss.content).find("channel")
        assert channel.findtext("title").startswith("Sparse <reading> & more · a collection by ada")
        links = [item.findtext("link") for item in channel.findall("item")]
        assert [link.rsplit("/", 1)[1] for link in links] == list(reversed(PAPERS))  # latest added first
        assert client.get(base + ".rss", headers={"If-None-Match": rss.headers["etag"]}).status_code == 304
        atom = ET.fromstring(client.get(base + ".atom").content)
        assert len(atom.findall("{http://www.w3.org/2005/Atom}entry")) == 3
        feed = json.loads(client.get(base + ".json").content)
        assert len(feed["items"]) == 3
        assert feed["home_page_url"].endswith(base)
        bib = client.get(base + ".bib")
        assert bib.headers["content-type"].startswith("application/x-bibtex")
        assert bib.text.count("@article") + bib.text.count("@misc") == 3
        assert client.get(base + ".ris").text.count("ER  -") == 3
        assert client.get(base + ".exe").status_code == 404
        assert client.get("/collections/x-y.rss").status_code == 404


def test_feedparser_reads_the_public_feed(settings, engine, catalogue):
    feedparser = pytest.importorskip("feedparser")
    ada = make_member(engine, "ada")
    made = service.create_collection(engine, settings, ada, IP, "Reading", is_public=True)
    service.add_to_collection(engine, settings, ada, IP, made.id, PAPERS[0])
    with open_client(settings) as client:
        for fmt in ("rss", "atom"):
            parsed = feedparser.parse(client.get(f"/collections/{made.id}-{made.slug}.{fmt}").content)
            assert not parsed.bozo, parsed.bozo_exception
            assert [entry.link.rsplit("/", 1)[1] for entry in parsed.entries] == [PAPERS[0]]


@pytest.mark.parametrize("role", ["other member", "moderator", "admin", "anonymous"])
def test_private_collections_and_notes_are_nobody_elses(settings, engine, catalogue, role):
    ada = make_member(engine, "ada")
    secret = service.create_collection(engine, settings, ada, IP, "Secret plans")
    service.add_to_collection(engine, settings, ada, IP, secret.id, PAPERS[0])
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        note = {"csrf_token": csrf, "note": "My private thought"}
        assert client.post(f"/papers/{PAPERS[0]}/note", data=note).status_code == 303
        assert "My private thought" in client.get(f"/papers/{PAPERS[0]}").text
        assert "My private thought" in client.get("/library").text
    nonexistent = None
    with open_client(settings) as client:
        if role != "anonymous":
            log_in_as(client, make_member(engine, "eve", role=role.removeprefix("other ")))
        for path in (
            f"/collections/{secret.id}-{secret.slug}",
            f"/collections/{secret.id}-{secret.slug}.rss",
        ):
            answer = client.get(path)
            assert answer.status_code == 404, path
            assert "Secret" not in answer.text
        nonexistent = client.get("/collections/999999-nothing")
        assert nonexistent.status_code == 404
        assert client.get(f"/collections/{secret.id}-{secret.slug}").text == nonexistent.text
        assert "My private thought" not in client.get(f"/papers/{PAPERS[0]}").text
        assert "Secret plans" not in client.get(f"/papers/{PAPERS[0]}").text
        if role != "anonymous":
            assert "Secret plans" not in client.get("/library").text
            assert client.get(f"/library?collection={secret.id}").status_code == 404


def test_someone_elses_collection_cannot_be_changed_and_hostile_input_gets_a_4xx(settings, engine, catalogue):
    ada = make_member(engine, "ada")
    secret = service.create_collection(engine, settings, ada, IP, "Secret")
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "eve"))
        base = {"csrf_token": csrf}
        refused = [
            (f"/library/collections/{secret.id}", {"action": "update", "name": "Mine now"}, 404),
            (f"/library/collections/{secret.id}", {"action": "delete", "confirm": "yes"}, 404),
            (f"/library/collections/{secret.id}/papers/{PAPERS[0]}", {"action": "up"}, 404),
            (f"/papers/{PAPERS[0]}/collections", {"collection": str(secret.id)}, 404),
            ("/library/collections/abc", {"action": "update", "name": "x"}, 404),
            ("/library/collections/99999999999999999999", {"action": "update", "name": "x"}, 404),
            ("/library/collections", {"name": "x" * (rules.MAX_NAME + 1)}, 400),
            ("/library/collections", {"name": "   "}, 400),
            ("/library/collections", {"name": "ok", "description": "y" * (rules.MAX_DESCRIPTION + 1)}, 400),
            ("/library/collections", {"name": "ok", "visibility": "everyone"}, 400),
            (f"/papers/{PAPERS[0]}/note", {"note": "z" * (rules.MAX_NOTE + 1)}, 400),
            (f"/papers/{PAPERS[0]}/read", {"action": "maybe"}, 400),
            ("/papers/2506.99999/read", {"action": "read"}, 404),
            ("/papers/not-an-id/note", {"note": "hello"}, 404),
        ]
        for path, data, status in refused:
            answer = client.post(path, data=base | data)
            assert answer.status_code == status, (path, data, answer.status_code)
        mine = client.post("/library/collections", data=base | {"name": "Mine"})
        number = _collection_id(mine)
        unconfirmed = client.post(f"/library/collections/{number}", data=base | {"action": "delete"})
        assert unconfirmed.status_code == 400
        assert client.get("/library?collection=abc").status_code == 404
        assert client.get("/library?read=sometimes").status_code == 400
    assert service.collection_of(engine, ada, secret.id).name == "Secret"


def test_read_marks_notes_and_the_search_within_the_library(settings, engine, catalogue):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        assert (
            client.post(f"/papers/{PAPERS[0]}/read", data={"csrf_token": csrf, "action": "read"}).status_code
            == 303
        )
        for arxiv_id in PAPERS[1:]:
            client.post(f"/papers/{arxiv_id}/save", data={"csrf_token": csrf, "action": "save"})
        assert listed_ids(client.get("/library?read=read").text) == [PAPERS[0]]
        assert sorted(listed_ids(client.get("/library?read=unread").text)) == list(PAPERS[1:])
        assert listed_ids(client.get('/library?q="part 2"').text) == [PAPERS[2]]
        assert listed_ids(client.get('/library?q="part 2"&read=read').text) == []
        malformed = client.get('/library?q="part')
        assert malformed.status_code == 200
        assert "quote" in malformed.text.lower()
        answer = client.post(
            f"/papers/{PAPERS[1]}/note", data={"note": "Read §3"}, headers={**JSON, "X-CSRF-Token": csrf}
        )
        assert answer.json() == {"arxiv_id": PAPERS[1], "note": "Read §3"}
        removed = client.post(
            f"/papers/{PAPERS[0]}/read", data={"action": "unread"}, headers={**JSON, "X-CSRF-Token": csrf}
        )
        assert removed.json() == {"arxiv_id": PAPERS[0], "read": False}


def test_removing_from_the_library_empties_the_collections_and_says_so(settings, engine, catalogue):
    ada = make_member(engine, "ada")
    made = service.create_collection(engine, settings, ada, IP, "Reading")
    service.add_to_collection(engine, settings, ada, IP, made.id, PAPERS[0])
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        assert "also takes it out of your collections" in client.get("/library").text
        client.post(f"/papers/{PAPERS[0]}/save", data={"csrf_token": csrf, "action": "remove"})
        assert listed_ids(client.get(f"/library?collection={made.id}").text) == []
    assert service.collection_of(engine, ada, made.id).papers == 0


def test_the_library_page_costs_a_fixed_number_of_statements(settings, engine, add_papers):
    add_papers(*(make_record(f"2506.{n:05d}", title=f"Paper {n}") for n in range(1, 61)))
    ada = make_member(engine, "ada")
    made = [service.create_collection(engine, settings, ada, IP, f"C{n}") for n in range(5)]
    for n in range(1, 61):
        arxiv_id = f"2506.{n:05d}"
        save_paper(engine, settings, ada, arxiv_id, IP, save=True)
        service.add_to_collection(engine, settings, ada, IP, made[n % 5].id, arxiv_id)
    quiet = settings.replace(page_size=50, page_cache_mb=0)
    with open_client(quiet) as client:
        log_in_as(client, ada)
        client.get("/healthz")
        for path in (
            "/library",
            f"/library?collection={made[0].id}",
            "/library?read=unread",
            "/library?q=paper",
        ):
            with counted_statements(client) as statements:
                answer = client.get(path)
            assert answer.status_code == 200
            cap = MAX_LIBRARY_STATEMENTS if "q=" in path else MAX_LISTED_STATEMENTS
            assert len(statements) <= cap, (path, len(statements))
        with counted_statements(client) as statements:
            assert client.get("/library").status_code == 200
        assert len(statements) <= MAX_LISTED_STATEMENTS - 6, len(statements)  # papers and counts kept


# The session, the header's count of unseen alerts, the reader's collections, the page's saved
# papers with their notes, the count, the reader's votes, marks and collections holding them
# (one statement), the catalogue and community versions, five to load the papers and one for
# their counts (kept after, for every reader), the hidden papers' ids and count, and their
# recent imports: 14 with the papers not yet in the process's cache (50 cards here: the count
# does not grow with them), 8 once they are.
MAX_LISTED_STATEMENTS = 14
# A search within the library: the search and the found papers' rows, then the reader's marks
# and their collections holding them apart.
MAX_LIBRARY_STATEMENTS = 16


def test_a_readers_notes_marks_and_collections_never_reach_another_readers_library(
    settings, engine, catalogue
):
    """Both libraries hold the same papers, so the second page is made of the card fragments the
    first one kept (web/fragments.py) and the forms compiled once (web/library_cards.py): only
    the shared parts may come from there."""
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    for member in (ada, bob):
        for arxiv_id in PAPERS:
            save_paper(engine, settings, member, arxiv_id, IP, save=True)
    shelf = service.create_collection(engine, settings, ada, IP, "Ada shelf of secrets")
    service.add_to_collection(engine, settings, ada, IP, shelf.id, PAPERS[0])
    write_note(engine, settings, ada, PAPERS[0], IP, "Ada's <private> thought")
    mark_read(engine, settings, ada, PAPERS[1], IP, read=True)
    write_note(engine, settings, bob, PAPERS[0], IP, "Bob's own remark")
    with open_client(settings) as client:
        ada_csrf = log_in_as(client, ada)
        client.post(f"/papers/{PAPERS[0]}/vote", data={"csrf_token": ada_csrf, "action": "up"})
        ada_page = client.get("/library").text
        fragments = client.app.state.paperboy.templates.env.globals["cached_fragment"]
        hits = fragments.hits
        bob_csrf = log_in_as(client, bob)
        bob_page = client.get("/library").text
        assert fragments.hits >= hits + 3 * len(PAPERS)  # Ada's cards' titles, bodies and feet
        again = client.get("/library").text
    assert "Ada&#39;s &lt;private&gt; thought" in ada_page
    assert "own remark" not in ada_page
    assert "Ada shelf of secrets" in ada_page
    assert ada_page.count('aria-pressed="true"') == 5  # three saved, one read, one upvoted
    for page in (bob_page, again):
        assert "Ada&#39;s" not in page
        assert "private&gt;" not in page
        assert "shelf of secrets" not in page
        assert ada_csrf not in page
        assert bob_csrf in page
        assert page.count("Bob&#39;s own remark") == 2  # shown, and in the note's form
        assert page.count('class="read-button is-read"') == 0
        assert page.count('class="vote-button voted"') == 0
        assert page.count('aria-pressed="true"') == 3  # his three saves only
        assert 'name="collection" value=' not in page
    assert listed_ids(bob_page) == listed_ids(ada_page)


def test_library_cards_link_to_the_paper_page_past_twenty_collections(settings, engine, catalogue):
    ada = make_member(engine, "ada")
    for n in range(21):
        service.create_collection(engine, settings, ada, IP, f"Shelf {n}")
    save_paper(engine, settings, ada, PAPERS[0], IP, save=True)
    with open_client(settings) as client:
        log_in_as(client, ada)
        html = client.get("/library").text
        assert html.count('name="collection" value=') == 0
        assert f'href="/papers/{PAPERS[0]}#keeping-heading">Save to… your collections' in html
        assert client.get(f"/papers/{PAPERS[0]}").text.count('name="collection" value=') == 21


def test_a_public_collection_page_and_feed_cost_a_fixed_number_of_statements(settings, engine, add_papers):
    add_papers(*(make_record(f"2506.{n:05d}", title=f"Paper {n}") for n in range(1, 61)))
    ada = make_member(engine, "ada")
    made = service.create_collection(engine, settings, ada, IP, "Everything", is_public=True)
    for n in range(1, 61):
        service.add_to_collection(engine, settings, ada, IP, made.id, f"2506.{n:05d}")
    base = f"/collections/{made.id}-{made.slug}"
    with open_client(settings.replace(page_cache_mb=0)) as client:
        client.get("/healthz")
        for path in (base, base + ".rss", base + ".bib"):
            with counted_statements(client) as statements:
                answer = client.get(path)
            assert answer.status_code == 200
            assert len(statements) <= MAX_COLLECTION_STATEMENTS, (path, len(statements))


# The collection with its owner and count, its page of items, the catalogue version, five to load
# the papers and one for their counts, whatever the number of papers (60 here).
MAX_COLLECTION_STATEMENTS = 9
