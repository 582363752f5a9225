"""The queries every engine answers: the rule-made known items of bench/known_item.py (keywords,
gist) and the hand-written questions of bench/questions/*.jsonl, test half only."""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, BenchError
from bench.known_item import make_queries
from paperboy.domain.search_query import MAX_QUERY_CHARS

QUESTIONS = "questions"
TEST, TUNING = "test", "tuning"  # the halves of the question set


@dataclass(frozen=True, slots=True)
class Query:
    kind: str  # "keywords", "gist" or "questions"
    text: str
    target: str  # the arXiv id of the one right answer


def add_questions_argument(parser: argparse.ArgumentParser) -> None:
    """`--questions DIR`: the folder of question files every question benchmark reads."""
    parser.add_argument(
        "--questions",
        type=Path,
        default=REPO_ROOT / "bench" / "questions",
        help="folder of question files (*.jsonl: id, target, question)",
    )


def in_test_half(question_id: str) -> bool:
    """The split fixed before any tuning (issue 14): odd hashes are the test half."""
    return int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % 2 == 1


def known_items(rows: Sequence[dict[str, Any]], papers: int) -> list[Query]:
    return [Query(item.kind, item.text, item.arxiv_id) for item in make_queries(rows, papers)]


def questions(folder: Path, known_ids: set[str], half: str = TEST) -> tuple[list[Query], str]:
    """One half (TEST or TUNING) of the questions in `folder`/*.jsonl (fields id, target,
    question), and a line saying what was read. A question longer than the search box accepts is
    cut at a word boundary, as a reader would have to (the same text for every engine)."""
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not files:
        return [], f"no question files in {folder}: question-style rows skipped"
    read = [json.loads(line) for path in files for line in path.read_text().splitlines() if line.strip()]
    incomplete = [q for q in read if not {"id", "target", "question"} <= q.keys()]
    if incomplete:
        raise BenchError(f"a question lacks id, target or question: {incomplete[0]}")
    unknown = sorted({q["target"] for q in read} - known_ids)
    if unknown:
        raise BenchError(f"questions name targets not in the corpus: {', '.join(unknown[:5])}")
    if half not in (TEST, TUNING):
        raise ValueError(f"half must be {TEST!r} or {TUNING!r}, not {half!r}")
    chosen = [q for q in read if in_test_half(q["id"]) == (half == TEST)]
    cut = sum(len(q["question"]) > MAX_QUERY_CHARS for q in chosen)
    found = [Query(QUESTIONS, fit_search_box(q["question"]), q["target"]) for q in chosen]
    names = ", ".join(p.name for p in files)
    cut_note = f"{cut} cut to {MAX_QUERY_CHARS} chars"
    return found, f"{len(found)} {half}-half questions of {len(read)} in {names} ({cut_note})"


def fit_search_box(text: str) -> str:
    """`text`, or its longest prefix of whole words within the search box's limit."""
    text = " ".join(text.split())
    if len(text) <= MAX_QUERY_CHARS:
        return text
    return text[: MAX_QUERY_CHARS + 1].rsplit(" ", 1)[0]
