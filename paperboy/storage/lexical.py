"""Searching the lexical (keyword) index: one interface over SQLite FTS5 and PostgreSQL
full-text search, with the query language's filters in SQL.

- SQLite: the contentless FTS5 table `paper_fts`, ranked by bm25().
- PostgreSQL: `paper_search`, a tsvector per paper (title A, authors B, abstract C), ranked by
  ts_rank.

storage/lexical_index.py writes both. docs/search.md ("Lexical index") describes what matches what.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    and_,
    column,
    exists,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
)
from sqlalchemy.sql.elements import ColumnElement

from paperboy.domain.highlight import fold_text
from paperboy.domain.iterables import batched
from paperboy.domain.search_query import SearchQuery
from paperboy.domain.stop_words import STOP_WORDS
from paperboy.storage.schema import (
    hf_papers,
    paper_categories,
    paper_links,
    paper_search,
    paper_stats,
    papers,
)

# bm25() column weights (title, abstract, authors): a word in the title says more than one in
# the abstract. PostgreSQL's ts_rank weighs A (title) 1.0, B (authors) 0.4, C (abstract) 0.2.
BM25_WEIGHTS = (3.0, 1.0, 2.0)
_CHUNK = 500  # ids per statement: far below either database's limit on bound parameters

_ENGLISH: ColumnElement[Any] = literal_column("'english'::regconfig")
_AUTHORS_WEIGHT: ColumnElement[Any] = literal_column("ARRAY['b']::\"char\"[]")

_fts = table("paper_fts", column("rowid"))
_FTS: ColumnElement[Any] = literal_column("paper_fts")


def search_lexical(
    conn: Connection, query: SearchQuery, limit: int = 20, offset: int = 0
) -> tuple[list[int], list[float]]:
    """Paper ids best first, with scores (higher is better), for one page of results.

    Words and phrases must all match; when together they match nothing, any of them may
    (best first, so papers with more of them come first). A browse query (filters only) lists
    papers newest first, each scored 0.
    """
    units = len(query.terms) + len(query.phrases)
    ids, scores = _run(conn, query, limit, offset, any_word=False)
    if not ids and units > 1 and (offset == 0 or not _run(conn, query, 1, 0, any_word=False)[0]):
        ids, scores = _run(conn, query, limit, offset, any_word=True)
    return ids, scores


def count_matches(conn: Connection, query: SearchQuery, cap: int) -> int:
    """How many papers `search_lexical` would list in all, counting at most `cap` of them (the
    count stops there, so a common word costs no more than `cap` rows)."""
    units = len(query.terms) + len(query.phrases)
    count = _count(conn, query, cap, any_word=False)
    if count == 0 and units > 1:
        count = _count(conn, query, cap, any_word=True)
    return count


def _count(conn: Connection, query: SearchQuery, cap: int, *, any_word: bool) -> int:
    build = _pg_select if conn.dialect.name == "postgresql" else _sqlite_select
    matching = build(query, any_word).where(*_filters(query)).order_by(None).limit(cap).subquery()
    return int(conn.execute(select(func.count()).select_from(matching)).scalar_one())


def constrained_ids(conn: Connection, query: SearchQuery, ids: Collection[int]) -> set[int]:
    """Which of `ids` meet everything the query *requires* whatever the ranking: its phrases,
    authors, exclusions and filters (its plain words are left to the ranking). Semantic results
    pass through this, so a quoted phrase or a `cat:` holds for them too."""
    if not ids:
        return set()
    if not has_constraints(query):
        return set(ids)
    build = _pg_select if conn.dialect.name == "postgresql" else _sqlite_select
    required = replace(query, terms=())
    found: set[int] = set()
    for chunk in batched(sorted(set(ids)), _CHUNK):
        statement = build(required, False).where(*_filters(query), papers.c.id.in_(list(chunk)))
        found.update(row[0] for row in conn.execute(statement.order_by(None)))
    return found


def all_constrained_ids(conn: Connection, query: SearchQuery) -> list[int]:
    """Every paper meeting the query's requirements (see `constrained_ids`): for a semantic
    search whose filters are too narrow for its nearest neighbours to pass them."""
    build = _pg_select if conn.dialect.name == "postgresql" else _sqlite_select
    statement = build(replace(query, terms=()), False).where(*_filters(query)).order_by(None)
    return [row[0] for row in conn.execute(statement)]


def search_within(conn: Connection, query: SearchQuery, within: Select[Any], limit: int) -> list[int]:
    """Like `search_lexical`, among the papers whose ids `within` selects (a reader's library):
    best first, or newest first for a browse query; at most `limit`."""
    build = _pg_select if conn.dialect.name == "postgresql" else _sqlite_select
    restricted = papers.c.id.in_(within.scalar_subquery())
    units = len(query.terms) + len(query.phrases)
    for any_word in (False, True) if units > 1 and not query.is_browse else (False,):
        statement = build(query, any_word).where(*_filters(query), restricted).limit(limit)
        ids = [row[0] for row in conn.execute(statement)]
        if ids:
            return ids
    return []


def has_constraints(query: SearchQuery) -> bool:
    """True when `constrained_ids` can reject a paper."""
    return bool(
        query.phrases
        or query.authors
        or query.excluded_terms
        or query.excluded_phrases
        or query.categories
        or query.date_from
        or query.date_to
        or query.has_code
    )


SORTS = ("date", "upvotes")


def sorted_ids(conn: Connection, ids: Collection[int], sort: str) -> list[int]:
    """`ids` newest first (`date`: the day first listed, then v1's time) or most upvoted first
    (`upvotes`; ties newest first). Ids of papers that no longer exist are dropped."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    rows: list[Any] = []
    for chunk in batched(sorted(set(ids)), _CHUNK):
        statement = (
            select(papers.c.id, papers.c.first_listed, papers.c.published_at, paper_stats.c.upvotes)
            .select_from(papers.outerjoin(paper_stats, paper_stats.c.paper_id == papers.c.id))
            .where(papers.c.id.in_(list(chunk)))
        )
        rows.extend(conn.execute(statement))

    def newest(row: Any) -> tuple[int, float, int]:
        listed = row.first_listed.toordinal() if row.first_listed else 0
        published = row.published_at.timestamp() if row.published_at else 0.0
        return (listed, published, row.id)

    if sort == "upvotes":
        rows.sort(key=lambda row: (row.upvotes or 0, *newest(row)), reverse=True)
    else:
        rows.sort(key=newest, reverse=True)
    return [row.id for row in rows]


def browse_ids(conn: Connection, query: SearchQuery, sort: str, limit: int, offset: int) -> list[int]:
    """One page of what a browse query (filters only) selects, by `sort` (date or upvotes)."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    build = _pg_select if conn.dialect.name == "postgresql" else _sqlite_select
    statement = build(replace(query, terms=(), phrases=()), False).where(*_filters(query))
    if sort == "upvotes":
        upvotes = select(paper_stats.c.upvotes).where(paper_stats.c.paper_id == papers.c.id).scalar_subquery()
        statement = statement.order_by(None).order_by(
            func.coalesce(upvotes, 0).desc(), papers.c.first_listed.desc().nulls_last(), papers.c.id.desc()
        )
    return [row[0] for row in conn.execute(statement.limit(limit).offset(offset))]


def _run(
    conn: Connection, query: SearchQuery, limit: int, offset: int, *, any_word: bool
) -> tuple[list[int], list[float]]:
    filters = _filters(query)
    if conn.dialect.name == "postgresql":
        statement = _pg_select(query, any_word)
    else:
        statement = _sqlite_select(query, any_word, alone=not filters)
    statement = statement.where(*filters).limit(limit).offset(offset)
    rows = conn.execute(statement).all()
    return [row[0] for row in rows], [float(row[1]) for row in rows]


# --- SQLite: an FTS5 MATCH expression in which every piece of user text is a quoted string ---


def _fts_string(text_: str) -> str:
    """A FTS5 string: the tokenizer splits it, and nothing in it is syntax (NEAR, *, ^, :, …)."""
    return '"' + text_.replace('"', '""') + '"'


# PostgreSQL's `english` stop words (domain/stop_words.py), which it never indexes. SQLite indexes
# them, and a query's `of` or `the` matches most of the catalogue, whose bm25 must all be computed:
# they are left out of a query that has other words (bench/search_quality.py: the same quality on
# SciFact, lexical time about halved).


def _content_terms(query: SearchQuery) -> tuple[str, ...]:
    """The query's words without stop words, unless stop words are all it has."""
    content = tuple(t for t in query.terms if t.lower() not in STOP_WORDS)
    return content if content or query.phrases else query.terms


def _sqlite_select(query: SearchQuery, any_word: bool, *, alone: bool = False) -> Select[Any]:
    """The FTS5 statement for `query`; `alone`: from the index only, for a caller that adds no
    condition on `papers` (ranked queries only)."""
    units = [_fts_string(t) for t in _content_terms(query) + query.phrases]
    required = [f"({' OR '.join(units)})" if any_word and units else " AND ".join(units)]
    required += [f"authors : {_fts_string(a)}" for a in query.authors]
    required = [r for r in required if r]
    excluded = " OR ".join(_fts_string(t) for t in query.excluded_terms + query.excluded_phrases)
    if not required:
        statement = _browse()
        if excluded:
            matching = select(_fts.c.rowid).where(_FTS.bool_op("MATCH")(excluded))
            statement = statement.where(papers.c.id.not_in(matching))
        return statement
    expression = " AND ".join(f"({r})" for r in required)
    if excluded:
        expression = f"({expression}) NOT ({excluded})"
    if query.is_browse:
        return _browse().where(papers.c.id.in_(select(_fts.c.rowid).where(_FTS.bool_op("MATCH")(expression))))
    score = -func.bm25(_FTS, *BM25_WEIGHTS)
    if alone:  # no filter needs the papers table: the join would double the cost of a common word
        return (
            select(_fts.c.rowid, score.label("score"))
            .where(_FTS.bool_op("MATCH")(expression))
            .order_by(score.desc(), _fts.c.rowid)
        )
    return (
        select(papers.c.id, score.label("score"))
        .select_from(_fts.join(papers, papers.c.id == _fts.c.rowid))
        .where(_FTS.bool_op("MATCH")(expression))
        .order_by(score.desc(), papers.c.id)
    )


# --- PostgreSQL: tsqueries built by phraseto_tsquery, which accepts any text ---


def _tsquery(text_: str) -> ColumnElement[Any]:
    return func.phraseto_tsquery(_ENGLISH, fold_text(text_))


def _combine(parts: list[ColumnElement[Any]], *, any_: bool) -> ColumnElement[Any]:
    combined = parts[0]
    for part in parts[1:]:
        combined = (func.tsquery_or if any_ else func.tsquery_and)(combined, part)
    return combined


def _pg_select(query: SearchQuery, any_word: bool) -> Select[Any]:
    document = paper_search.c.document
    conditions: list[ColumnElement[bool]] = []
    for author in query.authors:
        wanted = _tsquery(author)
        in_authors = func.ts_filter(document, _AUTHORS_WEIGHT).bool_op("@@")(wanted)
        conditions.append(and_(document.bool_op("@@")(wanted), in_authors))
    excluded = [_tsquery(t) for t in query.excluded_terms + query.excluded_phrases]
    if excluded:
        conditions.append(not_(document.bool_op("@@")(_combine(excluded, any_=True))))
    if query.is_browse:
        indexed = select(paper_search.c.paper_id).where(*conditions) if conditions else None
        return _browse() if indexed is None else _browse().where(papers.c.id.in_(indexed))
    wanted = _combine([_tsquery(t) for t in query.terms + query.phrases], any_=any_word)
    score = func.ts_rank(document, wanted, 1)
    return (
        select(papers.c.id, score.label("score"))
        .select_from(paper_search.join(papers, papers.c.id == paper_search.c.paper_id))
        .where(document.bool_op("@@")(wanted), *conditions)
        .order_by(score.desc(), papers.c.id)
    )


# --- shared: browse order and the filters, plain SQL on the catalogue tables ---


def _browse() -> Select[Any]:
    """Filters only: newest first (by the day first listed), each scored 0."""
    return select(papers.c.id, literal(0.0).label("score")).order_by(
        papers.c.first_listed.desc().nulls_last(), papers.c.id.desc()
    )


def _filters(query: SearchQuery) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if query.categories:
        filters.append(_in_categories(query.categories))
    if query.date_from:
        filters.append(_listed_on_or_after(query.date_from))
    if query.date_to:
        filters.append(_listed_on_or_before(query.date_to))
    if query.has_code:
        filters.append(_has_code())
    return filters


def _in_categories(categories: Sequence[str]) -> ColumnElement[bool]:
    """Any of these categories; an archive alone (`cs`) means any of its categories."""
    category = paper_categories.c.category
    alternatives = [
        category == c if "." in c else or_(category == c, category.like(c + ".%")) for c in categories
    ]
    return exists().where(paper_categories.c.paper_id == papers.c.id, or_(*alternatives))


def _listed_on_or_after(day: date) -> ColumnElement[bool]:
    """The day a paper was first listed; for papers never listed, the day v1 was submitted (UTC)."""
    midnight = datetime.combine(day, time(), UTC)
    return or_(
        papers.c.first_listed >= day,
        and_(papers.c.first_listed.is_(None), papers.c.published_at >= midnight),
    )


def _listed_on_or_before(day: date) -> ColumnElement[bool]:
    next_midnight = datetime.combine(day + timedelta(days=1), time(), UTC)
    return or_(
        papers.c.first_listed <= day,
        and_(papers.c.first_listed.is_(None), papers.c.published_at < next_midnight),
    )


def _has_code() -> ColumnElement[bool]:
    code_link = exists().where(paper_links.c.paper_id == papers.c.id, paper_links.c.kind == "code")
    repo = exists().where(
        hf_papers.c.paper_id == papers.c.id, func.coalesce(hf_papers.c.github_repo, "") != ""
    )
    return or_(code_link, repo)
