"""Writing the lexical (keyword) index that storage/lexical.py searches.

- SQLite: the contentless FTS5 table `paper_fts` (migration 0003), rowid = papers.id, columns
  title, abstract, authors, tokenizer `porter unicode61 remove_diacritics 2`.
  Being contentless, it forgets a paper only when given the text it indexed, so the text is
  taken out *before* a paper's row changes (upsert_papers does) and a trigger does it on delete.
- PostgreSQL: `paper_search`, a tsvector per paper ('english'; title A, authors B, abstract C;
  diacritics folded in Python first), with a GIN index. Deletes cascade.

Both are written in the caller's transaction, so a paper and its index entry change together,
and each write adds one to the counter `lexical:generation` there too: the keyword index
(storage/keyword_index.py, kept by services/keyword_ranker.py) compares it with the one it has
caught up to, and reads `keyword_documents` of the papers changed since.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, select, text

from paperboy.domain.highlight import fold_text
from paperboy.domain.iterables import batched
from paperboy.storage.keyword_index import KeywordDocument
from paperboy.storage.schema import paper_authors, paper_search, papers
from paperboy.storage.sync_state import bump_counter, get_counter, get_state, insert_state_if_absent

GENERATION_KEY = "lexical:generation"
DATABASE_KEY = "lexical:database"  # made once: tells one database's keyword index from another's

_CHUNK = 500  # ids per statement: far below either database's limit on bound parameters

# The authors text SQLite indexes; migration 0003's delete trigger builds the same string.
_SQLITE_AUTHORS = (
    "coalesce((SELECT group_concat(name, ', ') FROM "
    "(SELECT name FROM paper_authors WHERE paper_id = p.id ORDER BY position)), '')"
)
_SQLITE_TEXT = f"p.id, p.title, p.abstract, {_SQLITE_AUTHORS}"
_SQLITE_FORGET = text(
    "INSERT INTO paper_fts(paper_fts, rowid, title, abstract, authors) "
    f"SELECT 'delete', {_SQLITE_TEXT} FROM papers p "
    "WHERE p.id IN (SELECT id FROM paper_fts_docsize WHERE id IN :ids)"
).bindparams(bindparam("ids", expanding=True))
_SQLITE_ADD = text(
    f"INSERT INTO paper_fts(rowid, title, abstract, authors) SELECT {_SQLITE_TEXT} "
    "FROM papers p WHERE p.id IN :ids"
).bindparams(bindparam("ids", expanding=True))

_PG_TEXT = text(
    "SELECT p.id, p.title, p.abstract, "
    "coalesce(string_agg(a.name, ', ' ORDER BY a.position), '') AS authors "
    "FROM papers p LEFT JOIN paper_authors a ON a.paper_id = p.id "
    "WHERE p.id IN :ids GROUP BY p.id"
).bindparams(bindparam("ids", expanding=True))
_PG_UPSERT = text(
    "INSERT INTO paper_search (paper_id, document) VALUES (:id, "
    "setweight(to_tsvector('english', :title), 'A') || "
    "setweight(to_tsvector('english', :authors), 'B') || "
    "setweight(to_tsvector('english', :abstract), 'C')) "
    "ON CONFLICT (paper_id) DO UPDATE SET document = EXCLUDED.document"
)


def index_papers(conn: Connection, paper_ids: Sequence[int]) -> None:
    """Index the current title, abstract and authors of these papers, replacing what the index
    held for them. Ids of papers that do not exist are ignored.

    The counter is bumped last: its row stays locked until commit, and a concurrent writer (the
    import's second writer) bumps it too, so it should wait for the commit, not for this work."""
    for chunk in batched(sorted(set(paper_ids)), _CHUNK):
        ids = list(chunk)
        if conn.dialect.name == "postgresql":
            rows = conn.execute(_PG_TEXT, {"ids": ids}).all()
            if rows:
                conn.execute(_PG_UPSERT, [_folded(row) for row in rows])
        else:
            conn.execute(_SQLITE_FORGET, {"ids": ids})
            conn.execute(_SQLITE_ADD, {"ids": ids})
    if paper_ids:
        bump_counter(conn, GENERATION_KEY)


# Many papers in one statement: the same documents as _PG_UPSERT's, for a move's rebuild.
_PG_FILL = text(
    "INSERT INTO paper_search (paper_id, document) SELECT d.id, "
    "setweight(to_tsvector('english', d.title), 'A') || "
    "setweight(to_tsvector('english', d.authors), 'B') || "
    "setweight(to_tsvector('english', d.abstract), 'C') "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:titles AS text[]), CAST(:authors AS text[]), "
    "CAST(:abstracts AS text[])) AS d(id, title, authors, abstract)"
)


def fill_postgresql_index(conn: Connection, paper_ids: Sequence[int]) -> None:
    """Index these papers, which the index does not hold yet, on PostgreSQL, counting no change:
    for a copy of a database whose counter was copied too (storage/site_copy.py)."""
    for chunk in batched(sorted(set(paper_ids)), _CHUNK):
        rows = [_folded(row) for row in conn.execute(_PG_TEXT, {"ids": list(chunk)})]
        if rows:
            columns = {name: [row[name] for row in rows] for name in ("id", "title", "authors", "abstract")}
            conn.execute(
                _PG_FILL,
                {
                    "ids": columns["id"],
                    "titles": columns["title"],
                    "authors": columns["authors"],
                    "abstracts": columns["abstract"],
                },
            )


def remove_papers(conn: Connection, paper_ids: Sequence[int]) -> None:
    """Take these papers out of the index (they stay in the catalogue). On SQLite this must run
    while the papers still hold the text that was indexed: before their rows change."""
    if paper_ids:
        bump_counter(conn, GENERATION_KEY)
    for chunk in batched(sorted(set(paper_ids)), _CHUNK):
        ids = list(chunk)
        if conn.dialect.name == "postgresql":
            conn.execute(paper_search.delete().where(paper_search.c.paper_id.in_(ids)))
        else:
            conn.execute(_SQLITE_FORGET, {"ids": ids})


def clear_index(conn: Connection) -> None:
    """Empty the index (`paperboy index --rebuild`); works whatever the index holds."""
    bump_counter(conn, GENERATION_KEY)
    if conn.dialect.name == "postgresql":
        conn.execute(paper_search.delete())
    else:
        conn.execute(text("INSERT INTO paper_fts(paper_fts) VALUES ('delete-all')"))


_UNINDEXED = {
    "sqlite": "NOT EXISTS (SELECT 1 FROM paper_fts_docsize d WHERE d.id = p.id)",
    "postgresql": "NOT EXISTS (SELECT 1 FROM paper_search s WHERE s.paper_id = p.id)",
}


def unindexed_paper_ids(conn: Connection, after: int, limit: int) -> list[int]:
    """Up to `limit` papers with an id greater than `after` that the index does not hold, in id
    order: what a build still has to do (papers written since the index existed are in it)."""
    statement = text(
        f"SELECT p.id FROM papers p WHERE p.id > :after AND {_UNINDEXED[conn.dialect.name]} "
        "ORDER BY p.id LIMIT :limit"
    )
    return list(conn.execute(statement, {"after": after, "limit": limit}).scalars())


def count_unindexed_papers(conn: Connection) -> int:
    statement = text(f"SELECT count(*) FROM papers p WHERE {_UNINDEXED[conn.dialect.name]}")
    return int(conn.execute(statement).scalar_one())


def indexed_count(conn: Connection) -> int:
    source = "paper_search" if conn.dialect.name == "postgresql" else "paper_fts_docsize"
    return int(conn.execute(text(f"SELECT count(*) FROM {source}")).scalar_one())


def lexical_generation(conn: Connection) -> int:
    """Grows with every write of the lexical index (0 before the first)."""
    return get_counter(conn, GENERATION_KEY)


def database_identity(conn: Connection, new: str) -> str:
    """This database's identity for keyword indexes: `new` if it had none (then kept)."""
    insert_state_if_absent(conn, DATABASE_KEY, new)
    return get_state(conn, DATABASE_KEY) or new


def keyword_documents(conn: Connection, paper_ids: Sequence[int]) -> list[KeywordDocument]:
    """What the keyword index holds for these papers (ids that do not exist are left out)."""
    documents: list[KeywordDocument] = []
    for chunk in batched(sorted(set(paper_ids)), _CHUNK):
        ids = list(chunk)
        names: dict[int, list[str]] = {}
        authors = (
            select(paper_authors.c.paper_id, paper_authors.c.name)
            .where(paper_authors.c.paper_id.in_(ids))
            .order_by(paper_authors.c.paper_id, paper_authors.c.position)
        )
        for paper_id, name in conn.execute(authors):
            names.setdefault(paper_id, []).append(name)
        rows = conn.execute(
            select(papers.c.id, papers.c.title, papers.c.abstract).where(papers.c.id.in_(ids))
        )
        documents.extend(
            KeywordDocument(row.id, row.title or "", row.abstract or "", ", ".join(names.get(row.id, ())))
            for row in rows
        )
    return documents


def _folded(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": fold_text(row.title),
        "abstract": fold_text(row.abstract),
        "authors": fold_text(row.authors),
    }
