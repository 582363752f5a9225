"""Settings: declared once as a table (name, type, default, help), loaded from `PAPERBOY_*`
environment variables and an optional `paperboy.toml` (environment wins).

docs/settings.md documents every entry; tests/unit/test_config.py fails when one is missing.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "PAPERBOY_"
# Calibrated on the Hugging Face upvote data: docs/trending.md, bench/trending_calibration.py.
TRENDING_GRAVITY = 0.45


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
    Setting(
        "workers",
        int,
        0,
        "Web worker processes for `paperboy serve`. 0: one per CPU core the process may use "
        "(its affinity and a container's CPU quota), as many as available memory allows at about "
        "1 GiB each, at most 8 (docs/deploy.md, Workers).",
    ),
    Setting(
        "header_timeout",
        float,
        10.0,
        "Seconds `paperboy serve` waits for a request's headers (from the connection's start, or "
        "from the first byte of a following request) before closing the connection: a client "
        "trickling its headers or connecting and sending nothing is cut off. 0: no limit.",
    ),
    Setting(
        "keep_alive_timeout",
        int,
        5,
        "Seconds `paperboy serve` keeps an idle connection open after a response, for the next request.",
    ),
    Setting(
        "limit_concurrency",
        int,
        1000,
        "Connections and requests in progress one `paperboy serve` worker holds; past it, new "
        "requests get 503 at once (idle connections count: header_timeout frees them). 0: no limit.",
    ),
    Setting(
        "gc_freeze",
        bool,
        True,
        "In each web process of `paperboy serve`, freeze what survives each full garbage "
        "collection (gc.freeze; everything unfrozen hourly so cycles are freed): the next full "
        "collection walks only what came since, not every cached paper and page again (those walks "
        "held the interpreter's lock 50-240 ms). Off: only what start-up loaded is frozen "
        "(docs/deploy.md, Garbage collection).",
    ),
    Setting("site_name", str, "paperboy", "Name shown in page titles and the header."),
    Setting("page_size", int, 100, "Papers per page on day, week and month views."),
    Setting(
        "for_you_page_size",
        int,
        30,
        'Papers per page of a reader\'s "For you" (the rest on the next pages): each is ranked and '
        "rendered for that reader alone.",
    ),
    Setting(
        "page_cache_mb",
        int,
        64,
        "Memory (MiB, per web process) for rendered public pages, rebuilt when the catalogue "
        "changes. 0 turns the cache off.",
    ),
    Setting(
        "page_cache_seconds",
        float,
        10.0,
        "Age after which a cached page is rendered again (by one reader, while the others get the "
        "stale copy): upvote and comment counts that anonymous readers see lag by about this much. "
        "Catalogue changes show within a second.",
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
    Setting(
        "arxiv_lookup_wait",
        float,
        5.0,
        "Seconds a submission waits for its arXiv look-up; past that, or while arXiv asks us to "
        "hold off, the member is told to try again later (503 with Retry-After).",
    ),
    Setting("import_batch_size", int, 2000, "Papers per transaction when importing."),
    Setting(
        "embedder",
        str,
        "auto",
        "Sentence embedder for search by meaning and similar papers: minilm (all-MiniLM-L6-v2, needs "
        "the search extra), hashing (a bag of hashed words; no extra needed), or auto: minilm when the "
        "search extra is installed, hashing otherwise.",
    ),
    Setting(
        "embed_batch_size", int, 32, "Papers embedded per batch (and per transaction) by `paperboy index`."
    ),
    Setting(
        "embed_on_sync",
        bool,
        True,
        "Embed new and changed papers at the end of every sync (and of `paperboy import`), so search "
        "by meaning finds them; off: only `paperboy index` embeds.",
    ),
    Setting(
        "search_warm_up",
        bool,
        True,
        "Load the embedding model and the vectors when a web process starts, not at its first search.",
    ),
    Setting(
        "keyword_index",
        bool,
        True,
        "Rank keyword search with the keyword index (BM25, tantivy) that each host keeps in "
        "data_dir/keywords; off: the database's full-text index ranks alone (slower on long "
        "queries, and on PostgreSQL less accurate; docs/search.md).",
    ),
    # --- operations: metrics and logs (docs/operations.md) ----------------------------------
    Setting(
        "metrics",
        str,
        "off",
        "Who may read /metrics (Prometheus text format): off (404 for everyone), local (clients "
        "on 127.0.0.1 or ::1 that did not come through a proxy) or token (a request with "
        "`Authorization: Bearer` and metrics_token).",
    ),
    Setting(
        "metrics_token",
        str,
        "",
        "The bearer token /metrics asks for when metrics is token (at least 16 characters).",
    ),
    Setting(
        "log_format",
        str,
        "text",
        "text (messages as they are) or json (one JSON object a line on stderr, each with the "
        "request id of the request it belongs to, and one line per request answered).",
    ),
    Setting(
        "trust_request_id",
        bool,
        False,
        "Take each request's id from its X-Request-ID header (letters, digits, '.', '_' and '-', "
        "at most 128) instead of making one: only behind a proxy that sets that header on every "
        "request, replacing any a client sent (docs/deploy.md).",
    ),
    # --- the community ---------------------------------------------------------------------
    Setting(
        "base_url",
        str,
        "",
        "Public address of the site, used in links sent by mail and to decide on Secure cookies "
        "(https). Empty: http://HOST:PORT.",
    ),
    Setting(
        "trusted_proxies",
        str,
        "",
        "Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto headers are believed "
        "(comma-separated, or * for any). Empty: none; the client address is the TCP peer's.",
    ),
    Setting(
        "secret_key",
        str,
        "",
        "Key that signs the links in mails (verification, reset, digests). Empty: a random key made "
        "once in data_dir/secret.key (0600), never in the database. On PostgreSQL with several "
        "hosts, set it (the same on every host).",
    ),
    Setting(
        "smtp_host", str, "", "SMTP server for outgoing mail. Empty: mail is written to data_dir/outbox."
    ),
    Setting("smtp_port", int, 587, "SMTP server port."),
    Setting("smtp_security", str, "starttls", "starttls, tls (implicit TLS, port 465) or none."),
    Setting("smtp_username", str, "", "SMTP login (empty: no authentication)."),
    Setting("smtp_password", str, "", "SMTP password."),
    Setting("mail_from", str, "paperboy <paperboy@localhost>", "From address of every mail paperboy sends."),
    Setting(
        "digest_from",
        str,
        "",
        "From address of digest mails (and their confirmation mails). Empty: mail_from.",
    ),
    Setting(
        "digest_schedule",
        bool,
        False,
        "`paperboy serve` sends due digest editions itself (checking every few minutes), from "
        "digest_send_hour on. Off: run `paperboy digest send` from cron.",
    ),
    Setting(
        "digest_send_hour",
        int,
        6,
        "Hour of the day (UTC, 0-23) from which `serve`'s schedule sends a day's editions; the daily "
        "one also waits for the day's listing.",
    ),
    Setting(
        "digest_connections",
        int,
        4,
        "Connections to the mail server a digest run sends over at once (each renders while "
        "another waits for the server).",
    ),
    Setting(
        "digest_processes",
        int,
        0,
        "Processes a digest run sends from, each a share of the subscribers with its own "
        "connections (0: one per core, at most 4; 500 subscribers a process at least).",
    ),
    Setting(
        "digest_rate", float, 0.0, "Digest mails per second at most (0: as fast as the server takes them)."
    ),
    Setting(
        "digest_retries",
        int,
        3,
        "Attempts at a digest mail the server refuses for now (4xx), with growing waits; after that it "
        "is retried by the next `digest send` of the edition (within a day).",
    ),
    Setting(
        "digest_retry_seconds",
        float,
        30.0,
        "Wait before the second attempt at a refused digest mail; each later wait doubles.",
    ),
    Setting("digest_confirm_hours", int, 48, "Hours a digest confirmation link stays valid."),
    Setting("rate_limit_subscribe", str, "10/hour", "Digest subscription requests per IP address."),
    Setting("session_days", int, 30, "Days a login lasts."),
    Setting("verify_link_hours", int, 48, "Hours an e-mail verification link stays valid."),
    Setting("reset_link_minutes", int, 60, "Minutes a password reset link stays valid (and it works once)."),
    Setting(
        "submission_window_days",
        int,
        14,
        "A paper can be submitted to the daily feed up to this many days after its first version.",
    ),
    Setting(
        "trending_gravity",
        float,
        TRENDING_GRAVITY,
        "How fast age lowers a paper's trending score: score = points / (age_hours + offset) ^ gravity. "
        "docs/trending.md explains how the default was calibrated.",
    ),
    Setting("trending_offset_hours", float, 2.0, "Hours added to a paper's age in the trending formula."),
    Setting("trending_comment_weight", float, 0.5, "Points a visible comment adds to a paper."),
    Setting("trending_hf_weight", float, 1.0, "Points a Hugging Face upvote adds to a paper."),
    Setting(
        "trending_stars_weight",
        float,
        1.0,
        "Points from GitHub stars: weight × log2(1 + stars), so 1,000 stars add about 10 points.",
    ),
    Setting("rate_limit_signup", str, "5/hour", "Sign-ups per IP address."),
    Setting("rate_limit_login", str, "30/10minutes", "Login attempts per IP address."),
    Setting(
        "login_failures_account",
        str,
        "5/15minutes",
        "Failed logins per account and client address before each further attempt from that address "
        "waits: 30 s, doubling with each failure, up to the period.",
    ),
    Setting("login_failures_ip", str, "20/hour", "Failed logins per IP address before it must wait."),
    Setting("rate_limit_mail", str, "5/hour", "Verification and reset mails per address and per IP."),
    Setting("rate_limit_vote", str, "120/minute", "Votes per account."),
    Setting(
        "rate_limit_library", str, "240/minute", "Papers saved to or removed from a library, per account."
    ),
    Setting(
        "follows_max",
        int,
        500,
        "Follows (authors, categories, saved searches, papers) one account may have; the rate of "
        "following and unfollowing counts against rate_limit_library.",
    ),
    Setting(
        "alert_activity_threshold",
        int,
        10,
        "New upvotes plus comments (here and on Hugging Face) on a followed or saved paper that "
        "make one activity alert; the next needs as many again.",
    ),
    Setting(
        "rate_limit_library_import",
        str,
        "20/day",
        "Library imports (uploaded files or lists of ids) started per account.",
    ),
    Setting("rate_limit_comment", str, "10/minute", "Comments (new or edited) per account."),
    Setting("rate_limit_submit", str, "10/hour", "Submissions per account."),
    Setting(
        "rate_limit_ip_factor",
        int,
        10,
        "Per-IP limit on votes, comments and submissions, as a multiple of the per-account one "
        "(people behind one address share it).",
    ),
    Setting(
        "rate_limit_api",
        str,
        "5000/hour",
        "Requests to /api/ per account (a valid API token or logged-in session), shared by every "
        "web process and host (docs/api.md, Rate limits).",
    ),
    Setting(
        "rate_limit_api_ip",
        str,
        "1000/hour",
        "Requests to /api/ without a valid token or session, per IP address, shared by every web process.",
    ),
    Setting(
        "rate_limit_search",
        str,
        "120/minute",
        "Searches on the search page (/search with a query) and search feeds (/feeds/search.*), "
        "per IP address.",
    ),
    Setting(
        "vector_ann_threshold",
        int,
        20_000,
        "Papers with embeddings from which `paperboy index` builds an approximate (HNSW) vector "
        "index in data_dir/vectors, memory-mapped by every web worker; below it, semantic search "
        "is exact (docs/search.md).",
    ),
    Setting(
        "jobs_in_workers",
        bool,
        False,
        "`paperboy worker` processes run the background jobs (sync, embedding, digests, alerts, "
        "library imports) from the job queue in the database; `serve` only queues them. Off: "
        "`serve` runs them itself, as the embedded default does.",
    ),
    Setting(
        "jobs_lease_seconds",
        float,
        60.0,
        "How long a worker holds a job it took without renewing its lease (it renews it every "
        "third of this while the job runs); the job of a worker silent this long runs again.",
    ),
    Setting(
        "jobs_retry_seconds",
        float,
        30.0,
        "A failed job runs again after this long, doubled after each further failure (at most an hour).",
    ),
    Setting(
        "vector_search",
        str,
        "auto",
        "Where search by meaning, similar papers and For you find nearest vectors: auto (in the "
        "database, through pgvector's HNSW index, when PostgreSQL has the extension; else per host) "
        "or per-host (every process holds the vectors, or the HNSW file `paperboy index` built on "
        "its host; docs/search.md).",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    host: str
    port: int
    workers: int
    header_timeout: float
    keep_alive_timeout: int
    limit_concurrency: int
    gc_freeze: bool
    site_name: str
    page_size: int
    for_you_page_size: int
    page_cache_mb: int
    page_cache_seconds: float
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
    arxiv_lookup_wait: float
    import_batch_size: int
    embedder: str
    embed_batch_size: int
    embed_on_sync: bool
    search_warm_up: bool
    keyword_index: bool
    metrics: str
    metrics_token: str
    log_format: str
    trust_request_id: bool
    base_url: str
    trusted_proxies: str
    secret_key: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str
    smtp_password: str
    mail_from: str
    digest_from: str
    digest_schedule: bool
    digest_send_hour: int
    digest_connections: int
    digest_processes: int
    digest_rate: float
    digest_retries: int
    digest_retry_seconds: float
    digest_confirm_hours: int
    rate_limit_subscribe: str
    session_days: int
    verify_link_hours: int
    reset_link_minutes: int
    submission_window_days: int
    trending_gravity: float
    trending_offset_hours: float
    trending_comment_weight: float
    trending_hf_weight: float
    trending_stars_weight: float
    rate_limit_signup: str
    rate_limit_login: str
    login_failures_account: str
    login_failures_ip: str
    rate_limit_mail: str
    rate_limit_vote: str
    rate_limit_library: str
    follows_max: int
    alert_activity_threshold: int
    rate_limit_library_import: str
    rate_limit_comment: str
    rate_limit_submit: str
    rate_limit_ip_factor: int
    rate_limit_api: str
    rate_limit_api_ip: str
    rate_limit_search: str
    vector_ann_threshold: int
    jobs_in_workers: bool
    jobs_lease_seconds: float
    jobs_retry_seconds: float
    vector_search: str

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'paperboy.sqlite3').resolve()}"

    @property
    def public_url(self) -> str:
        """The site's address for links that leave the page (mail), without a trailing slash."""
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

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
    _check_metrics_token(values)
    return Settings(**values)


def _check_metrics_token(values: Mapping[str, Any]) -> None:
    """A guessable token would open /metrics to anyone: token mode needs a long one."""
    if values["metrics"] == "token" and len(values["metrics_token"]) < 16:
        raise SettingsError("metrics_token: metrics = token needs a token of at least 16 characters")


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
    check = _CHECKS.get(name)
    if check is not None:
        check(name, value)
    if kind in (int, float) and value < _MINIMUMS.get(name, 0):
        raise SettingsError(f"{name}: must be at least {_MINIMUMS.get(name, 0)}, got {raw!r}")
    if kind in (int, float) and value > _MAXIMUMS.get(name, value):
        raise SettingsError(f"{name}: must be at most {_MAXIMUMS[name]}, got {raw!r}")
    return value


# Settings where zero makes no sense (a zero batch size, a zero-second timeout).
_MINIMUMS = {
    "port": 1,
    "page_size": 1,
    "for_you_page_size": 1,
    "import_batch_size": 1,
    "http_timeout": 0.1,
}
_MINIMUMS.update(
    {
        "keep_alive_timeout": 1,
        "embed_batch_size": 1,
        "smtp_port": 1,
        "session_days": 1,
        "verify_link_hours": 1,
        "reset_link_minutes": 1,
        "rate_limit_ip_factor": 1,
        "alert_activity_threshold": 1,
        "digest_retries": 1,
        "digest_confirm_hours": 1,
        "digest_connections": 1,
        "digest_processes": 0,
        "jobs_lease_seconds": 1,
    }
)
_MAXIMUMS = {
    "port": 65535,
    "smtp_port": 65535,
    "page_size": 1000,
    "for_you_page_size": 1000,
    "sync_interval_hours": 24 * 366,
    "embed_batch_size": 1024,
    "digest_send_hour": 23,
    "digest_retries": 20,
    "digest_connections": 32,
    "digest_processes": 64,
    "jobs_lease_seconds": 3600,
    "jobs_retry_seconds": 3600,
}


def _check_rate(name: str, value: str) -> None:
    from paperboy.domain.rates import parse_rate

    try:
        parse_rate(value)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None


def _check_choice(*choices: str) -> Callable[[str, str], None]:
    def check(name: str, value: str) -> None:
        if value not in choices:
            raise SettingsError(f"{name}: {value!r} is not one of {', '.join(choices)}")

    return check


def _check_base_url(name: str, value: str) -> None:
    if value and not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name}: {value!r} must start with http:// or https://")


_CHECKS: dict[str, Callable[[str, Any], None]] = {
    **{s.name: _check_rate for s in SETTINGS if s.name.startswith(("rate_limit_", "login_failures_"))},
    "rate_limit_ip_factor": lambda name, value: None,
    "smtp_security": _check_choice("starttls", "tls", "none"),
    "embedder": _check_choice("auto", "minilm", "hashing"),
    "metrics": _check_choice("off", "local", "token"),
    "log_format": _check_choice("text", "json"),
    "vector_search": _check_choice("auto", "per-host"),
    "base_url": _check_base_url,
}


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
        if setting.name in ("smtp_password", "secret_key", "metrics_token") and shown:
            shown = "***"
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
