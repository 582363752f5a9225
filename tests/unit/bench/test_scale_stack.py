"""The whole-stack scale benchmark's synthetic catalogue (bench/scale_stack.py): ids the product
accepts, none shared with the corpus or with each other, listing days a whole number of weeks back."""

import datetime as dt
import gzip
import json

from bench.common import find_corpus
from bench.scale_stack import synthetic_id, write_catalogue
from paperboy.domain.arxiv_ids import parse_arxiv_id


def test_synthetic_ids_are_arxiv_ids_clear_of_each_other():
    ids = [synthetic_id(j) for j in (0, 1, 49_999, 50_000, 925_271, 5_999_999)]
    assert [str(parse_arxiv_id(i)) for i in ids] == ids
    assert len(set(ids)) == len(ids)
    assert ids[0] == "1501.50000"
    assert ids[3] == "1502.50000"


def test_the_catalogue_repeats_the_corpus_as_variants(tmp_path):
    corpus = find_corpus()
    with gzip.open(corpus.papers, "rt", encoding="utf-8") as lines:
        real = [json.loads(line)["id"] for line in lines]
    papers, listings, ids = write_catalogue(corpus, len(real) + 3, tmp_path)
    assert ids[: len(real)] == real
    assert len(set(ids)) == len(ids)
    with gzip.open(papers, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    assert rows[len(real)]["title"] == rows[0]["title"] + " (variant 1)"
    with gzip.open(listings, "rt", encoding="utf-8") as lines:
        days = dict(reversed(line.rstrip("\n").split("\t")) for line in list(lines)[1:])
    first, variant = days[real[0]], days[ids[len(real)]]
    assert (dt.date.fromisoformat(first) - dt.date.fromisoformat(variant)).days == 364
