"""The `paperboy` command: one subcommand per job, each calling one service."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from paperboy import __version__
from paperboy.cli_backup import add_backup
from paperboy.cli_common import CommandError, migrated_engine
from paperboy.cli_common import add_command as _add
from paperboy.cli_digest import add_digest
from paperboy.cli_export import add_export
from paperboy.cli_jobs import add_jobs_commands
from paperboy.cli_move import add_move
from paperboy.cli_progress import MEBIBYTES, print_line, progress_report
from paperboy.config import Settings, SettingsError, describe, load_settings
from paperboy.private_files import restrict_umask


def main(argv: Sequence[str] | None = None) -> int:
    restrict_umask()  # whatever paperboy creates (database, outbox, key, backups) is the owner's alone
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        settings = load_settings(**_overrides(args))
        result: int = args.run(args, settings)
        return result
    except KeyboardInterrupt:
        return _interrupted()
    except Exception as exc:
        if _while_interrupted(exc):
            return _interrupted()
        line = _error_line(exc)
        if line is None:
            raise  # a bug: its traceback
        print(line, file=sys.stderr)
    return 1


def _error_line(exc: Exception) -> str | None:
    """One line for the errors an operator can act on."""
    if isinstance(exc, (CommandError, SettingsError)):
        return f"paperboy: error: {exc}"
    if isinstance(exc, SQLAlchemyError):
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return f"paperboy: error: database: {reason}"
    if isinstance(exc, OSError):  # an unwritable data directory, a full disk
        return f"paperboy: error: {exc}"
    if isinstance(exc, ImportError):  # a database URL whose driver is not installed
        return f"paperboy: error: missing Python package {exc.name!r} ({exc})"
    return None


def _while_interrupted(exc: BaseException) -> bool:
    """Whether `exc` was raised while a Ctrl-C unwound the command: cleaning up after it can fail
    in its own right (a PostgreSQL connection interrupted between sending a statement and waiting
    for its answer refuses the pool's reset: "can't change 'autocommit' now"), and that error then
    hides the interrupt."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__context__
    return False


def _interrupted() -> int:
    print("paperboy: interrupted; completed batches are saved, re-run to finish", file=sys.stderr)
    return 130


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name, None) for name in ("host", "port", "workers")}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paperboy",
        description="Self-hostable research-paper discovery. Settings come from PAPERBOY_* "
        "environment variables and paperboy.toml (see `paperboy config`).",
    )
    parser.add_argument("--version", action="version", version=f"paperboy {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_serve(commands)
    _add_import(commands)
    add_export(commands)
    _add(commands, "sync", "Fetch new papers from arXiv (OAI-PMH, daily RSS) and Hugging Face.", _sync)
    _add_fetch(commands)
    _add_index(commands)
    _add(commands, "config", "Print the effective settings and where each can be set.", _config)
    _add(commands, "migrate", "Create or upgrade the database schema.", _migrate)
    add_digest(commands)
    add_backup(commands)
    add_move(commands)
    add_jobs_commands(commands)
    _add_admin(commands)
    return parser


def _add_serve(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub = _add(commands, "serve", "Serve the web site (migrates the database first).", _serve)
    sub.add_argument("--host", help="address to listen on (default: PAPERBOY_HOST or 127.0.0.1)")
    sub.add_argument("--port", type=int, help="port (default: PAPERBOY_PORT or 8000)")
    sub.add_argument(
        "--workers",
        type=int,
        help="web worker processes (default: PAPERBOY_WORKERS, or 0: one per usable core as memory allows)",
    )


def _add_import(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub = _add(commands, "import", "Import papers from JSONL / JSONL.gz files.", _import)
    sub.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="Kaggle arXiv snapshot or paperboy JSONL"
    )
    sub.add_argument("--listings", type=Path, help="TSV of `date<TAB>arxiv_id`: the days papers were listed")
    sub.add_argument(
        "--strict", action="store_true", help="fail on the first malformed line, importing nothing"
    )


def _add_fetch(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub = _add(commands, "fetch", "Add or refresh papers by arXiv id through the arXiv API.", _fetch)
    sub.add_argument(
        "ids", nargs="+", metavar="ID", help="arXiv ids or URLs: 2506.12229, hep-th/9901001v2, …"
    )


def _add_index(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub = _add(
        commands,
        "index",
        "Build the search index, then embed papers for semantic search; an interrupted build resumes.",
        _index,
    )
    sub.add_argument(
        "--rebuild",
        action="store_true",
        help="empty the index (and the embedder's vectors) and build it from the start",
    )
    sub.add_argument(
        "--batch-size", type=int, default=2000, help="papers per lexical-index transaction (default: 2000)"
    )
    sub.add_argument(
        "--no-embeddings", action="store_true", help="build only the lexical index, embedding nothing"
    )


def _add_admin(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    admin = _add(commands, "admin", "Manage accounts: create users, set roles.", _admin_help)
    actions = admin.add_subparsers(title="actions", metavar="ACTION")
    admin.set_defaults(admin_parser=admin)
    create = _add(actions, "create-user", "Create an account, verified unless told otherwise.", _create_user)
    create.add_argument("email", metavar="EMAIL")
    create.add_argument("name", metavar="NAME", help="the public user name")
    role = create.add_mutually_exclusive_group()
    role.add_argument(
        "--admin", dest="role", action="store_const", const="admin", default="member", help="an administrator"
    )
    role.add_argument(
        "--moderator",
        dest="role",
        action="store_const",
        const="moderator",
        help="a moderator (default: member)",
    )
    create.add_argument(
        "--unverified",
        action="store_true",
        help="leave the address unconfirmed (the user confirms it by mail)",
    )
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (the default when it is not a "
        "terminal); otherwise it is asked for twice, unechoed. Never give it as an argument.",
    )
    set_role = _add(actions, "set-role", "Give an account the role member, moderator or admin.", _set_role)
    set_role.add_argument("name", metavar="NAME")
    set_role.add_argument("role", metavar="ROLE", choices=("member", "moderator", "admin"))
    token = _add(actions, "create-token", "Make an API token for an account; print it (once).", _create_token)
    token.add_argument("name", metavar="USERNAME")
    token.add_argument(
        "--scope",
        dest="scopes",
        action="append",
        required=True,
        metavar="SCOPE",
        help="what the token may do: read, vote, submit, comment, library or feed (repeat for several)",
    )
    token.add_argument(
        "--name", dest="token_name", default="", help="a label for the token (default: the date)"
    )


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.cli_serve import serve

    return serve(settings)


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.services.ingest import ImportAborted, import_files
    from paperboy.services.search_index import count_papers_waiting

    total = sum(path.stat().st_size for path in args.paths if path.is_file())
    try:
        with migrated_engine(settings) as engine:
            with progress_report("importing", total, unit=MEBIBYTES) as progress:
                report = import_files(
                    engine,
                    args.paths,
                    listings_path=args.listings,
                    strict=args.strict,
                    batch_size=settings.import_batch_size,
                    progress=lambda read: progress(read, total),
                    on_error=lambda error: print_line(f"skipped {error}"),
                )
            pending = count_papers_waiting(engine, settings)
    except ImportAborted as exc:
        raise CommandError(str(exc)) from exc
    print(report.summary())
    if pending:
        print(
            f"{pending} papers wait to be embedded for search by meaning: `paperboy serve` embeds them in "
            "the background, or run `paperboy index` now"
        )
    return 0


def _index(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.integrations.embedder import Embedder, EmbedderUnavailable, make_embedder
    from paperboy.services.keyword_ranker import KEYWORD_DIRECTORY, KeywordRanker
    from paperboy.services.paper_neighbours import stores_neighbours, update_paper_neighbours
    from paperboy.services.search_index import (
        clear_embeddings,
        count_papers_to_embed,
        embed_papers,
        rebuild_lexical_index,
    )
    from paperboy.services.vector_index import ANN_DIRECTORY
    from paperboy.services.vector_search import update_vector_index

    if args.batch_size < 1:
        raise CommandError("--batch-size must be at least 1")
    embedder: Embedder | None = None
    if not args.no_embeddings:  # first, so that a missing extra stops the command before any work
        try:
            embedder = make_embedder(settings.embedder, batch_size=settings.embed_batch_size)
        except EmbedderUnavailable as exc:
            raise CommandError(f'{exc} (or run with --no-embeddings, or set embedder = "hashing")') from exc
    with migrated_engine(settings) as engine:
        with progress_report("indexing") as progress:
            report = rebuild_lexical_index(
                engine, progress=progress, rebuild=args.rebuild, batch_size=args.batch_size
            )
        print(report.summary())
        if settings.keyword_index:
            keywords = KeywordRanker(engine, settings.data_dir / KEYWORD_DIRECTORY)
            print(keywords.update(rebuild=args.rebuild))
        if embedder is None:
            return 0
        if args.rebuild:
            clear_embeddings(engine, embedder)
        with progress_report("embedding", total=count_papers_to_embed(engine, embedder.model_id)) as progress:
            embedded = embed_papers(engine, embedder, batch_size=settings.embed_batch_size, progress=progress)
        print(embedded.summary())
        directory = settings.data_dir / ANN_DIRECTORY
        threshold = settings.vector_ann_threshold
        search = settings.vector_search
        print(
            update_vector_index(
                engine, embedder.model_id, directory, threshold, search=search, rebuild=args.rebuild
            )
        )
        if not stores_neighbours(engine, search):
            print("neighbours: none stored (pgvector finds a paper's nearest in one statement)")
            return 0
        with progress_report("neighbours") as progress:
            neighbours = update_paper_neighbours(engine, embedder.model_id, directory, progress=progress)
        print(neighbours.summary())
    return 0


def _sync(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.services.sync import SyncBusy, sync_catalogue

    with migrated_engine(settings) as engine:
        try:
            report = sync_catalogue(engine, settings, progress=lambda line: print(line, file=sys.stderr))
        except SyncBusy as exc:
            raise CommandError(str(exc)) from exc
    print(report.summary())
    if not report.ok:
        raise CommandError(f"sync failed: {report.failure}")
    return 0


def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.domain.arxiv_ids import InvalidArxivId
    from paperboy.integrations.http import UpstreamError
    from paperboy.services.sync import fetch_papers_by_id

    try:
        with migrated_engine(settings) as engine:
            report = fetch_papers_by_id(engine, settings, args.ids)
    except (InvalidArxivId, UpstreamError) as exc:
        raise CommandError(str(exc)) from exc
    w = report.written
    print(f"{w.inserted} new, {w.updated} updated, {w.unchanged} unchanged papers")
    if report.missing:
        raise CommandError(f"arXiv does not know {', '.join(report.missing)}")
    return 0


def _config(args: argparse.Namespace, settings: Settings) -> int:
    rows = describe(settings)
    width = max(len(name) for name, _, _ in rows)
    for name, value, _help in rows:
        print(f"{name.ljust(width)}  {value}")
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    with migrated_engine(settings):
        print("paperboy: database schema is up to date")
    return 0


def _admin_help(args: argparse.Namespace, settings: Settings) -> int:
    args.admin_parser.print_help()
    return 2


def _create_user(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.domain.users import InvalidSignUp, check_email, check_name
    from paperboy.services.accounts import create_user

    try:
        email, name = check_email(args.email), check_name(args.name)  # before asking for a password
        password = _new_password(args.password_stdin)
        with migrated_engine(settings) as engine:
            user = create_user(
                engine,
                email=email,
                name=name,
                password=password,
                role=args.role,
                verified=not args.unverified,
            )
    except InvalidSignUp as exc:
        raise CommandError(str(exc)) from exc
    state = "verified" if user.verified else "unverified"
    print(f"paperboy: created {user.role} {user.name} <{user.email}> ({state})")
    return 0


def _new_password(from_stdin: bool) -> str:
    """The first line of stdin when piped (or asked to), else asked twice on the terminal."""
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("no password on standard input (give it as the first line)")
        return password
    try:
        password = getpass.getpass("Password for the new account: ")
        again = getpass.getpass("The same password again: ")
    except EOFError:
        raise CommandError("no password given") from None
    if password != again:
        raise CommandError("the two passwords differ")
    return password


def _create_token(args: argparse.Namespace, settings: Settings) -> int:
    """The token alone on standard output (`TOKEN=$(paperboy admin create-token …)`), what it
    is on standard error."""
    from paperboy.services.api_tokens import TokenError, create_token_for

    try:
        with migrated_engine(settings) as engine:
            made = create_token_for(engine, args.name, args.token_name, args.scopes)
    except TokenError as exc:
        raise CommandError(str(exc)) from exc
    token = made.token
    print(made.plaintext)
    scopes = ", ".join(sorted(token.scopes))
    print(f"paperboy: token {token.name!r} ({scopes}) for {args.name.lower()}; shown once", file=sys.stderr)
    return 0


def _set_role(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.services.accounts import AccountError, set_role

    try:
        with migrated_engine(settings) as engine:
            user = set_role(engine, args.name, args.role)
    except AccountError as exc:
        raise CommandError(str(exc)) from exc
    print(f"paperboy: {user.name} is now {user.role}")
    return 0
