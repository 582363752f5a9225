"""/metrics: off by default, then only for local clients or the metrics token; requests counted
by route template and status (page-cache hits and unknown paths too); the site's numbers read
from the database at each scrape. Request ids: made, or taken from a trusted X-Request-ID, and
sent back."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from app_client import open_client
from community import make_member
from conftest import make_record

from paperboy.domain.jobs import NewJob
from paperboy.logs import ACCESS_LOGGER, JsonLines
from paperboy.services.jobs import add_jobs
from paperboy.storage import jobs as job_store
from paperboy.storage.schema import sync_state
from paperboy.storage.sync_state import SYNC_SUCCEEDED_KEY, set_state
from paperboy.storage.transactions import write_transaction

LOCAL = ("127.0.0.1", 50000)
TOKEN = "t" * 32


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus' text format, or None when it is absent."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.rsplit(" ", 1)[0]))
            if all(found.get(k) == v for k, v in labels.items()) and (labels or "{" not in line):
                return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_are_off_by_default(settings):
    assert settings.metrics == "off"
    with open_client(settings, client=LOCAL) as client:
        assert client.get("/metrics").status_code == 404


def test_local_mode_answers_loopback_clients_that_no_proxy_forwarded(settings):
    with open_client(settings.replace(metrics="local"), client=LOCAL) as client:
        answer = client.get("/metrics")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert answer.headers["cache-control"] == "no-store"
        proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 403
        assert "local clients only" in proxied.text
    with open_client(settings.replace(metrics="local"), client=("203.0.113.9", 4000)) as client:
        assert client.get("/metrics").status_code == 403


def test_token_mode_needs_the_token(settings):
    with open_client(settings.replace(metrics="token", metrics_token=TOKEN), client=LOCAL) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 32})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"].startswith("Bearer")
        assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_a_short_token_is_refused_at_start_and_a_good_one_never_shown(tmp_path):
    from paperboy.config import SettingsError, describe, load_settings

    env = {"PAPERBOY_METRICS": "token", "PAPERBOY_METRICS_TOKEN": "short"}
    with pytest.raises(SettingsError, match="metrics_token"):
        load_settings(env, tmp_path / "absent.toml")
    settings = load_settings({**env, "PAPERBOY_METRICS_TOKEN": TOKEN}, tmp_path / "absent.toml")
    assert TOKEN not in " ".join(value for _, value, _ in describe(settings))


def test_requests_are_counted_by_route_template_and_status(settings, add_papers):
    add_papers(make_record("2506.12229"), make_record("2506.00001"))
    with open_client(settings.replace(metrics="local"), client=LOCAL) as client:
        for paper in ("2506.12229", "2506.00001", "2506.12229"):  # the third from the page cache
            assert client.get(f"/papers/{paper}").status_code == 200
        assert client.get("/papers/2506.99999").status_code == 404
        assert client.get("/no/such/thing/at/all").status_code == 404
        text = client.get("/metrics").text
    paper = {"route": "/papers/{arxiv_id:path}", "method": "GET"}
    assert _sample(text, "paperboy_http_requests_total", **paper, status="200") == 3
    assert _sample(text, "paperboy_http_requests_total", **paper, status="404") == 1
    assert _sample(text, "paperboy_http_requests_total", route="unmatched", status="404") == 1
    assert _sample(text, "paperboy_http_request_duration_seconds_count", **paper) == 4
    assert _sample(text, "paperboy_http_request_duration_seconds_bucket", **paper, le="+Inf") == 4


def test_the_sites_numbers_come_from_the_database(settings, engine, add_papers):
    add_papers(make_record("2506.12229"), make_record("2506.00001"))
    with open_client(settings.replace(metrics="local"), client=LOCAL) as client:
        before = client.get("/metrics").text
        assert _sample(before, "paperboy_sync_lag_seconds") is None  # no sync has succeeded yet
        assert _sample(before, "paperboy_embedding_backlog_papers") == 2
        queued = {"queue": "library_imports", "state": "queued"}
        assert _sample(before, "paperboy_job_queue_depth", **queued) == 0
        with write_transaction(engine) as conn:
            set_state(conn, SYNC_SUCCEEDED_KEY, "done")
            conn.execute(
                sync_state.update()
                .where(sync_state.c.key == SYNC_SUCCEEDED_KEY)
                .values(updated_at=datetime.now(UTC) - timedelta(hours=2))
            )
        lag = _sample(client.get("/metrics").text, "paperboy_sync_lag_seconds")
    assert lag is not None
    assert 7200 <= lag < 7300


def test_the_job_queue_depth_and_oldest_age_per_kind(settings, engine):
    """The job table of `paperboy worker`: each kind's due, waiting (a retry after its back-off)
    and running jobs, and the age of its oldest due one; every kind listed, at zero when idle."""
    now = datetime.now(UTC)
    add_jobs(engine, [NewJob("sync")] * 3, now - timedelta(seconds=120))
    add_jobs(engine, [NewJob("embed")], now - timedelta(seconds=30))
    with write_transaction(engine) as conn:  # a worker holds the oldest sync; another's failed
        job_store.claim_job(conn, "host:1", now, timedelta(minutes=5), alone=False)
        failed = job_store.claim_job(conn, "host:2", now, timedelta(minutes=5), alone=False)
        assert failed is not None
        job_store.fail_job(conn, failed, now, "RuntimeError: upstream", now + timedelta(minutes=10))
    with open_client(settings.replace(metrics="local"), client=LOCAL) as client:
        text = client.get("/metrics").text

    def depth(kind: str, state: str) -> float | None:
        return _sample(text, "paperboy_job_queue_depth", queue=f"job:{kind}", state=state)

    assert [depth("sync", state) for state in ("queued", "waiting", "running")] == [1, 1, 1]
    assert [depth("embed", state) for state in ("queued", "waiting", "running")] == [1, 0, 0]
    assert [depth("digests", state) for state in ("queued", "waiting", "running")] == [0, 0, 0]
    sync_age = _sample(text, "paperboy_job_queue_oldest_seconds", queue="job:sync")
    embed_age = _sample(text, "paperboy_job_queue_oldest_seconds", queue="job:embed")
    assert sync_age is not None
    assert embed_age is not None
    assert 120 <= sync_age < 180
    assert 30 <= embed_age < 90
    assert _sample(text, "paperboy_job_queue_oldest_seconds", queue="job:digests") == 0
    # The members' imports keep their own queue beside the job table's.
    assert _sample(text, "paperboy_job_queue_depth", queue="library_imports", state="queued") == 0


def test_every_answer_carries_a_request_id(settings):
    with open_client(settings) as client:
        first, second = client.get("/healthz"), client.get("/no/such/page")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in ids)
    assert ids[0] != ids[1]


@pytest.mark.parametrize(
    ("trusted", "sent", "kept"),
    [(True, "nginx-7f3a.1_b", True), (True, "two words", False), (False, "nginx-7f3a", False)],
)
def test_a_request_id_is_taken_from_the_header_only_when_trusted(settings, trusted, sent, kept):
    with open_client(settings.replace(trust_request_id=trusted)) as client:
        answer = client.get("/healthz", headers={"X-Request-ID": sent})
    assert (answer.headers["x-request-id"] == sent) is kept


def test_json_access_lines_carry_the_request_id(settings):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonLines())
    access = logging.getLogger(ACCESS_LOGGER)
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        with open_client(settings) as client:
            answer = client.get("/papers/2506.12229")
    finally:
        access.removeHandler(handler)
        access.setLevel(logging.NOTSET)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    [line] = [line for line in lines if line["path"] == "/papers/2506.12229"]
    assert line["request_id"] == answer.headers["x-request-id"]
    assert (line["status"], line["route"], line["method"]) == (404, "/papers/{arxiv_id:path}", "GET")
    assert line["level"] == "info"
    assert line["duration_ms"] >= 0


def test_digest_progress_and_the_import_queue_are_read_from_their_tables(engine):
    from digest_fixtures import DAY, add_subscribers

    from paperboy.domain.digest import daily_edition
    from paperboy.services.site_metrics import read_site_state
    from paperboy.storage import digests as store
    from paperboy.storage.library_imports import insert_import

    subscribers = list(add_subscribers(engine, 5).values())
    member = make_member(engine, "importer").id
    edition = daily_edition(DAY)
    now = datetime.now(UTC)
    with write_transaction(engine) as conn:
        store.ensure_edition(conn, edition, now)
        for subscription, status in zip(subscribers, ("sent", "sent", "deferred"), strict=False):
            store.record_send(conn, store.SendRecord(edition.key, subscription, status, 1, [], now))
        for status, age in (("queued", 90), ("queued", 30), ("running", 300), ("done", 999)):
            _add_import(conn, insert_import, member, status, now - timedelta(seconds=age))
    state = read_site_state(engine, "hashing")
    assert state.digest is not None
    assert (state.digest.edition, state.digest.sent, state.digest.total) == (edition.key, 2, 5)
    assert not state.digest.finished
    [queue] = [queue for queue in state.queues if queue.queue == "library_imports"]
    assert (queue.queue, queue.queued, queue.running) == ("library_imports", 2, 1)
    assert 90 <= queue.oldest_queued_s < 150


def _add_import(conn, insert_import, member: int, status: str, created: datetime) -> None:
    insert_import(
        conn,
        user_id=member,
        collection_id=None,
        collection_offset=0,
        collections=None,
        kind="ids",
        filename="ids.txt",
        status=status,
        total=1,
        matched=0,
        fetched=0,
        unmatched=[],
        document=None,
        message=None,
        attempts=0,
        created_at=created,
        updated_at=created,
        finished_at=None,
    )
