"""Comment Markdown: whatever goes in, only allow-listed tags, attributes and URL schemes come out."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from paperboy.domain.markup import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    LINK_REL,
    MAX_COMMENT_LENGTH,
    InvalidComment,
    clean_comment_text,
    comment_excerpt,
    render_comment,
    sanitise_html,
)

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    "![x](javascript:alert(1))",
    "![x](https://evil.example/x.png)",
    '![x](x" onerror="alert(1))',
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](jav&#x61;script:alert(1))",
    "[x](jav&#97;script:alert(1))",
    "[x](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](java%0ascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](VBSCRIPT:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](DATA:text/html,<script>alert(1)</script>)",
    "[x](file:///etc/passwd)",
    "[x]: javascript:alert(1)\n\n[x]",
    "<javascript:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x61;script:alert(1)">x</a>',
    "<a href='data:text/html,x'>x</a>",
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    '<a href="https://ok.example" style="position:fixed;top:0">x</a>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div onmouseover="alert(1)">hover</div>',
    "<body onload=alert(1)>",
    '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    "<svg><a xlink:href='javascript:alert(1)'><text>x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math href="javascript:alert(1)">x</math>',
    "<iframe src=javascript:alert(1)></iframe>",
    "<object data=javascript:alert(1)></object>",
    "<embed src=javascript:alert(1)>",
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "<input onfocus=alert(1) autofocus>",
    "<details open ontoggle=alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<base href=javascript:alert(1)//>",
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<style>*{background:url(javascript:alert(1))}</style>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<img/src=x/onerror=alert(1)>",
    '<img src=x onerror="alert(1)"',
    "<!--<img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '"><script>alert(1)</script>',
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "    <script>alert(1)</script>",
    "> <script>alert(1)</script>\n> [x](javascript:alert(1))",
    "- <img src=x onerror=alert(1)>\n- [y](vbscript:x)",
    "**<script>alert(1)</script>**",
    "*[x](javascript:alert(1))*",
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    '[x](https://ok.example "title" onclick="alert(1)")',
    '[x](https://ok.example "<script>alert(1)</script>")',
    "https://ok.example/<script>alert(1)</script>",
    'https://ok.example/"onmouseover="alert(1)',
    "javascript:alert(1)",
    "x\x00<script>alert(1)</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "$<script>alert(1)</script>$",
    "$$<img src=x onerror=alert(1)>$$",
    "<x onclick=alert(1)>click</x>",
    '<a href="https://ok.example" target="_blank" rel="opener">x</a>',
    "[x](//evil.example)",
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _tags(output: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    collector = _Collector()
    collector.feed(output)
    collector.close()
    return collector.tags


def _assert_safe(output: str) -> None:
    for tag, attrs in _tags(output):
        assert tag in ALLOWED_TAGS, f"tag <{tag}> in {output!r}"
        for name, value in attrs:
            allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
            assert name in allowed, f"attribute {name} on <{tag}> in {output!r}"
            if name == "href":
                assert value is not None
                scheme = urlsplit(value.strip()).scheme.lower()
                assert scheme in ("", "http", "https", "mailto"), f"href {value!r} in {output!r}"
                assert "script" not in value.lower().replace("%3c", "<")[:12]
            if name == "rel":
                assert value == LINK_REL
            if name == "start":
                assert value is not None
                assert value.isdigit()


@pytest.mark.parametrize("source", HOSTILE)
def test_nothing_executable_survives(source):
    output = render_comment(source)
    _assert_safe(output)
    # Whatever the input said survives only as text: every "<" in the output starts an allowed tag.
    assert "<script" not in output.lower()
    assert "<img" not in output.lower()


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_input_wrapped_in_markdown_is_safe_too(source):
    for wrapped in (
        f"> {source}",
        f"- {source}",
        f"*{source}*",
        f"1. {source}\n2. {source}",
        f"[{source}](https://ok.example)",
    ):
        _assert_safe(render_comment(wrapped))


@pytest.mark.parametrize("source", HOSTILE)
def test_the_sanitiser_alone_stops_raw_html(source):
    """The second layer: were the parser ever to let HTML through, nh3 still strips it."""
    output = sanitise_html(source)
    _assert_safe(output)
    assert "alert(1)</script>" not in output  # script content is dropped, not kept as text


def test_the_sanitiser_keeps_the_allowed_subset():
    source = (
        '<p lang="en" title="t" class="c" id="i">a<br><em>b</em><strong>c</strong><code>d</code></p>'
        '<pre><code class="language-py">e</code></pre><blockquote>f</blockquote>'
        '<ol start="2"><li>g</li></ol><ul><li>h</li></ul>'
        '<a href="https://x.example" rel="opener" target="_blank">i</a>'
    )
    assert sanitise_html(source) == (
        "<p>a<br><em>b</em><strong>c</strong><code>d</code></p><pre><code>e</code></pre>"
        '<blockquote>f</blockquote><ol start="2"><li>g</li></ol><ul><li>h</li></ul>'
        f'<a href="https://x.example" rel="{LINK_REL}">i</a>'
    )


def test_raw_html_is_shown_as_text():
    assert (
        render_comment("<b>bold</b> & <i>it</i>")
        == "<p>&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;it&lt;/i&gt;</p>"
    )


def test_links_keep_only_href_and_get_a_forced_rel():
    output = render_comment('[paper](https://arxiv.org/abs/2506.12229 "title")')
    assert output == f'<p><a href="https://arxiv.org/abs/2506.12229" rel="{LINK_REL}">paper</a></p>'


def test_bad_schemes_never_become_links():
    for source in ("[x](javascript:alert(1))", "[x](jav&#x61;script:alert(1))", "[x](data:text/html,x)"):
        assert "<a" not in render_comment(source)


def test_mailto_links_are_allowed():
    assert 'href="mailto:ada@example.org"' in render_comment("<mailto:ada@example.org>")


def test_bare_urls_become_links_without_their_trailing_punctuation():
    output = render_comment(
        "See https://arxiv.org/abs/2506.12229, and (https://en.wikipedia.org/wiki/Foo_(bar))."
    )
    assert (
        f'<a href="https://arxiv.org/abs/2506.12229" rel="{LINK_REL}">https://arxiv.org/abs/2506.12229</a>,'
        in output
    )
    assert 'href="https://en.wikipedia.org/wiki/Foo_(bar)"' in output
    assert output.endswith("</a>).</p>")


def test_urls_in_code_and_in_link_text_stay_as_they_are():
    assert render_comment("`https://a.example`") == "<p><code>https://a.example</code></p>"
    output = render_comment("[see https://a.example](https://b.example)")
    assert output.count("<a ") == 1
    assert 'href="https://b.example"' in output


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("$a_1 * b_2$ and $c_1 * d_2$", "$a_1 * b_2$ and $c_1 * d_2$"),
        ("$x_i$ where $i_j$", "$x_i$ where $i_j$"),
        ("$a*b*c$", "$a*b*c$"),
        ("$\\alpha_{1}$ and $\\beta_{2}$", "$\\alpha_{1}$ and $\\beta_{2}$"),
        ("$a \\, b \\{c\\}$", "$a \\, b \\{c\\}$"),
        ("$[a](b)$", "$[a](b)$"),
        ("$$\\int_0^1 f(x)\\,dx * g_1 * h_2$$", "$$\\int_0^1 f(x)\\,dx * g_1 * h_2$$"),
        ("$$\n\\sum_{i=1}^n x_i * y_i\n$$", "$$\n\\sum_{i=1}^n x_i * y_i\n$$"),
        ("$a < b$ & $c > d$", "$a &lt; b$ &amp; $c &gt; d$"),
    ],
)
def test_math_is_left_as_typed(source, shown):
    assert render_comment(source) == f"<p>{shown}</p>"


def test_dollar_amounts_are_not_math():
    assert render_comment("It costs $5 and $10, *really*.") == "<p>It costs $5 and $10, <em>really</em>.</p>"


def test_an_escaped_dollar_is_a_dollar():
    assert render_comment("\\$x *y* z$") == "<p>$x <em>y</em> z$</p>"


def test_markdown_subset():
    output = render_comment(
        "*em* **strong** `code`\nnext line\n\n> quoted\n\n- one\n- two\n\n3. three\n4. four\n\n"
        "```python\nif a < b:\n    pass\n```"
    )
    assert "<em>em</em> <strong>strong</strong> <code>code</code><br>" in output
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in output
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in output
    assert '<ol start="3">' in output
    assert "<pre><code>if a &lt; b:\n    pass\n</code></pre>" in output


def test_headings_images_and_rules_are_off():
    assert render_comment("# Big") == "<p># Big</p>"
    assert render_comment("Title\n===") == "<p>Title<br>\n===</p>"
    assert "<hr" not in render_comment("a\n\n---\n\nb")
    assert "<img" not in render_comment("![alt](https://a.example/x.png)")


def test_deep_nesting_is_bounded():
    output = render_comment(">" * 5000 + " deep")
    _assert_safe(output)
    assert output.count("<blockquote>") <= 20


def test_empty_and_too_long_comments_are_refused():
    with pytest.raises(InvalidComment, match="empty"):
        render_comment("  \n\t ")
    with pytest.raises(InvalidComment, match="at most 10,000 characters; this one has 10,001"):
        render_comment("x" * (MAX_COMMENT_LENGTH + 1))
    assert render_comment("x" * MAX_COMMENT_LENGTH).startswith("<p>x")


def test_text_is_stored_normalised():
    assert clean_comment_text("a\r\nb\rc\x00d  \n\n") == "a\nb\ncd"


def test_excerpt_is_plain_text_cut_at_a_word():
    assert comment_excerpt("**Nice** `code` and $x_1$\n\n> quote") == "Nice code and $x_1$ quote"
    assert comment_excerpt("word " * 100, 22) == "word word word word…"
    assert comment_excerpt("<script>x</script>") == "<script>x</script>"  # text: the template escapes it
