"""Accounts: who a user is, what their role lets them do, and what a valid sign-up looks like."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

ROLES = ("member", "moderator", "admin")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,29}$")
# Loose (one @, a dot in the domain): the verification mail is the real test. But no character
# that mail headers treat as syntax (":()[]\\<>,;" quotes, controls), which could make the mail
# go to another address than the one stored.
_ADDRESS_CHAR = r"[^@\s<>\"',;:()\[\]\\\x00-\x1f\x7f]"
EMAIL_PATTERN = re.compile(rf"^{_ADDRESS_CHAR}{{1,64}}@{_ADDRESS_CHAR}+\.{_ADDRESS_CHAR}+$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 hashes any length; a cap keeps a megabyte "password" from costing CPU
RESERVED_NAMES = frozenset({"admin", "administrator", "moderator", "root", "paperboy", "system", "deleted"})


class InvalidSignUp(ValueError):
    """Sign-up input a person must correct (the message says how)."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    name: str
    role: str
    email_verified_at: datetime | None
    banned_at: datetime | None
    ban_reason: str | None
    created_at: datetime
    hide_seen: bool = False  # their listings leave out the papers they have seen

    @property
    def verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def banned(self) -> bool:
        return self.banned_at is not None

    @property
    def can_take_part(self) -> bool:
        """Submit, vote and comment: verified and not banned."""
        return self.verified and not self.banned

    @property
    def is_moderator(self) -> bool:
        return self.role in ("moderator", "admin") and not self.banned

    @property
    def is_admin(self) -> bool:
        return self.role == "admin" and not self.banned


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_name(name: str) -> str:
    return name.strip().lower()


def check_email(email: str) -> str:
    email = normalise_email(email)
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise InvalidSignUp("Enter a valid e-mail address, like ada@example.org.")
    return email


def check_name(name: str) -> str:
    name = normalise_name(name)
    if not NAME_PATTERN.match(name):
        raise InvalidSignUp(
            "A user name has 2 to 30 characters: letters, digits, - and _, starting with a letter or digit."
        )
    if name in RESERVED_NAMES:
        raise InvalidSignUp(f"The name {name!r} is reserved: choose another.")
    return name


def check_password(password: str, *, email: str = "", name: str = "") -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidSignUp(f"Use a password of at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise InvalidSignUp(f"Use a password of at most {MAX_PASSWORD} characters.")
    lowered = password.lower()
    if lowered in (email.lower(), name.lower()) or len(set(password)) < 4:
        raise InvalidSignUp("That password is too easy to guess: choose another.")
    return password
