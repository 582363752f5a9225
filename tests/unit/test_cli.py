from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from paperboy import cli
from paperboy.cli import main

COMMANDS = ["serve", "import", "sync", "fetch", "config", "migrate", "admin"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert f"usage: paperboy {command}" in capsys.readouterr().out


def test_config_prints_effective_values(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PAPERBOY_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("PAPERBOY_PORT", "8123")
    assert main(["config"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.split() == ["PAPERBOY_PORT", "8123"] for line in lines)


def test_bad_setting_is_one_line_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PAPERBOY_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("PAPERBOY_PORT", "http")
    assert main(["config"]) == 1
    assert capsys.readouterr().err == "paperboy: error: port: 'http' is not a valid int\n"


def test_unreachable_database_is_one_line_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PAPERBOY_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("PAPERBOY_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("paperboy: error: database: ")
    assert err.count("\n") == 1


def _fails_while_cleaning_up_after_ctrl_c(args, settings):
    """As `paperboy index` on PostgreSQL when Ctrl-C lands between sending a statement and waiting
    for its answer: putting the connection back fails, and that error propagates instead."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise OperationalError("SET autocommit", {}, Exception("can't change 'autocommit' now"))  # noqa: B904


def test_an_error_while_unwinding_a_ctrl_c_is_still_an_interrupt(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PAPERBOY_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setattr(cli, "_migrate", _fails_while_cleaning_up_after_ctrl_c)
    assert main(["migrate"]) == 130
    assert capsys.readouterr().err == "paperboy: interrupted; completed batches are saved, re-run to finish\n"


def test_a_bug_keeps_its_traceback(monkeypatch, tmp_path):
    def broken(args, settings):
        raise ZeroDivisionError("a bug")

    monkeypatch.setenv("PAPERBOY_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setattr(cli, "_migrate", broken)
    with pytest.raises(ZeroDivisionError):
        main(["migrate"])
