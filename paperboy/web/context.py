"""What request handlers need from the application, typed, in one object on app.state."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine
from starlette.templating import Jinja2Templates

from paperboy.config import Settings
from paperboy.integrations.mail import Mailer
from paperboy.services.search import Searcher


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    engine: Engine
    templates: Jinja2Templates
    mailer: Mailer
    searcher: Searcher


def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.paperboy
    return context
