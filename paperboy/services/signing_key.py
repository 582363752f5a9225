"""The key that signs verification, reset and unsubscribe links: PAPERBOY_SECRET_KEY, or the
file data_dir/secret.key (0600, made once). Never in the database: whoever reads a dump of it
must not be able to forge those links.

An older install kept a random key in the database (sync_state): the first use moves it into
the file, so its links keep working, and deletes it from the database.
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

from sqlalchemy import Engine

from paperboy.config import Settings, SettingsError
from paperboy.private_files import private_dir, write_private_once
from paperboy.storage.sync_state import delete_state, get_state
from paperboy.storage.transactions import write_transaction

KEY_FILE = "secret.key"
LEGACY_STATE_KEY = "secret:signing-key"  # where older versions kept it (a name, not a key)
_known: dict[Path, str] = {}  # a key file never changes once made: read it once per process
_lock = threading.Lock()


class SigningKeyMissing(SettingsError):
    """Several hosts share a PostgreSQL database but this one has no key of theirs."""


def key_file(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE


def signing_key(engine: Engine, settings: Settings) -> str:
    """The key; SigningKeyMissing on PostgreSQL when none was given: a key file invented by one
    host (a cron job's `paperboy digest send`, say) would sign links that the others refuse."""
    if settings.secret_key:
        return settings.secret_key
    path = key_file(settings).resolve()
    with _lock:
        if path not in _known:
            _known[path] = _load_or_make(engine, path, settings)
        return _known[path]


def _load_or_make(engine: Engine, path: Path, settings: Settings) -> str:
    if not path.exists():
        with engine.connect() as conn:
            legacy = get_state(conn, LEGACY_STATE_KEY)
        if legacy is None and engine.dialect.name == "postgresql":
            raise _missing(settings)
        private_dir(path.parent)
        write_private_once(path, (legacy or secrets.token_urlsafe(48)).encode("ascii"))
    key = path.read_text(encoding="ascii").strip()
    with write_transaction(engine) as conn:  # after the file holds it: a crash loses nothing
        delete_state(conn, LEGACY_STATE_KEY)
    return key


def check_shared_key(engine: Engine, settings: Settings) -> None:
    """On PostgreSQL, several hosts may serve one database, and each would make a key file of
    its own: links mailed by one would fail on the others. So a key must be given (the setting,
    or a key file copied to every host), or be an older install's, which is moved to the file."""
    if settings.secret_key or engine.dialect.name != "postgresql" or key_file(settings).exists():
        return
    with engine.connect() as conn:
        if get_state(conn, LEGACY_STATE_KEY):
            signing_key(engine, settings)  # moved into the file now, while one host starts
            return
    raise _missing(settings)


def _missing(settings: Settings) -> SigningKeyMissing:
    return SigningKeyMissing(
        "on PostgreSQL, set PAPERBOY_SECRET_KEY (the same on every host) or copy the key file "
        f"{key_file(settings)} from the host that has it (see docs/operations.md)"
    )
