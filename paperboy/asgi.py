"""ASGI entry point for `paperboy serve` and external servers: `uvicorn --factory paperboy.asgi:app`."""

from __future__ import annotations

from fastapi import FastAPI

from paperboy.app import create_app
from paperboy.config import load_settings


def app() -> FastAPI:
    return create_app(load_settings(), serving=True)
