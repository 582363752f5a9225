"""bench/lexical_engines/queries.py: the question set's two halves, as issue 14 fixed them before any
tuning: a question is in exactly one half, chosen by the hash of its id, never by its text."""

import hashlib
import json

import pytest

from bench.lexical_engines.queries import TEST, TUNING, questions


def _write(folder, items):
    folder.mkdir()
    lines = [json.dumps({"id": i, "target": t, "question": q}) for i, t, q in items]
    (folder / "part.jsonl").write_text("\n".join(lines) + "\n")


def test_each_question_is_in_the_half_its_id_hash_names(tmp_path):
    items = [(f"q-{n}", f"2501.{n:05d}", f"which paper number {n} says something") for n in range(40)]
    _write(tmp_path / "q", items)
    known = {t for _, t, _ in items}
    test, _ = questions(tmp_path / "q", known, TEST)
    tuning, note = questions(tmp_path / "q", known, TUNING)
    odd = {t for i, t, _ in items if int(hashlib.sha256(i.encode()).hexdigest(), 16) % 2 == 1}
    assert {q.target for q in test} == odd
    assert {q.target for q in tuning} == known - odd
    assert 0 < len(odd) < len(items)  # both halves used: the hash splits these ids
    assert note.startswith(f"{len(tuning)} tuning-half questions of 40")


def test_an_unknown_half_is_refused(tmp_path):
    _write(tmp_path / "q", [("q-1", "2501.00001", "which paper")])
    with pytest.raises(ValueError, match="half"):
        questions(tmp_path / "q", {"2501.00001"}, "dev")
