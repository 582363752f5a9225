"""`paperboy sync` against a real local HTTP server answering with recorded arXiv and HF responses."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import shared_path
from fixture_server import fixture_server
from sqlalchemy import func, select

from paperboy.cli import main
from paperboy.integrations.embedder import model_id_for
from paperboy.storage.schema import hf_papers, listings, paper_embeddings, papers
from paperboy.storage.site_state import sync_succeeded_at
from paperboy.storage.sync_state import get_state

RSS = ("fixtures", "arxiv_rss", "laya-reader", "arxiv_rss.xml")
OAI = (
    "fixtures",
    "arxiv_oai",
    "paperhive_nock",
    "bodies",
    "oaipmh-listrecords---should-list-identifiers-from-arxiv.1.status200.xml",
)
HF = ("fixtures", "hf_api", "sotawhat", "hf_daily_papers.json")


def _upstream(broken=()):
    bodies = {
        "rss": shared_path(*RSS).read_bytes(),
        "oai": shared_path(*OAI).read_bytes(),
        "hf": shared_path(*HF).read_bytes(),
    }

    def respond(path, query):
        source = "rss" if path.startswith("/rss/") else "oai" if path == "/oai" else "hf"
        if source in broken:
            return 500, {}, b"<h1>Internal Server Error</h1>"
        if source == "hf" and query.get("date") != ["2026-06-12"]:
            return 200, {"Content-Type": "application/json"}, b"[]"
        return 200, {}, bodies[source]

    return respond


@pytest.fixture
def sync_env(monkeypatch, cli_env):
    monkeypatch.setenv("PAPERBOY_SYNC_DAYS", "2")

    def point_at(base):
        monkeypatch.setenv("PAPERBOY_ARXIV_RSS_URL", f"{base}/rss")
        monkeypatch.setenv("PAPERBOY_ARXIV_OAI_URL", f"{base}/oai")
        monkeypatch.setenv("PAPERBOY_HF_API_URL", f"{base}/api")

    return point_at


def _counts(engine):
    with engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (papers, listings, hf_papers)
        )


def test_sync_stores_listings_metadata_and_hf_signals(sync_env, engine, monkeypatch, capsys):
    monkeypatch.setattr("paperboy.services.sync.now_utc", lambda: _at(2026, 6, 13))
    with fixture_server(_upstream()) as (base, requests):
        sync_env(base)
        assert main(["sync"]) == 0
    assert any(r.startswith("/rss/cs.AI+cs.CL+cs.CV+cs.LG") for r in requests)
    assert any("verb=ListRecords" in r and "from=2026-06-11" in r for r in requests)
    assert any("date=2026-06-12" in r for r in requests)
    with engine.connect() as conn:
        listed = dict(
            conn.execute(
                select(papers.c.arxiv_id, listings.c.announce_type)
                .join(listings)
                .where(listings.c.day == date(2026, 9, 24))
            ).all()
        )
        assert listed["2609.26811"] == "new"
        assert sorted(listed.values()).count("cross") == 1
        hf = conn.execute(select(papers.c.arxiv_id, hf_papers.c.upvotes).join(hf_papers)).all()
        assert len(hf) == 30
        assert ("2606.00467", _hf_upvotes("2606.00467")) in hf
        assert get_state(conn, "sync:state") == "done"
        assert sync_succeeded_at(conn) is not None  # /metrics' sync lag counts from here
    first = _counts(engine)
    # Every paper was embedded for search by meaning at the end of the sync, once.
    assert _embedded(engine) == first[0]
    assert f"{first[0]} embedded for search" in capsys.readouterr().out
    with fixture_server(_upstream()) as (base, _):
        sync_env(base)
        assert main(["sync"]) == 0
    out = capsys.readouterr().out
    assert "0 new, 0 updated" in out
    assert "; 0 embedded for search" in out
    assert _counts(engine) == first


def test_sync_can_leave_embedding_to_paperboy_index(sync_env, engine, monkeypatch, capsys):
    monkeypatch.setattr("paperboy.services.sync.now_utc", lambda: _at(2026, 6, 13))
    monkeypatch.setenv("PAPERBOY_EMBED_ON_SYNC", "0")
    with fixture_server(_upstream()) as (base, _):
        sync_env(base)
        assert main(["sync"]) == 0
    assert "embedded" not in capsys.readouterr().out
    assert _counts(engine)[0] > 0
    assert _embedded(engine) == 0


def _embedded(engine):
    """Papers embedded with the model of the default embedder (cli_env keeps the default)."""
    model = model_id_for("auto")
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(paper_embeddings).where(paper_embeddings.c.model == model)
        ).scalar_one()


def test_failing_source_keeps_everything_and_fails_with_one_line(sync_env, engine, monkeypatch, capsys):
    monkeypatch.setattr("paperboy.services.sync.now_utc", lambda: _at(2026, 6, 13))
    with fixture_server(_upstream()) as (base, _):
        sync_env(base)
        assert main(["sync"]) == 0
    before = _counts(engine)
    with engine.connect() as conn:
        succeeded = sync_succeeded_at(conn)
    capsys.readouterr()
    with fixture_server(_upstream(broken=("rss", "oai", "hf"))) as (base, _):
        sync_env(base)
        assert main(["sync"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("paperboy: error: sync failed: arXiv RSS: GET ")
    assert "HTTP 500" in err[-1]
    assert _counts(engine) == before
    with engine.connect() as conn:
        assert get_state(conn, "sync:state") == "failed"
        assert "HTTP 500" in get_state(conn, "sync:message")
        assert succeeded is not None
        assert sync_succeeded_at(conn) == succeeded  # a failed sync is no success


def test_no_network_is_a_clear_failure(sync_env, engine, capsys):
    sync_env("http://127.0.0.1:9")  # discard port: connection refused
    assert main(["sync"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("paperboy: error: sync failed: arXiv RSS: GET http://127.0.0.1:9/rss/")
    assert _counts(engine) == (0, 0, 0)


def _at(year, month, day):
    from datetime import UTC, datetime

    return datetime(year, month, day, 12, tzinfo=UTC)


def _hf_upvotes(arxiv_id):
    import json

    items = json.loads(shared_path(*HF).read_bytes())
    return next(item["paper"]["upvotes"] for item in items if item["paper"]["id"] == arxiv_id)


def test_sync_refuses_to_run_beside_another(sync_env, engine, capsys):
    from paperboy.storage.sync_state import set_state
    from paperboy.storage.transactions import write_transaction

    with write_transaction(engine) as conn:
        set_state(conn, "sync:state", "running")
    sync_env("http://127.0.0.1:9")
    assert main(["sync"]) == 1
    assert (
        capsys.readouterr().err
        == "paperboy: error: another sync is running (try again when it has finished)\n"
    )
