"""The SciFact search-quality benchmark's own pieces, and a quick run on a subset (hashing embedder)."""

import random

import pytest
from conftest import shared_path

from bench import search_quality
from bench.search_quality import catalogue, rankers, report, tuning
from paperboy.domain.arxiv_ids import parse_arxiv_id


@pytest.mark.parametrize(
    ("n", "expected"), [(1, "2001.00001"), (5183, "2001.05183"), (100_000, "2002.00001")]
)
def test_synthetic_ids_are_valid_new_style_arxiv_ids(n, expected):
    assert catalogue.synthetic_arxiv_id(n) == expected
    assert str(parse_arxiv_id(expected)) == expected


def test_a_plain_claim_is_parsed_as_typed():
    query, path = rankers.claim_query("0-dimensional biomaterials lack inductive properties.")
    assert path == "parsed as typed"
    assert query.terms == ("0-dimensional", "biomaterials", "lack", "inductive", "properties.")


def test_a_minus_sign_before_a_digit_is_no_exclusion():
    query, path = rankers.claim_query("Differentiated E2f-1, -2, -3 TKO cells do not exhibit apoptosis.")
    assert path == "parsed as typed"
    assert "-2," in query.terms


def test_quoted_words_in_a_claim_stay_a_phrase():
    query, path = rankers.claim_query('Mouse models can be generated using "artificial spermatids."')
    assert path == "parsed, with phrases"
    assert query.phrases == ("artificial spermatids.",)


@pytest.mark.parametrize(
    "claim",
    [
        "Cells lacking E2f-1 -Rb fail to exit the cycle.",  # -Rb read as an exclusion
        'A 5" claim with an unclosed "quote',
        "title:attention is all you need",
    ],
)
def test_claims_read_as_syntax_fall_back_to_plain_words(claim):
    query, path = rankers.claim_query(claim)
    assert path.startswith("plain words")
    assert not query.excluded_terms
    assert query.semantic_text() == claim
    assert query.terms


def test_stop_words_are_dropped_unless_nothing_is_left():
    query, _ = rankers.claim_query("The role of the gene in this disease.")
    assert rankers.without_stop_words(query).terms == ("role", "gene", "disease.")
    only_stop, _ = rankers.claim_query("to be or not to be")
    assert rankers.without_stop_words(only_stop) == only_stop


def test_markdown_table():
    table = report.markdown_table(["name", "value"], [["a", "0.5"], ["longer", "1"]])
    assert table.splitlines() == [
        "| name   | value |",
        "|--------|------:|",
        "| a      |   0.5 |",
        "| longer |     1 |",
    ]


@pytest.fixture(scope="module")
def quick_results():
    shared_path("data", "scifact", "corpus.jsonl.gz")
    return search_quality.run(quick=True, embedder_name="hashing", cache=None)


def test_quick_run_measures_every_ranker_on_both_splits(quick_results):
    results = quick_results
    assert results["queries"] == {"train": 40, "test": 40}
    assert sum(results["query_paths"].values()) == 80
    assert len(results["alone"]) == 2 + len(rankers.VARIANTS)  # and semantic, and the keyword index
    for figures in results["alone"].values():
        for split in ("train", "test"):
            assert 0 < figures[split]["ndcg@10"] <= 1
            assert 0 < figures[split]["recall@100"] <= 1
    chosen = results["chosen"]
    assert chosen["lexical_variant"] in results["hybrid_by_lexical_variant"]
    assert chosen["setting"]["kind"] in ("rrf", "minmax")
    assert chosen["train"]["ndcg@10"] == max(
        v["train"]["ndcg@10"] for v in results["hybrid_by_lexical_variant"].values()
    )
    assert rankers.KEYWORD_INDEX in results["hybrid_by_lexical_variant"]


def test_quick_run_measures_the_product_before_and_after_the_keyword_index(quick_results):
    results = quick_results
    sides = results["before_after"]
    before, after = sides[rankers.BEFORE], sides[rankers.AFTER]
    assert before.keys() == after.keys()
    assert {"lexical", "semantic", "end to end, hybrid", "hybrid, the grid's best on train"} <= set(after)
    # The same rankings where the words play no part; different ones where they do.
    assert after["semantic"] == before["semantic"]
    assert after["end to end, semantic"] == before["end to end, semantic"]
    assert after["lexical"] == results["alone"][f"lexical: {rankers.KEYWORD_INDEX}"]
    assert before["lexical"] == results["alone"][f"lexical: {rankers.FTS5}"]
    assert after["lexical"] != before["lexical"]
    assert results["keyword_index_unanswered"] < 80 / 2
    assert "semantic" not in results["test_ndcg@10_after_minus_before"]


def _ranking(rng, size, tied):
    ids = rng.sample(range(300), size)
    scores = sorted((round(rng.random(), 1) if tied else rng.random() for _ in ids), reverse=True)
    return ids, scores


@pytest.mark.parametrize("kind", ["rrf", "minmax"])
@pytest.mark.parametrize("tied", [False, True])
def test_the_grids_numpy_mirror_gives_domain_fusions_order(kind, tied):
    rng = random.Random(f"{kind}{tied}")
    for _ in range(50):
        lex, sem = _ranking(rng, rng.randint(0, 120), tied), _ranking(rng, rng.randint(1, 120), tied)
        setting = tuning.Fusion(
            kind,
            rng.choice([1, 10, 60]),
            rng.choice([0.3, 0.5, 0.7]),
            rng.choice([1, 50]),
            rng.choice([5, 100]),
        )
        arrays = tuning.Arrays.of(lex, sem)
        assert tuning.fast_fuse(arrays, setting) == tuning.fuse(lex, sem, setting)
