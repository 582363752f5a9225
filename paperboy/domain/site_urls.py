"""Paths of paperboy's own pages that more than the web layer links to: the mails of services/
(sign-up, password resets, digests) and the pages (web/urls.py adds the feed and listing paths).
Relative to the site root; a mail puts `settings.public_url` in front. Pure.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

LOGIN_PATH = "/login"
VERIFY_EMAIL_PATH = "/verify-email"
RESET_PASSWORD_PATH = "/reset-password"  # noqa: S105 - a path, not a password
DIGEST_CONFIRM_PATH = "/digest/confirm"
DIGEST_MANAGE_PATH = "/digest/manage"
DIGEST_UNSUBSCRIBE_PATH = "/digest/unsubscribe"
DIGEST_PREVIEW_PATH = "/digest/preview"


def paper_url(arxiv_id: str) -> str:
    # Old-style ids keep their slash: /papers/hep-th/9901001.
    return "/papers/" + quote(arxiv_id, safe="/")


def with_token(path: str, token: str, **params: str) -> str:
    """A page opened by a signed or single-use token: /digest/manage?token=…&done=saved."""
    return f"{path}?{urlencode({'token': token, **params})}"
