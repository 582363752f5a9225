"""The SIGKILL matrix: `paperboy import`, `paperboy index`, `paperboy sync` (against recorded
responses) and `paperboy digest send` (against a real SMTP server), each killed with SIGKILL at a
random point three times and then run to completion: every row is stored exactly once, the same
rows as an uninterrupted run, and every subscriber gets exactly one digest.

The random delays are seeded; the seed is printed and named in failures (PAPERBOY_KILL_SEED
replays it). Kills land after some progress was observed: rows appearing, requests arriving.
"""

from __future__ import annotations

import csv
import gzip
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import shared_path
from digest_fixtures import DAY, add_subscribers, add_upvotes, catalogue_records
from fixture_server import fixture_server
from kill_rounds import kill_seed, kill_then_finish, paperboy_env
from mail_sink import running_smtp_sink
from sqlalchemy import Engine, delete, func, select, text, update

from paperboy.domain.digest import Preferences, daily_edition
from paperboy.storage import digests as digest_store
from paperboy.storage.engine import make_engine, now_utc
from paperboy.storage.lexical_index import clear_index, indexed_count
from paperboy.storage.schema import (
    digest_sends,
    hf_papers,
    listings,
    paper_embeddings,
    paper_versions,
    papers,
    sync_state,
)
from paperboy.storage.sync_state import SYNC_STATE_KEY
from paperboy.storage.transactions import write_transaction

IMPORT_PAPERS = 9000
INDEX_PAPERS = 3000
SUBSCRIBERS = 300
DIGEST_CONNECTIONS = 4  # the default digest_connections: at most one re-sent mail per connection


def _count(engine: Engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _catalogue_rows(engine: Engine) -> dict[str, Counter[tuple[object, ...]]]:
    """Each catalogue table's rows by natural key (arXiv ids, not row ids), counted."""
    by_id = papers.c.arxiv_id
    queries = {
        "papers": select(by_id, papers.c.title, papers.c.latest_version),
        "versions": select(by_id, paper_versions.c.version).join(paper_versions),
        "listings": select(by_id, listings.c.day, listings.c.announce_type).join(listings),
        "hf_papers": select(by_id, hf_papers.c.upvotes).join(hf_papers),
        "embeddings": select(by_id, paper_embeddings.c.model).join(paper_embeddings),
    }
    with engine.connect() as conn:
        return {name: Counter(tuple(row) for row in conn.execute(query)) for name, query in queries.items()}


def _assert_each_once(rows: dict[str, Counter[tuple[object, ...]]], why: object) -> None:
    for name, counted in rows.items():
        twice = [row for row, n in counted.items() if n > 1]
        assert not twice, f"{why}: {name} rows stored more than once: {twice[:5]}"


def _reference(tmp_path: Path, command: list[str], **env: str) -> dict[str, Counter[tuple[object, ...]]]:
    """The rows an uninterrupted run of `command` stores in a fresh SQLite database."""
    url = f"sqlite:///{tmp_path / 'reference.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-m", "paperboy", *command],
        env=paperboy_env(url, tmp_path / "reference-data", **env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-800:]
    engine = make_engine(url)
    try:
        return _catalogue_rows(engine)
    finally:
        engine.dispose()


# --- import ---------------------------------------------------------------------------------------


@pytest.fixture
def corpus_part(tmp_path: Path) -> tuple[Path, Path]:
    """The first IMPORT_PAPERS papers of the shared corpus, and their listing rows."""
    source = shared_path("data", "arxiv", "papers.jsonl.gz")
    all_listings = shared_path("data", "arxiv", "listings.tsv.gz")
    part, part_listings = tmp_path / "part.jsonl.gz", tmp_path / "part-listings.tsv.gz"
    ids = set()
    with gzip.open(source, "rt", encoding="utf-8") as src, gzip.open(part, "wt", encoding="utf-8") as out:
        for _, line in zip(range(IMPORT_PAPERS), src, strict=False):
            out.write(line)
            ids.add(line.split('"id": "', 1)[1].split('"', 1)[0])
    with gzip.open(all_listings, "rt") as src, gzip.open(part_listings, "wt") as out:
        reader, writer = csv.reader(src, delimiter="\t"), csv.writer(out, delimiter="\t")
        writer.writerow(next(reader))
        writer.writerows(row for row in reader if row[1] in ids)
    return part, part_listings


def test_import_killed_three_times_stores_every_row_once(
    database_url: str, engine: Engine, tmp_path: Path, corpus_part: tuple[Path, Path]
) -> None:
    part, part_listings = corpus_part
    command = ["import", str(part), "--listings", str(part_listings)]
    batch = {"PAPERBOY_IMPORT_BATCH_SIZE": "500"}
    report = kill_then_finish(
        command,
        paperboy_env(database_url, tmp_path / "data", **batch),
        lambda: _count(engine, papers),
        seed=kill_seed(),
        max_delay_s=0.5,
    )
    rows = _catalogue_rows(engine)
    _assert_each_once(rows, report)
    assert report.killed_mid_run >= 1, report
    expected = _reference(tmp_path, command, **batch)
    assert len(rows["papers"]) == IMPORT_PAPERS, report
    for name in ("papers", "versions", "listings"):
        assert rows[name] == expected[name], f"{report}: {name} differ from an uninterrupted import"


# --- index ----------------------------------------------------------------------------------------


def test_index_killed_three_times_indexes_and_embeds_every_paper_once(
    database_url: str, engine: Engine, tmp_path: Path, corpus_part: tuple[Path, Path]
) -> None:
    part, _ = corpus_part
    env = paperboy_env(database_url, tmp_path / "data", PAPERBOY_EMBED_BATCH_SIZE="50")
    head = tmp_path / "head.jsonl.gz"
    with gzip.open(part, "rt") as src, gzip.open(head, "wt") as out:
        out.writelines(line for _, line in zip(range(INDEX_PAPERS), src, strict=False))
    subprocess.run([sys.executable, "-m", "paperboy", "import", str(head)], env=env, check=True, timeout=300)
    with write_transaction(engine) as conn:  # as a database from before the index existed
        clear_index(conn)
        conn.execute(delete(paper_embeddings))

    def progress() -> int:
        with engine.connect() as conn:
            return indexed_count(conn) + _count(engine, paper_embeddings)

    report = kill_then_finish(
        ["index", "--batch-size", "200"], env, progress, seed=kill_seed(), max_delay_s=0.6
    )
    rows = _catalogue_rows(engine)
    _assert_each_once(rows, report)
    assert report.killed_mid_run >= 1, report
    with engine.connect() as conn:
        assert indexed_count(conn) == INDEX_PAPERS, report
    assert len(rows["embeddings"]) == INDEX_PAPERS, report
    if engine.dialect.name == "sqlite":  # the FTS5 table itself: one row per paper, no strays
        with engine.connect() as conn:
            fts = conn.execute(text("SELECT count(*), count(DISTINCT rowid) FROM paper_fts_docsize")).one()
        assert tuple(fts) == (INDEX_PAPERS, INDEX_PAPERS), report


# --- sync -----------------------------------------------------------------------------------------


def _recorded_upstream(delay_s: float):  # type: ignore[no-untyped-def]
    """arXiv RSS, OAI-PMH and Hugging Face as recorded, each answer after `delay_s` (a slow
    upstream, so that a kill can land between the sources)."""
    bodies = {
        "rss": shared_path("fixtures", "arxiv_rss", "laya-reader", "arxiv_rss.xml").read_bytes(),
        "oai": shared_path(
            "fixtures",
            "arxiv_oai",
            "paperhive_nock",
            "bodies",
            "oaipmh-listrecords---should-list-identifiers-from-arxiv.1.status200.xml",
        ).read_bytes(),
        "hf": shared_path("fixtures", "hf_api", "sotawhat", "hf_daily_papers.json").read_bytes(),
    }

    def respond(path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        time.sleep(delay_s)
        source = "rss" if path.startswith("/rss/") else "oai" if path == "/oai" else "hf"
        return 200, {"Content-Type": "application/json"} if source == "hf" else {}, bodies[source]

    return respond


def _sync_settings(base: str) -> dict[str, str]:
    return {
        "PAPERBOY_SYNC_DAYS": "2",
        "PAPERBOY_ARXIV_DELAY": "0",
        "PAPERBOY_HTTP_RETRIES": "0",
        "PAPERBOY_ARXIV_RSS_URL": f"{base}/rss",
        "PAPERBOY_ARXIV_OAI_URL": f"{base}/oai",
        "PAPERBOY_HF_API_URL": f"{base}/api",
    }


def _as_if_the_dead_sync_went_stale(engine: Engine) -> None:
    """A SIGKILLed sync leaves its "running" claim behind, which refuses new syncs until it goes
    stale (storage/sync_state.py, RUNNING_GOES_STALE): move that mark's clock back instead of
    waiting (only the clock is faked)."""
    with write_transaction(engine) as conn:
        conn.execute(
            update(sync_state)
            .where(sync_state.c.key == SYNC_STATE_KEY, sync_state.c.value == "running")
            .values(updated_at=now_utc() - timedelta(hours=2))
        )


def test_sync_killed_three_times_stores_what_one_sync_stores(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    with fixture_server(_recorded_upstream(0.25)) as (base, requests):
        expected = _reference(tmp_path, ["sync"], **_sync_settings(base))
        report = kill_then_finish(
            ["sync"],
            paperboy_env(database_url, tmp_path / "data", **_sync_settings(base)),
            lambda: len(requests),
            seed=kill_seed(),
            max_delay_s=1.5,
            before_rerun=lambda: _as_if_the_dead_sync_went_stale(engine),
        )
    rows = _catalogue_rows(engine)
    _assert_each_once(rows, report)
    assert report.killed_mid_run >= 1, report
    assert rows == expected, f"{report}: the rows differ from an uninterrupted sync"
    assert rows["papers"], "the recorded responses stored nothing"
    assert rows["hf_papers"], "the recorded responses stored nothing"


# --- digest send ----------------------------------------------------------------------------------


def test_digest_send_killed_three_times_mails_each_subscriber_once(
    add_papers, engine: Engine, database_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    add_papers(*catalogue_records())
    add_upvotes(engine)
    add_subscribers(engine, SUBSCRIBERS, make=lambda rng: Preferences(top_n=rng.randint(1, 10)))
    edition = daily_edition(DAY)
    with running_smtp_sink() as sink:
        env = paperboy_env(
            database_url,
            tmp_path / "data",
            PAPERBOY_SMTP_HOST=sink.host,
            PAPERBOY_SMTP_PORT=str(sink.port),
            PAPERBOY_SMTP_SECURITY="none",
            PAPERBOY_DIGEST_RATE="60",  # mails per second: a run lasts ~5 s, so kills land mid-run
        )
        report = kill_then_finish(
            ["digest", "send", "--edition", edition.key],
            env,
            lambda: len(sink.messages),
            seed=kill_seed(),
            max_delay_s=1.0,
            cwd=tmp_path,
        )
        messages, recipients = list(sink.messages), list(sink.recipients)
    ids_by_recipient: dict[str, set[str]] = {}
    copies: Counter[str] = Counter()
    for message, (recipient,) in zip(messages, recipients, strict=True):
        ids_by_recipient.setdefault(recipient, set()).add(str(message["Message-ID"]))
        copies[str(message["Message-ID"])] += 1
    assert report.killed_mid_run >= 1, report
    assert len(ids_by_recipient) == SUBSCRIBERS, report
    assert all(len(ids) == 1 for ids in ids_by_recipient.values()), f"{report}: two different digests"
    # docs/digests.md, "Exactly once": a mail accepted in the instant before a kill, before its row
    # was written, goes out again with the same Message-ID: at most one per connection per kill.
    resent = sum(copies.values()) - len(copies)
    print(f"digest: {len(messages)} mails for {SUBSCRIBERS} subscribers, {resent} re-sent copies")
    assert resent <= DIGEST_CONNECTIONS * report.killed_mid_run, report
    with engine.connect() as conn:
        assert digest_store.edition_counts(conn, edition.key) == {"sent": SUBSCRIBERS}, report
        logged = conn.execute(select(digest_sends.c.subscription_id)).scalars().all()
    assert len(logged) == len(set(logged)) == SUBSCRIBERS, report
