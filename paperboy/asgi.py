"""ASGI entry point for `paperboy serve` and external servers: `uvicorn --factory paperboy.asgi:app`."""

from __future__ import annotations

from fastapi import FastAPI

from paperboy.app import create_app
from paperboy.config import load_settings
from paperboy.logs import configure_logging


def app() -> FastAPI:
    settings = load_settings()
    configure_logging(settings.log_format)  # each worker of `serve --workers N` is a process of its own
    return create_app(settings, serving=True)
