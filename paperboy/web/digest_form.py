"""The digest preferences form, shared by the manage page (signed link) and the settings page
(logged-in member): its fields as typed, read from a POST, filled from saved preferences, and
what the settings page's digest section shows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Depends, Form
from sqlalchemy import Engine

from paperboy.domain.digest import (
    FOR_YOU_MEMBERS_ONLY,
    MAX_TOP_N,
    WEEKDAYS,
    InvalidPreferences,
    Preferences,
    check_preferences,
)
from paperboy.domain.users import User
from paperboy.services.subscriptions import subscription_of

Field = Annotated[str, Form()]  # "" when absent: the form's own message, not a 422
RANKINGS = ("trending", "for_you")
SHOWN_LENGTH = 2000  # typed text sent back with a reason; far longer than any valid value


@dataclass(frozen=True, slots=True)
class PreferenceFields:
    """The form's fields as text, the way the reader typed them (kept when the form comes back)."""

    frequency: str = "daily"
    weekday: str = "0"
    top_n: str = "10"
    categories: str = ""
    include: str = ""
    exclude: str = ""
    only_new: bool = True
    ranking: str = "trending"  # or "for_you" (members only)

    @classmethod
    def of(cls, preferences: Preferences) -> PreferenceFields:
        return cls(
            frequency=preferences.frequency,
            weekday=str(preferences.weekday),
            top_n=str(preferences.top_n),
            categories=" ".join(preferences.categories),
            include="\n".join(preferences.include),
            exclude="\n".join(preferences.exclude),
            only_new=preferences.only_new,
            ranking="for_you" if preferences.for_you else "trending",
        )

    def preferences(self, *, member: bool) -> Preferences:
        """The preferences these fields ask for, for a subscription of an account (`member`) or
        not; InvalidPreferences says what to fix."""
        if self.ranking not in RANKINGS:
            raise InvalidPreferences("Choose the order of your digest: trending, or For you.")
        return check_preferences(
            frequency=self.frequency,
            weekday=self.weekday,
            top_n=self.top_n,
            categories=self.categories,
            include=self.include,
            exclude=self.exclude,
            only_new=self.only_new,
            for_you=self.ranking == "for_you",
            member=member,
        )

    def shown(self) -> PreferenceFields:
        """The fields cut to a length worth sending back to the reader (checked whole before)."""
        cut = {
            name: getattr(self, name)[:SHOWN_LENGTH]
            for name in ("frequency", "weekday", "top_n", "categories", "include", "exclude", "ranking")
        }
        return replace(self, **cut)


def preference_fields(
    frequency: Field = "",
    weekday: Field = "0",
    top_n: Field = "",
    categories: Field = "",
    include: Field = "",
    exclude: Field = "",
    only_new: Field = "",
    ranking: Field = "trending",
) -> PreferenceFields:
    """The form's fields from a POST. An unticked checkbox sends nothing: only_new is then off.
    An absent `ranking` is trending (forms from before it existed)."""
    fields = (frequency, weekday, top_n, categories, include, exclude)
    return PreferenceFields(*fields, only_new=bool(only_new), ranking=ranking)


PreferenceForm = Annotated[PreferenceFields, Depends(preference_fields)]


def form_context(
    fields: PreferenceFields, error: str | None = None, *, member: bool = False
) -> dict[str, Any]:
    """What _digest_form.html needs besides the action and the hidden fields; `member`: the
    subscription belongs to an account, which alone may choose the "For you" order."""
    return {
        "fields": fields,
        "error": error,
        "weekdays": list(enumerate(WEEKDAYS)),
        "max_top_n": MAX_TOP_N,
        "member": member,
        "members_only": FOR_YOU_MEMBERS_ONLY,
    }


def settings_section(
    engine: Engine,
    user: User,
    *,
    fields: PreferenceFields | None = None,
    error: str | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    """The settings page's digest section. Only a confirmed address has a subscription to show:
    an unconfirmed one may belong to somebody else."""
    subscription = subscription_of(engine, user) if user.verified else None
    if fields is None:
        fields = PreferenceFields.of(subscription.preferences if subscription else Preferences())
    return {"subscription": subscription, "notice": notice, "form": form_context(fields, error, member=True)}
