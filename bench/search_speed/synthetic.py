"""The 1,000,000-paper corpus: the real papers and synthetic copies of them (the package's docstring
says how a copy differs from its source)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import Corpus
from bench.search_speed.environment import read_records

SIGMA = 0.04  # noise per dimension of a synthetic paper's vector
MILLION = 1_000_000
TITLE_PREFIXES = (
    "", "Revisiting ", "Towards ", "On ", "Rethinking ", "Beyond ", "Understanding ", "Scaling ",
    "Improving ", "Learning ", "Efficient ", "Robust ", "Simple ", "Analysing ",
)  # fmt: skip


def copy_vectors(reference: np.ndarray, copy: int) -> np.ndarray:
    if copy == 0:
        return reference
    noisy = (
        reference
        + np.random.default_rng(1000 + copy).standard_normal(reference.shape, dtype=np.float32) * SIGMA
    )
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


def copy_id(real_ids: list[str], copy: int, line: int) -> str:
    """Copy 0 is the real paper; copy c ≥ 1 of line i gets an id from 1501.00001 on."""
    if copy == 0:
        return real_ids[line]
    month, number = divmod((copy - 1) * len(real_ids) + line, 99_999)
    assert month < 12, "ids for up to 1.2M synthetic papers"
    return f"15{month + 1:02d}.{number + 1:05d}"


def generate(corpus: Corpus, papers_out: Path, listings_out: Path) -> int:
    """Write the real papers and enough synthetic copies for MILLION; returns the copies (with 0)."""
    records = list(read_records(corpus.papers))
    real_ids = [record["id"] for record in records]
    line_of = {record["id"]: i for i, record in enumerate(records)}
    copies = -(-MILLION // len(records))
    with gzip.open(papers_out, "wt", encoding="utf-8", compresslevel=1) as out:
        written = 0
        for copy in range(copies):
            for i, record in enumerate(records):
                if written == MILLION:
                    break
                out.write(json.dumps(_synthetic(record, copy_id(real_ids, copy, i), copy)) + "\n")
                written += 1
    with gzip.open(corpus.listings, "rt") as source, gzip.open(listings_out, "wt", compresslevel=1) as out:
        for line in source:
            day, arxiv_id = line.rstrip("\n").split("\t")
            if arxiv_id not in line_of:
                out.write(line)
                continue
            for copy in range(copies):
                if copy * len(records) + line_of[arxiv_id] < MILLION:
                    out.write(f"{day}\t{copy_id(real_ids, copy, line_of[arxiv_id])}\n")
    return copies


def _synthetic(record: dict[str, Any], arxiv_id: str, copy: int) -> dict[str, Any]:
    if copy == 0:
        return record
    sentences = record["abstract"].strip().rstrip(".").split(". ")
    shift = copy % len(sentences)
    return {
        **record,
        "id": arxiv_id,
        "title": TITLE_PREFIXES[copy % len(TITLE_PREFIXES)] + record["title"],
        "abstract": ". ".join(sentences[shift:] + sentences[:shift]) + ".",
    }
