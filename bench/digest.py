"""Digest sending: one daily edition to 100,000 confirmed subscribers through a local SMTP sink.
`python -m bench digest`, or `python -m bench.digest [--subscribers N] [--quick]`.

The database is the real corpus (74,728 papers): the search benchmark's cached import when there is
one (bench/.cache/search-speed/real), otherwise `paperboy import` of the shared corpus (cached in
bench/.cache/digest/corpus). It is copied and migrated, and N confirmed daily subscribers are
written in bulk with seeded-random preferences (`bench/digest_subscribers.py`). Every send runs on a
fresh copy of that database: `paperboy digest send --edition daily:<latest listing day>` as a
subprocess (wall, CPU and peak RSS from wait4), mailing through `bench.smtp_sink`, a separate
process that accepts everything and counts it. Afterwards the send log is read from the database.

Then, at 5,000 subscribers, `digest_connections` 1, 4 and 8 side by side, with a sink that answers
at once and with one that waits 1 ms before each reply, three runs each in turn (medians): what
the default of 4 buys. `--quick`: 5,000 subscribers, no comparison. Trending has no signal on the
latest day (the Hugging Face upvotes in ../shared are of 2024 papers), so each edition is in the
feed's order for papers without votes.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import (
    REPO_ROOT,
    BenchError,
    Corpus,
    child_env,
    find_corpus,
    format_table,
    median,
    paperboy_command,
    run_measured,
    run_standalone,
    section,
    tail,
)
from bench.digest_members import add_members
from bench.digest_subscribers import subscriber_rows
from bench.reference_vectors import corpus_ids, store_reference_vectors
from bench.smtp_sink import SinkKind, running_sink
from paperboy.domain.digest import Edition

CACHE = REPO_ROOT / "bench" / ".cache" / "digest"
SEARCH_SPEED_DB = REPO_ROOT / "bench" / ".cache" / "search-speed" / "real" / "data" / "paperboy.sqlite3"
DB_NAME = "paperboy.sqlite3"
TARGET_S = 300.0  # the whole edition to 100,000 subscribers, on 2 cores
TARGET_SUBSCRIBERS = 100_000
TARGET_MEMBERS = 10_000  # of them members with a personal section (issue 16)
QUICK_SUBSCRIBERS = 5_000
COMPARE_SUBSCRIBERS = 5_000
COMPARE_CONNECTIONS = (1, 4, 8)
COMPARE_REPEATS = 3
COMPARE_LATENCY_MS = 1.0  # the sink's wait before each reply, in the second comparison
SEED = 20260701
COMMON_CATEGORIES = 6  # subscribers choose among the edition's most frequent categories
# --- the databases ---------------------------------------------------------------------------------


def corpus_database(corpus: Corpus) -> Path:
    """The imported real corpus: the search benchmark's cache, or our own (imported once)."""
    if SEARCH_SPEED_DB.is_file():
        return SEARCH_SPEED_DB
    own = CACHE / "corpus" / DB_NAME
    if own.is_file():
        return own
    shutil.rmtree(own.parent, ignore_errors=True)
    own.parent.mkdir(parents=True)
    print(f"  importing the corpus into {own.parent} (cached) …", flush=True)
    command = paperboy_command("import", str(corpus.papers), "--listings", str(corpus.listings))
    env = child_env(PAPERBOY_DATA_DIR=str(own.parent), PAPERBOY_EMBEDDER="hashing")
    measured = run_measured(command, env, CACHE / "logs" / "import")
    if measured.returncode != 0:
        shutil.rmtree(own.parent, ignore_errors=True)
        raise BenchError(f"paperboy import exited {measured.returncode}: {tail(measured.stderr)}")
    # Members' "For you" reads the papers' MiniLM vectors: the shared reference rows, stored once.
    store_reference_vectors(f"sqlite:///{own}", corpus_ids(corpus.papers))
    return own


def copy_database(source: Path, data_dir: Path) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    for path in source.parent.glob(f"{DB_NAME}*"):  # the WAL too, should one be left
        shutil.copyfile(path, data_dir / path.name)


@dataclass(frozen=True, slots=True)
class Template:
    """A migrated copy of the corpus with `subscribers` confirmed daily subscribers."""

    path: Path
    subscribers: int
    edition: Edition
    candidates: int  # papers first listed on the edition's day
    categories: list[str]
    setup_s: float
    members: int = 0  # subscribers who are accounts with saves (a "For you" section each)


def build_template(source: Path, data_dir: Path, subscribers: int, members: int = 0) -> Template:
    from paperboy.config import load_settings
    from paperboy.domain.digest import daily_edition
    from paperboy.services.digests import edition_content
    from paperboy.storage.bulk import insert_rows
    from paperboy.storage.engine import make_engine
    from paperboy.storage.migrate import upgrade
    from paperboy.storage.queries import latest_listing_day
    from paperboy.storage.schema import digest_subscriptions
    from paperboy.storage.transactions import write_transaction

    started = time.perf_counter()
    copy_database(source, data_dir)
    engine = make_engine(f"sqlite:///{data_dir / DB_NAME}")
    try:
        upgrade(engine)
        with engine.connect() as conn:
            day = latest_listing_day(conn)
        if day is None:
            raise BenchError(f"{source} has no listings")
        edition, now = daily_edition(day), datetime.now(UTC)
        settings = load_settings({}, toml_path=data_dir / "absent.toml")
        content = edition_content(engine, settings, edition, now)
        counts = Counter(c for candidate in content.selector.candidates for c in candidate.categories)
        categories = [name for name, _ in counts.most_common(COMMON_CATEGORIES)]
        member_ids = add_members(engine, members, day, now, SEED) if members else []
        rows = subscriber_rows(subscribers, SEED, categories, now, member_ids)
        for start in range(0, len(rows), 20_000):
            with write_transaction(engine) as conn:
                insert_rows(conn, digest_subscriptions, rows[start : start + 20_000])
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    candidates = len(content.paper_ids)
    return Template(data_dir / DB_NAME, subscribers, edition, candidates, categories, seconds, members)


def send_log(data_dir: Path, edition: Edition) -> dict[str, int]:
    """The send rows of `edition` by status."""
    from paperboy.storage import digests as store
    from paperboy.storage.engine import make_engine

    engine = make_engine(f"sqlite:///{data_dir / DB_NAME}")
    try:
        with engine.connect() as conn:
            return store.edition_counts(conn, edition.key)
    finally:
        engine.dispose()


# --- one send ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendRun:
    subscribers: int
    connections: int
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    statuses: dict[str, int]  # the edition's send log
    sink: dict[str, Any]
    summary: str  # paperboy digest send's own line

    @property
    def sent(self) -> int:
        return self.statuses.get("sent", 0)

    @property
    def per_s(self) -> float:
        return self.sent / self.wall_s if self.wall_s else float("nan")


def measure_send(template: Template, data_dir: Path, connections: int, sink_kind: SinkKind) -> SendRun:
    """`paperboy digest send` of the template's edition, on a fresh copy of it, into a new sink."""
    copy_database(template.path, data_dir)
    logs = CACHE / "logs" / f"send-{template.subscribers}-{connections}"
    with running_sink(logs, sink_kind) as sink:
        env = child_env(
            PAPERBOY_DATA_DIR=str(data_dir),
            PAPERBOY_SMTP_HOST="127.0.0.1",
            PAPERBOY_SMTP_PORT=str(sink.port),
            PAPERBOY_SMTP_SECURITY="none",
            # The corpus's stored vectors are MiniLM's: members' "For you" ranks with them (the
            # model itself is never loaded by a send); without members nothing reads vectors.
            PAPERBOY_EMBEDDER="minilm" if template.members else "hashing",
            PAPERBOY_DIGEST_CONNECTIONS=str(connections),
        )
        command = paperboy_command("digest", "send", "--edition", template.edition.key)
        measured = run_measured(command, env, logs)
    if measured.returncode != 0:
        raise BenchError(f"paperboy digest send exited {measured.returncode}: {tail(measured.stderr)}")
    statuses = send_log(data_dir, template.edition)
    shutil.rmtree(data_dir, ignore_errors=True)
    summary = tail(measured.stdout, 1)
    return SendRun(
        template.subscribers, connections, measured.wall_s, measured.cpu_s, measured.peak_rss_mib,
        statuses, sink.counts, summary,
    )  # fmt: skip


# --- the benchmark ---------------------------------------------------------------------------------


def run(corpus: Corpus, args: argparse.Namespace) -> dict[str, Any]:
    quick = getattr(args, "quick", False)
    subscribers = QUICK_SUBSCRIBERS if quick else getattr(args, "subscribers", TARGET_SUBSCRIBERS)
    connections = getattr(args, "digest_connections", None) or default_connections()
    sink_kind = SinkKind(getattr(args, "aiosmtpd", False), getattr(args, "sink_latency_ms", 0.0))
    section(
        f"Digest: one daily edition to {subscribers:,} subscribers "
        f"({_members(args, subscribers):,} of them members) through a local SMTP sink "
        f"({sink_kind.label}), digest_connections {connections}; "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    work = CACHE / f"run-{os.getpid()}"
    try:
        source = corpus_database(corpus)
        print(f"  corpus database: {source}", flush=True)
        members = min(_members(args, subscribers), subscribers)
        template = build_template(source, work / "template", subscribers, members)
        _print_template(template)
        main = measure_send(template, work / "send", connections, sink_kind)
        _print_main(main, template)
        out: dict[str, Any] = {"template": _template_json(template), "send": _run_json(main)}
        if not quick and not getattr(args, "no_comparison", False):
            out["connections"] = compare_connections(source, work, sink_kind)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _members(args: argparse.Namespace, subscribers: int) -> int:
    """--digest-members, or one subscriber in ten (the issue's 10,000 of 100,000)."""
    chosen = getattr(args, "digest_members", None)
    return subscribers * TARGET_MEMBERS // TARGET_SUBSCRIBERS if chosen is None else int(chosen)


def compare_connections(source: Path, work: Path, sink_kind: SinkKind) -> dict[str, Any]:
    """COMPARE_CONNECTIONS side by side, COMPARE_REPEATS rounds taking each in turn: with the
    sink of the main send, and (lean sink) with COMPARE_LATENCY_MS before each of its replies."""
    kinds = [sink_kind]
    if not sink_kind.aiosmtpd and sink_kind.latency_ms != COMPARE_LATENCY_MS:
        kinds.append(SinkKind(latency_ms=COMPARE_LATENCY_MS))
    section(
        f"Digest: digest_connections {', '.join(map(str, COMPARE_CONNECTIONS))} at "
        f"{COMPARE_SUBSCRIBERS:,} subscribers, sink {' / '.join(k.label for k in kinds)}; "
        f"{COMPARE_REPEATS} rounds (a fresh database copy each send)"
    )
    template = build_template(source, work / "template", COMPARE_SUBSCRIBERS)
    runs: dict[tuple[SinkKind, int], list[SendRun]] = {(k, n): [] for k in kinds for n in COMPARE_CONNECTIONS}
    for round_ in range(COMPARE_REPEATS):
        for (kind, n), results in runs.items():
            result = measure_send(template, work / "send", n, kind)
            results.append(result)
            print(f"  round {round_ + 1}, {n} connection(s), {kind.label}: {result.wall_s:.1f} s", flush=True)
    _print_comparison(runs)
    return {f"{n} connections, {k.label}": [_run_json(r) for r in rs] for (k, n), rs in runs.items()}


def _print_template(template: Template) -> None:
    print(
        f"  edition {template.edition.key}: {template.candidates} papers; subscribers' categories from "
        f"{', '.join(template.categories)}; database ready in {template.setup_s:.0f} s",
        flush=True,
    )


def _print_main(result: SendRun, template: Template) -> None:
    headers = ["subscribers", "sent", "skipped", "msgs/s", "wall s", "CPU s", "peak RSS MiB"]
    headers += ["sink msgs", "sink dups", "sink MiB", "sink CPU s"]
    sink = result.sink
    row = [template.subscribers, result.sent, result.statuses.get("skipped", 0), result.per_s]
    row += [result.wall_s, result.cpu_s, result.peak_rss_mib, sink["messages"]]
    row += [sink["duplicate_recipients"], sink["bytes"] / 2**20, sink["cpu_s"]]
    print(format_table(headers, [row]))
    statuses = ", ".join(f"{count:,} {status}" for status, count in sorted(result.statuses.items()))
    print(f"  send log: {statuses or 'empty'}; paperboy: {result.summary}")
    checks = [
        ("sink messages = sent", sink["messages"] == result.sent),
        ("distinct recipients = sent", sink["distinct_recipients"] == result.sent),
        ("0 duplicates", sink["duplicate_recipients"] == 0),
        ("every subscriber in the log", sum(result.statuses.values()) == template.subscribers),
    ]
    print("  checks: " + "; ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks))
    seconds = result.wall_s * TARGET_SUBSCRIBERS / template.subscribers
    how = "measured" if template.subscribers == TARGET_SUBSCRIBERS else "projected linearly"
    verdict = "met" if seconds < TARGET_S else "missed"
    print(
        f"target: {TARGET_SUBSCRIBERS:,} subscribers in < {TARGET_S:.0f} s; {how} {seconds:.0f} s = "
        f"{seconds / TARGET_S:.2f}× the target: {verdict}"
    )


def _print_comparison(runs: dict[tuple[SinkKind, int], list[SendRun]]) -> None:
    headers = ["connections", "sink", "median wall s", "median msgs/s", "walls s", "median CPU s"]
    rows = [
        [
            str(n),
            kind.label,
            median([r.wall_s for r in results]),
            median([r.per_s for r in results]),
            " / ".join(f"{r.wall_s:.1f}" for r in results),
            median([r.cpu_s for r in results]),
        ]
        for (kind, n), results in runs.items()
    ]
    print(format_table(headers, rows))
    rates = {key: median([r.per_s for r in results]) for key, results in runs.items()}
    for kind in dict.fromkeys(k for k, _ in runs):
        pairs = itertools.pairwise(COMPARE_CONNECTIONS)
        ratios = "; ".join(f"{b} vs {a}: {rates[kind, b] / rates[kind, a]:.2f}×" for a, b in pairs)
        print(f"  messages/s, sink {kind.label}: {ratios}")
    bad = [r for results in runs.values() for r in results if not _clean(r)]
    print(f"  sink = send log, no duplicates, in every send: {f'NO ({len(bad)} sends)' if bad else 'yes'}")


def _clean(result: SendRun) -> bool:
    return bool(result.sink["messages"] == result.sent and result.sink["duplicate_recipients"] == 0)


def _template_json(template: Template) -> dict[str, Any]:
    return {**asdict(template), "path": str(template.path), "edition": template.edition.key}


def _run_json(result: SendRun) -> dict[str, Any]:
    return {**asdict(result), "sent": result.sent, "per_s": result.per_s}


def default_connections() -> int:
    from paperboy.config import SETTINGS

    return int(next(s.default for s in SETTINGS if s.name == "digest_connections"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--subscribers", type=int, default=TARGET_SUBSCRIBERS, help="digest: subscribers of the edition"
    )
    parser.add_argument(
        "--no-comparison", action="store_true", help="digest: the main send only (no connection counts)"
    )
    parser.add_argument(
        "--digest-members",
        type=int,
        default=None,
        help="digest: subscribers that are members with libraries, marks and follows (default: one in ten)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"digest: {QUICK_SUBSCRIBERS:,} subscribers, no comparison of connection counts",
    )
    parser.add_argument(
        "--digest-connections", type=int, help="digest: connections of the main send (default: paperboy's)"
    )
    parser.add_argument(
        "--aiosmtpd", action="store_true", help="digest: the SMTP sink is aiosmtpd (default: the lean one)"
    )
    parser.add_argument(
        "--sink-latency-ms", type=float, default=0.0, help="digest: the lean sink's wait before each reply"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.digest", description=__doc__.split("\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_standalone("digest", "digest-", lambda: run(find_corpus(), args))


if __name__ == "__main__":
    raise SystemExit(main())
