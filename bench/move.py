"""`python -m bench.move [--workdir DIR]`: `paperboy move-to` on the full corpus (docs/moving.md).

A SQLite site is built once in DIR (default /tmp/paperboy-bench-move; kept for reruns): the
74,728 papers with their listings, every paper's MiniLM vector (bench/reference_vectors.py) and
2,000 members' votes, comments, libraries, follows, digests and tokens (bench/site_population.py).
Then `paperboy move-to` copies it into a new database on the PostgreSQL server of
PAPERBOY_BENCH_POSTGRES_URL, as a separate process: its wall and CPU time, its peak RSS (the
copy streams: memory stays bounded) and its per-table report are printed. The database is
dropped after.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path
from typing import Any

from bench import postgres
from bench.common import (
    BenchError,
    child_env,
    find_corpus,
    format_table,
    paperboy_command,
    run_measured,
    run_standalone,
    section,
    tail,
)
from bench.reference_vectors import corpus_ids, store_reference_vectors
from bench.site_population import populate_site

MEMBERS = 2000
_COMPARED = re.compile(r"^(\w+)\s+([\d,]+) rows\s+(\w+)\s+(equal|DIFFERENT.*)$")


def run(workdir: Path) -> dict[str, Any]:
    admin, why = postgres.admin_url()
    if admin is None:
        raise BenchError(why)
    site = workdir / "site"
    built = _build_site(site)
    name = f"paperboy_bench_move_{int(time.time())}"
    url = postgres.create_database(admin, name)
    try:
        server = postgres.server_version(admin)
        section(f"paperboy move-to: the full corpus and {MEMBERS:,} members into PostgreSQL {server}")
        env = child_env(PAPERBOY_DATA_DIR=str(site), PAPERBOY_CONFIG=str(workdir / "absent.toml"))
        measured = run_measured(paperboy_command("move-to", url), env, workdir / "logs")
        if measured.returncode != 0:
            raise BenchError(f"move-to failed ({measured.returncode}): {tail(measured.stderr)}")
        size = postgres.database_size_mib(url)
    finally:
        postgres.drop_database(admin, name)
    tables = [m.groups() for line in measured.stdout.splitlines() if (m := _COMPARED.match(line))]
    print(format_table(["table", "rows", "checksum", "verdict"], tables))
    print("\n".join(line for line in measured.stdout.splitlines() if not _COMPARED.match(line)))
    figures = {
        "site": built,
        "wall_s": round(measured.wall_s, 1),
        "cpu_s": round(measured.cpu_s, 1),
        "peak_rss_mib": round(measured.peak_rss_mib),
        "postgresql_mib": round(size),
        "tables": len(tables),
        "rows": sum(int(rows.replace(",", "")) for _name, rows, _sum, _verdict in tables),
        "all_equal": all(verdict == "equal" for *_rest, verdict in tables),
    }
    print(format_table(list(figures)[1:], [list(figures.values())[1:]]))
    print(tail(measured.stderr, 60))
    return figures


def _build_site(site: Path) -> dict[str, Any]:
    """The SQLite site in `site`, built unless it is there already."""
    database = site / "paperboy.sqlite3"
    if (site / "complete").exists():
        return {"database_mib": round(database.stat().st_size / 2**20), "built_s": None}
    from paperboy.services.ingest import import_files
    from paperboy.storage.engine import make_engine
    from paperboy.storage.migrate import upgrade

    corpus = find_corpus()
    started = time.monotonic()
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        import_files(engine, [corpus.papers], listings_path=corpus.listings, batch_size=2000)
        store_reference_vectors(f"sqlite:///{database}", corpus_ids(corpus.papers))
        populate_site(engine, members=MEMBERS)
    finally:
        engine.dispose()
    (site / "complete").touch()
    return {
        "database_mib": round(database.stat().st_size / 2**20),
        "built_s": round(time.monotonic() - started),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.move", description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/paperboy-bench-move"))
    args = parser.parse_args()
    return run_standalone("move", "move-", lambda: run(args.workdir))


if __name__ == "__main__":
    raise SystemExit(main())
