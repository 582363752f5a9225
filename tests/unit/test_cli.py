from __future__ import annotations

import pytest

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
