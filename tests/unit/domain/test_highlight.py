from __future__ import annotations

from paperboy.domain.highlight import fold_text, highlight, snippet
from paperboy.domain.search_query import parse_search_query


def marked(text, query):
    return highlight(text, parse_search_query(query))


def test_words_are_marked_ignoring_case_diacritics_and_endings():
    assert marked("Graph Networks learned", "graph network learning") == (
        "<mark>Graph Networks learned</mark>"
    )
    assert marked("Schrödinger's cat", "schrodinger") == "<mark>Schrödinger</mark>&#x27;s cat"
    assert marked("Studies of a study", "study") == "<mark>Studies</mark> of a <mark>study</mark>"


def test_everything_else_is_escaped():
    assert marked("<b>x</b> & graph", "graph") == "&lt;b&gt;x&lt;/b&gt; &amp; <mark>graph</mark>"
    assert marked("<script>", "script") == "&lt;<mark>script</mark>&gt;"


def test_exclusions_authors_and_filters_are_not_marked():
    assert marked("graph survey by lovelace", "graph -survey author:lovelace") == (
        "<mark>graph</mark> survey by lovelace"
    )
    assert marked("class classes", "classes") == "<mark>class classes</mark>"
    assert marked("clas", "class") == "clas"


def test_phrases_mark_their_words():
    assert marked("message passing networks", '"message passing"') == (
        "<mark>message passing</mark> networks"
    )


def test_snippet_shows_text_around_the_first_match():
    text = " ".join(["filler"] * 100) + " the target word " + " ".join(["tail"] * 100)
    out = snippet(text, parse_search_query("target"), max_chars=120)
    assert out.startswith("…")
    assert out.endswith("…")
    assert "<mark>target</mark>" in out
    assert len(out) < 160
    assert snippet("short text", parse_search_query("absent")) == "short text"
    assert snippet(text, parse_search_query("absent"), max_chars=50).startswith("filler filler")


def test_fold_text():
    assert fold_text("Ÿ É ß") == "y e ss"


def test_stop_words_are_marked_only_when_they_are_all_the_query_has():
    text = "The transformer of the year"
    question = parse_search_query("which paper uses the transformer")
    assert highlight(text, question) == "The <mark>transformer</mark> of the year"
    only_stop_words = parse_search_query("the")
    assert highlight(text, only_stop_words) == "<mark>The</mark> transformer of <mark>the</mark> year"
    # A phrase keeps its stop words: they are part of what it matches.
    assert "<mark>of the year</mark>" in highlight(text, parse_search_query('"of the year"'))


def test_words_are_found_by_their_forms_in_long_ascii_texts_and_in_accented_ones():
    query = parse_search_query("studies networking")
    assert highlight("Two study and networks", query) == "Two <mark>study</mark> and <mark>networks</mark>"
    assert highlight("Études du réseau networked", query) == "Études du réseau <mark>networked</mark>"


def test_with_math_formulas_are_mathml_and_words_in_them_are_not_marked():
    query = parse_search_query("log time")
    title = r"An $\mathcal{O}(n \log n)$ time sort & <more>"
    html = highlight(title, query, math=True)
    assert html.startswith("An <math><mrow><mi>𝒪</mi>")
    assert "<mi>log</mi>" in html  # inside the formula: not marked
    assert html.endswith("</math> <mark>time</mark> sort &amp; &lt;more&gt;")
    assert html.count("<mark>") == 1


def test_without_math_the_tex_stays_as_written_and_marked():
    html = highlight(r"An $\mathcal{O}(n \log n)$ time sort", parse_search_query("log time"))
    assert html == r"An $\mathcal{O}(n \<mark>log</mark> n)$ <mark>time</mark> sort"


def test_a_snippet_with_math_never_cuts_a_formula():
    formula = r"$\sum_{i=1}^{n} \alpha_i x_i + \beta_j y_j + \gamma_k z_k + \delta_l w_l$"
    text = "word " * 50 + formula + " graph" + " tail" * 50
    query = parse_search_query("graph")
    plain = snippet(text, query, max_chars=80)
    assert plain.count("$") == 1  # without math: the snippet starts inside the formula
    html = snippet(text, query, max_chars=80, math=True)
    assert html.startswith("…<mark>graph</mark> tail")  # it starts after the formula instead
    assert "$" not in html
    ending = snippet("graph " + formula + " tail" * 30, query, max_chars=40, math=True)
    assert ending == "<mark>graph</mark>…"  # and ends before one
    whole = snippet("graph " + formula + " tail" * 30, query, max_chars=90, math=True)
    assert "<msubsup>" in whole  # or holds it whole, as MathML


def test_ascii_texts_are_marked_as_stemming_every_word_would():
    # An ASCII text is matched by one regex of each stem's forms; any other text by stemming each
    # word. An accented word at the end sends the same words down the second path: same marks.
    stems = [
        "class",
        "study",
        "net",
        "go",
        "data",
        "process",
        "ate",
        "fly",
        "bus",
        "lies",
        "x1",
        "copy",
        "ab",
    ]
    endings = ["", "s", "es", "ed", "ies", "ied", "ing", "ings", "ation", "ations", "ly", "ss", "y", "e"]
    words = [stem[:cut] + ending for stem in stems for cut in (None, -1, -2) for ending in endings]
    text = " ".join(words + [w.upper() for w in words[::7]] + ["under_score", "a1b", "net-work"])
    for query in [*stems, "classes studies", "processing networks", "flies going", "stud"]:
        parsed = parse_search_query(query)
        assert "<mark>" in highlight(text, parsed)
        assert highlight(text + " é", parsed) == highlight(text, parsed) + " é"
