"""`paperboy move-to URL`: copy this SQLite site into an empty PostgreSQL database and compare
every table (services/move.py; docs/moving.md)."""

from __future__ import annotations

import argparse

from paperboy.cli_common import CommandError
from paperboy.cli_common import add_command as _add
from paperboy.cli_progress import print_line
from paperboy.config import Settings


def add_move(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub = _add(
        commands,
        "move-to",
        "Copy this SQLite site into an empty PostgreSQL database, while it serves, and check every "
        "table equal (docs/moving.md).",
        _move,
    )
    sub.add_argument("url", metavar="URL", help="the new database: postgresql+psycopg://user@host/name")
    sub.add_argument(
        "--check",
        action="store_true",
        help="copy nothing: compare the site as it is now with the database it was moved to",
    )


def _move(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.services.move import MoveRefused, move_site

    if args.check:
        return _check(args, settings)
    try:
        report = move_site(settings, args.url, progress=print_line)
    except MoveRefused as exc:
        raise CommandError(str(exc)) from exc
    for line in report.lines():
        print(line)
    if not report.equal:
        raise CommandError(f"the copy in {report.target} differs from the site: do not switch to it")
    print(f"paperboy: moved the site to {report.target}; every table is equal (docs/moving.md: switching)")
    return 0


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.services.move import MoveRefused, check_move

    try:
        checks = check_move(settings, args.url)
    except MoveRefused as exc:
        raise CommandError(str(exc)) from exc
    for check in checks:
        print(check.line())
    different = [check.name for check in checks if not check.equal]
    if different:
        raise CommandError(f"{len(different)} tables differ: {', '.join(different)}")
    print(f"paperboy: all {len(checks)} tables are equal")
    return 0
