from __future__ import annotations

import re

import pytest
from conftest import REPO_ROOT

from paperboy.config import ENV_PREFIX, SETTINGS, SettingsError, describe, load_settings


def test_every_setting_is_documented():
    doc = (REPO_ROOT / "docs" / "settings.md").read_text()
    documented = set(re.findall(r"`(PAPERBOY_[A-Z_]+)`", doc))
    declared = {ENV_PREFIX + s.name.upper() for s in SETTINGS}
    assert declared - documented == set(), "document these settings in docs/settings.md"
    assert documented - declared - {"PAPERBOY_CONFIG"} == set(), "docs mention settings that do not exist"


def test_environment_overrides_toml(tmp_path):
    toml = tmp_path / "paperboy.toml"
    toml.write_text('[paperboy]\nport = 9000\ncategories = ["cs.CL"]\npage_size = 20\n')
    settings = load_settings({"PAPERBOY_PORT": "9100", "PAPERBOY_CATEGORIES": "cs.CV, cs.LG"}, toml)
    assert settings.port == 9100
    assert settings.categories == ["cs.CV", "cs.LG"]
    assert settings.page_size == 20


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PAPERBOY_PORT": "eighty"}, "port: 'eighty' is not a valid int"),
        ({"PAPERBOY_SYNC_HF": "maybe"}, "sync_hf"),
        ({"PAPERBOY_WORKERS": "-2"}, "workers: must be at least 0"),
        ({"PAPERBOY_IMPORT_BATCH_SIZE": "0"}, "import_batch_size: must be at least 1"),
        ({"PAPERBOY_CATEGORIES": ""}, "name at least one arXiv category"),
        ({"PAPERBOY_CATEGORIES": "cs.LG, 68T07"}, "68T07 are not arXiv categories"),
    ],
)
def test_bad_values_name_the_setting(env, message, tmp_path):
    with pytest.raises(SettingsError, match=message):
        load_settings(env, tmp_path / "absent.toml")


def test_unknown_toml_key_is_an_error(tmp_path):
    toml = tmp_path / "paperboy.toml"
    toml.write_text("prot = 80\n")
    with pytest.raises(SettingsError, match="unknown setting"):
        load_settings({}, toml)


def test_describe_hides_database_password(tmp_path):
    settings = load_settings(
        {"PAPERBOY_DATABASE_URL": "postgresql+psycopg://u:hunter2@db/pb"}, tmp_path / "x"
    )
    shown = {name: value for name, value, _ in describe(settings)}
    assert shown["PAPERBOY_DATABASE_URL"] == "postgresql+psycopg://u:***@db/pb"
    assert "hunter2" not in " ".join(shown.values())


@pytest.mark.parametrize("value", ["inf", "nan", "100000"])
def test_sync_interval_must_be_finite_and_sane(value, tmp_path):
    with pytest.raises(SettingsError, match="sync_interval_hours"):
        load_settings({"PAPERBOY_SYNC_INTERVAL_HOURS": value}, tmp_path / "absent.toml")
