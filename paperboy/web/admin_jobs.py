"""`/admin/jobs`: the job queue for administrators (each kind's jobs due, waiting, running and
failed, the oldest due job's age, the jobs running and the latest failures), and
`POST /admin/jobs/{id}/retry` to queue a failed job again. Private: `private, no-store`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from paperboy.services.jobs import queue_view, retry_job
from paperboy.web.auth import LOGGED_IN, CheckedViewer, require_admin, viewer_of
from paperboy.web.context import app_context
from paperboy.web.errors import PageError

router = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)
PRIVATE = {"Cache-Control": "private, no-store"}


@router.get("/admin/jobs")
def jobs_page(request: Request) -> Response:
    require_admin(viewer_of(request))
    ctx = app_context(request)
    context = {"queue": queue_view(ctx.engine), "in_workers": ctx.settings.jobs_in_workers}
    return ctx.templates.TemplateResponse(request, "admin_jobs.html", context, headers=PRIVATE)


@router.post("/admin/jobs/{job_id}/retry", dependencies=LOGGED_IN)
def retry(request: Request, viewer: CheckedViewer, job_id: str) -> Response:
    require_admin(viewer)
    if not job_id.isdigit() or len(job_id) > 18:
        raise PageError(404, "No such job", f"There is no job {job_id[:40]!r}.")
    if not retry_job(app_context(request).engine, int(job_id)):
        raise PageError(409, "Not a failed job", f"Job {job_id} has not failed, or no longer exists.")
    return RedirectResponse("/admin/jobs", status_code=303, headers=PRIVATE)
