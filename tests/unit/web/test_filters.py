from __future__ import annotations

from markupsafe import Markup

from paperboy.domain.search_query import parse_search_query
from paperboy.web.filters import author_line, author_links, is_web_url, marked, oneline, paragraphs, preview


def test_author_line_keeps_short_lists_whole():
    assert author_line(["A", "B", "C", "D", "E"]) == "A, B, C, D, E"
    assert author_line([]) == ""


def test_author_line_cuts_long_lists_with_a_count():
    names = [f"Author {n}" for n in range(1, 31)]
    assert author_line(names) == "Author 1, Author 2, Author 3 et al. (30 authors)"


def test_author_links_escape_each_name_and_its_link():
    hostile = ['Ada <script>alert("x")</script>', "O'Brien & Sons"]
    links = author_links(hostile)
    assert isinstance(links, Markup)
    assert links == (
        '<a href="/authors/Ada%20%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E">'
        "Ada &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</a>, "
        '<a href="/authors/O%27Brien%20%26%20Sons">O&#39;Brien &amp; Sons</a>'
    )
    assert author_links([]) == ""


def test_author_links_cut_long_lists_with_a_count_unless_asked_for_all():
    names = [f"A{n}" for n in range(1, 8)]
    cut = '<a href="/authors/A1">A1</a>, <a href="/authors/A2">A2</a>, <a href="/authors/A3">A3</a>'
    assert author_links(names) == cut + " et al. (7 authors)"
    assert str(author_links(names, limit=100000)).count("<a href=") == 7


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
