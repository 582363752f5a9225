"""Logging: the request id of the request being answered (a context variable the web layer sets,
web/request_ids.py) and the `log_format` setting's JSON lines, one object a line on stderr.

With `log_format = text` paperboy configures nothing (Python's and uvicorn's defaults, as
before). With `json`, every record of the process (paperboy's, uvicorn's, libraries' warnings)
goes through one handler on the root logger and carries `request_id` when it was logged while a
request was answered: in the request's task or in the thread its handler runs in (Starlette runs
sync handlers in a thread with the task's context).
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("paperboy_request_id", default=None)
ACCESS_LOGGER = "paperboy.access"  # one line per request answered, with `log_format = json`

# What a LogRecord holds besides what a caller passes in `extra=`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonLines(logging.Formatter):
    """A record as one JSON object: time (UTC, ISO 8601), level, logger, message, request_id,
    the `extra=` fields, and the traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(log_format: str) -> None:
    """Install the JSON handler on the root logger (idempotent: a process configured twice, by
    `serve` and by the app it loads, still writes each record once)."""
    if log_format != "json":
        return
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "paperboy_json", False)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    handler.paperboy_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # through the root's handler
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers = []
        uvicorn_logger.propagate = True
