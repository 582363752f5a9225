"""Files only the operator may read: directories 0700, files 0600, whatever the umask.

Everything paperboy keeps under data_dir (the database, the mail outbox, the search indexes,
the signing key, backups) holds members' addresses, messages or secrets.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
OWNER_ONLY_UMASK = 0o077


def restrict_umask() -> None:
    """Make every file this process creates from now on the owner's alone (SQLite's -wal and
    -shm, temporary files, anything a library writes), not only those made here."""
    os.umask(OWNER_ONLY_UMASK)


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) 0700; an existing directory is left as it is."""
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        path.mkdir(exist_ok=True, mode=PRIVATE_DIR)
        os.chmod(path, PRIVATE_DIR)  # mkdir's mode is masked by the umask; this is not
    return path


def create_private_file(path: Path) -> None:
    """Create `path` empty and 0600 (an existing file is left as it is): SQLite then gives its
    -wal and -shm files the same mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        os.chmod(path, PRIVATE_FILE)
    except FileExistsError:
        pass


def write_private(path: Path, data: bytes) -> None:
    """Write `path` 0600, atomically: readers see all of it or none."""
    temporary = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    _write_new(temporary, data)
    os.replace(temporary, path)


def write_private_once(path: Path, data: bytes) -> bytes:
    """Write `path` 0600 unless it exists; what it holds afterwards, whoever wrote it. Of
    processes doing this at once, one's `data` wins and every one reads it."""
    temporary = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    _write_new(temporary, data)
    try:
        os.link(temporary, path)  # fails when it exists: never a half-written key
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_bytes()


def _write_new(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(path, PRIVATE_FILE)
