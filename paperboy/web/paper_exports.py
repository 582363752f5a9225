"""A paper in other formats: /papers/{id}.md (Markdown), .bib (BibTeX) and .ris (RIS).

The Markdown is also what /papers/{id} answers to `Accept: text/markdown` (web/pages.py) and
what huggingface_hub's `HfApi.read_paper` reads (it asks for /papers/{id}.md).

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
from paperboy.services.feed import paper_view
from paperboy.services.hydrate import PaperView
from paperboy.web.conditional import conditional
from paperboy.web.context import app_context
from paperboy.web.feeds import CITATION_TYPES
from paperboy.web.urls import paper_url

MARKDOWN = "text/markdown; charset=utf-8"
_METHODS = ["GET", "HEAD"]
_HTML_TYPES = ("text/html", "application/xhtml+xml")

router = APIRouter(include_in_schema=False)


def export_url(arxiv_id: str, fmt: str) -> str:
    """/papers/2506.12229.bib; `fmt` is md, bib or ris."""
    return f"{paper_url(arxiv_id)}.{fmt}"


def prefers_markdown(accept: str) -> bool:
    """Whether an Accept header asks for Markdown before HTML: `text/markdown` with a quality
    above 0 and at least that of any HTML type it names (browsers never name Markdown)."""
    quality: dict[str, float] = {}
    for part in accept.lower().split(","):
        kind, *params = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[kind] = max(quality.get(kind, 0.0), q)
    markdown = quality.get("text/markdown", 0.0)
    return markdown > 0 and all(markdown >= quality.get(kind, 0.0) for kind in _HTML_TYPES)


@router.api_route("/papers/{arxiv_id:path}.md", methods=_METHODS)
def paper_as_markdown(request: Request, arxiv_id: str) -> Response:
    return _export(request, arxiv_id, "md", MARKDOWN, _markdown_of(request))


def markdown_answer(request: Request, arxiv_id: str) -> Response:
    """/papers/{id} asked for with `Accept: text/markdown`: the .md export's text, at the page's
    address (so `Vary: Accept`); 404 as plain text for a paper not here."""
    response = _export(request, arxiv_id, None, MARKDOWN, _markdown_of(request))
    response.headers["Vary"] = "Accept"
    return response


def _markdown_of(request: Request) -> Callable[[PaperView], str]:
    def render(view: PaperView) -> str:
        page = app_context(request).settings.public_url + paper_url(view.paper.arxiv_id)
        return paper_markdown(view.paper, page, upvotes=view.community.upvotes)

    return render


@router.api_route("/papers/{arxiv_id:path}.bib", methods=_METHODS)
def paper_as_bibtex(request: Request, arxiv_id: str) -> Response:
    return _export(request, arxiv_id, "bib", CITATION_TYPES["bib"], lambda view: bibtex_entry(view.paper))


@router.api_route("/papers/{arxiv_id:path}.ris", methods=_METHODS)
def paper_as_ris(request: Request, arxiv_id: str) -> Response:
    return _export(request, arxiv_id, "ris", CITATION_TYPES["ris"], lambda view: ris_record(view.paper))


def _export(
    request: Request, arxiv_id: str, fmt: str | None, media_type: str, render: Callable[[PaperView], str]
) -> Response:
    """`fmt` names the export's address suffix (None: the paper page's own address)."""
    try:
        parsed = parse_arxiv_id(arxiv_id)
    except InvalidArxivId as exc:
        return _not_found(str(exc))
    if arxiv_id != parsed.base:
        target = export_url(parsed.base, fmt) if fmt else paper_url(parsed.base)
        return RedirectResponse(target, status_code=301)
    view = paper_view(app_context(request).engine, parsed.base)
    if view is None:
        return _not_found(f"arXiv paper {parsed.base} is not in this catalogue")
    return conditional(request, render(view).encode(), media_type)


def _not_found(message: str) -> Response:
    return PlainTextResponse(message + "\n", status_code=404, headers={"Cache-Control": "no-store"})
