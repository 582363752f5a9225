"""`paperboy backup` and `paperboy restore`: everything a site holds, copied while it serves.

A backup is a directory (0700, files 0600):
- manifest.json: what was copied, from which database and schema revision, by which version;
- paperboy.sqlite3 (a snapshot by SQLite's online backup) or paperboy.pgdump (pg_dump, custom
  format): the catalogue, accounts, sessions, votes, comments, subscriptions, the send log, the
  vectors and the lexical index, all of one moment;
- secret.key, the signing key, when it lives in data_dir (not when PAPERBOY_SECRET_KEY gives it).
The approximate vector index (data_dir/vectors) is not copied: it is rebuilt from the restored
vectors by `paperboy restore`, so that it matches the database's moment exactly. Nor is the
keyword index (data_dir/keywords): `serve` builds it from the restored catalogue (and a host whose
index is ahead of a restored database builds its own again, services/keyword_ranker.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from paperboy import __version__
from paperboy.config import Settings
from paperboy.private_files import private_dir, write_private
from paperboy.services.signing_key import KEY_FILE, key_file
from paperboy.storage import backup as store
from paperboy.storage.engine import is_sqlite, make_engine, now_utc
from paperboy.storage.migrate import current_revisions, known_revision, upgrade

MANIFEST = "manifest.json"
SQLITE_FILE = "paperboy.sqlite3"
PG_FILE = "paperboy.pgdump"
FORMAT = 1


class BackupRefused(Exception):
    """The backup or restore cannot go ahead; the message says why."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    database: str
    files: list[str]
    signing_key: str

    def summary(self) -> str:
        key = {
            "file": "with the signing key",
            "setting": "without the signing key: it is PAPERBOY_SECRET_KEY, keep that too",
            "none": "no signing key made yet",
        }[self.signing_key]
        return f"paperboy: backed up the {self.database} database to {self.path} ({key})"


def back_up(settings: Settings, target: Path) -> BackupReport:
    """Copy the database (as of one moment) and the key file into the new directory `target`."""
    _check_new_backup_directory(target)
    sqlite = make_url(settings.effective_database_url).get_backend_name() == "sqlite"
    if sqlite and not _sqlite_path(settings).is_file():
        raise BackupRefused(f"there is no database at {_sqlite_path(settings)}: nothing to back up")
    engine = make_engine(settings.effective_database_url)
    try:
        revisions = current_revisions(engine)
        if not revisions:
            raise BackupRefused("the database has no paperboy schema yet: there is nothing to back up")
        private_dir(target)
        files = [_copy_database(engine, settings, target)]
    finally:
        engine.dispose()
    signing_key = "setting" if settings.secret_key else "none"
    if not settings.secret_key and key_file(settings).exists():
        write_private(target / KEY_FILE, key_file(settings).read_bytes())
        files.append(KEY_FILE)
        signing_key = "file"
    database = "sqlite" if files[0] == SQLITE_FILE else "postgresql"
    manifest = {
        "format": FORMAT,
        "paperboy": __version__,
        "created": now_utc().isoformat(),
        "database": database,
        "schema": revisions,
        "files": files,
        "signing_key": signing_key,
        "vector_index": "not copied: `paperboy restore` rebuilds it from the restored vectors",
    }
    write_private(target / MANIFEST, json.dumps(manifest, indent=2).encode())  # last: marks it whole
    return BackupReport(target, database, files, signing_key)


def _check_new_backup_directory(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupRefused(f"{target} exists and is not an empty directory: give a new path")


def _copy_database(engine: Engine, settings: Settings, target: Path) -> str:
    if is_sqlite(engine):
        store.copy_sqlite(_sqlite_path(settings), target / SQLITE_FILE)
        problems = store.integrity_problems(target / SQLITE_FILE)
        if problems:
            raise BackupRefused(f"the copy fails PRAGMA integrity_check: {problems[0]}")
        return SQLITE_FILE
    store.dump_postgresql(settings.effective_database_url, target / PG_FILE)
    return PG_FILE


def _sqlite_path(settings: Settings) -> Path:
    return Path(make_url(settings.effective_database_url).database or "")


@dataclass(frozen=True, slots=True)
class RestoreReport:
    database: str
    signing_key: str
    vector_index: str

    def summary(self) -> str:
        return f"paperboy: restored the {self.database} database; {self.vector_index}"


def restore(settings: Settings, source: Path) -> RestoreReport:
    """Restore the backup `source` into a fresh data_dir (and, on PostgreSQL, an empty database)."""
    manifest = _read_manifest(source)
    _check_fresh_data_dir(settings.data_dir)
    _check_known_schema(manifest)
    url = settings.effective_database_url
    if make_url(url).get_backend_name() == "sqlite":
        _check_kind(manifest, "sqlite")
        _restore_sqlite(settings, source / SQLITE_FILE)
    else:
        _check_kind(manifest, "postgresql")
        _restore_postgresql(url, source / PG_FILE)
    if manifest["signing_key"] == "file":
        private_dir(settings.data_dir)
        write_private(key_file(settings), (source / KEY_FILE).read_bytes())
    engine = make_engine(url)
    try:
        upgrade(engine)  # a backup of an older version is brought up to this one
        vector_index = _rebuild_vector_index(engine, settings)
    finally:
        engine.dispose()
    return RestoreReport(str(manifest["database"]), str(manifest["signing_key"]), vector_index)


def _read_manifest(source: Path) -> dict[str, object]:
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupRefused(f"{source} is not a paperboy backup (it has no {MANIFEST})") from None
    except ValueError as exc:
        raise BackupRefused(f"{source / MANIFEST} is damaged: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(f"{source} is a backup of a format this version does not know")
    return manifest


def _check_fresh_data_dir(data_dir: Path) -> None:
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupRefused(
            f"the data directory {data_dir} is not empty: restore into a new one (set PAPERBOY_DATA_DIR)"
        )


def _check_known_schema(manifest: dict[str, object]) -> None:
    schema = manifest.get("schema")
    if not isinstance(schema, list) or not all(known_revision(str(rev)) for rev in schema):
        raise BackupRefused(
            f"the backup was made by paperboy {manifest.get('paperboy')}, whose database schema "
            "this version does not know: restore it with that version or a newer one"
        )


def _check_kind(manifest: dict[str, object], kind: str) -> None:
    if manifest["database"] != kind:
        raise BackupRefused(
            f"this is a backup of a {manifest['database']} database and database_url names a {kind} one"
        )


def _restore_postgresql(url: str, dump: Path) -> None:
    engine = make_engine(url)
    try:
        if store.table_names(engine):
            raise BackupRefused("the PostgreSQL database is not empty: restore into a new, empty database")
    finally:
        engine.dispose()
    store.restore_postgresql(url, dump)


def _restore_sqlite(settings: Settings, copy: Path) -> None:
    target = _sqlite_path(settings)
    if target.exists():
        raise BackupRefused(f"{target} exists: restore into a new database file")
    private_dir(target.parent)
    store.copy_sqlite(copy, target)


def _rebuild_vector_index(engine: Engine, settings: Settings) -> str:
    from paperboy.integrations.embedder import model_id_for
    from paperboy.services.vector_index import ANN_DIRECTORY
    from paperboy.services.vector_search import update_vector_index

    directory = settings.data_dir / ANN_DIRECTORY
    model = model_id_for(settings.embedder)
    threshold, search = settings.vector_ann_threshold, settings.vector_search
    # The data dir is fresh, so the per-host index is built; with pgvector the dump held the
    # column and its HNSW index, so this only checks them.
    return update_vector_index(engine, model, directory, threshold, search=search, rebuild=False)
