"""GET /metrics in Prometheus' text format, when the `metrics` setting allows it (docs/operations.md,
"Metrics"): requests by route template, method and status, their latency, and the site's state
read from the database at each scrape (services/site_metrics.py).

Request counts live in each web process. With `serve --workers N`, `serve` points
PROMETHEUS_MULTIPROC_DIR at a folder of data_dir before it starts the workers, and a scrape of
any worker adds up every worker's counts from there (prometheus-client's multiprocess mode); the
database's numbers are the same from any process on any host.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperboy.services.site_metrics import SiteState, read_site_state
from paperboy.web.context import app_context
from paperboy.web.route_names import route_name
from paperboy.web.warm_pages import WARMING

router = APIRouter()
log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Pages answer in milliseconds; searches and cold pages in tenths of a second.
_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LOOPBACK = frozenset({"127.0.0.1", "::1"})
_PROXY_HEADERS = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip"})
NOT_KEPT = {"Cache-Control": "no-store"}


class RequestMetrics:
    """The request counter and latency histogram of one app, in a registry of its own (tests
    make many apps in one process)."""

    def __init__(self, site: SiteCollector) -> None:
        self.site = site
        self.registry = CollectorRegistry()
        self.registry.register(site)
        self.requests = Counter(
            "paperboy_http_requests",
            "Requests answered, by route template, method and status.",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "paperboy_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template and method.",
            ("route", "method"),
            buckets=_BUCKETS,
            registry=self.registry,
        )

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_name(scope)
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or WARMING in scope:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # the app failed before it answered: the error handler's answer

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            self.metrics.observe(scope, status, time.perf_counter() - started)


class SiteCollector(Collector):
    """The database's numbers, read when scraped."""

    def __init__(self, engine: Engine, embedder: str) -> None:
        self.engine = engine
        self.embedder = embedder

    def collect(self) -> Iterator[Metric]:
        yield from site_metrics(read_site_state(self.engine, self.embedder))


def site_metrics(state: SiteState) -> Iterator[Metric]:
    lag = GaugeMetricFamily(
        "paperboy_sync_lag_seconds",
        "Seconds since the last sync that ended without a failure (absent: none yet).",
    )
    if state.sync_lag_s is not None:
        lag.add_metric([], state.sync_lag_s)
    yield lag
    yield GaugeMetricFamily(
        "paperboy_embedding_backlog_papers",
        "Papers without a vector of the configured embedder at their latest version.",
        value=state.papers_waiting_for_vectors,
    )
    yield from _queue_metrics(state)
    yield from _digest_metrics(state)


def _queue_metrics(state: SiteState) -> Iterator[Metric]:
    depth = GaugeMetricFamily(
        "paperboy_job_queue_depth", "Jobs in a queue, by queue and state.", labels=("queue", "state")
    )
    age = GaugeMetricFamily(
        "paperboy_job_queue_oldest_seconds",
        "Age of the oldest job waiting in a queue (0: none waits).",
        labels=("queue",),
    )
    for queue in state.queues:
        depth.add_metric([queue.queue, "queued"], queue.queued)
        depth.add_metric([queue.queue, "waiting"], queue.waiting)
        depth.add_metric([queue.queue, "running"], queue.running)
        age.add_metric([queue.queue], queue.oldest_queued_s)
    yield depth
    yield age


def _digest_metrics(state: SiteState) -> Iterator[Metric]:
    labels = ("edition",)
    sent = GaugeMetricFamily("paperboy_digest_sent", "Mails sent of the latest edition.", labels=labels)
    total = GaugeMetricFamily(
        "paperboy_digest_recipients", "Subscribers the latest edition is for.", labels=labels
    )
    finished = GaugeMetricFamily(
        "paperboy_digest_finished", "1 once the latest edition's run has finished.", labels=labels
    )
    digest = state.digest
    if digest is not None:
        sent.add_metric([digest.edition], digest.sent)
        total.add_metric([digest.edition], digest.total)
        finished.add_metric([digest.edition], 1 if digest.finished else 0)
    yield from (sent, total, finished)


def scrape_registry(request_metrics: RequestMetrics) -> CollectorRegistry:
    """This process's registry, or, in multiprocess mode, every worker's counts from their files
    and the site's numbers."""
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        return request_metrics.registry
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    registry.register(request_metrics.site)
    return registry


Refusal = tuple[int, str, dict[str, str]]


def refusal(request: Request, mode: str, token: str) -> Refusal | None:
    """Why this request may not read the metrics, or None when it may."""
    if mode == "token":
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
            return None
        return 401, "/metrics needs the metrics token", {"WWW-Authenticate": 'Bearer realm="metrics"'}
    client = request.client.host if request.client else ""
    proxied = any(name in _PROXY_HEADERS for name, _ in request.scope["headers"])
    if client in _LOOPBACK and not proxied:
        return None
    return 403, "/metrics answers local clients only (metrics = local)", {}


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    context = app_context(request)
    settings = context.settings
    refused = refusal(request, settings.metrics, settings.metrics_token)
    if refused is not None:
        status, reason, headers = refused
        return PlainTextResponse(reason + "\n", status_code=status, headers=NOT_KEPT | headers)
    try:
        body = generate_latest(scrape_registry(request.app.state.request_metrics))
    except SQLAlchemyError as exc:  # the site's numbers come from the database
        log.warning("metrics: database error: %s", exc)
        return PlainTextResponse("database unavailable\n", status_code=503, headers=NOT_KEPT)
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4, headers=NOT_KEPT)
