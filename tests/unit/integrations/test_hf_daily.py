from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest
from upstream_fakes import fake_client, local_fixture, serve_in_order, shared_fixture

from paperboy.domain.models import HfSignal, PaperRecord, Version
from paperboy.integrations.hf_daily import HfApiError, fetch_daily_papers, parse_daily_papers
from paperboy.integrations.http import UpstreamError

HF_API = "https://huggingface.co/api"
RECORDING = ("hf_api", "sotawhat", "hf_daily_papers.json")


def by_id(papers: list[tuple[PaperRecord, HfSignal]]) -> dict[str, tuple[PaperRecord, HfSignal]]:
    return {record.arxiv_id: (record, signal) for record, signal in papers}


def test_all_recorded_items_parse():
    skipped: list[str] = []

    papers = parse_daily_papers(shared_fixture(*RECORDING).read_bytes(), report=skipped.append)

    assert len(papers) == 30
    assert skipped == []
    assert papers[0][0].arxiv_id == "2606.00467"


def test_record_fields():
    record, _ = by_id(parse_daily_papers(shared_fixture(*RECORDING).read_bytes()))["2606.00467"]

    assert record.title == (
        "On the Limits of LLM Adaptability: Impact of Model-Internalized Priors on "
        "Annotation Task Performance"
    )
    assert record.authors == ("Etienne Casanova", "Rafal Kocielnik", "R. Michael Alvarez")
    assert record.abstract is not None
    assert record.abstract.startswith("Large Language Models (LLMs) are increasingly")
    assert record.versions == (Version(1, datetime(2026, 5, 30, tzinfo=UTC)),)
    assert record.categories == ()  # Hugging Face does not say


def test_signals():
    papers = by_id(parse_daily_papers(shared_fixture(*RECORDING).read_bytes()))

    assert papers["2606.13392"][1] == HfSignal(
        arxiv_id="2606.13392",
        upvotes=103,
        submitted_on_daily_at=datetime(2026, 6, 12, tzinfo=UTC),
        submitted_by="ryanlee-dev",
        github_repo="https://github.com/MiniMax-AI/MSA",
        github_stars=251,
        project_page=None,
        num_comments=4,
    )
    assert papers["2606.13594"][1].project_page == "https://chicychen.github.io/dense-hetero-latent-mas/"
    assert papers["2606.13594"][1].github_repo is None


def test_hidden_authors_keep_their_place():
    record, _ = by_id(parse_daily_papers(shared_fixture(*RECORDING).read_bytes()))["2606.12575"]

    assert len(record.authors) == 10
    # Dengyang Jiang is hidden on Hugging Face (no profile link) but is still the fourth author
    assert record.authors[:5] == ("Dongyang Liu", "Ruoyi Du", "David Liu", "Dengyang Jiang", "Liangchen Li")


def test_fetch_asks_for_the_day():
    seen: list[httpx.Request] = []
    body = shared_fixture(*RECORDING).read_bytes()
    client = fake_client(serve_in_order([httpx.Response(200, content=body)], seen))

    papers = fetch_daily_papers(client, HF_API, date(2026, 6, 12))

    assert str(seen[0].url) == "https://huggingface.co/api/daily_papers?date=2026-06-12"
    assert len(papers) == 30


def test_a_truncated_body_raises_one_clear_line():
    body = local_fixture("hf_api", "truncated.json").read_bytes()
    client = fake_client(serve_in_order([httpx.Response(200, content=body)], []))

    with pytest.raises(HfApiError) as raised:
        fetch_daily_papers(client, HF_API, date(2026, 6, 12))

    message = str(raised.value)
    assert message.startswith(
        "GET https://huggingface.co/api/daily_papers?date=2026-06-12: daily papers "
        "response is not valid JSON ("
    )
    assert "\n" not in message
    assert isinstance(raised.value, UpstreamError)


def test_an_object_instead_of_a_list_is_an_error():
    with pytest.raises(HfApiError, match=r"^daily papers response is a JSON dict, expected a list$"):
        parse_daily_papers(b'{"error": "Invalid date"}')


def test_items_of_unexpected_shape_are_skipped_and_reported():
    skipped: list[str] = []

    papers = parse_daily_papers(
        local_fixture("hf_api", "unexpected_shapes.json").read_bytes(), report=skipped.append
    )

    [(record, signal)] = papers
    assert record.arxiv_id == "2606.13392"
    assert record.title == "MSA: a paper with a good shape"
    assert record.authors == ("Xunhao Lai", "Weiqi Xu")
    assert record.versions == ()  # publishedAt was not a date
    assert (signal.upvotes, signal.github_stars, signal.num_comments, signal.submitted_by) == (
        7,
        None,
        None,
        None,
    )
    assert skipped == [
        "Hugging Face daily papers item 2: not an object with a 'paper' object",
        "Hugging Face daily papers item 3: paper has no string 'id'",
        "Hugging Face daily papers item 4: paper has no string 'id'",
        "Hugging Face daily papers item 5: '2606.1' is not an arXiv id "
        "(expected e.g. 2506.12229 or hep-th/9901001)",
        "Hugging Face daily papers item 6: not an object with a 'paper' object",
        "Hugging Face daily papers item 7: not an object with a 'paper' object",
    ]


def test_nul_characters_never_reach_a_signal():
    import json

    items = json.loads(shared_fixture("hf_api", "sotawhat", "hf_daily_papers.json").read_bytes())[:1]
    items[0]["paper"]["githubRepo"] = "https://github.com/a/b\u0000"
    items[0]["paper"]["projectPage"] = "https://a.github.io/\u0000x"
    ((_, signal),) = parse_daily_papers(json.dumps(items).encode())
    assert signal.github_repo == "https://github.com/a/b"
    assert signal.project_page == "https://a.github.io/x"
