"""Settings: declared once as a table (name, type, default, help), loaded from `PAPERBOY_*`
environment variables and an optional `paperboy.toml` (environment wins).

docs/settings.md documents every entry; tests/unit/test_config.py fails when one is missing.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "PAPERBOY_"


class SettingsError(ValueError):
    """A setting has a value paperboy cannot use."""


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir",
        Path,
        Path("paperboy-data"),
        "Directory for the SQLite database, search indexes and the mail outbox.",
    ),
    Setting(
        "database_url",
        str,
        "",
        "SQLAlchemy URL of the database. Empty: SQLite file paperboy.sqlite3 in data_dir. "
        "Example: postgresql+psycopg://user:pass@host/paperboy",
    ),
    Setting("host", str, "127.0.0.1", "Address `paperboy serve` listens on."),
    Setting("port", int, 8000, "Port `paperboy serve` listens on."),
    Setting("workers", int, 1, "Web worker processes for `paperboy serve`."),
    Setting("site_name", str, "paperboy", "Name shown in page titles and the header."),
    Setting("page_size", int, 100, "Papers per page on day, week and month views."),
    Setting(
        "page_cache_mb",
        int,
        64,
        "Memory (MiB, per web process) for rendered public pages, rebuilt when the catalogue "
        "changes. 0 turns the cache off.",
    ),
    Setting(
        "categories",
        list,
        ["cs.AI", "cs.CL", "cs.CV", "cs.LG"],
        "arXiv categories `paperboy sync` follows (space- or comma-separated in the environment).",
    ),
    Setting(
        "sync_days",
        int,
        7,
        "Days back that the first OAI-PMH harvest reaches; every sync also fetches this many past "
        "days of Hugging Face daily papers (their upvotes keep changing).",
    ),
    Setting(
        "sync_on_empty",
        bool,
        True,
        "Start a first sync in the background when `serve` finds an empty catalogue.",
    ),
    Setting(
        "sync_interval_hours",
        float,
        6.0,
        "`serve` runs `paperboy sync` in the background this often (0: never; use cron instead, "
        "and on one host only when several serve the same database).",
    ),
    Setting("sync_hf", bool, True, "Also fetch Hugging Face daily papers (upvotes, GitHub links) on sync."),
    Setting("arxiv_oai_url", str, "https://oaipmh.arxiv.org/oai", "arXiv OAI-PMH endpoint."),
    Setting("arxiv_api_url", str, "https://export.arxiv.org/api/query", "arXiv API (Atom) endpoint."),
    Setting("arxiv_rss_url", str, "https://rss.arxiv.org/rss", "arXiv daily listing RSS base URL."),
    Setting("hf_api_url", str, "https://huggingface.co/api", "Hugging Face API base URL."),
    Setting("http_timeout", float, 30.0, "Seconds before an upstream request times out."),
    Setting("http_retries", int, 4, "Retries of a failed upstream request (with exponential back-off)."),
    Setting(
        "arxiv_delay",
        float,
        3.0,
        "Seconds between requests to arXiv (its documented politeness delay is 3 s).",
    ),
    Setting("import_batch_size", int, 2000, "Papers per transaction when importing."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    host: str
    port: int
    workers: int
    site_name: str
    page_size: int
    page_cache_mb: int
    categories: list[str]
    sync_days: int
    sync_on_empty: bool
    sync_interval_hours: float
    sync_hf: bool
    arxiv_oai_url: str
    arxiv_api_url: str
    arxiv_rss_url: str
    hf_api_url: str
    http_timeout: float
    http_retries: int
    arxiv_delay: float
    import_batch_size: int

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'paperboy.sqlite3').resolve()}"

    def replace(self, **changes: Any) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


def load_settings(
    environ: Mapping[str, str] | None = None, toml_path: Path | None = None, **overrides: Any
) -> Settings:
    """Defaults, then paperboy.toml, then PAPERBOY_* variables, then explicit overrides."""
    env = os.environ if environ is None else environ
    path = toml_path or Path(env.get(ENV_PREFIX + "CONFIG", "paperboy.toml"))
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    for name, raw in _read_toml(path).items():
        values[name] = _coerce(name, raw)
    for setting in SETTINGS:
        raw = env.get(ENV_PREFIX + setting.name.upper())
        if raw is not None:
            values[setting.name] = _coerce(setting.name, raw)
    for name, raw in overrides.items():
        if raw is not None:
            values[name] = _coerce(name, raw)
    return Settings(**values)


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from exc
    section = data.get("paperboy", data)
    unknown = sorted(set(section) - set(_BY_NAME))
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    return dict(section)


def _coerce(name: str, raw: Any) -> Any:
    setting = _BY_NAME.get(name)
    if setting is None:
        raise SettingsError(f"unknown setting {name!r}")
    kind = setting.type
    if kind is list:
        items = raw if isinstance(raw, list) else str(raw).replace(",", " ").split()
        return _checked_categories([str(item) for item in items])
    try:
        if kind is bool:
            return _to_bool(raw)
        value = kind(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{name}: {raw!r} is not a valid {kind.__name__}") from exc
    if kind is float and not math.isfinite(value):
        raise SettingsError(f"{name}: must be a finite number, got {raw!r}")
    if kind in (int, float) and value < _MINIMUMS.get(name, 0):
        raise SettingsError(f"{name}: must be at least {_MINIMUMS.get(name, 0)}, got {raw!r}")
    if kind in (int, float) and value > _MAXIMUMS.get(name, value):
        raise SettingsError(f"{name}: must be at most {_MAXIMUMS[name]}, got {raw!r}")
    return value


# Settings where zero makes no sense (a zero batch size, a zero-second timeout).
_MINIMUMS = {"port": 1, "workers": 1, "page_size": 1, "import_batch_size": 1, "http_timeout": 0.1}
_MAXIMUMS = {"port": 65535, "page_size": 1000, "sync_interval_hours": 24 * 366}


def _checked_categories(value: list[str]) -> list[str]:
    from paperboy.domain.categories import is_arxiv_category

    bad = [name for name in value if not is_arxiv_category(name)]
    if bad:
        raise SettingsError(f"categories: {', '.join(bad)} are not arXiv categories (e.g. cs.LG)")
    if not value:
        raise SettingsError("categories: name at least one arXiv category to follow")
    return value


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(text)


def describe(settings: Settings) -> list[tuple[str, str, str]]:
    """(environment variable, effective value, help) for `paperboy config`."""
    rows = []
    for setting in SETTINGS:
        value = getattr(settings, setting.name)
        shown = " ".join(value) if isinstance(value, list) else str(value)
        if setting.name == "database_url":
            shown = _redact(shown) or f"(default) {settings.effective_database_url}"
        rows.append((ENV_PREFIX + setting.name.upper(), shown, setting.help))
    return rows


def _redact(url: str) -> str:
    """Hide a password in a database URL."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url
