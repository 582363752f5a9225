"""Finished answers of the JSON API and the feeds, kept per process under their derived ETag.

An answer whose ETag is derived from the catalogue and community versions and the request
(web/conditional.py `derived_etag`) is, by that very tag, the same bytes for every reader until
one of the versions changes. So the first request after a change builds it (queries, rendering)
and keeps it, plain and gzip-compressed once; later requests for the same URL cost the version
query and a lookup, like a 304. A vote or a sync changes a version, and with it every tag: the
next request builds again. Nothing a reader alone sees is kept (the daily papers and the period
feeds show no reader's votes). One cache per database engine, bounded by bytes, least recently
used first out. Thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from fastapi import Request
from isal import isal_zlib
from starlette.responses import Response

from paperboy.services.hydrate import PerEngine
from paperboy.web.compression import ISAL_LEVEL
from paperboy.web.conditional import conditional, conditional_headers, not_modified
from paperboy.web.context import app_context

# A day's RSS is about 240 KB plain and 60 KB compressed, its daily papers 185 KB and 45 KB: a
# hundred answers or so per process.
ANSWERS_BYTES = 32 * 2**20
GZIP_MINIMUM = 2048  # as web/compression.py: smaller answers are sent plain


@dataclass(frozen=True, slots=True)
class Answer:
    body: bytes
    gzipped: bytes | None  # None: too small to be worth compressing
    media_type: str
    headers: dict[str, str]  # besides the ETag, Cache-Control and Vary (a Link header)

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")


class Answers:
    """Answers by derived ETag."""

    def __init__(self, max_bytes: int = ANSWERS_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, tag: str) -> Answer | None:
        with self._lock:
            answer = self._answers.get(tag)
            if answer is not None:
                self._answers.move_to_end(tag)
            return answer

    def put(self, tag: str, answer: Answer) -> None:
        if answer.size > self.max_bytes // 8:
            return  # sent, not kept: one answer must not crowd out the rest
        with self._lock:
            old = self._answers.pop(tag, None)
            self._bytes -= old.size if old else 0
            self._answers[tag] = answer
            self._bytes += answer.size
            while self._bytes > self.max_bytes:
                _, dropped = self._answers.popitem(last=False)
                self._bytes -= dropped.size


answers = PerEngine(Answers)  # this process's answers for an engine's database


def known_answer(request: Request, tag: str | None) -> Response | None:
    """Before building anything: a 304 when the client holds `tag`, the answer kept under it
    when there is one, else None (build it, then `send_answer`). None when `tag` is None."""
    if tag is None:
        return None
    return not_modified(request, tag) or kept_answer(request, tag)


def send_answer(
    request: Request, tag: str | None, body: bytes, media_type: str, headers: dict[str, str] | None = None
) -> Response:
    """The answer just built: kept under `tag` when it has a derived one, and sent (or a 304)."""
    if tag is None:
        return conditional(request, body, media_type, headers=headers)
    return keep_answer(request, tag, body, media_type, headers)


def kept_answer(request: Request, tag: str) -> Response | None:
    """The answer kept under `tag`, compressed when the client takes gzip; None if none is."""
    answer = answers(app_context(request).engine).get(tag)
    return None if answer is None else _send(request, tag, answer)


def _send(request: Request, tag: str, answer: Answer) -> Response:
    headers = conditional_headers(tag, answer.headers)
    if answer.gzipped is None or "gzip" not in request.headers.get("accept-encoding", ""):
        return Response(answer.body, media_type=answer.media_type, headers=headers)
    # Already compressed: the gzip middleware passes it by, so the Vary it would add is added here.
    headers |= {"Content-Encoding": "gzip", "Vary": headers["Vary"] + ", Accept-Encoding"}
    return Response(answer.gzipped, media_type=answer.media_type, headers=headers)


def keep_answer(
    request: Request, tag: str, body: bytes, media_type: str, headers: dict[str, str] | None = None
) -> Response:
    """Keep the answer just built under `tag`, and send it as it is kept (compressed once)."""
    gzipped = None
    if len(body) >= GZIP_MINIMUM:
        gzipped = isal_zlib.compress(body, ISAL_LEVEL, 16 + isal_zlib.MAX_WBITS)
    answer = Answer(body, gzipped, media_type, dict(headers or {}))
    answers(app_context(request).engine).put(tag, answer)
    return _send(request, tag, answer)
