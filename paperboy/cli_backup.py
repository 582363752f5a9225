"""`paperboy backup PATH` and `paperboy restore PATH` (services/backup.py; docs/operations.md)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from paperboy.cli_common import CommandError
from paperboy.cli_common import add_command as _add
from paperboy.config import Settings

Report = TypeVar("Report")


def add_backup(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    backup = _add(
        commands,
        "backup",
        "Copy the database and the signing key into a new directory, while the site serves.",
        _backup,
    )
    backup.add_argument("path", type=Path, metavar="PATH", help="a new (or empty) directory")
    restore = _add(
        commands,
        "restore",
        "Restore a backup into a new data directory (and, on PostgreSQL, an empty database).",
        _restore,
    )
    restore.add_argument("path", type=Path, metavar="PATH", help="a directory `paperboy backup` made")


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.services.backup import back_up

    print(_run(lambda: back_up(settings, args.path)).summary())
    return 0


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.services.backup import restore

    print(_run(lambda: restore(settings, args.path)).summary())
    return 0


def _run(job: Callable[[], Report]) -> Report:
    from paperboy.services.backup import BackupRefused
    from paperboy.storage.backup import BackupToolFailed, BackupToolMissing

    try:
        return job()
    except (BackupRefused, BackupToolFailed, BackupToolMissing) as exc:
        raise CommandError(str(exc)) from exc
