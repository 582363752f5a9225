from datetime import date

import pytest

from paperboy.domain.digest import (
    Candidate,
    InvalidPreferences,
    Preferences,
    Selector,
    candidate_text,
    check_preferences,
    due_editions,
    in_categories,
    keyword_pattern,
    parse_edition_key,
    personal_section,
    trim,
    weekly_edition,
)


def _check(**changes: object) -> Preferences:
    values: dict[str, object] = {
        "frequency": "daily",
        "weekday": "0",
        "top_n": "10",
        "categories": "",
        "include": "",
        "exclude": "",
        "only_new": True,
    }
    values.update(changes)
    return check_preferences(**values)  # type: ignore[arg-type]


def test_preferences_from_form_text() -> None:
    preferences = _check(
        frequency="weekly",
        weekday="4",
        top_n=" 25 ",
        categories="cs.LG, cs  stat.ML;cs.LG",
        include="language   model\n diffusion\n\n",
        exclude="survey, benchmark",
        only_new=False,
    )
    assert preferences == Preferences(
        "weekly",
        4,
        25,
        ("cs.LG", "cs", "stat.ML"),
        ("language model", "diffusion"),
        ("survey", "benchmark"),
        False,
    )
    assert preferences.schedule == "every Friday, covering the week before"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"frequency": "hourly"}, "daily or weekly"),
        ({"weekday": "7"}, "from 0 to 6"),
        ({"top_n": "0"}, "from 1 to 50"),
        ({"top_n": "ten"}, "whole number"),
        ({"categories": "cs.LG 68T07"}, "Not arXiv categories: '68T07'"),
        ({"include": "\n".join(f"w{i}" for i in range(21))}, "at most 20"),
        ({"exclude": "x" * 61}, "under 60 characters"),
    ],
)
def test_preferences_to_correct_say_how(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidPreferences, match=message):
        _check(**changes)


def test_keywords_match_word_starts_case_and_spacing_aside() -> None:
    text = candidate_text("Diffusion Transformers", "We train large   language\nmodels; see sub-graphs.")
    assert keyword_pattern("transformer").search(text)
    assert keyword_pattern("Language Model").search(text)
    assert keyword_pattern("graph").search(text)  # after a hyphen, a word starts again
    assert not keyword_pattern("former").search(text)  # inside a word
    assert not keyword_pattern("c++").search(text)  # escaped, not a pattern


def test_categories_match_cross_lists_and_whole_archives() -> None:
    paper = frozenset({"cs.LG", "stat.ML"})
    assert in_categories(paper, ())
    assert in_categories(paper, ("stat.ML",))
    assert in_categories(paper, ("cs",))
    assert not in_categories(paper, ("cs.CV", "math"))
    assert not in_categories(frozenset({"cs.LG"}), ("c",))


def test_selector_filters_ranks_and_skips_what_was_mailed() -> None:
    candidates = [
        Candidate(1, "a diffusion model", frozenset({"cs.CV"})),
        Candidate(2, "graph networks", frozenset({"cs.LG"})),
        Candidate(3, "diffusion on graphs", frozenset({"cs.LG"})),
        Candidate(4, "protein folding", frozenset({"q-bio.BM"})),
    ]
    selector = Selector(candidates)
    assert selector.select(Preferences(top_n=2)) == [1, 2]
    assert selector.select(Preferences(include=("diffusion",))) == [1, 3]
    assert selector.select(Preferences(categories=("cs.LG",), exclude=("diffusion",))) == [2]
    assert selector.select(Preferences(top_n=2), {1}) == [2, 3]
    assert selector.select(Preferences(top_n=2, only_new=False), {1}) == [1, 2]
    assert selector.select(Preferences(include=("quantum",))) == []


def test_editions_due_on_a_day() -> None:
    thursday = date(2025, 6, 12)
    keys = [e.key for e in due_editions(thursday, thursday)]
    assert keys == ["daily:2025-06-12", "weekly:2025-06-12"]
    assert next(e.key for e in due_editions(date(2025, 6, 13), thursday)) == "daily:2025-06-12"  # a day late
    assert [e.key for e in due_editions(date(2025, 6, 14), thursday)] == ["weekly:2025-06-14"]  # too late
    assert [e.key for e in due_editions(thursday, None)] == ["weekly:2025-06-12"]
    week = weekly_edition(date(2025, 6, 16))
    assert (week.start, week.end, week.weekday) == (date(2025, 6, 9), date(2025, 6, 15), 0)


def test_edition_keys_round_trip_and_bad_ones_are_explained() -> None:
    assert parse_edition_key("weekly:2025-06-16") == weekly_edition(date(2025, 6, 16))
    for bad in ("monthly:2025-06-01", "daily:2025-13-01", "daily"):
        with pytest.raises(ValueError, match="daily:YYYY-MM-DD"):
            parse_edition_key(bad)


def test_a_trimmed_abstract_never_ends_in_half_a_formula():
    text = r"We bound the error by $\mathcal{O}(n \log n)$ in the worst case." + " More." * 20
    assert trim(text, 40) == "We bound the error by…"  # a cut inside the formula moves before it
    assert trim(text, 60).startswith(r"We bound the error by $\mathcal{O}(n \log n)$ in")
    assert trim(r"$a + b + c + d + e + f$ and more", 12) == "$a + b + c…"  # all one formula: cut


def test_for_you_is_for_members_only() -> None:
    with pytest.raises(InvalidPreferences, match="belongs to an account"):
        _check(for_you=True)
    assert _check(for_you=True, member=True).for_you is True
    assert _check(member=True).for_you is False


def test_a_for_you_order_replaces_trending_and_the_filters_still_apply() -> None:
    candidates = [
        Candidate(1, "a diffusion model", frozenset({"cs.CV"})),
        Candidate(2, "graph networks", frozenset({"cs.LG"})),
        Candidate(3, "diffusion on graphs", frozenset({"cs.LG"})),
        Candidate(4, "protein folding", frozenset({"q-bio.BM"})),
    ]
    selector = Selector(candidates)
    order = [4, 3, 9, 1]  # 9: not in the edition; 2: left out of the order (saved, say)
    assert selector.select(Preferences(top_n=3), order=order) == [4, 3, 1]
    assert selector.select(Preferences(categories=("cs",)), order=order) == [3, 1]
    assert selector.select(Preferences(top_n=2), {4}, order=order) == [3, 1]
    assert selector.select(Preferences(top_n=2, only_new=False), {4}, order=order) == [4, 3]


def test_the_personal_section_skips_the_main_list_and_what_was_mailed() -> None:
    assert personal_section([5, 1, 6, 2, 7, 8], main=[1, 2], mailed={6}) == [5, 7, 8]
    assert personal_section([5, 1], main=[1], mailed=()) == [5]
    assert personal_section([5, 6, 7], main=[], mailed=(), size=2) == [5, 6]
