"""Comments' Markdown: a small, safe subset, rendered once when a comment is written.

Two layers, so that a mistake in one is caught by the other:

1. markdown-it-py's CommonMark parser with raw HTML off (it comes out as text), and images,
   headings and rules switched off. What remains: paragraphs and line breaks, *emphasis*,
   **strong**, `code`, fenced and indented code blocks, > quotes, lists, [links](https://…),
   <https://…> autolinks, and bare http(s) URLs, which become links here (linkify-it-py is not a
   dependency: a small rule below does it).
2. nh3 (Ammonia) over the HTML with an allow-list of tags and attributes, http / https / mailto
   URLs only, and rel="nofollow noopener ugc" on every link.

TeX math ($x^2$, $$\\int f$$) is left exactly as written: a `$…$` span is never parsed for
emphasis, escapes or links, so `$a_1 * b_2$` reads the same on the page as in the box.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

MAX_COMMENT_LENGTH = 10_000  # characters of Markdown
ALLOWED_TAGS = frozenset({"p", "br", "a", "code", "pre", "em", "strong", "ul", "ol", "li", "blockquote"})
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}  # start: a list typed from "3." keeps its numbers
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener ugc"

# $$…$$ (may span lines) or $…$: opened by a $ not followed by a space, closed by a $ not after a
# space or a backslash and not before a digit, so "$5 and $10" stays plain text.
_MATH = re.compile(r"\$\$.+?\$\$|\$(?![\s$])(?:[^$\\]|\\.)*?(?<![\s\\])\$(?!\d)", re.DOTALL)
_BARE_URL = re.compile(r"(?<![\w/@.:])https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,:;!?*_~'\""
_PAIRS = {")": "(", "]": "["}


class InvalidComment(ValueError):
    """A comment that cannot be posted as written; the message says why."""


def render_comment(markdown: str) -> str:
    """The comment's sanitised HTML; InvalidComment when empty or too long."""
    text = clean_comment_text(markdown)
    return sanitise_html(_PARSER.render(text))


def clean_comment_text(markdown: str) -> str:
    """The text as it will be stored: Unix line ends, no NULs, no trailing blanks; checked."""
    text = markdown.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").rstrip()
    if not text.strip():
        raise InvalidComment("Write something first: the comment is empty.")
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidComment(
            f"A comment has at most {MAX_COMMENT_LENGTH:,} characters; this one has {len(text):,}. "
            "Shorten it, or split it into several."
        )
    return text


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        # "*": none, or Ammonia keeps its generic defaults (lang, title) on every tag.
        attributes={"*": set(), **{tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()}},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    ).strip()


def comment_excerpt(markdown: str, length: int = 200) -> str:
    """The comment as one line of plain text, cut at a word boundary with an ellipsis."""
    words = " ".join(_plain_text(_PARSER.parse(markdown))).split()
    flat = " ".join(words)
    if len(flat) <= length:
        return flat
    cut = flat[:length].rsplit(" ", 1)[0] if " " in flat[:length] else flat[:length]
    return cut.rstrip(",;:.") + "…"


def _plain_text(tokens: Sequence[Token]) -> list[str]:
    parts: list[str] = []
    for token in tokens:
        if token.type in ("fence", "code_block"):
            parts.append(token.content)
        elif token.children:
            parts.extend(_plain_text(token.children))
        elif token.type in ("text", "code_inline", "math"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return parts


# --- the parser ---------------------------------------------------------------------------------


def _math_span(state: StateInline, silent: bool) -> bool:
    """A $…$ or $$…$$ span becomes one `math` token holding the text as typed."""
    if state.src[state.pos] != "$":
        return False
    match = _MATH.match(state.src, state.pos, state.posMax)
    if match is None:
        return False
    if not silent:
        token = state.push("math", "", 0)
        token.content = match.group(0)
    state.pos = match.end()
    return True


def _render_math(
    _renderer: RendererHTML, tokens: Sequence[Token], idx: int, _options: OptionsDict, _env: EnvType
) -> str:
    return escape(tokens[idx].content, quote=False)


def _linkify_bare_urls(state: StateCore) -> None:
    """http(s) URLs in plain text (outside links and code) become links."""
    for block in state.tokens:
        if block.type == "inline" and block.children:
            block.children = _linkify_children(state.md, block.children)


def _linkify_children(md: MarkdownIt, children: list[Token]) -> list[Token]:
    result: list[Token] = []
    inside_link = 0
    for token in children:
        if token.type == "link_open":
            inside_link += 1
        elif token.type == "link_close":
            inside_link -= 1
        if token.type == "text" and not inside_link and "://" in token.content:
            result.extend(_split_urls(md, token))
        else:
            result.append(token)
    return result


def _split_urls(md: MarkdownIt, token: Token) -> list[Token]:
    pieces: list[Token] = []
    text, position = token.content, 0
    for match in _BARE_URL.finditer(text):
        url = _trim_url(match.group(0))
        href = md.normalizeLink(url)
        if len(url) <= len("https://") or not md.validateLink(href):
            continue
        start = match.start()
        if start > position:
            pieces.append(_text_token(text[position:start], token.level))
        pieces.append(Token("link_open", "a", 1, attrs={"href": href}, level=token.level))
        pieces.append(_text_token(url, token.level + 1))
        pieces.append(Token("link_close", "a", -1, level=token.level))
        position = start + len(url)
    if not pieces:
        return [token]
    if position < len(text):
        pieces.append(_text_token(text[position:], token.level))
    return pieces


def _trim_url(url: str) -> str:
    """Without the sentence's punctuation after it, nor a closing bracket it did not open."""
    while url and (url[-1] in _TRAILING or _unbalanced(url)):
        url = url[:-1]
    return url


def _unbalanced(url: str) -> bool:
    last = url[-1]
    return last in _PAIRS and url.count(last) > url.count(_PAIRS[last])


def _text_token(content: str, level: int) -> Token:
    return Token("text", "", 0, content=content, level=level)


def _make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "xhtmlOut": False})
    md.disable(["image", "heading", "lheading", "hr", "html_block", "html_inline"])
    md.inline.ruler.before("escape", "math", _math_span)
    md.add_render_rule("math", _render_math)
    md.core.ruler.push("linkify_bare_urls", _linkify_bare_urls)
    return md


_PARSER = _make_parser()
