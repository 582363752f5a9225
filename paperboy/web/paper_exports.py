"""A paper in other formats: /papers/{id}.md (Markdown), .bib (BibTeX) and .ris (RIS).

Included before web/pages.py's router, whose /papers/{arxiv_id:path} would otherwise read
"2506.12229.md" as an id. Old-style ids keep their slash (/papers/hep-th/9901001.bib); other
spellings (a version, an arXiv: prefix) redirect to the canonical address.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse
from starlette.responses import Response

from paperboy.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperboy.domain.citations import bibtex_entry, ris_record
from paperboy.domain.paper_markdown import paper_markdown
from paperboy.services.feed import PaperView, paper_view
from paperboy.web.conditional import conditional
from paperboy.web.context import app_context
from paperboy.web.feeds import CITATION_TYPES
from paperboy.web.urls import paper_url

MARKDOWN = "text/markdown; charset=utf-8"
_METHODS = ["GET", "HEAD"]

router = APIRouter(include_in_schema=False)


def export_url(arxiv_id: str, fmt: str) -> str:
    """/papers/2506.12229.bib; `fmt` is md, bib or ris."""
    return f"{paper_url(arxiv_id)}.{fmt}"


@router.api_route("/papers/{arxiv_id:path}.md", methods=_METHODS)
def paper_as_markdown(request: Request, arxiv_id: str) -> Response:
    def render(view: PaperView) -> str:
        page = app_context(request).settings.public_url + paper_url(view.paper.arxiv_id)
        return paper_markdown(view.paper, page, upvotes=view.community.upvotes)

    return _export(request, arxiv_id, "md", MARKDOWN, render)


@router.api_route("/papers/{arxiv_id:path}.bib", methods=_METHODS)
def paper_as_bibtex(request: Request, arxiv_id: str) -> Response:
    return _export(request, arxiv_id, "bib", CITATION_TYPES["bib"], lambda view: bibtex_entry(view.paper))


@router.api_route("/papers/{arxiv_id:path}.ris", methods=_METHODS)
def paper_as_ris(request: Request, arxiv_id: str) -> Response:
    return _export(request, arxiv_id, "ris", CITATION_TYPES["ris"], lambda view: ris_record(view.paper))


def _export(
    request: Request, arxiv_id: str, fmt: str, media_type: str, render: Callable[[PaperView], str]
) -> Response:
    try:
        parsed = parse_arxiv_id(arxiv_id)
    except InvalidArxivId as exc:
        return _not_found(str(exc))
    if arxiv_id != parsed.base:
        return RedirectResponse(export_url(parsed.base, fmt), status_code=301)
    view = paper_view(app_context(request).engine, parsed.base)
    if view is None:
        return _not_found(f"arXiv paper {parsed.base} is not in this catalogue")
    return conditional(request, render(view).encode(), media_type)


def _not_found(message: str) -> Response:
    return PlainTextResponse(message + "\n", status_code=404, headers={"Cache-Control": "no-store"})
