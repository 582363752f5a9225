"""create_app(settings): the one place that wires paperboy's pieces together."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.staticfiles import StaticFiles

from paperboy import __version__
from paperboy.config import Settings
from paperboy.integrations.mail import make_mailer
from paperboy.services.database import migrate_if_behind, open_database
from paperboy.services.digest_vectors import share_vector_index, unshare_vector_index
from paperboy.services.keyword_ranker import KEYWORD_DIRECTORY, KeywordRanker
from paperboy.services.recommend import warm_recommendations
from paperboy.services.search import Searcher
from paperboy.services.vector_index import ANN_DIRECTORY
from paperboy.web import (
    accounts,
    admin_jobs,
    api_tokens,
    collections,
    community,
    digests,
    discussion,
    follows,
    for_you,
    health,
    library,
    library_forms,
    library_io,
    metrics,
    pages,
    private_feed,
    search,
    seen,
)
from paperboy.web.api import account as api_account
from paperboy.web.api import collections as api_collections
from paperboy.web.api import docs as api_docs
from paperboy.web.api import follows as api_follows
from paperboy.web.api import hf as hf_api
from paperboy.web.api import library_io as library_io_api
from paperboy.web.api import recommendations as recommendations_api
from paperboy.web.api import search as search_api
from paperboy.web.api import v1 as api_v1
from paperboy.web.auth import ViewerMiddleware
from paperboy.web.cache_policy import CachePolicy
from paperboy.web.compression import FastGZipMiddleware
from paperboy.web.context import AppContext
from paperboy.web.errors import install_error_handlers
from paperboy.web.feeds import router as feeds_router
from paperboy.web.gc_policy import GcPolicy
from paperboy.web.library_io import LARGER_BODIES
from paperboy.web.metrics import MetricsMiddleware, RequestMetrics, SiteCollector
from paperboy.web.page_cache import PageCache
from paperboy.web.paper_exports import router as paper_exports_router
from paperboy.web.rate_limit import ApiRateLimit, Budgets
from paperboy.web.request_guard import RequestGuard
from paperboy.web.request_ids import RequestIds
from paperboy.web.security_headers import SecurityHeaders
from paperboy.web.templating import STATIC_DIR, make_templates
from paperboy.web.warm_pages import warm_pages as warm_page_paths

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, serving: bool = False) -> FastAPI:
    """The app. `serving` (what `serve` and other ASGI servers get: paperboy/asgi.py): before it
    answers, it loads search by meaning (with `search_warm_up`) and warms its page paths, so that
    loading never competes with its first requests (docs/deploy.md, "Starting")."""
    engine = open_database(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        gc_policy = GcPolicy()
        try:
            migrate_if_behind(engine)
            if serving and settings.search_warm_up:
                _load_search_by_meaning(searcher)
            if serving:  # `serve`'s digest schedule, when in this process, ranks with these vectors
                share_vector_index(searcher.meaning.vector_index)
            if serving:
                await _warm_pages(_app)
            if serving and settings.search_warm_up:  # the vectors are loaded: "For you"'s own
                _warm_for_you(engine, searcher)
            # Objects alive after start-up live for the whole process: keep them out of the
            # collector's generations, which cut p99 latency roughly in half under load.
            gc.freeze()
            if serving and settings.gc_freeze:  # and what survives each later full
                gc_policy.start()  # collection (web/gc_policy.py)
            if settings.search_warm_up:  # the keyword index (and, in tests, the model and the
                # vectors) in the background, on what requests leave; frozen too once loaded
                _freeze_after(searcher.start_warm_up())
            yield
        finally:
            gc_policy.stop()
            if serving:
                unshare_vector_index()
            budgets.close()  # this process's last counts go to the database
            searcher.close()
            engine.dispose()

    # /docs is web/api/docs.py's, from local files (FastAPI's own loads scripts from a CDN); no /redoc.
    app = FastAPI(
        title=settings.site_name, version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    searcher = Searcher(
        engine,
        settings.embedder,
        ann_directory=settings.data_dir / ANN_DIRECTORY,
        vector_search=settings.vector_search,
        keywords=KeywordRanker(engine, settings.data_dir / KEYWORD_DIRECTORY)
        if settings.keyword_index
        else None,
    )
    app.state.paperboy = AppContext(
        settings=settings,
        engine=engine,
        templates=make_templates(settings),
        mailer=make_mailer(settings),
        searcher=searcher,
    )
    budgets = app.state.budgets = Budgets(engine, settings)
    install_error_handlers(app)
    # Inside the page cache: a cached page never costs the session look-up.
    app.add_middleware(ViewerMiddleware, engine=engine, settings=settings)
    app.add_middleware(RequestGuard, larger_bodies=LARGER_BODIES)
    app.add_middleware(
        PageCache,
        engine=engine,
        max_bytes=settings.page_cache_mb * 2**20,
        max_age=settings.page_cache_seconds,
    )
    # Outside the page cache, so that cached API answers count against the budget too.
    app.add_middleware(ApiRateLimit, budgets=budgets)
    # Outside every answer of ours (rate-limit refusals and page-cache hits included): who may
    # keep it.
    app.add_middleware(CachePolicy)
    app.add_middleware(SecurityHeaders, https=settings.public_url.startswith("https://"))
    # Outermost (added last): compresses what the page cache did not already compress.
    # Feed pages carry full abstracts (~250 KB a week page): compress for clients that accept it,
    # with ISA-L (web/compression.py: a 295 KB page in 1.3 ms, against 23 ms with zlib's level 5).
    app.add_middleware(FastGZipMiddleware, minimum_size=2048)
    _observe(app, settings, engine)
    api_docs.mount_swagger_files(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(health.router)
    if settings.metrics != "off":  # off: /metrics is a 404 like any unknown path
        app.include_router(metrics.router)
    app.include_router(accounts.router)
    app.include_router(digests.router)
    app.include_router(community.router)
    app.include_router(library.router)
    app.include_router(seen.router)
    app.include_router(library_io.router)
    app.include_router(library_forms.router)  # issue 16: collections, notes, read marks
    app.include_router(collections.router)
    app.include_router(for_you.router)
    app.include_router(follows.router)
    app.include_router(discussion.router)
    app.include_router(admin_jobs.router)  # issue 17: the job queue, administrators only
    app.include_router(search.router)
    app.include_router(search_api.router)
    app.include_router(hf_api.router)  # after /api/papers/search, which it would shadow
    app.include_router(api_v1.router)  # after /api/v1/papers/{id}/similar, which it would shadow
    app.include_router(api_account.router)
    app.include_router(library_io_api.router)
    app.include_router(api_collections.router)
    app.include_router(recommendations_api.router)
    app.include_router(api_follows.router)
    app.include_router(api_docs.router)
    app.include_router(api_tokens.router)
    app.include_router(private_feed.router)  # before feeds' /feeds/{kind}/{key}.{fmt}
    app.include_router(feeds_router)
    app.include_router(paper_exports_router)  # before pages: /papers/{id}.md is not an id
    # Last: /papers/{arxiv_id:path} answers every path under /papers/ that no earlier route took.
    app.include_router(pages.router)
    return app


def _observe(app: FastAPI, settings: Settings, engine: Engine) -> None:
    """Outside everything else: the request metrics (when /metrics is on) and, outermost, the
    request id that every log line of the request and its answer's X-Request-ID carry."""
    if settings.metrics != "off":
        request_metrics = RequestMetrics(SiteCollector(engine, settings.embedder))
        app.state.request_metrics = request_metrics
        app.add_middleware(MetricsMiddleware, metrics=request_metrics)
    app.add_middleware(RequestIds, trust_header=settings.trust_request_id)


def _freeze_after(warm_up: threading.Thread) -> None:
    """Once `warm_up` has loaded the model and the vectors (half a million objects that live as
    long as the process), move them out of the collector's generations too: a full collection
    over them took 0.5 s of held GIL, every few hundred requests; after, about a millisecond."""

    def wait_and_freeze() -> None:
        warm_up.join()
        gc.collect(1)  # the young garbage of the loading goes first; the rest is frozen as it is
        gc.freeze()

    threading.Thread(target=wait_and_freeze, name="gc-freeze", daemon=True).start()


def _load_search_by_meaning(searcher: Searcher) -> None:
    """The vectors and the model, before the process answers: loading them is seconds of Python
    holding the interpreter's lock (importing torch), which made every request of the first
    thirty seconds wait for it. A failure is logged; the first search tries again and says why."""
    try:
        searcher.meaning.warm_up()
    except Exception:
        log.exception("loading the search model and vectors failed")


def _warm_for_you(engine: Engine, searcher: Searcher) -> None:
    """What each process makes on its first "For you" page (services/recommend.py), made before it
    answers: a second of a core that a reader's request waited for. A failure is logged."""
    try:
        warm_recommendations(engine, searcher.meaning.vector_index())
    except Exception:
        log.exception("warming For you failed")


async def _warm_pages(app: FastAPI) -> None:
    try:
        await warm_page_paths(app, app.state.paperboy)
    except Exception:  # a page left cold is rendered by its first reader: never a failed start
        log.exception("warming the pages failed")
