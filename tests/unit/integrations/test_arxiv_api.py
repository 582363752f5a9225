from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from upstream_fakes import FakeClock, fake_client, golden_response, serve_in_order, shared_fixture

from paperboy.domain.models import Version
from paperboy.integrations.arxiv_api import ArxivApiError, fetch_papers, parse_feed
from paperboy.integrations.http import UpstreamError

API = "https://export.arxiv.org/api/query"
GOLDEN = ("arxiv_api", "arxiv.py_golden_2026")


class RecordedApi:
    """A handler answering each id_list request with the golden recording for that id_list."""

    def __init__(self) -> None:
        self.by_id_list: dict[str, httpx.Response] = {}
        for path in shared_fixture(*GOLDEN).glob("id_*.json"):
            url, response = golden_response(path)
            self.by_id_list[httpx.URL(url).params["id_list"]] = response
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return self.by_id_list[request.url.params["id_list"]]


def test_legacy_2016_entry():
    body = shared_fixture("arxiv_api", "arxiv.py_legacy_2016", "id_list=1111.2011v2.xml").read_bytes()

    [paper] = parse_feed(body)

    assert paper.arxiv_id == "1111.2011"
    assert (
        paper.title
        == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert paper.authors == ("James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic")
    assert paper.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert paper.doi == "10.1103/PhysRevB.85.115117"
    assert paper.comment == "8 pages, 3 figures. Published version"
    assert paper.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert paper.versions == (
        Version(1, datetime(2011, 11, 8, 18, 48, 36, tzinfo=UTC)),
        Version(2, datetime(2012, 4, 2, 12, 38, 54, tzinfo=UTC)),
    )
    assert paper.abstract is not None
    assert paper.abstract.startswith(
        "Theoretical description of anisotropic systems, such as layered superconductors"
    )
    assert "\n" not in paper.abstract


def test_fetch_by_id_in_the_2026_format():
    recorded_api = RecordedApi()
    client = fake_client(recorded_api)

    papers = fetch_papers(
        client, API, ["1707.08567", "astro-ph/0601001", "quant-ph/0201082v1", "0000.0000"], chunk_size=1
    )

    assert [p.arxiv_id for p in papers] == ["1707.08567", "astro-ph/0601001", "quant-ph/0201082"]
    workshop, jupiters, quantum = papers
    assert len(workshop.authors) == 34
    assert workshop.authors[:2] == ("Kees A. Schouhamer Immink", "Stan Baggen")
    assert workshop.authors[-2:] == ("Dirk Wübben", "Hirosuke Yamamoto")
    assert jupiters.journal_ref == "ActaAstron.56:1-50,2006"
    assert jupiters.comment is not None
    assert jupiters.comment.startswith("62 pages including 16 figures")
    assert jupiters.authors == ("Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski")
    assert jupiters.versions == (Version(1, datetime(2006, 1, 2, 14, 57, 58, tzinfo=UTC)),)
    assert quantum.categories == ("quant-ph", "cs.PL")
    sent = [(r.url.params["id_list"], r.url.params["max_results"]) for r in recorded_api.seen]
    assert sent == [
        ("1707.08567", "1"),
        ("astro-ph/0601001", "1"),
        ("quant-ph/0201082v1", "1"),
        ("0000.0000", "1"),
    ]


def test_an_unknown_id_among_known_ones_is_just_absent():
    recorded_api = RecordedApi()
    client = fake_client(recorded_api)

    papers = fetch_papers(client, API, ["0808.05394", "1707.08567"])

    assert [p.arxiv_id for p in papers] == ["1707.08567"]
    assert recorded_api.seen[0].url.params["max_results"] == "2"


def test_no_results_is_an_empty_list():
    recorded_api = RecordedApi()
    assert fetch_papers(fake_client(recorded_api), API, ["0000.0000"]) == []


def test_the_error_entry_names_the_bad_id():
    recorded_api = RecordedApi()
    clock = FakeClock()
    with pytest.raises(ArxivApiError) as raised:
        fetch_papers(fake_client(recorded_api, clock=clock), API, ["abc"])

    assert str(raised.value) == (
        f"arXiv API error: incorrect id format for abc (GET {API}?id_list=abc&start=0&max_results=1)"
    )
    assert clock.sleeps == []  # HTTP 400 is an answer, not a failure to retry


def test_long_id_lists_are_chunked():
    empty = shared_fixture(*GOLDEN, "bodies", "id_0000.0000_s0_m100_8b51d9633a68.xml").read_bytes()
    seen: list[httpx.Request] = []
    client = fake_client(serve_in_order([httpx.Response(200, content=empty)] * 3, seen))
    ids = [f"2506.{n:05d}" for n in range(250)]

    assert fetch_papers(client, API, ids) == []

    sent = [r.url.params["id_list"].split(",") for r in seen]
    assert [len(chunk) for chunk in sent] == [100, 100, 50]
    assert [arxiv_id for chunk in sent for arxiv_id in chunk] == ids
    assert [r.url.params["max_results"] for r in seen] == ["100", "100", "50"]


def test_a_full_page_of_search_results():
    body = shared_fixture(*GOLDEN, "bodies", "q_testing_s0_m100_cfe7536492ca.xml").read_bytes()

    papers = parse_feed(body)

    assert len(papers) == 100
    assert sum(p.doi is not None for p in papers) == 32
    assert sum(p.journal_ref is not None for p in papers) == 18
    assert papers[0].arxiv_id == "2202.12139"
    assert papers[0].categories == ("cs.SE", "cs.LG")
    assert all(v.created is not None and v.created.tzinfo is UTC for p in papers for v in p.versions)


def test_a_search_result_in_the_2026_format():
    body = shared_fixture("arxiv_api", "sotawhat", "arxiv_transformer.xml").read_bytes()

    papers = parse_feed(body)

    assert [p.arxiv_id for p in papers][:2] == ["2606.13677", "2606.13591"]
    assert papers[0].title == "Mana: Dexterous Manipulation of Articulated Tools"
    assert papers[0].categories == ("cs.RO", "cs.AI", "cs.CV", "cs.LG")


def test_primary_category_comes_first_even_when_listed_later():
    # Every recorded entry lists its primary category first among the <category> elements too,
    # so move the primary of a real entry to its cross-list, as arXiv may order them either way.
    body = shared_fixture("arxiv_api", "arxiv.py_legacy_2016", "id_list=1111.2011v2.xml").read_bytes()
    body = body.replace(b'term="cond-mat.str-el" scheme', b'term="cond-mat.stat-mech" scheme', 1)

    [paper] = parse_feed(body)

    assert paper.categories == ("cond-mat.stat-mech", "cond-mat.str-el")


def test_a_truncated_feed_is_a_clear_error():
    body = shared_fixture(*GOLDEN, "bodies", "id_1707.08567_s0_m100_6a1afebfc6a3.xml").read_bytes()
    client = fake_client(serve_in_order([httpx.Response(200, content=body[:1500])], []))

    with pytest.raises(
        UpstreamError,
        match=r"^GET .*id_list=1707\.08567.*: arXiv API response is not "
        r"well-formed XML \(no element found: line \d+, column \d+\)$",
    ):
        fetch_papers(client, API, ["1707.08567"])


def test_an_html_error_page_is_not_a_feed():
    with pytest.raises(UpstreamError, match=r"^not an Atom feed \(root element 'html'\)$"):
        parse_feed(b"<html><body><h1>Bad Gateway</h1></body></html>")


def test_a_400_without_an_error_entry_is_still_an_error():
    empty_feed = b'<feed xmlns="http://www.w3.org/2005/Atom"></feed>'
    client = fake_client(serve_in_order([httpx.Response(400, content=empty_feed)], []))

    with pytest.raises(ArxivApiError, match="HTTP 400 without an error entry"):
        fetch_papers(client, API, ["2506.12229"])
