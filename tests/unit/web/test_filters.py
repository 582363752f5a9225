from __future__ import annotations

from paperboy.domain.search_query import parse_search_query
from paperboy.web.filters import author_line, is_web_url, marked, oneline, paragraphs, preview


def test_author_line_keeps_short_lists_whole():
    assert author_line(["A", "B", "C", "D", "E"]) == "A, B, C, D, E"
    assert author_line([]) == ""


def test_author_line_cuts_long_lists_with_a_count():
    names = [f"Author {n}" for n in range(1, 31)]
    assert author_line(names) == "Author 1, Author 2, Author 3 et al. (30 authors)"


def test_paragraphs_follow_arxiv_wrapping():
    text = "  First line\nwrapped here.\n  Indented: a new paragraph.\n\nAfter a blank line.\n"
    expected = ["First line wrapped here.", "Indented: a new paragraph.", "After a blank line."]
    assert paragraphs(text) == expected


def test_preview_cuts_long_text_at_a_word():
    text = "word " * 100
    cut = preview(text, 30)
    assert cut == "word word word word word word…"
    assert preview("short text", 30) is None


def test_preview_never_cuts_a_formula():
    text = r"Sorting in $\mathcal{O}(n \log n)$ comparisons, " + "word " * 80
    assert preview(text, 25) == "Sorting in…"
    assert preview(text, 50) == r"Sorting in $\mathcal{O}(n \log n)$ comparisons…"


def test_search_results_show_math_and_marks():
    html = marked(r"Graphs in $\mathbb{R}^d$", parse_search_query("graph"))
    assert html == "<mark>Graphs</mark> in <math><mrow><msup><mi>ℝ</mi><mi>d</mi></msup></mrow></math>"


def test_oneline_and_web_urls():
    assert oneline("A\n  title\twith  gaps ") == "A title with gaps"
    assert is_web_url("https://example.org")
    assert not is_web_url("javascript:alert(1)")
    assert not is_web_url(None)
