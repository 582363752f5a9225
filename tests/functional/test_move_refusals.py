"""`paperboy move-to` refuses, with one line and exit status 1, what it must not touch: a site on
PostgreSQL already, a missing site, a target that is not PostgreSQL or not a URL at all.
(The move itself: tests/functional/test_move_site.py, on PostgreSQL.)"""

from __future__ import annotations

import pytest

from paperboy.cli import main


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("sqlite:////tmp/elsewhere.sqlite3", "the target must be a PostgreSQL database"),
        ("mysql://root@localhost/paperboy", "the target must be a PostgreSQL database"),
        ("not a url", "is not a database URL"),
    ],
)
def test_a_target_that_is_not_postgresql_is_refused(database_url, target, reason, capsys):
    code = main(["move-to", target])
    err = capsys.readouterr().err
    assert code == 1
    if database_url.startswith("postgresql"):  # the site itself is refused first
        assert "move-to copies a SQLite site; this one is on PostgreSQL already" in err
    else:
        assert reason in err
    assert "Traceback" not in err


def test_a_site_with_no_database_is_refused(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(tmp_path / "never-served"))
    monkeypatch.setenv("PAPERBOY_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("PAPERBOY_DATABASE_URL", raising=False)
    code = main(["move-to", "postgresql+psycopg://nobody@127.0.0.1:1/none"])
    assert code == 1
    assert "there is no database at" in capsys.readouterr().err
    assert not (tmp_path / "never-served" / "paperboy.sqlite3").exists()  # nor made one
