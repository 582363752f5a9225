"""storage/follows.py and the author keys storage/papers.py writes, on the real database."""

from __future__ import annotations

from community import make_member
from conftest import make_record
from sqlalchemy import select

from paperboy.storage import follows as store
from paperboy.storage.engine import now_utc
from paperboy.storage.schema import paper_authors


def test_follows_are_unique_per_member_kind_and_value_and_listed_latest_first(engine):
    ada, bob = make_member(engine, "ada"), make_member(engine, "bob")
    with engine.begin() as conn:
        first = store.insert_follow(conn, ada.id, "author", "ada lovelace", "Ada Lovelace", now_utc())
        assert first is not None
        assert store.insert_follow(conn, ada.id, "author", "ada lovelace", "ADA", now_utc()) is None
        store.insert_follow(conn, ada.id, "category", "cs.LG", "cs.LG", now_utc())
        store.insert_follow(conn, bob.id, "category", "cs.LG", "cs.LG", now_utc())
    with engine.connect() as conn:
        mine = store.follows_of(conn, ada.id)
        assert [(f.kind, f.value) for f in mine] == [("category", "cs.LG"), ("author", "ada lovelace")]
        assert [f.kind for f in store.follows_of(conn, ada.id, ["author"])] == ["author"]
        assert store.count_follows(conn, bob.id) == 1
        assert store.followed_values(conn, ada.id, "author", ["ada lovelace", "x"]) == {
            "ada lovelace": first.id
        }
    with engine.begin() as conn:
        assert not store.delete_follow(conn, bob.id, first.id)  # not bob's
        assert store.delete_follow(conn, ada.id, first.id)


def test_the_write_path_stores_each_authors_normalised_name(engine, add_papers):
    add_papers(make_record("2506.00001", authors=("José-María Núñez", "J. R. R. Tolkien")))
    with engine.connect() as conn:
        keys = conn.execute(select(paper_authors.c.name_key).order_by(paper_authors.c.position)).scalars()
        assert list(keys) == ["jose maria nunez", "j r r tolkien"]
