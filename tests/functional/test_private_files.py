"""What paperboy writes under data_dir is the operator's alone, whatever the umask, and the key
that signs links is not in the database (so a dump of it cannot forge them)."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from community import PASSWORD, csrf_from
from conftest import REPO_ROOT
from live_server import live_server

from paperboy.services.accounts import signing_secret
from paperboy.services.signing_key import KEY_FILE, LEGACY_STATE_KEY, SigningKeyMissing
from paperboy.storage.sync_state import get_state, set_state
from paperboy.storage.transactions import write_transaction

CORPUS = REPO_ROOT / "tests" / "fixtures" / "bulk" / "mixed.jsonl"


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A typical login shell's umask (022: files world-readable unless made otherwise)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _env(data_dir: Path, tmp_path: Path) -> dict[str, str]:
    return {
        "PAPERBOY_DATA_DIR": str(data_dir),
        "PAPERBOY_CONFIG": str(tmp_path / "absent.toml"),
        "PAPERBOY_EMBEDDER": "hashing",  # file modes, not meaning: the vectors are written in an instant
        "PAPERBOY_VECTOR_ANN_THRESHOLD": "1",  # build the approximate index files too
    }


def _paperboy(*args: str, env: dict[str, str]) -> None:
    child = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")} | env
    done = subprocess.run(
        [sys.executable, "-m", "paperboy", *args], env=child, cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def _sign_up(base: str) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        csrf = csrf_from(client.get("/signup").text)
        form = {"csrf_token": csrf, "email": "ada@example.org", "name": "ada", "password": PASSWORD}
        assert client.post("/signup", data=form).status_code == 303


def _wait_for_mail(outbox: Path) -> None:
    """The mail is written after the answer, by the worker's mail queue."""
    deadline = time.monotonic() + 60
    while not list(outbox.glob("*.eml")):
        assert time.monotonic() < deadline, "no mail reached the outbox within 60 s"
        time.sleep(0.05)


def _modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root.parent)): stat.S_IMODE(path.stat().st_mode)
        for path in [root, *root.rglob("*")]
    }


def test_serve_import_index_and_mail_leave_only_owner_only_files(loose_umask, tmp_path):
    data_dir = tmp_path / "data"
    env = _env(data_dir, tmp_path)
    _paperboy("import", str(CORPUS), env=env)
    _paperboy("index", env=env)
    with live_server(env, tmp_path / "server.log") as base:
        _sign_up(base)  # a verification mail into the outbox, signed with the key
        _wait_for_mail(data_dir / "outbox")
        modes = _modes(data_dir)  # while serving: the -wal and -shm files exist
    names = {Path(name).name for name in modes}
    assert {"paperboy.sqlite3", "paperboy.sqlite3-wal", "outbox", "vectors", KEY_FILE} <= names
    assert any(name.endswith(".eml") for name in names)
    assert any(name.endswith(".usearch") for name in names)
    expected = {name: 0o700 if (tmp_path / name).is_dir() else 0o600 for name in modes}
    assert modes == expected


def test_a_dump_of_the_database_holds_no_signing_key(loose_umask, tmp_path):
    data_dir = tmp_path / "data"
    env = _env(data_dir, tmp_path)
    _paperboy("migrate", env=env)
    with live_server(env, tmp_path / "server.log") as base:
        _sign_up(base)  # signs a link: the key exists from here on
    key = (data_dir / KEY_FILE).read_text().strip()
    assert len(key) >= 32
    with closing(sqlite3.connect(data_dir / "paperboy.sqlite3")) as conn:
        dump = "\n".join(conn.iterdump())
    assert "INSERT INTO sync_state" in dump or "sync_state" in dump
    assert key not in dump


def test_an_older_installs_key_moves_from_the_database_to_the_key_file(engine, settings):
    settings = settings.replace(secret_key="")  # the test settings carry one on PostgreSQL
    legacy = "a key an older version made and kept in the database"
    with write_transaction(engine) as conn:
        set_state(conn, LEGACY_STATE_KEY, legacy)
    assert signing_secret(engine, settings) == legacy  # its links keep working
    assert (settings.data_dir / KEY_FILE).read_text() == legacy
    assert stat.S_IMODE((settings.data_dir / KEY_FILE).stat().st_mode) == 0o600
    with engine.connect() as conn:
        assert get_state(conn, LEGACY_STATE_KEY) is None


def test_no_process_invents_a_key_of_its_own_on_postgresql(engine, settings):
    """A cron job's `paperboy digest send` on a host without the shared key would otherwise sign
    its mails' links with a key file of its own, which every other host refuses."""
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite one data directory holds the one key file")
    settings = settings.replace(secret_key="")
    with pytest.raises(SigningKeyMissing, match="set PAPERBOY_SECRET_KEY"):
        signing_secret(engine, settings)
    assert not (settings.data_dir / KEY_FILE).exists()


def test_serve_on_postgresql_without_a_shared_key_refuses_in_one_line(fresh_postgresql, tmp_path):
    env = {**_env(tmp_path / "data", tmp_path), "PAPERBOY_DATABASE_URL": fresh_postgresql}
    child = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")} | env
    done = subprocess.run(
        [sys.executable, "-m", "paperboy", "serve", "--port", "1"],
        env=child,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "paperboy: error: on PostgreSQL, set PAPERBOY_SECRET_KEY (the same on every host) or copy the "
        f"key file {tmp_path / 'data' / KEY_FILE} from the host that has it (see docs/operations.md)"
    ]
