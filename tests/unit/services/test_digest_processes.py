"""Dealing a digest run into processes (services/digest_processes.py): how many, and the shares."""

from __future__ import annotations

import pickle
from datetime import date

import pytest

from paperboy.config import load_settings
from paperboy.domain.digest import Preferences, Subscription
from paperboy.services.digest_processes import (
    MOST_PROCESSES,
    SUBSCRIBERS_PER_PROCESS,
    process_count,
    shares,
)
from paperboy.services.web_workers import usable_cores


def _settings(tmp_path, **overrides):  # type: ignore[no-untyped-def]
    return load_settings({}, toml_path=tmp_path / "absent.toml", **overrides)


def _subscription(n: int) -> Subscription:
    return Subscription(
        id=n,
        email=f"reader{n}@example.org",
        status="active",
        nonce=f"{n:032x}",
        preferences=Preferences(),
        user_id=n if n % 3 == 0 else None,
    )


def test_each_subscriber_is_in_exactly_one_share_and_members_spread_evenly() -> None:
    waiting = [_subscription(n) for n in range(1, 1001)]
    dealt = shares(waiting, 3)
    ids = [s.id for share in dealt for s in share]
    assert sorted(ids) == list(range(1, 1001))
    assert [len(share) for share in dealt] == [334, 333, 333]
    members = [sum(s.user_id is not None for s in share) for share in dealt]
    assert max(members) - min(members) <= 1
    assert shares(waiting, 1) == [waiting]


def test_the_setting_is_the_count_until_shares_would_be_small(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(tmp_path, digest_processes=3)
    assert process_count(settings, 3 * SUBSCRIBERS_PER_PROCESS) == 3
    assert process_count(settings, 100 * SUBSCRIBERS_PER_PROCESS) == 3
    assert process_count(settings, 2 * SUBSCRIBERS_PER_PROCESS + 1) == 2
    assert process_count(settings, SUBSCRIBERS_PER_PROCESS - 1) == 1
    assert process_count(settings, 0) == 1
    assert process_count(_settings(tmp_path, digest_processes=1), 10**6) == 1


def test_by_default_one_process_a_core_and_at_most_four(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cores = usable_cores()
    assert process_count(_settings(tmp_path), 10**6) == min(cores, MOST_PROCESSES)


def test_what_a_share_process_is_handed_survives_pickling(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Spawned processes get their share, the settings and the edition pickled."""
    from paperboy.domain.digest import daily_edition

    things = (
        _settings(tmp_path, digest_processes=2),
        daily_edition(date(2025, 6, 12)),
        shares([_subscription(1)], 1),
    )
    assert pickle.loads(pickle.dumps(things)) == things


@pytest.mark.parametrize("value", ["-1", "65"])
def test_the_setting_is_bounded(tmp_path, value: str) -> None:  # type: ignore[no-untyped-def]
    from paperboy.config import SettingsError

    with pytest.raises(SettingsError):
        load_settings({"PAPERBOY_DIGEST_PROCESSES": value}, toml_path=tmp_path / "absent.toml")
