"""`paperboy serve` in a subprocess on a free 127.0.0.1 port, and Chromium driven by Playwright.

Not a conftest.py (see tests/functional/app_client.py). The browser is Debian's chromium
(DESIGN.md): Playwright never downloads one here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("PAPERBOY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("PAPERBOY_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(env: Mapping[str, str], log: Path, *, workers: int = 1) -> Iterator[str]:
    """Serve with `env` (PAPERBOY_* settings) until the block ends; yields the base URL."""
    port = free_port()
    command = [sys.executable, "-m", "paperboy", "serve", "--port", str(port), "--workers", str(workers)]
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    child_env = {
        **base_env,
        "PAPERBOY_HOST": "127.0.0.1",
        "PAPERBOY_SYNC_ON_EMPTY": "0",
        "PAPERBOY_SYNC_INTERVAL_HOURS": "0",
        "PAPERBOY_BASE_URL": f"http://127.0.0.1:{port}",  # links in mails lead back here
        **env,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env=child_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, base, log)
        yield base
    finally:
        _stop(proc)


def _wait_healthy(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"paperboy serve exited {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    pytest.fail("paperboy serve did not answer /healthz within 60 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (its PID is the group id), SIGKILL if it lingers."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium for the module, or a skip naming what is missing (CI installs it)."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"{CHROMIUM} is absent: browser tests need Debian's chromium (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as a test-run artifact (artifacts/ is not committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
