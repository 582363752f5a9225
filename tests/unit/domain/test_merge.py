from __future__ import annotations

from paperboy.domain.categories import arxiv_categories
from paperboy.domain.merge import merge_records
from paperboy.domain.models import PaperRecord


def test_msc_and_acm_classes_are_not_categories():
    mixed = ["cs.CV", "68T07, 92C55, 68U10", "I.2.7; H.3.4", "cond-mat.str-el", "hep-th", "cs.CV", "q-bio.NC"]
    assert arxiv_categories(mixed) == ("cs.CV", "cond-mat.str-el", "hep-th", "q-bio.NC")


def test_merge_cleans_categories_of_new_and_known_papers():
    new = merge_records(None, PaperRecord("2503.11954", categories=("cs.CV", "94A29, 94A08")))
    assert new.categories == ("cs.CV",)
    again = merge_records(new, PaperRecord("2503.11954", categories=("I.4.2; E.4",)))
    assert again.categories == ("cs.CV",)


def test_a_day_only_time_never_overwrites_an_exact_one():
    from datetime import UTC, datetime

    from paperboy.domain.models import Version

    exact = PaperRecord("2506.00001", versions=(Version(1, datetime(2025, 6, 11, 17, 3, tzinfo=UTC)),))
    day_only = PaperRecord("2506.00001", versions=(Version(1, datetime(2025, 6, 11, tzinfo=UTC)),))
    assert merge_records(exact, day_only).versions[0].created == datetime(2025, 6, 11, 17, 3, tzinfo=UTC)
    assert merge_records(day_only, exact).versions[0].created == datetime(2025, 6, 11, 17, 3, tzinfo=UTC)
