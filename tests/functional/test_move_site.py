"""`paperboy move-to`: a SQLite site with a month of the real corpus, its vectors and 2,000
members' votes, comments, libraries, follows, digests and tokens (a row in every table) moved
into an empty PostgreSQL database; every table equal after, and the moved site searches, lists,
previews digests and authenticates tokens. The full corpus is bench/move.py's (docs/moving.md)."""

from __future__ import annotations

import gzip
import io
import json
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from pathlib import Path

import pytest
from app_client import open_client
from conftest import PG_ADMIN_URL, TEST_SIGNING_KEY, empty_postgresql_database, shared_path
from sqlalchemy import func, select, text, update

from bench.reference_vectors import corpus_ids, store_reference_vectors
from bench.site_population import empty_tables, populate_site
from paperboy.cli import main
from paperboy.config import Settings, load_settings
from paperboy.services.api_tokens import authenticate_token, create_token_for
from paperboy.services.digests import preview_digest
from paperboy.services.ingest import import_files
from paperboy.services.subscriptions import find_subscription
from paperboy.storage.engine import make_engine
from paperboy.storage.lexical_index import database_identity
from paperboy.storage.migrate import upgrade
from paperboy.storage.schema import comments, metadata, paper_stats, papers, sync_state
from paperboy.storage.site_copy import REBUILT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not PG_ADMIN_URL, reason="moves into PostgreSQL: needs PAPERBOY_TEST_DATABASE_URL"),
]

MONTH = "2025-06"  # 4,903 papers first listed then
DAY = "2025-06-12"


def _site_settings(tmp_path: Path, database_url: str = "") -> Settings:
    return load_settings(
        environ={},
        toml_path=tmp_path / "absent.toml",
        data_dir=tmp_path / ("new" if database_url else "site"),
        database_url=database_url or None,
        sync_on_empty=False,  # a sync reaches arXiv: tests never use the network
        sync_interval_hours=0,
        secret_key=TEST_SIGNING_KEY if database_url else "",
    )


def _month_slice(tmp_path: Path) -> Path:
    corpus = shared_path("data", "arxiv", "papers.jsonl.gz")
    target = tmp_path / "month.jsonl.gz"
    with gzip.open(corpus, "rt") as lines, gzip.open(target, "wt") as out:
        out.writelines(line for line in lines if json.loads(line)["first_listed"].startswith(MONTH))
    return target


@pytest.fixture
def site(tmp_path_factory: pytest.TempPathFactory):
    """The SQLite site: a month of papers with their reference vectors, and the community."""
    tmp_path = tmp_path_factory.mktemp("site")
    settings = _site_settings(tmp_path)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    listings = shared_path("data", "arxiv", "listings.tsv.gz")
    import_files(engine, [_month_slice(tmp_path)], listings_path=listings, batch_size=2000)
    store_reference_vectors(
        settings.effective_database_url, corpus_ids(shared_path("data", "arxiv", "papers.jsonl.gz"))
    )
    population = populate_site(engine, members=2000)
    with engine.begin() as conn:
        database_identity(conn, "the old site's")  # as a site that has served has it
    with engine.connect() as conn:
        assert empty_tables(conn, skip=("paper_search",)) == []  # a new table needs rows in site_population
    engine.dispose()
    return tmp_path, settings, population


@pytest.fixture
def moved(site):
    """The site moved by `paperboy move-to URL`: the URL, exit status, stdout and stderr."""
    tmp_path, settings, _population = site
    with empty_postgresql_database("paperboy_moved") as url, pytest.MonkeyPatch.context() as env:
        env.setenv("PAPERBOY_DATA_DIR", str(settings.data_dir))
        env.setenv("PAPERBOY_CONFIG", str(tmp_path / "absent.toml"))
        env.delenv("PAPERBOY_DATABASE_URL", raising=False)
        env.delenv("PAPERBOY_SECRET_KEY", raising=False)
        yield (url, *_run("move-to", url))


def _moving(count, table):
    """Rows that move: all but the keyword indexes' database identity, which the new one makes."""
    return count.where(sync_state.c.key != "lexical:database") if table is sync_state else count


def _run(*argv: str) -> tuple[int, str, str]:
    """`paperboy ARGV` in this process (the environment names the site)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_a_site_moved_to_postgresql_is_equal_and_serves(site, moved, tmp_path):
    """One test, so that a parallel run builds the site once: each part below needs it."""
    _every_table_is_equal(site, moved)
    _a_database_that_is_not_empty_is_refused(moved[0])
    _the_check_finds_what_changed_since(moved[0])
    _the_moved_site_searches_lists_mails_and_authenticates(site, moved[0], tmp_path)


def _every_table_is_equal(site, moved):
    _tmp, settings, population = site
    url, code, out, err = moved
    assert code == 0, err
    assert "every table is equal" in out
    copied = [table for table in metadata.sorted_tables if table.name != "paper_search"]
    for table in copied:
        assert f"\n{table.name} " in f"\n{out}"
        assert "DIFFERENT" not in out
    # Counted here too, by the test's own query rather than the command's checksum.
    source, target = make_engine(settings.effective_database_url), make_engine(url)
    with source.connect() as src, target.connect() as dst:
        for table in copied:
            count = select(func.count()).select_from(table)
            assert dst.execute(count).scalar_one() == src.execute(_moving(count, table)).scalar_one(), (
                table.name
            )
        assert dst.execute(text("SELECT count(*) FROM paper_search")).scalar_one() == 4903
        assert dst.execute(select(func.sum(paper_stats.c.upvotes))).scalar_one() == population.votes
        # The secondary indexes, dropped for the load, are all there again.
        present = set(
            dst.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")).scalars()
        )
        declared = {index.name for table in metadata.sorted_tables for index in table.indexes}
        assert declared <= present
    source.dispose()
    target.dispose()


def _a_database_that_is_not_empty_is_refused(url):
    code, _out, err = _run("move-to", url)
    assert code == 1
    assert "the PostgreSQL database is not empty" in err
    assert "Traceback" not in err
    code, _out, err = _run("move-to", "sqlite:///elsewhere.sqlite3")
    assert code == 1
    assert "the target must be a PostgreSQL database" in err


def _the_check_finds_what_changed_since(url):
    code, out, _err = _run("move-to", url, "--check")
    assert code == 0
    assert f"all {len(metadata.sorted_tables) - len(REBUILT)} tables are equal" in out
    target = make_engine(url)
    with target.begin() as conn:
        first = conn.execute(select(func.min(comments.c.id))).scalar_one()
        conn.execute(update(comments).where(comments.c.id == first).values(body="changed"))
    try:
        code, out, err = _run("move-to", url, "--check")
        assert code == 1
        assert "1 tables differ: comments" in err
    finally:
        with target.begin() as conn:
            original = "Comment 0: the ablation in §0 ☃ — see `code` and *this*."
            conn.execute(update(comments).where(comments.c.id == first).values(body=original))
        target.dispose()


def _the_moved_site_searches_lists_mails_and_authenticates(site, url, tmp_path):
    _tmp, _settings, population = site
    settings = _site_settings(tmp_path, url)
    engine = make_engine(url)
    with engine.connect() as conn:
        paper = conn.execute(select(papers.c.arxiv_id, papers.c.title).order_by(papers.c.id).limit(1)).one()
    with open_client(settings) as client:
        lexical = client.get("/api/v1/search", params={"q": paper.title, "mode": "lexical"}).json()
        assert lexical["results"][0]["arxiv_id"] == paper.arxiv_id
        semantic = client.get("/api/v1/search", params={"q": paper.title, "mode": "semantic"}).json()
        assert paper.arxiv_id in [hit["arxiv_id"] for hit in semantic["results"][:3]]
        daily = client.get("/api/daily_papers", params={"date": DAY}).json()
        assert len(daily) > 10
        assert sum(item["paper"]["upvotes"] for item in daily) > 0
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {population.api_token}"})
        assert me.status_code == 200
        assert me.json()["name"] == "member0"
    subscription = find_subscription(engine, population.subscriber)
    assert subscription is not None
    preview = preview_digest(engine, settings, subscription, today=date(2025, 6, 13))
    assert preview.papers
    assert preview.html
    # The id sequences were set past the copied ids: a new token gets a new id and works.
    new = create_token_for(engine, "member1", "after the move", ["read"])
    assert authenticate_token(engine, new.plaintext) is not None
    engine.dispose()
