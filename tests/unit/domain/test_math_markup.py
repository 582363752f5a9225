from __future__ import annotations

from html.parser import HTMLParser

import pytest

from paperboy.domain import math_markup
from paperboy.domain.math_markup import (
    MAX_MATH_CHARS,
    MAX_TEXT_CHARS,
    cut_outside_math,
    math_html,
    math_spans,
    math_stats,
    mathml,
)

ALLOWED_TAGS = math_markup._ELEMENTS | {"math"}
ALLOWED_ATTRIBUTES = math_markup._ATTRIBUTES | {"display"}


class _Inventory(HTMLParser):
    """Every start tag and attribute of a piece of HTML, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def inventory(html: str) -> _Inventory:
    parser = _Inventory()
    parser.feed(html)
    parser.close()
    return parser


def assert_inert(html: str) -> None:
    """Only MathML elements and layout attributes: nothing that links, runs or styles."""
    found = inventory(html)
    assert set(found.tags) <= ALLOWED_TAGS, found.tags
    assert {name for name, _ in found.attributes} <= ALLOWED_ATTRIBUTES, found.attributes
    assert all(":" not in (value or "") and "(" not in (value or "") for _, value in found.attributes)


def spans(text):
    return [(text[s.start : s.end], s.source, s.display) for s in math_spans(text)]


# --- finding the math ---------------------------------------------------------------------------


def test_every_delimiter_finds_its_math():
    text = r"A $x$ and $$y$$, \(z\) then \[w\]."
    assert spans(text) == [
        ("$x$", "x", False),
        ("$$y$$", "y", True),
        (r"\(z\)", "z", False),
        (r"\[w\]", "w", True),
    ]


def test_an_escaped_dollar_is_a_dollar_and_a_lone_dollar_is_text():
    assert spans(r"costs \$5, or \$6") == []
    assert math_html(r"costs \$5, or \$6") == "costs $5, or $6"
    assert spans("a $ alone") == []
    assert math_html("a $ alone & more") == "a $ alone &amp; more"
    assert spans("$$ never closed $") == []


def test_prices_are_not_math_but_tight_tex_is():
    assert spans("from $5 to $10") == []
    assert spans("a $ x $ spaced") == []  # TeX would take it; prose with dollars would not
    assert spans(r"$\sim$10% faster") == [(r"$\sim$", r"\sim", False)]
    assert spans("$a$$b$") == [("$a$", "a", False), ("$b$", "b", False)]


def test_math_spans_lines_as_arxiv_wraps_them():
    assert spans("a $x +\n y$ b") == [("$x +\n y$", "x +\n y", False)]


# --- rendering ------------------------------------------------------------------------------------


def test_inline_and_display_math_become_mathml():
    html = math_html(r"An $\mathcal{O}(n \log n)$ sort, and $$\int_0^1 f$$")
    assert html.startswith("An <math><mrow><mi>𝒪</mi><mo")
    assert "<mi>log</mi>" in html
    assert '<math display="block"><mrow><msubsup><mo>∫</mo><mn>0</mn><mn>1</mn></msubsup>' in html
    assert_inert(html)


def test_text_outside_math_is_escaped_quotes_included():
    assert math_html("""<b>"x" & y's</b>""") == "&lt;b&gt;&#34;x&#34; &amp; y&#39;s&lt;/b&gt;"
    html = math_html('<i> $x$ & "q"')
    assert html.startswith("&lt;i&gt; <math>")
    assert html.endswith(" &amp; &#34;q&#34;")


def test_text_inside_math_is_escaped():
    html = math_html(r'$x < y \text{<b>&"</b>}$')
    assert "<mo>&lt;</mo>" in html
    assert "<mtext>&lt;b&gt;&amp;&#34;&lt;/b&gt;</mtext>" in html
    assert_inert(html)
    assert inventory(html).tags.count("b") == 0


def test_what_cannot_be_parsed_is_shown_as_written():
    for tex in (r"$\frac{1$", r"$a}$", r"${a$", r"$\foo{x}$", r"$x^$"):
        assert mathml(tex[1:-1], False) is None, tex
        assert math_html(f"see {tex} & <") == f"see {tex} &amp; &lt;"


def test_stats_count_rendered_and_fallen_back():
    stats = math_stats(r"$x$, $\frac{1$ and $$y^2$$")
    assert (stats.spans, stats.rendered, stats.fallback) == (3, 2, 1)


@pytest.mark.parametrize(
    "tex",
    [
        r"\href{javascript:alert(1)}{x}",
        r"\url{javascript:alert(1)}",
        r"\def\a{\a\a}\a",
        r"\newcommand{\a}{\a\a}\a",
        r"\unicode{x202E}",  # a bidi override
        r"\unicode{x0}",
        r"\unicode{xD800}",
        r"\unicode{x110000}",
        r"\unicode{8211}",  # decimal, which latex2mathml would read as hex
        r"\style{background:url(javascript:alert(1))}{x}",
        r"\class{x}{y}",
        r"\color{red}{x}",
        r"\textcolor{red}{x}",
        r"\colorbox{red}{x}",
        r"\text{&#x202E;}",  # a bidi override, smuggled as a character reference
        r"\text{&#x0;}",
    ],
)
def test_hostile_tex_is_shown_as_text(tex):
    html = math_html(f"${tex}$ <script>")
    assert "<math" not in html
    assert html.endswith(" &lt;script&gt;")
    assert_inert(html)
    assert inventory(html).tags == []


def test_a_character_by_its_code_point_is_shown_when_printable():
    assert math_html(r"a$\unicode{x2013}$b") == "a<math><mrow><mi>–</mi></mrow></math>b"
    assert math_html(r"$\unicode{x3C}$") == "<math><mrow><mi>&lt;</mi></mrow></math>"


def test_attributes_are_allow_listed_and_lengths_capped():
    html = math_html(r'$\mathrm{" onmouseover="alert(1)}$ $\hspace{1em}x$ $\hspace{999em}y$')
    assert_inert(html)
    assert '<mi mathvariant="normal">&#34;</mi>' in html  # the quote is a character, not markup
    assert '<mspace width="1em">' in html
    assert "999em" not in html


def test_deep_nesting_and_long_formulas_fall_back():
    deep = "{" * 5000 + "x" + "}" * 5000
    chained = r"\sqrt" * 200 + "x"
    fractions = r"\frac{1}{" * 11 + "x" + "}" * 11 + r"\sqrt" * 60 + "y"
    for tex in (deep, chained, fractions, "x+" * MAX_MATH_CHARS):
        html = math_html(f"a ${tex}$ b")
        assert "<math" not in html
        assert html == f"a ${tex}$ b".replace("&", "&amp;")


def test_enormous_texts_are_shown_as_text():
    text = "$x$ " * (MAX_TEXT_CHARS // 4 + 1)
    assert math_spans(text) == ()
    assert "<math" not in math_html(text)
    many = "$x$ " * 1000  # under the size cap: the first MAX_SPANS formulas render, the rest as TeX
    assert math_html(many).count("<math>") == math_markup.MAX_SPANS


def test_renderings_are_cached_per_text():
    text = r"cached $\alpha_{i}$ text"
    assert math_html(text) is math_html(text)
    plain = "no math here"
    assert math_html(plain) == plain


# --- cutting ------------------------------------------------------------------------------------


def test_a_cut_never_falls_inside_a_formula():
    text = r"We show $\mathcal{O}(n \log n)$ time"
    inside = text.index("log")
    assert cut_outside_math(text, inside) == text.index("$")
    assert cut_outside_math(text, 3) == 3
    assert cut_outside_math(text, text.index(" time")) == text.index(" time")
