"""Where a digest run finds the vectors that "For you" ranks with (services/digest_personal.py),
without loading a second copy of what the process already holds.

`serve` with one worker runs the digest schedule in the process that serves the app: the app
shares its search's vector index here once it has loaded it (app.py), and digests use that very
object. With several workers the schedule runs in the supervisor, which serves no page: it loads
one index of its own on the first edition with members, and keeps it (refreshed like search's)
for every edition after. `paperboy digest send` loads one per run, and only when members wait.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine

from paperboy.config import Settings
from paperboy.integrations.embedder import model_id_for
from paperboy.services.vector_index import ANN_DIRECTORY
from paperboy.services.vector_search import Vectors, open_vectors

_shared: list[Callable[[], Vectors]] = []
_lock = threading.Lock()


def share_vector_index(provider: Callable[[], Vectors]) -> None:
    """The process's own index (the app's search), for its digest runs to use."""
    with _lock:
        _shared[:] = [provider]


def unshare_vector_index() -> None:
    with _lock:
        _shared.clear()


class ProcessVectors:
    """A VectorSource: the index the process shares, else one loaded on first use and kept."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings
        self._own: Vectors | None = None

    def __call__(self) -> Vectors | None:
        with _lock:
            shared = _shared[0] if _shared else None
            if shared is None and self._own is None:
                self._own = open_vectors(
                    self.engine,
                    model_id_for(self.settings.embedder),
                    search=self.settings.vector_search,
                    directory=self.settings.data_dir / ANN_DIRECTORY,
                )
        return shared() if shared is not None else self._own

    def close(self) -> None:
        if self._own is not None:
            self._own.close()
