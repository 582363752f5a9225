"""What every `paperboy` subcommand module shares: the one-line error, adding a subcommand, and
an engine on a migrated database."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from paperboy.config import Settings
from paperboy.services.database import migrate_database, open_database


class CommandError(Exception):
    """A failure the user can act on; printed as one line, exit status 1."""


Handler = Callable[[argparse.Namespace, Settings], int]


def add_command(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    text: str,
    run: Handler,
) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = commands.add_parser(name, help=text, description=text)
    sub.set_defaults(run=run)
    return sub


@contextmanager
def migrated_engine(settings: Settings) -> Iterator[Engine]:
    engine = open_database(settings)
    try:
        migrate_database(engine)
        yield engine
    finally:
        engine.dispose()
