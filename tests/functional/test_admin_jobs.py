"""`/admin/jobs`: administrators see the queue (counts per kind, running jobs, failures with a
Retry button that works); members and moderators get 403, anonymous visitors 401; never cached."""

from __future__ import annotations

from datetime import timedelta

from app_client import open_client
from community import log_in_as, make_member

from paperboy.domain.jobs import NewJob
from paperboy.services.jobs import add_jobs, queue_status
from paperboy.storage import jobs as jobs_store
from paperboy.storage.engine import now_utc
from paperboy.storage.transactions import write_transaction


def _queue_with_a_failure(engine) -> int:
    add_jobs(engine, [NewJob("sync", max_attempts=1), NewJob("embed"), NewJob("embed")])
    with write_transaction(engine) as conn:
        job = jobs_store.claim_job(conn, "worker-host:4242", now_utc(), timedelta(minutes=1), alone=True)
        assert job is not None
        jobs_store.fail_job(conn, job, now_utc(), "UpstreamError: arXiv said <503>", None)
        running = jobs_store.claim_job(conn, "worker-host:4243", now_utc(), timedelta(minutes=1), alone=True)
        assert running is not None
    return job.id


def test_the_jobs_page_is_for_administrators_only(settings, engine):
    failed_id = _queue_with_a_failure(engine)
    admin = make_member(engine, "admin", role="admin")
    with open_client(settings) as client:
        assert client.get("/admin/jobs").status_code == 401
        for role in ("member", "moderator"):
            log_in_as(client, make_member(engine, f"a-{role}", role=role))
            assert client.get("/admin/jobs").status_code == 403, role
            client.cookies.clear()
        csrf = log_in_as(client, admin)
        page = client.get("/admin/jobs")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "private, no-store"
        html = page.text
        assert '<th scope="row">embed</th><td>1</td>' in html, "one embed job due, one running"
        assert "on worker-host:4243" in html
        assert "UpstreamError: arXiv said &lt;503&gt;" in html, "escaped"
        retried = client.post(f"/admin/jobs/{failed_id}/retry", data={"csrf_token": csrf})
        assert retried.status_code == 303
        again = client.post(f"/admin/jobs/{failed_id}/retry", data={"csrf_token": csrf})
        assert again.status_code == 409, "no longer failed"
        assert client.post("/admin/jobs/x1/retry", data={"csrf_token": csrf}).status_code == 404
    sync = next(c for c in queue_status(engine) if c.kind == "sync")
    assert (sync.queued, sync.failed) == (1, 0)
