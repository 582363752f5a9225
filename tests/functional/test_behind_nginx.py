"""Two `paperboy serve` instances (one with two workers) on one database behind Debian's nginx on
127.0.0.1, configured as docs/deploy.md says: a vote on one instance shows on the other; with
writes going through nginx, one instance killed (SIGKILL, its whole process group) loses no
write that was answered 2xx; every answer carries the id nginx gave the request, and the
instance's JSON log line of it too; /metrics of the two-worker instance adds up both workers.

Runs on both databases (the PostgreSQL pass is the deployment docs/deploy.md describes); skips
only without nginx."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from community import make_member
from conftest import make_record
from live_server import serve_process, site_env
from nginx_proxy import nginx_in_front, require_nginx
from sqlalchemy import select

from paperboy.services.sessions import open_session
from paperboy.storage.schema import papers, votes

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
    assert request_id in (tmp_path / "nginx" / "access.log").read_text()  # nginx's $request_id
    lines = _log_lines_of(request_id, [tmp_path / "a.log", tmp_path / "b.log"])
    [access] = lines
    assert (access["route"], access["status"], access["client"]) == (
        "/papers/{arxiv_id:path}",
        200,
        "127.0.0.1",
    )
    assert httpx.get(f"{site['proxy']}/metrics", timeout=10).status_code == 404  # kept inside


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
