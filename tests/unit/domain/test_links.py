from __future__ import annotations

from typing import Any

from paperboy.domain.links import with_all_links
from paperboy.domain.models import HfSignal, Link, Paper


def _paper(**fields: Any) -> Paper:
    return Paper(id=1, arxiv_id="2506.00001", title="T", abstract="A", **fields)


def test_every_link_comes_in_page_order_once():
    paper = _paper(
        links=[Link("code", "https://github.com/ada/tool")],
        hf=HfSignal(
            "2506.00001", 3, github_repo="https://github.com/Ada/tool/", project_page="https://ada.io"
        ),
        doi="10.1/x y",
    )
    assert with_all_links(paper).links == [
        Link("abs", "https://arxiv.org/abs/2506.00001"),
        Link("pdf", "https://arxiv.org/pdf/2506.00001"),
        Link("code", "https://github.com/ada/tool"),
        Link("project", "https://ada.io"),
        Link("doi", "https://doi.org/10.1/x%20y"),
    ]


def test_a_url_that_is_not_a_web_address_is_dropped():
    paper = _paper(links=[Link("project", "javascript:alert(1)")])
    assert [link.kind for link in with_all_links(paper).links] == ["abs", "pdf"]


def test_the_paper_given_is_left_unchanged_and_a_second_pass_changes_nothing():
    stored = [Link("code", "https://github.com/ada/tool")]
    paper = _paper(links=list(stored))
    shown = with_all_links(paper)
    assert paper.links == stored
    assert shown is not paper
    assert with_all_links(shown).links == shown.links
