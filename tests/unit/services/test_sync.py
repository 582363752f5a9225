from __future__ import annotations

import pytest

from paperboy.services.sync import oai_set


@pytest.mark.parametrize(
    ("category", "set_spec"),
    [
        ("cs.AI", "cs:cs:AI"),
        ("stat.ML", "stat:stat:ML"),
        ("math.GT", "math:math:GT"),
        ("q-bio.NC", "q-bio:q-bio:NC"),
        ("eess.IV", "eess:eess:IV"),
        ("astro-ph.CO", "physics:astro-ph:CO"),
        ("physics.plasm-ph", "physics:physics:plasm-ph"),
        ("hep-th", "physics:hep-th"),
    ],
)
def test_oai_set_follows_arxivs_group_archive_category_scheme(category, set_spec):
    assert oai_set(category) == set_spec
