"""Security headers: every HTML page of every GET route (tests/functional/test_private_caching.py
lists them from the app itself) carries the site's Content-Security-Policy and holds nothing that
policy would block (an inline script, a <style> block, a style="" attribute); every answer says
nosniff and a Referrer-Policy; HSTS only when the public address is https."""

from __future__ import annotations

import re

import pytest
from app_client import open_client
from community import log_in_as
from test_private_caching import URLS, world  # noqa: F401 - world is a fixture

REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
REFERRER_POLICIES = {"strict-origin-when-cross-origin", "no-referrer", "same-origin", "strict-origin"}


def _policy(header: str) -> dict[str, str]:
    directives = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {parts[0]: parts[1] if len(parts) > 1 else "" for parts in directives}


def _check_page(url: str, response) -> None:
    policy = _policy(response.headers.get("content-security-policy", ""))
    if url.startswith("/digest/preview"):  # the mail's own, stricter policy: inline styles, nothing else
        assert policy["default-src"] == "'none'"
        assert "script-src" not in policy
        assert response.headers["x-frame-options"] == "DENY"
        return
    for directive, value in REQUIRED.items():
        assert policy.get(directive) == value, f"{url}: {directive} in {policy}"
    assert set(policy["img-src"].split()) <= {"'self'", "data:"}, url
    assert not INLINE_SCRIPT.search(response.text), f"{url}: an inline <script> the policy blocks"
    assert not INLINE_STYLE.search(response.text), f"{url}: an inline style the policy blocks"
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("as_member", [False, True], ids=["anonymous", "member"])
def test_every_page_has_the_policy_and_nothing_it_would_block(as_member, settings, world):  # noqa: F811
    people, values, _ = world
    pages = 0
    with open_client(settings) as client:
        if as_member:
            log_in_as(client, people["mod"])  # a moderator sees the most: the moderation forms too
        for template in sorted(URLS):
            url = URLS[template].format(**values)
            response = client.get(url)
            assert response.headers["x-content-type-options"] == "nosniff", url
            assert response.headers["referrer-policy"] in REFERRER_POLICIES, url
            assert "strict-transport-security" not in response.headers, f"{url}: HSTS over http"
            if response.headers.get("content-type", "").startswith("text/html"):
                _check_page(url, response)
                pages += 1
    assert pages >= 20  # most routes are pages: the loop did look at them


def test_pages_whose_url_holds_a_token_keep_no_referrer(settings, world):  # noqa: F811
    _, values, _ = world
    with open_client(settings) as client:
        manage = client.get(URLS["/digest/manage"].format(**values))
    assert manage.headers["referrer-policy"] == "no-referrer"


def test_hsts_when_the_public_address_is_https(settings, world):  # noqa: F811
    with open_client(settings.replace(base_url="https://papers.example.org")) as client:
        page = client.get("/", headers={"host": "papers.example.org"})
        api = client.get("/api/daily_papers")
    assert page.headers["strict-transport-security"] == "max-age=31536000"
    assert api.headers["strict-transport-security"] == "max-age=31536000"
