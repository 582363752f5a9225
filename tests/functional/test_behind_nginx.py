"""Two `paperboy serve` instances (one with two workers) on one database behind Debian's nginx on
127.0.0.1, configured as docs/deploy.md says: a vote on one instance shows on the other; with
writes going through nginx, one instance killed (SIGKILL, its whole process group) loses no
write that was answered 2xx; every answer carries the id nginx gave the request, and the
instance's JSON log line of it too; /metrics of the two-worker instance adds up both workers.
With `jobs_in_workers` on both instances, a paper synced by one `paperboy worker` is found by
meaning on both, and the worker stops on SIGTERM with status 0.

Runs on both databases (the PostgreSQL pass is the deployment docs/deploy.md describes); skips
only without nginx, and the worker's test on SQLite (workers are a PostgreSQL deployment)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from community import make_member
from conftest import PG_ADMIN_URL, REPO_ROOT, make_record, shared_key_env, shared_path
from fixture_server import fixture_server
from live_server import serve_process, site_env
from nginx_proxy import nginx_in_front, require_nginx
from sqlalchemy import select

from paperboy.domain.jobs import NewJob
from paperboy.services.jobs import add_jobs
from paperboy.services.sessions import open_session
from paperboy.storage.schema import jobs, papers, votes

PAPERS = [f"2506.{n:05d}" for n in range(1, 13)]
MEMBERS = 24
WRITERS = 4  # threads writing through nginx at once


def _instance_env(database_url: str, folder: Path) -> dict[str, str]:
    return {
        **site_env(database_url, folder),
        "PAPERBOY_TRUSTED_PROXIES": "127.0.0.1",  # nginx: docs/deploy.md
        "PAPERBOY_TRUST_REQUEST_ID": "1",  # nginx sets X-Request-ID on every request
        "PAPERBOY_LOG_FORMAT": "json",
        "PAPERBOY_METRICS": "local",
        # Every write of the load loop comes from 127.0.0.1 and a few accounts: budgets that a
        # site behind a proxy gives its real clients would refuse most of them.
        "PAPERBOY_RATE_LIMIT_VOTE": "100000/minute",
        "PAPERBOY_RATE_LIMIT_IP_FACTOR": "1",
    }


def _members(engine, settings) -> list[tuple[int, str, str]]:
    """(user id, session token, CSRF token) of new verified members."""
    out = []
    for number in range(MEMBERS):
        user = make_member(engine, f"writer{number}")
        session = open_session(engine, settings, user)
        out.append((user.id, session.token, session.csrf_token))
    return out


def _vote(base: str, member: tuple[int, str, str], paper: str, client: httpx.Client) -> int:
    _, token, csrf = member
    client.cookies.clear()  # the member's cookie only, whatever an earlier answer set
    answer = client.post(
        f"{base}/papers/{paper}/vote",
        data={"action": "up"},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json", "Cookie": f"paperboy_session={token}"},
    )
    return answer.status_code


def test_two_instances_behind_nginx(database_url, tmp_path, engine, settings, add_papers):
    """One site for every check (each start loads the model in three processes: a minute on a
    busy host); the kill comes last."""
    require_nginx()
    add_papers(*(make_record(paper) for paper in PAPERS))
    members = _members(engine, settings)
    with ExitStack() as stack:
        _, a_base = stack.enter_context(
            serve_process(_instance_env(database_url, tmp_path / "a"), tmp_path / "a.log", workers=2)
        )
        b_proc, b_base = stack.enter_context(
            serve_process(_instance_env(database_url, tmp_path / "b"), tmp_path / "b.log")
        )
        upstreams = [base.removeprefix("http://") for base in (a_base, b_base)]
        proxy = stack.enter_context(nginx_in_front(upstreams, tmp_path / "nginx"))
        site = {"a": a_base, "b": b_base, "b_proc": b_proc, "proxy": proxy, "members": members}
        a_vote_on_one_instance_is_seen_on_the_other(site)
        answers_through_nginx_carry_its_request_id_into_the_instances_log(site, tmp_path)
        metrics_of_an_instance_add_up_its_workers(site)
        killing_an_instance_under_load_loses_no_accepted_write(site, engine)


def a_vote_on_one_instance_is_seen_on_the_other(site):
    member = site["members"][0]
    with httpx.Client(timeout=30) as client:
        assert _vote(site["a"], member, PAPERS[0], client) == 200
        client.cookies.clear()
        page = client.get(
            f"{site['b']}/papers/{PAPERS[0]}", headers={"Cookie": f"paperboy_session={member[1]}"}
        )
    assert page.status_code == 200
    assert '<span class="vote-count">1</span>' in page.text


def answers_through_nginx_carry_its_request_id_into_the_instances_log(site, tmp_path):
    answer = httpx.get(f"{site['proxy']}/papers/{PAPERS[1]}", timeout=30)
    assert answer.status_code == 200
    request_id = answer.headers["x-request-id"]
    # nginx's $request_id, in its access line (written once the answer is out, like ours)
    assert _text_once_in(request_id, tmp_path / "nginx" / "access.log")
    lines = _log_lines_of(request_id, [tmp_path / "a.log", tmp_path / "b.log"])
    [access] = lines
    assert (access["route"], access["status"], access["client"]) == (
        "/papers/{arxiv_id:path}",
        200,
        "127.0.0.1",
    )
    assert httpx.get(f"{site['proxy']}/metrics", timeout=10).status_code == 404  # kept inside


def _text_once_in(text: str, log: Path) -> bool:
    """Whether `text` appears in `log` within 10 s."""
    deadline = time.monotonic() + 10
    while text not in log.read_text():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _log_lines_of(request_id: str, logs: list[Path]) -> list[dict[str, object]]:
    """The JSON log lines that carry `request_id`: the access line is written once the answer
    is out, so it may come a moment after the answer."""
    deadline = time.monotonic() + 10
    while True:
        lines = [
            json.loads(line)
            for log in logs
            for line in log.read_text().splitlines()
            if line.startswith("{") and request_id in line
        ]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def metrics_of_an_instance_add_up_its_workers(site):
    with httpx.Client(timeout=30) as client:
        for _ in range(20):
            assert client.get(f"{site['a']}/about/trending").status_code == 200
        scrapes = [client.get(f"{site['a']}/metrics").text for _ in range(6)]
    wanted = 'paperboy_http_requests_total{method="GET",route="/about/trending",status="200"} 20.0'
    assert all(wanted in text.splitlines() for text in scrapes), [
        line for text in scrapes for line in text.splitlines() if "/about/trending" in line
    ]


def killing_an_instance_under_load_loses_no_accepted_write(site, engine):
    pairs = [(member, paper) for member in site["members"] for paper in PAPERS]
    accepted: list[tuple[int, str]] = []
    refused: list[int | str] = []
    lock = threading.Lock()
    killed_at: list[int] = []

    def write(share: list[tuple[tuple[int, str, str], str]]) -> None:
        with httpx.Client(timeout=60) as client:
            for member, paper in share:
                try:
                    status: int | str = _vote(site["proxy"], member, paper, client)
                except httpx.HTTPError as exc:
                    status = repr(exc)
                with lock:
                    if isinstance(status, int) and 200 <= status < 300:
                        accepted.append((member[0], paper))
                    else:
                        refused.append(status)

    threads = [threading.Thread(target=write, args=(pairs[i::WRITERS],)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    while len(accepted) < len(pairs) // 3 and any(t.is_alive() for t in threads):
        time.sleep(0.01)
    os.killpg(site["b_proc"].pid, signal.SIGKILL)  # the instance and its workers, mid-write
    killed_at.append(len(accepted))
    for thread in threads:
        thread.join(timeout=300)

    with engine.connect() as conn:
        ids = {row.arxiv_id: row.id for row in conn.execute(select(papers.c.arxiv_id, papers.c.id))}
        stored = {
            (row.user_id, row.paper_id) for row in conn.execute(select(votes.c.user_id, votes.c.paper_id))
        }
    missing = [(user, paper) for user, paper in accepted if (user, ids[paper]) not in stored]
    print(
        f"writes {len(pairs)}: accepted {len(accepted)} ({killed_at[0]} before the kill), refused {refused}"
    )
    assert missing == []
    assert len(accepted) - killed_at[0] >= len(pairs) // 3  # the site kept taking writes after it
    assert len(accepted) + len(refused) == len(pairs)


RSS = ("fixtures", "arxiv_rss", "laya-reader", "arxiv_rss.xml")
OAI = ("fixtures", "arxiv_oai", "paperhive_nock", "bodies")
OAI_PAGE = "oaipmh-listrecords---should-list-identifiers-from-arxiv.1.status200.xml"
SYNCED = "2609.26820"  # Signal2Symbol, in the recorded RSS: anomalies in ECG and EEG, explained
BY_MEANING = "explaining irregular heart rhythms found in medical recordings"  # no word of its title
WORKER_WITHIN_S = 240  # the worker loads the model to embed what it synced: a minute on a busy host


def _recorded_arxiv(path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
    """arXiv's RSS and OAI-PMH as recorded; Hugging Face has no papers for the days asked."""
    if path.startswith("/rss/"):
        return 200, {}, shared_path(*RSS).read_bytes()
    if path == "/oai":
        return 200, {}, shared_path(*OAI, OAI_PAGE).read_bytes()
    return 200, {"Content-Type": "application/json"}, b"[]"


@pytest.mark.skipif(not PG_ADMIN_URL, reason="workers share PostgreSQL; on SQLite the jobs run in serve")
def test_a_paper_synced_by_a_worker_is_found_by_meaning_on_both_instances(database_url, tmp_path, engine):
    require_nginx()
    with ExitStack() as stack:
        upstream, _ = stack.enter_context(fixture_server(_recorded_arxiv))
        worker = stack.enter_context(_worker_process(database_url, tmp_path, upstream))
        bases = [
            stack.enter_context(
                serve_process(_queueing_env(database_url, tmp_path / n), tmp_path / f"{n}.log")
            )[1]
            for n in ("a", "b")
        ]
        proxy = stack.enter_context(
            nginx_in_front([b.removeprefix("http://") for b in bases], tmp_path / "nginx")
        )
        add_jobs(engine, [NewJob("sync")])
        _wait_for_the_sync(engine, worker, tmp_path / "worker.log")
        for base in [*bases, proxy]:
            found = _search_by_meaning(base)
            assert found[0]["arxiv_id"] == SYNCED, (base, found)
            assert found[0]["matched_by"] == ["semantic"]
        worker.send_signal(signal.SIGTERM)  # as systemd stops it: the job in hand, then exit 0
        assert worker.wait(timeout=30) == 0, (tmp_path / "worker.log").read_text()
    assert "worker stopped: " in (tmp_path / "worker.log").read_text()


def _queueing_env(database_url: str, folder: Path) -> dict[str, str]:
    """An app host of docs/deploy.md: its background jobs go to the queue, for the workers."""
    return {**site_env(database_url, folder), "PAPERBOY_JOBS_IN_WORKERS": "1"}


@contextmanager
def _worker_process(database_url: str, tmp_path: Path, upstream: str) -> Iterator[subprocess.Popen[bytes]]:
    """`paperboy worker` as docs/deploy.md runs it, its arXiv and Hugging Face at `upstream`."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")},
        **site_env(database_url, tmp_path / "worker"),
        **shared_key_env(database_url),
        "PYTHONPATH": str(REPO_ROOT),
        "PAPERBOY_ARXIV_RSS_URL": f"{upstream}/rss",
        "PAPERBOY_ARXIV_OAI_URL": f"{upstream}/oai",
        "PAPERBOY_HF_API_URL": f"{upstream}/api",
        "PAPERBOY_ARXIV_DELAY": "0",  # arXiv's politeness delay, for a server on 127.0.0.1
        "PAPERBOY_SYNC_INTERVAL_HOURS": "0",  # the test queues the one sync itself
        "PAPERBOY_SYNC_ON_EMPTY": "0",
    }
    with (tmp_path / "worker.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "paperboy", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _wait_for_the_sync(engine, worker: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + WORKER_WITHIN_S
    while True:
        with engine.connect() as conn:
            state = conn.execute(select(jobs.c.state).where(jobs.c.kind == "sync")).scalar_one()
        if state == "done":
            return
        assert state != "failed", log.read_text()
        assert worker.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"the sync job is {state}:\n{log.read_text()}"
        time.sleep(0.2)


def _search_by_meaning(base: str) -> list[dict[str, object]]:
    """The results of the query by meaning, once the instance has read the new vectors (it
    looks for them every 2 s; docs/search.md) or 30 s have passed."""
    deadline = time.monotonic() + 30
    while True:
        body = httpx.get(
            f"{base}/api/v1/search", params={"q": BY_MEANING, "mode": "semantic"}, timeout=30
        ).json()
        if (body["results"] and body["results"][0]["arxiv_id"] == SYNCED) or time.monotonic() > deadline:
            return list(body["results"])
        time.sleep(0.2)
