"""Finding code repositories and project pages in an abstract or comment, and the links a
paper shows."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import quote

from paperboy.domain.arxiv_ids import abs_url, pdf_url
from paperboy.domain.models import Link, Paper

_URL = re.compile(r"https?://[^\s<>\"'{}\\^`|]+", re.IGNORECASE)
_CODE_HOST = re.compile(
    r"https?://(?:www\.)?(?P<host>github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)"
    r"/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)",
    re.IGNORECASE,
)
_PROJECT_HINT = re.compile(r"(project|home|web)\s*-?\s*(page|site)|website|demo", re.IGNORECASE)
_TRAILING = ".,;:)]}>"
MAX_LINKS = 50  # a real abstract names a handful; a hostile one is not a link farm here
_NOT_A_REPO = {"topics", "features", "orgs", "sponsors", "about", "settings", "marketplace"}


def find_links(*texts: str | None) -> list[Link]:
    """Code repositories first, then project pages, each once, in order of appearance."""
    code: list[Link] = []
    project: list[Link] = []
    for text in texts:
        if not text:
            continue
        for match in _URL.finditer(text):
            url = _clean(match.group(0))
            repo = _code_repo(url)
            if repo:
                _add(code, Link("code", repo))
            elif _looks_like_project(url, text[max(0, match.start() - 40) : match.start()]):
                _add(project, Link("project", url))
    return (code + project)[:MAX_LINKS]


def with_all_links(paper: Paper) -> Paper:
    """A copy of `paper` with every link a page shows: arXiv abstract and PDF first, then code and
    project links (stored, then Hugging Face's), then DOI; each once, web addresses only."""
    links = [Link("abs", abs_url(paper.arxiv_id)), Link("pdf", pdf_url(paper.arxiv_id)), *paper.links]
    if paper.hf and paper.hf.github_repo:
        links.append(Link("code", paper.hf.github_repo))
    if paper.hf and paper.hf.project_page:
        links.append(Link("project", paper.hf.project_page))
    if paper.doi:
        links.append(Link("doi", "https://doi.org/" + quote(paper.doi, safe="/:;()[]._-+")))
    return replace(paper, links=_distinct_web_links(links))


def _distinct_web_links(links: list[Link]) -> list[Link]:
    seen: set[str] = set()
    kept: list[Link] = []
    for link in links:
        key = link.url.rstrip("/").lower()  # the same repository is often linked twice
        # Upstream data is hostile: a javascript: URL must never become an href.
        if key not in seen and key.startswith(("https://", "http://")):
            seen.add(key)
            kept.append(link)
    return kept


def _clean(url: str) -> str:
    url = url.rstrip(_TRAILING)
    if url.count("(") < url.count(")"):
        url = url[: url.rfind(")")]
    return url


def _code_repo(url: str) -> str | None:
    match = _CODE_HOST.match(url)
    if not match or match["owner"].lower() in _NOT_A_REPO:
        return None
    repo = match["repo"].removesuffix(".git").rstrip(".")
    return f"https://{match['host'].lower()}/{match['owner']}/{repo}" if repo else None


def _looks_like_project(url: str, before: str) -> bool:
    host = url.split("/")[2].lower() if url.count("/") >= 2 else ""
    if host.endswith(("arxiv.org", "doi.org")):
        return False
    return host.endswith((".github.io", ".gitlab.io")) or bool(_PROJECT_HINT.search(before))


def _add(links: list[Link], link: Link) -> None:
    if all(existing.url.lower() != link.url.lower() for existing in links):
        links.append(link)
