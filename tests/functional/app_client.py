"""The real app, in-process, over a test's migrated database.

Not a conftest.py: a second conftest module would shadow tests/conftest.py for the
`from conftest import make_record` imports that tests use (neither folder is a package).
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from paperboy.app import create_app
from paperboy.config import Settings

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its test client and warns when it finds only
    # httpx; the client works the same with either. Adding httpx2 to the dev extras ends this.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


WARM_UP_THREAD = "search-warm-up"
BACKGROUND_THREADS = ("vector-index-", "keyword-index", WARM_UP_THREAD, "rate-counts")


@contextmanager
def open_client(settings: Settings, **kwargs: bool) -> Iterator[TestClient]:
    """A client whose `with` block runs the app's lifespan: start-up checks and the search
    warm-up, then engine disposal. The block starts once the warm-up has finished, as a reader
    finds the site a few seconds after `serve` starts: the first search of a test then finds the
    model and the vectors loaded, and no warm-up query runs while a test counts statements."""
    with TestClient(create_app(settings), follow_redirects=False, **kwargs) as client:
        wait_for_warm_up()
        yield client


def load_new_vectors(client: TestClient) -> None:
    """The vectors written since the app's warm-up, loaded now: the running app looks for them
    in the background every few seconds (refresh_seconds), and a test does not wait that long."""
    client.app.state.paperboy.searcher.meaning.vector_index().refresh()  # type: ignore[attr-defined]


def wait_for_warm_up() -> None:
    """Until the warm-up threads started by the apps of this process have finished."""
    for thread in threading.enumerate():
        if thread.name == WARM_UP_THREAD:
            thread.join()


_CARD_TITLE = re.compile(r'<h2 class="card-title"><a href="/papers/([^"]+)">')


def listed_ids(html: str) -> list[str]:
    """The arXiv ids of the cards on a feed page, in page order."""
    return _CARD_TITLE.findall(html)


def link_to(html: str, rel: str) -> str | None:
    """The href of the first link with rel="prev" / rel="next" (period or page navigation)."""
    match = re.search(rf'rel="{rel}" href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


@contextmanager
def counted_checkouts(client: TestClient) -> Iterator[list[str]]:
    """The connections the app's requests take from the engine's pool inside the block (on
    PostgreSQL each one costs round trips of its own: the pool's ping, a transaction's BEGIN
    and ROLLBACK), by the thread that took them."""
    taken: list[str] = []

    def record(*_args: object) -> None:
        name = threading.current_thread().name
        if not name.startswith(BACKGROUND_THREADS):
            taken.append(name)

    pool = client.app.state.paperboy.engine.pool  # type: ignore[attr-defined]
    event.listen(pool, "checkout", record)
    try:
        yield taken
    finally:
        event.remove(pool, "checkout", record)


@contextmanager
def counted_statements(client: TestClient) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block, transaction control aside."""
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith("BEGIN"):  # SQLite transaction control, not a query
            return
        if threading.current_thread().name.startswith(BACKGROUND_THREADS):
            return  # the vector index checking for new embeddings now and then: no page's cost
        statements.append(statement)

    engine = client.app.state.paperboy.engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
