"""Chromium driven by Playwright, for the browser tests. The browser is Debian's chromium
(DESIGN.md): Playwright never downloads one here. Not a conftest.py (see app_client.py)."""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path
from typing import NoReturn

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


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium for the module, or a skip naming what is missing; under CI=true
    (`.ci/run` installs both) a failure instead, so a broken CI image cannot pass by skipping."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing(f"{CHROMIUM} is absent: browser tests need Debian's chromium (apt-get install chromium)")
    try:
        playwright_api = importlib.import_module("playwright.sync_api")
    except ImportError:
        missing("playwright is not installed: browser tests need it (pip install -e '.[dev]')")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def missing(reason: str) -> NoReturn:
    """Skip for want of `reason` (a browser, Playwright, axe-core); under CI=true, fail."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(reason)


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as a test-run artifact (artifacts/ is not committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# Reported by the page itself (the event), and by Chromium's console ("Refused to load ..."), for
# what a Content-Security-Policy blocked: inline scripts and styles, another site's files.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def csp_violations(context) -> list[str]:
    """Every Content-Security-Policy violation of the context's pages from now on, as text."""
    seen: list[str] = []
    context.add_init_script(_CSP_LISTENER)

    def on_console(message) -> None:
        if "Content Security Policy" in message.text or "CSP violation" in message.text:
            seen.append(f"{message.page.url if message.page else '?'}: {message.text}")

    context.on("console", on_console)
    return seen
