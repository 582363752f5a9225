"""Per-paper serialised pieces (web/paper_parts.py) and kept answers (web/answers.py): reused only
for the very same paper object and key, bounded by bytes."""

from __future__ import annotations

from dataclasses import replace

from paperboy.domain.models import Paper
from paperboy.web.answers import Answer, Answers
from paperboy.web.paper_parts import PaperParts


def paper(n: int = 1, title: str = "A title") -> Paper:
    return Paper(id=n, arxiv_id=f"2606.{n:05d}", title=title, abstract="An abstract.")


def test_a_piece_is_made_once_per_paper_object_and_key():
    parts, made = PaperParts(), []

    def make(text: str):
        return lambda: made.append(text) or text.encode()

    first = paper()
    assert parts.get(first, ("json", 0), make("a")) == b"a"
    assert parts.get(first, ("json", 0), make("b")) == b"a"  # kept
    assert parts.get(first, ("json", 1), make("c")) == b"c"  # other counts: made anew
    edited = replace(first, title="Another title")  # a new catalogue version's object
    assert parts.get(edited, ("json", 0), make("d")) == b"d"
    assert parts.get(first, ("json", 0), make("e")) == b"e"  # the old object lost its place
    assert made == ["a", "c", "d", "e"]
    assert (parts.hits, parts.misses) == (1, 4)


def test_pieces_are_bounded_by_bytes_least_recently_used_first_out():
    parts = PaperParts(max_bytes=800)
    papers = [paper(n) for n in range(10)]
    for each in papers:
        parts.get(each, "k", lambda: b"x" * 100)
    assert len(parts) == 8
    parts.get(papers[2], "k", lambda: b"y")  # still kept: now the most recent
    parts.get(paper(99), "k", lambda: b"z" * 100)
    assert parts.get(papers[2], "k", lambda: b"remade") == b"x" * 100
    assert parts.get(papers[3], "k", lambda: b"remade") == b"remade"  # the oldest went
    assert parts.get(paper(7), "k", lambda: b"big" * 100) == b"big" * 100  # too big to keep (> 1/8)
    assert len(parts) <= 8


def test_answers_are_bounded_by_bytes():
    answers = Answers(max_bytes=8_000)
    for n in range(10):
        answers.put(f'"v{n}"', Answer(b"x" * 500, b"z" * 400, "application/json", {}))
    assert len(answers) == 8
    assert answers.get('"v0"') is None
    assert answers.get('"v9"') == Answer(b"x" * 500, b"z" * 400, "application/json", {})
    answers.put('"big"', Answer(b"x" * 1_001, None, "application/json", {}))  # over 1/8: not kept
    assert answers.get('"big"') is None
