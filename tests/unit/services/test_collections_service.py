"""services/collections.py and the library's read marks and notes on the real database: the library
is the union (adding to a collection saves), removing from the library empties the reader's
collections of that paper, ownership is checked inside every change, limits hold."""

from __future__ import annotations

import pytest
from community import make_member
from conftest import make_record

from paperboy.domain import collections as rules
from paperboy.services import collections as service
from paperboy.services.collections import CollectionFull, CollectionNotFound, InvalidCollection, PaperNotFound
from paperboy.services.library import LibraryFilter, library_page, mark_read, save_paper, write_note

IP = "192.0.2.8"
PAPERS = ("2506.00001", "2506.00002", "2506.00003")


@pytest.fixture
def papers(add_papers):
    add_papers(*(make_record(arxiv_id, title=f"Paper about topic {n}") for n, arxiv_id in enumerate(PAPERS)))
    return PAPERS


def _ids(page):
    return [item.view.paper.arxiv_id for item in page.items]


def test_a_collection_is_created_with_a_slug_unique_per_member(engine, settings):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    first = service.create_collection(engine, settings, ada, IP, "  Graph   nets: 2025! ", "Why.\r\nThese.")
    second = service.create_collection(engine, settings, ada, IP, "Graph nets 2025")
    other = service.create_collection(engine, settings, bob, IP, "Graph nets 2025", is_public=True)
    assert (first.name, first.slug, first.description) == (
        "Graph nets: 2025!",
        "graph-nets-2025",
        "Why.\nThese.",
    )
    assert (second.slug, other.slug, second.position) == ("graph-nets-2025-2", "graph-nets-2025", 2)
    assert [c.id for c in service.collections_of(engine, ada)] == [first.id, second.id]
    assert not first.is_public
    assert other.is_public


@pytest.mark.parametrize(
    ("name", "description"),
    [
        ("", ""),
        ("   ", ""),
        ("x" * (rules.MAX_NAME + 1), ""),
        ("ok", "y" * (rules.MAX_DESCRIPTION + 1)),
        ("a\x00b", ""),
    ],
)
def test_hostile_names_and_descriptions_are_refused(engine, settings, name, description):
    ada = make_member(engine, "ada")
    with pytest.raises(InvalidCollection):
        service.create_collection(engine, settings, ada, IP, name, description)
    assert service.collections_of(engine, ada) == []


def test_adding_saves_and_removing_from_the_library_empties_the_collections(engine, settings, papers):
    ada = make_member(engine, "ada")
    reading = service.create_collection(engine, settings, ada, IP, "Reading")
    later = service.create_collection(engine, settings, ada, IP, "Later")
    for arxiv_id in papers:
        service.add_to_collection(engine, settings, ada, IP, reading.id, arxiv_id)
    service.add_to_collection(engine, settings, ada, IP, later.id, papers[0])
    service.add_to_collection(engine, settings, ada, IP, later.id, papers[0])  # again is fine
    assert library_page(engine, ada).total == 3
    page = service.collection_page(engine, ada, reading.id)
    assert [e.view.paper.arxiv_id for e in page.entries] == list(papers)
    save_paper(engine, settings, ada, papers[0], IP, save=False)
    assert [c.papers for c in service.collections_of(engine, ada)] == [2, 0]
    assert library_page(engine, ada).total == 2


def test_papers_move_up_and_down_and_the_library_filters_in_that_order(engine, settings, papers):
    ada = make_member(engine, "ada")
    reading = service.create_collection(engine, settings, ada, IP, "Reading")
    for arxiv_id in papers:
        service.add_to_collection(engine, settings, ada, IP, reading.id, arxiv_id)
    service.move_in_collection(engine, settings, ada, IP, reading.id, papers[2], up=True)
    service.move_in_collection(engine, settings, ada, IP, reading.id, papers[0], up=True)  # first: stays
    order = [papers[0], papers[2], papers[1]]
    assert [e.view.paper.arxiv_id for e in service.collection_page(engine, ada, reading.id).entries] == order
    assert _ids(library_page(engine, ada, chosen=LibraryFilter(collection_id=reading.id))) == order
    with pytest.raises(PaperNotFound):
        service.remove_from_collection(engine, settings, ada, IP, reading.id, "2506.99999")


def test_another_members_collection_is_not_found_for_every_change(engine, settings, papers):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    mine = service.create_collection(engine, settings, ada, IP, "Mine")
    service.add_to_collection(engine, settings, ada, IP, mine.id, papers[0])
    changes = [
        lambda: service.update_collection(engine, settings, bob, IP, mine.id, name="Stolen"),
        lambda: service.delete_collection(engine, settings, bob, IP, mine.id),
        lambda: service.add_to_collection(engine, settings, bob, IP, mine.id, papers[1]),
        lambda: service.remove_from_collection(engine, settings, bob, IP, mine.id, papers[0]),
        lambda: service.move_in_collection(engine, settings, bob, IP, mine.id, papers[0], up=False),
        lambda: service.set_paper_collections(engine, settings, bob, IP, papers[0], [mine.id]),
        lambda: service.collection_page(engine, bob, mine.id),
        lambda: service.collection_page(engine, None, mine.id),
        lambda: library_page(engine, bob, chosen=LibraryFilter(collection_id=mine.id)),
    ]
    for change in changes:
        with pytest.raises(CollectionNotFound):
            change()
    assert service.collection_of(engine, ada, mine.id).papers == 1
    assert service.collection_of(engine, ada, mine.id).name == "Mine"
    service.update_collection(engine, settings, ada, IP, mine.id, is_public=True)
    assert service.collection_page(engine, None, mine.id).total == 1


def test_save_to_sets_exactly_the_chosen_collections(engine, settings, papers):
    ada = make_member(engine, "ada")
    a, b = (service.create_collection(engine, settings, ada, IP, name) for name in ("A", "B"))
    service.set_paper_collections(engine, settings, ada, IP, papers[1], [a.id, b.id])
    service.set_paper_collections(engine, settings, ada, IP, papers[1], [b.id])
    assert [c.papers for c in service.collections_of(engine, ada)] == [0, 1]
    assert library_page(engine, ada).items[0].collections == frozenset({b.id})


def test_limits_on_collections_and_papers(engine, settings, papers, monkeypatch):
    ada = make_member(engine, "ada")
    monkeypatch.setattr(service, "MAX_COLLECTIONS", 2)
    monkeypatch.setattr(service, "MAX_PAPERS", 2)
    first = service.create_collection(engine, settings, ada, IP, "One")
    service.create_collection(engine, settings, ada, IP, "Two")
    with pytest.raises(CollectionFull):
        service.create_collection(engine, settings, ada, IP, "Three")
    service.add_to_collection(engine, settings, ada, IP, first.id, papers[0])
    service.add_to_collection(engine, settings, ada, IP, first.id, papers[1])
    with pytest.raises(CollectionFull):
        service.add_to_collection(engine, settings, ada, IP, first.id, papers[2])
    service.add_to_collection(engine, settings, ada, IP, first.id, papers[1])  # already there: fine


def test_read_marks_notes_and_the_search_within_the_library(engine, settings, papers):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    mark_read(engine, settings, ada, papers[0], IP, read=True)  # saves it too
    write_note(engine, settings, ada, papers[1], IP, "Check the proof in section 3.")
    save_paper(engine, settings, bob, papers[2], IP, save=True)
    assert _ids(library_page(engine, ada, chosen=LibraryFilter(read=True))) == [papers[0]]
    assert _ids(library_page(engine, ada, chosen=LibraryFilter(read=False))) == [papers[1]]
    assert library_page(engine, ada, chosen=LibraryFilter(read=False)).items[0].note.startswith("Check")
    assert _ids(library_page(engine, ada, query='"topic 1"')) == [papers[1]]
    assert _ids(library_page(engine, ada, query="topic"))
    assert library_page(engine, ada, query="topic").total == 2
    assert library_page(engine, bob, query="topic").total == 1
    assert library_page(engine, ada, query='"unclosed').notice
    with pytest.raises(InvalidCollection):
        write_note(engine, settings, ada, papers[1], IP, "z" * (rules.MAX_NOTE + 1))
    write_note(engine, settings, ada, papers[1], IP, "   ")
    assert library_page(engine, ada, chosen=LibraryFilter(read=False)).items[0].note == ""
