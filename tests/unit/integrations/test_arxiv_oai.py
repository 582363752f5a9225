from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest
from upstream_fakes import (
    FakeClock,
    fake_client,
    local_fixture,
    nock_responses,
    serve_in_order,
    shared_fixture,
)

from paperboy.domain.models import Version
from paperboy.integrations.arxiv_oai import OaiError, harvest, parse_list_records
from paperboy.integrations.http import UpstreamError
from paperboy.integrations.parsing import split_author_list

LEGACY_OAI = "http://export.arxiv.org/oai2"
OAI = "https://oaipmh.arxiv.org/oai"
NOCK = ("arxiv_oai", "paperhive_nock")


def test_harvest_waits_out_the_recorded_503_then_parses_the_records():
    clock = FakeClock()
    exchanges = nock_responses(
        shared_fixture(*NOCK, "oaipmh-listrecords---should-list-identifiers-from-arxiv.json")
    )
    assert [r.status_code for _, r in exchanges] == [503, 200]
    seen: list[httpx.Request] = []
    client = fake_client(
        serve_in_order([r for _, r in exchanges], seen), host_delays={"arxiv.org": 3.0}, clock=clock
    )

    records = list(
        harvest(
            client,
            LEGACY_OAI,
            metadata_prefix="arXiv",
            from_date=date(2015, 1, 1),
            until_date=date(2015, 1, 3),
        )
    )

    assert clock.sleeps == [10.0]  # the recorded "Retry-After: 10"
    recorded = httpx.URL(LEGACY_OAI + exchanges[0][0].removeprefix("/oai2"))
    assert [dict(r.url.params) for r in seen] == [dict(recorded.params)] * 2
    assert [r.record.arxiv_id for r in records] == ["1412.8544", "hep-th/9504118"]
    first = records[0].record
    assert first.authors == ("Sander Uijlen", "Bas Westerbaan")
    assert first.journal_ref == "EPTCS 172, 2014, pp. 154-164"
    assert first.doi == "10.4204/EPTCS.172.11"
    assert first.comment == "In Proceedings QPL 2014, arXiv:1412.8102"
    assert first.versions == (Version(1, datetime(2014, 12, 29, tzinfo=UTC)),)
    assert {r.datestamp for r in records} == {date(2015, 1, 3)}


def test_arxiv_format_record_fields():
    body = shared_fixture("arxiv_oai", "agentgraph", "arxiv_oai.xml").read_bytes()

    records, token = parse_list_records(body)

    assert token is None  # a complete list carries no resumptionToken at all
    assert [r.record.arxiv_id for r in records] == ["2504.11237", "2508.21012", "2510.07502"]
    periodic = records[0].record
    assert periodic.title == "Periodic table for highly charged ions"
    assert periodic.authors == ("Chunhai Lyu", "Christoph H. Keitel", "Zoltán Harman")
    assert periodic.categories == ("physics.atom-ph", "physics.optics", "physics.plasm-ph", "quant-ph")
    assert periodic.license == "http://creativecommons.org/publicdomain/zero/1.0/"
    assert periodic.doi == "10.1103/bppp-53g1"
    assert periodic.abstract is not None
    assert periodic.abstract.startswith("Mendeleev's periodic table")
    assert periodic.versions == (Version(1, datetime(2025, 4, 15, tzinfo=UTC)),)
    assert records[2].record.authors[8] == "D. O'Donnell"
    assert records[2].datestamp == date(2026, 1, 5)


def test_hard_wraps_are_collapsed_and_latex_kept():
    body = shared_fixture(
        *NOCK, "bodies", "oaipmh-listrecords---should-list-identifiers-from-arxiv.1.status200.xml"
    )

    records, _ = parse_list_records(body.read_bytes())

    old_style = records[1].record
    assert old_style.arxiv_id == "hep-th/9504118"
    assert old_style.abstract is not None
    assert old_style.abstract.startswith(
        "Starting from the hypothesis that both physics, in particular space-time"
    )
    assert "\n" not in old_style.abstract
    assert "  " not in old_style.abstract
    assert "'{\\it cellular network}'" in old_style.abstract
    assert old_style.license is None


def test_legacy_resumption_token_with_cursor_and_unsupported_formats():
    body = shared_fixture("arxiv_oai", "atomiklabs", "test_arxiv_data_oai_dc_ListRecords.xml").read_bytes()
    skipped: list[str] = []

    records, token = parse_list_records(body, report=skipped.append)

    assert token == "6960524|1001"
    assert records == []  # oai_dc is not a format paperboy maps
    assert skipped[0] == "oai:arXiv.org:1303.2033: unsupported metadata format <dc>"
    assert len(skipped) == 5


def test_arxiv_raw_harvest_follows_the_resumption_token():
    clock = FakeClock()
    pages = [
        httpx.Response(200, content=local_fixture("arxiv_oai", name).read_bytes())
        for name in ("arxivraw_page1.xml", "arxivraw_page2.xml")
    ]
    seen: list[httpx.Request] = []
    skipped: list[str] = []
    client = fake_client(serve_in_order(pages, seen), host_delays={"arxiv.org": 3.0}, clock=clock)

    records = list(
        harvest(
            client,
            OAI,
            metadata_prefix="arXivRaw",
            set_spec="physics:hep-ph",
            from_date=date(2026, 1, 5),
            report=skipped.append,
        )
    )

    assert dict(seen[0].url.params) == {
        "verb": "ListRecords",
        "metadataPrefix": "arXivRaw",
        "set": "physics:hep-ph",
        "from": "2026-01-05",
    }
    assert dict(seen[1].url.params) == {
        "verb": "ListRecords",
        "resumptionToken": "eyJzZXQiOiJwaHlzaWNzOmhlcC1waCIsInN0YXJ0IjoyfQ==",
    }
    assert clock.sleeps == [3.0]  # the politeness delay between the two pages
    assert [r.record.arxiv_id for r in records] == [
        "0704.0001",
        "0704.0002",
        "0704.0003",
    ]  # 0704.0004 deleted
    assert [r.datestamp for r in records] == [date(2026, 1, 5), date(2026, 1, 5), date(2026, 1, 6)]
    assert skipped == ["oai:arXiv.org:0713.9999: month 13 in '0713.9999' does not exist"]


def test_arxiv_raw_record_fields():
    records, token = parse_list_records(local_fixture("arxiv_oai", "arxivraw_page1.xml").read_bytes())

    assert token == "eyJzZXQiOiJwaHlzaWNzOmhlcC1waCIsInN0YXJ0IjoyfQ=="
    diphoton, sparsity = records[0].record, records[1].record
    assert (
        diphoton.title
        == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert diphoton.authors == ("C. Bal\\'azs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan")
    assert diphoton.submitter == "Pavel Nadolsky"
    assert diphoton.versions == (
        Version(1, datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC), "424kb"),
        Version(2, datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC), "433kb"),
    )
    assert diphoton.journal_ref == "Phys.Rev.D76:013009,2007"
    assert diphoton.doi == "10.1103/PhysRevD.76.013009"
    assert diphoton.license is None
    assert sparsity.authors == ("Ileana Streinu", "Louis Theran")  # affiliation dropped
    assert sparsity.categories == ("math.CO", "cs.CG")
    assert sparsity.abstract is not None
    assert "$(k,\\ell)$-pebble game" in sparsity.abstract


def test_arxiv_raw_versions_are_sorted():
    records, token = parse_list_records(
        local_fixture("arxiv_oai", "arxivraw_page2.xml").read_bytes(), report=lambda _: None
    )

    assert token is None  # the empty <resumptionToken/> of the last page
    assert [(v.number, v.created) for v in records[0].record.versions] == [
        (1, datetime(2007, 4, 1, 20, 46, 54, tzinfo=UTC)),
        (2, datetime(2007, 12, 8, 23, 47, 24, tzinfo=UTC)),
        (3, datetime(2008, 1, 13, 0, 36, 28, tzinfo=UTC)),
    ]


def test_no_records_match_is_an_empty_harvest():
    seen: list[httpx.Request] = []
    body = local_fixture("arxiv_oai", "error_noRecordsMatch.xml").read_bytes()
    client = fake_client(serve_in_order([httpx.Response(200, content=body)], seen))

    assert list(harvest(client, OAI, set_spec="cs:cs:AI", from_date=date(2026, 1, 10))) == []
    assert len(seen) == 1


def test_bad_argument_raises_a_clear_oai_error():
    body = local_fixture("arxiv_oai", "error_badArgument.xml").read_bytes()
    client = fake_client(serve_in_order([httpx.Response(200, content=body)], []))

    with pytest.raises(OaiError) as raised:
        list(harvest(client, OAI))

    assert raised.value.code == "badArgument"
    assert str(raised.value) == (
        "OAI-PMH error badArgument: Invalid date format for from. Reason: expected YYYY-MM-DD "
        f"(GET {OAI}?verb=ListRecords&metadataPrefix=arXiv)"
    )


def test_an_expired_token_fails_after_the_pages_already_read():
    pages = [
        httpx.Response(200, content=local_fixture("arxiv_oai", name).read_bytes())
        for name in ("arxivraw_page1.xml", "error_badResumptionToken.xml")
    ]
    client = fake_client(serve_in_order(pages, []))
    records = harvest(client, OAI, metadata_prefix="arXivRaw")

    got = [next(records).record.arxiv_id, next(records).record.arxiv_id]
    with pytest.raises(OaiError) as raised:
        next(records)

    assert got == ["0704.0001", "0704.0002"]
    assert raised.value.code == "badResumptionToken"
    assert raised.value.description.startswith(
        "The value of the resumptionToken argument is invalid or expired. Reason: token expired (GET "
    )


def test_a_repeated_resumption_token_stops_the_harvest():
    page = local_fixture("arxiv_oai", "arxivraw_page1.xml").read_bytes()
    client = fake_client(serve_in_order([httpx.Response(200, content=page)] * 2, []))

    with pytest.raises(UpstreamError, match="came back twice"):
        list(harvest(client, OAI, metadata_prefix="arXivRaw"))


def test_truncated_body_raises_a_one_line_upstream_error():
    body = shared_fixture("arxiv_oai", "agentgraph", "arxiv_oai.xml").read_bytes()
    client = fake_client(serve_in_order([httpx.Response(200, content=body[: len(body) // 2])], []))

    with pytest.raises(UpstreamError) as raised:
        list(harvest(client, OAI))

    message = str(raised.value)
    assert message.startswith(
        f"GET {OAI}?verb=ListRecords&metadataPrefix=arXiv: OAI-PMH response is not well-formed XML ("
    )
    assert "\n" not in message


def test_an_error_without_the_oai_envelope_is_rejected():
    # hand-edited by paperhive to test malformed responses: a bare <error> element
    body = shared_fixture(*NOCK, "bodies", "oaipmh-errors-should-reject-malformed-xml-arxiv.0.status200.xml")

    with pytest.raises(UpstreamError, match=r"^not an OAI-PMH response \(root element <error>\)$"):
        parse_list_records(body.read_bytes())


def test_mismatched_tags_are_not_well_formed():
    with pytest.raises(UpstreamError, match=r"^OAI-PMH response is not well-formed XML \(mismatched tag"):
        parse_list_records(b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords></OAI-PMH>')


def test_entity_expansion_is_refused():
    body = local_fixture("xml", "billion_laughs.xml").read_bytes()

    with pytest.raises(UpstreamError, match=r"^OAI-PMH response uses a forbidden XML construct"):
        parse_list_records(body)


def test_only_mapped_metadata_formats_can_be_harvested():
    client = fake_client(serve_in_order([], []))

    with pytest.raises(ValueError, match="metadata_prefix must be one of arXiv, arXivRaw"):
        list(harvest(client, OAI, metadata_prefix="oai_dc"))


@pytest.mark.parametrize(
    ("authors", "names"),
    [
        ("Ileana Streinu and Louis Theran", ["Ileana Streinu", "Louis Theran"]),
        ("A. Smith, B. Jones, and C. Li", ["A. Smith", "B. Jones", "C. Li"]),  # Oxford comma
        ("C. Bal\\'azs, E. L.\n  Berger", ["C. Bal\\'azs", "E. L. Berger"]),  # LaTeX kept, wrap joined
        ("H. C. {\\O}rsted and J. {Smith, Jr}", ["H. C. {\\O}rsted", "J. {Smith, Jr}"]),
        (
            "A. S. Mishchenko (1 and 2) and N. Nagaosa (1 and 3) ((1) CREST, Japan, (2) RRC, (3) Tokyo)",
            ["A. S. Mishchenko", "N. Nagaosa"],
        ),
        ("Anand Sandhu and Sand Andersen", ["Anand Sandhu", "Sand Andersen"]),
        ("A. Author (unclosed, B. Author", ["A. Author (unclosed", "B. Author"]),
    ],
)
def test_split_author_list(authors, names):
    assert split_author_list(authors) == names
