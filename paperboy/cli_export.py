"""`paperboy export`: the whole catalogue as JSON lines (and a listings TSV) that `paperboy
import` reads back."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from paperboy.cli_common import CommandError, add_command, migrated_engine
from paperboy.config import Settings

FORMATS = ("jsonl",)


def add_export(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub = add_command(
        commands,
        "export",
        "Write every paper as JSON lines that `paperboy import` reads back (to standard output, "
        "or to --output; a path ending in .gz is compressed).",
        _export,
    )
    sub.add_argument("--format", choices=FORMATS, default="jsonl", help="the file format (default: jsonl)")
    sub.add_argument("--output", "-o", type=Path, metavar="PATH", help="write papers here (default: stdout)")
    sub.add_argument(
        "--listings",
        type=Path,
        metavar="PATH",
        help="also write the listing days as the `date<TAB>arxiv_id` TSV that `import --listings` reads",
    )


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.integrations.bulk_writer import open_output
    from paperboy.services.export import export_catalogue

    for path in (args.output, args.listings):
        if path is not None and not path.parent.is_dir():
            raise CommandError(f"cannot write {path}: the folder {path.parent} does not exist")
    if args.output is not None and args.output == args.listings:
        raise CommandError("--output and --listings must be different files")
    with migrated_engine(settings) as engine, ExitStack() as files:
        papers_out = files.enter_context(open_output(args.output))
        listings_out = files.enter_context(open_output(args.listings)) if args.listings else None
        report = export_catalogue(engine, papers_out, listings_out, batch_size=settings.import_batch_size)
    # The summary goes to stderr: stdout may be the export itself.
    print(f"paperboy: {report.summary()}", file=sys.stderr)
    return 0
