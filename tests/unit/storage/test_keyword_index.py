"""storage/keyword_index.KeywordIndex alone (no database): how text is analysed, what matches
all words or any of them, replacing and clearing papers, the one writer a folder has (in this
process and across processes, freed when the writer dies), and the field weights."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from paperboy.storage.keyword_index import MAX_TOKEN_CHARS, KeywordDocument, KeywordIndex, Weights

DEFAULT = Weights()

# A writer in another process: says whether it got the lock, then holds it until stdin closes.
_WRITER_SCRIPT = """
import sys
from pathlib import Path
from paperboy.storage.keyword_index import KeywordIndex
index = KeywordIndex(Path(sys.argv[1]))
print(index.acquire_writer(), flush=True)
sys.stdin.readline()
"""


def _doc(paper_id: int, title: str, abstract: str = "", authors: str = "") -> KeywordDocument:
    return KeywordDocument(paper_id, title, abstract, authors)


def _filled(*documents: KeywordDocument, directory: Path | None = None) -> KeywordIndex:
    index = KeywordIndex(directory)
    assert index.acquire_writer()
    index.put(documents, replace=False)
    index.commit()
    index.reload()
    return index


def _ids(index: KeywordIndex, text: str, *, all_words: bool = True, weights: Weights = DEFAULT) -> list[int]:
    return index.search(index.searcher(), text.split(), 10, all_words=all_words, weights=weights).ids


@contextmanager
def _writer_process(directory: Path) -> Iterator[tuple[subprocess.Popen[str], bool]]:
    """A python process that tried to become the folder's writer: (it, whether it did)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with subprocess.Popen(
        [sys.executable, "-c", _WRITER_SCRIPT, str(directory)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=env,
    ) as proc:
        try:
            assert proc.stdout is not None
            answer = proc.stdout.readline().strip()
            assert answer in ("True", "False"), answer
            yield proc, answer == "True"
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


# --- analysis ---


def test_words_are_lower_cased_folded_stemmed_and_stop_words_dropped():
    index = KeywordIndex(None)
    assert index.tokens("The Running Networks of Erdős and Café") == ["run", "network", "erdo", "cafe"]
    assert index.tokens("the of and") == []


def test_overlong_words_are_not_indexed():
    longest = "a" * (MAX_TOKEN_CHARS - 1)
    overlong = "b" * (MAX_TOKEN_CHARS + 10)
    assert KeywordIndex(None).tokens(f"graph {longest} {overlong}") == ["graph", longest]
    index = _filled(_doc(1, f"Graph {overlong}"))
    assert _ids(index, "graph") == [1]
    assert _ids(index, overlong) == []


def test_words_too_long_to_index_are_told_apart_by_their_bytes():
    index = KeywordIndex(None)
    assert not index.has_overlong_words("graph " + "a" * (MAX_TOKEN_CHARS - 1) + " " + "é" * 19)
    assert index.has_overlong_words("graph " + "é" * 20)  # 40 bytes before folding
    assert index.has_overlong_words("graph 深度学习模型的研究方法论是好")  # 14 characters, 42 bytes
    assert index.tokens("graph 深度学习模型的研究方法论是好") == ["graph"]


def test_a_query_finds_other_forms_of_its_words_and_ignores_diacritics():
    index = _filled(
        _doc(1, "Running networks", "Résumé of the café"),
        _doc(2, "Protein folding", "Enzymes fold"),
    )
    assert _ids(index, "runs network") == [1]
    assert _ids(index, "resume CAFE") == [1]
    assert _ids(index, "folded") == [2]


# --- all words, any word, count ---


def test_all_words_needs_every_word_and_counts_every_match():
    index = _filled(
        _doc(1, "Graph networks", "for molecules"),
        _doc(2, "Graph transformers"),
        _doc(3, "Molecules in water"),
        _doc(4, "Graph of molecules", "graph graph"),
    )
    hits = index.search(index.searcher(), ["graph", "molecules"], 10, all_words=True, weights=DEFAULT)
    assert sorted(hits.ids) == [1, 4]
    assert hits.count == 2
    assert len(hits.scores) == 2
    assert hits.scores == sorted(hits.scores, reverse=True)
    assert sorted(_ids(index, "graph molecules", all_words=False)) == [1, 2, 3, 4]
    capped = index.search(index.searcher(), ["graph"], 1, all_words=True, weights=DEFAULT)
    assert len(capped.ids) == 1
    assert capped.count == 3
    assert index.search(index.searcher(), ["graph"], 10, all_words=False, weights=DEFAULT).count is None


def test_any_word_ranks_papers_with_more_of_the_words_first():
    index = _filled(
        _doc(1, "Graph", "about something else entirely here"),
        _doc(2, "Graph molecules", "about something else entirely here"),
    )
    assert _ids(index, "graph molecules", all_words=False) == [2, 1]


def test_stop_words_only_match_nothing():
    index = _filled(_doc(1, "The state of the art"))
    assert index.search(index.searcher(), ["the", "of"], 10, all_words=True, weights=DEFAULT).ids == []


# --- writing ---


def test_put_replaces_what_the_index_held_for_a_paper():
    index = _filled(_doc(1, "Old title about galaxies"), _doc(2, "Galaxies again"))
    index.put([_doc(1, "New title about proteins")])
    index.commit()
    index.reload()
    assert _ids(index, "galaxies") == [2]
    assert _ids(index, "proteins") == [1]
    assert index.searcher().num_docs == 2


def test_a_searcher_is_a_snapshot_until_reload():
    index = _filled(_doc(1, "Galaxies"))
    before = index.searcher()
    index.put([_doc(2, "Galaxies too")])
    index.commit()
    assert index.search(before, ["galaxies"], 10, all_words=True, weights=DEFAULT).ids == [1]
    index.reload()
    assert sorted(_ids(index, "galaxies")) == [1, 2]


def test_clear_empties_the_index():
    index = _filled(_doc(1, "Galaxies"), _doc(2, "Stars"))
    index.clear()
    index.commit()
    index.reload()
    assert index.searcher().num_docs == 0
    assert _ids(index, "galaxies") == []


def test_rollback_forgets_what_was_put_since_the_last_commit_and_keeps_the_lock():
    index = _filled(_doc(1, "Galaxies"))
    index.put([_doc(1, "Galaxies again"), _doc(2, "Galaxies too")], replace=False)
    index.rollback()
    assert index.is_writer
    index.put([_doc(3, "Stars")])
    index.commit()
    index.reload()
    assert _ids(index, "galaxies") == [1]
    assert _ids(index, "stars") == [3]


def test_writing_without_the_lock_is_refused(tmp_path):
    index = KeywordIndex(tmp_path / "keywords")
    assert not index.is_writer
    with pytest.raises(RuntimeError, match="another process"):
        index.put([_doc(1, "Galaxies")])


def test_committed_papers_are_seen_by_another_index_on_the_folder(tmp_path):
    writer = _filled(_doc(1, "Galaxies"), directory=tmp_path / "keywords")
    reader = KeywordIndex(tmp_path / "keywords")
    assert _ids(reader, "galaxies") == [1]
    writer.put([_doc(2, "Galaxies far away")])
    writer.commit()
    reader.reload()
    assert sorted(_ids(reader, "galaxies")) == [1, 2]


# --- one writer per folder ---


def test_a_second_writer_in_this_process_is_refused_until_the_first_lets_go(tmp_path):
    first, second = KeywordIndex(tmp_path / "keywords"), KeywordIndex(tmp_path / "keywords")
    assert first.acquire_writer()
    assert first.acquire_writer()  # already held: still the writer
    assert not second.acquire_writer()
    assert not second.is_writer
    first.release_writer()
    assert not first.is_writer
    assert second.acquire_writer()


def test_a_writer_in_another_process_is_refused(tmp_path):
    mine = KeywordIndex(tmp_path / "keywords")
    assert mine.acquire_writer()
    with _writer_process(tmp_path / "keywords") as (_, became_writer):
        assert not became_writer


def test_the_lock_is_freed_when_the_writer_process_is_killed(tmp_path):
    mine = KeywordIndex(tmp_path / "keywords")
    with _writer_process(tmp_path / "keywords") as (proc, became_writer):
        assert became_writer
        assert not mine.acquire_writer()
        proc.kill()  # no clean exit: the operating system drops its lock
        proc.wait(timeout=30)
        assert mine.acquire_writer()


# --- weights ---


def test_the_authors_field_counts_unless_its_weight_is_zero():
    index = _filled(_doc(1, "Analytical engines", "Notes on the machine", "Ada Lovelace, Charles Babbage"))
    assert _ids(index, "lovelace") == [1]
    assert _ids(index, "lovelace engines") == [1]
    assert _ids(index, "lovelace", weights=Weights(authors=0.0)) == []


def test_a_title_weight_puts_the_paper_with_the_word_in_its_title_first():
    # The same words in text (title and abstract together): equal BM25 there.
    in_title = _doc(1, "alpha beta", "gamma delta")
    in_abstract = _doc(2, "gamma delta", "alpha beta")
    index = _filled(in_abstract, in_title)
    plain = index.search(index.searcher(), ["alpha"], 10, all_words=True, weights=Weights(title=0.0))
    assert plain.scores[0] == pytest.approx(plain.scores[1])
    boosted = index.search(index.searcher(), ["alpha"], 10, all_words=True, weights=Weights(title=2.0))
    assert boosted.ids == [1, 2]
    assert boosted.scores[0] > boosted.scores[1]
