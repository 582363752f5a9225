"""Importing into a library end to end, in-process: the upload form (CSRF), papers already here
saved at once, the rest fetched by the background job from a fake arXiv serving recorded
responses, the progress page (refreshing while it runs, the unmatched list after), pasted ids,
hostile files refused with nothing written, limits, and privacy."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
from app_client import listed_ids, open_client
from arxiv_fake import TITLES, fake_arxiv
from community import log_in_as, make_member
from conftest import make_record
from sqlalchemy import func, select

from paperboy.services.background import start_library_imports
from paperboy.services.library_imports import MAX_UNFINISHED, import_ids, import_progress, run_library_imports
from paperboy.storage.engine import now_utc
from paperboy.storage.schema import library_imports, library_items

HERE = ("2506.00001", "2506.00002")  # in the catalogue before the import
BIBTEX = r"""@misc{lovelace2025study,
      title={A study of 2506.00001},
      author={Ada Lovelace and Alan Turing},
      year={2025},
      eprint={2506.00001},
      archivePrefix={arXiv},
      primaryClass={cs.LG},
      url={https://arxiv.org/abs/2506.00001},
}

@article{turing2025study,
  title={A {S}tudy of 2506.00002},
  author={Turing, Alan},
  journal={Journal of Things},
  year={2025}
}

@misc{aew10,
  title = {Proceedings of {Workshop} {AEW10}},
  url = {http://arxiv.org/abs/1707.08567v1},
  doi = {10.48550/arXiv.1707.08567},
  note = {arXiv:1707.08567 [cs]},
}

@article{hot2006,
  title={Frequency of hot Jupiters},
  journal={arXiv preprint astro-ph/0601001},
  note={arXiv: astro-ph/0601001},
  year={2006}
}

@misc{unknown2025,
  title={A paper arXiv never had},
  eprint={2512.99999},
  archivePrefix={arXiv},
}

@inproceedings{he2016deep,
  title={Deep residual learning for image recognition},
  author={He, Kaiming},
  year={2016}
}
"""
_REFRESH = re.compile(r'<meta http-equiv="refresh" content="\d+">')


@pytest.fixture
def catalogue(add_papers):
    add_papers(*(make_record(arxiv_id) for arxiv_id in HERE))


@pytest.fixture
def arxiv(settings):
    with fake_arxiv() as (url, asked):
        yield settings.replace(arxiv_api_url=url), asked


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _upload(client, csrf, data: bytes, name: str = "My Library.bib", **extra):
    files = {"file": (name, data, "application/octet-stream")}
    return client.post("/library/imports", data={"csrf_token": csrf, **extra}, files=files)


def _counts(html: str) -> dict[str, int]:
    found = re.findall(r'<dd id="count-(\w+)">(\d+)</dd>', html)
    return {name: int(value) for name, value in found}


def test_a_bibtex_upload_saves_what_is_here_at_once_and_the_rest_after_the_fetch(arxiv, engine, catalogue):
    settings, asked = arxiv
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        form = client.get("/library/imports")
        assert form.status_code == 200
        assert form.headers["cache-control"] == "private, no-store"
        answer = _upload(client, csrf, BIBTEX.encode())
        assert answer.status_code == 303
        page_url = answer.headers["location"]
        assert re.fullmatch(r"/library/imports/\d+", page_url)
        running = client.get(page_url)
        assert running.headers["cache-control"] == "private, no-store"
        assert _REFRESH.search(running.text)
        assert _counts(running.text) == {"matched": 2, "fetched": 0, "waiting": 3, "unmatched": 1}
        assert "Deep residual learning for image recognition" in running.text
        assert listed_ids(client.get("/library").text) == list(HERE)  # in the file's order

        assert run_library_imports(engine, settings) == 1  # what `serve`'s background job runs
        assert asked == ["1707.08567,astro-ph/0601001,2512.99999"]  # one request, politely
        done = client.get(page_url)
        assert not _REFRESH.search(done.text)
        assert _counts(done.text) == {"matched": 2, "fetched": 2, "waiting": 0, "unmatched": 2}
        assert "2512.99999: A paper arXiv never had" in done.text
        assert listed_ids(client.get("/library").text) == [*HERE, "1707.08567", "astro-ph/0601001"]
        assert TITLES["1707.08567"] in client.get("/papers/1707.08567").text
        assert "My Library.bib" in client.get("/library/imports").text
        assert f'<a href="{page_url}">My Library.bib</a> (done)' in client.get("/library").text
    assert run_library_imports(engine, settings) == 0  # nothing left to do


def test_pasted_ids_in_every_spelling(arxiv, engine, catalogue):
    settings, _ = arxiv
    pasted = "arXiv:2506.00001v2\nhttps://arxiv.org/pdf/1605.08386v1\n\n10.48550/arXiv.2506.00002\nnonsense"
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        answer = client.post("/library/imports", data={"csrf_token": csrf, "ids": pasted})
        assert answer.status_code == 303
        run_library_imports(engine, settings)
        page = client.get(answer.headers["location"]).text
        assert _counts(page) == {"matched": 2, "fetched": 1, "waiting": 0, "unmatched": 1}
        assert "nonsense" in page
        assert set(listed_ids(client.get("/library").text)) == {*HERE, "1605.08386"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"@misc{a, title={Unclosed,\n}\n@misc{b, eprint={2506.00001}, archivePrefix={arXiv}}\n", "line 1"),
        ("@misc{a, title={Gödel}}".encode("latin-1"), "not UTF-8"),
        (b"", "empty"),
        (b'{"format": "paperboy-library", "version": 1, "saved": [{"arxiv_id": 5}]}', "not one"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_its_reason_and_nothing_is_written(
    settings, engine, catalogue, data, reason
):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        answer = _upload(client, csrf, data)
        assert answer.status_code == 400
        assert reason in answer.text
        assert 'name="file"' in answer.text  # the form again, to try another file
    assert _count(engine, library_imports) == 0
    assert _count(engine, library_items) == 0


def test_uploads_over_the_size_limit_and_nul_bytes_are_refused(settings, engine):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        assert _upload(client, csrf, b"2506.00001\n" * 300_000).status_code == 413
        assert _upload(client, csrf, b"2506.00001\x00\n").status_code == 400
        # 1.2 MB: over the 1 MiB of other forms, under the 2 MB of imports
        bigger_than_a_form = b"".join(b"2506.%05d # %s\n" % (n, b"a comment " * 30) for n in range(4_000))
        assert _upload(client, csrf, bigger_than_a_form).status_code == 303
    assert _count(engine, library_imports) == 1


def test_a_member_has_at_most_a_few_imports_running(settings, engine):
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        for number in range(MAX_UNFINISHED):
            assert _upload(client, csrf, f"2512.{number:05d}".encode()).status_code == 303
        refused = _upload(client, csrf, b"2512.99999")
        assert refused.status_code == 429
        assert "still running" in refused.text
    assert _count(engine, library_imports) == MAX_UNFINISHED


def test_an_import_is_its_owners_alone(arxiv, engine, catalogue):
    settings, _ = arxiv
    with open_client(settings) as client:
        csrf = log_in_as(client, make_member(engine, "ada"))
        page_url = _upload(client, csrf, BIBTEX.encode()).headers["location"]
        client.cookies.clear()
        assert client.get(page_url).status_code == 303  # anonymous: to the login page
        assert client.get("/library/imports").headers["location"] == "/login?next=/library/imports"
        log_in_as(client, make_member(engine, "eve", role="moderator"))
        assert client.get(page_url).status_code == 404
        assert client.get("/library/imports/999999").status_code == 404
        assert "My Library.bib" not in client.get("/library/imports").text
        assert listed_ids(client.get("/library").text) == []


def test_arxiv_failing_puts_the_import_back_then_marks_it_failed(engine, catalogue, settings):
    with fake_arxiv(status=503) as (url, asked), open_client(settings) as client:
        busy = settings.replace(arxiv_api_url=url, http_retries=0)
        csrf = log_in_as(client, make_member(engine, "ada"))
        page_url = _upload(client, csrf, b"2506.00001\n1707.08567\n").headers["location"]
        assert run_library_imports(engine, busy) == 1
        page = client.get(page_url).text
        assert "trying again" in page
        assert _REFRESH.search(page)
        assert run_library_imports(engine, busy) == 0  # put back: it waits before the next try
        for minutes in (6, 12):
            assert (
                run_library_imports(engine, busy, clock=lambda m=minutes: now_utc() + timedelta(minutes=m))
                == 1
            )
        page = client.get(page_url).text
        assert "It stopped: arXiv could not be reached" in page
        assert not _REFRESH.search(page)
        assert _counts(page)["matched"] == 1  # what was here stays saved
        assert len(asked) == 3
        assert listed_ids(client.get("/library").text) == ["2506.00001"]


def test_serves_background_job_fetches_what_any_worker_queued(arxiv, engine, catalogue):
    """The thread `paperboy serve` starts (services/background.py) finds the queued import in
    the database, as it would one queued by any web worker, and fetches its papers."""
    settings, asked = arxiv
    ada = make_member(engine, "ada")
    queued = import_ids(engine, settings, ada, ["2506.00001", "arXiv:1605.08386v1"], "127.0.0.1")
    assert (queued.status, queued.matched, queued.waiting) == ("queued", 1, 1)
    stop = threading.Event()
    thread = start_library_imports(engine, settings, stop=stop, every=0.05)
    try:
        deadline = time.monotonic() + 30
        while (progress := import_progress(engine, ada, queued.id)) and not progress.finished:
            assert time.monotonic() < deadline, "the background job did not finish the import"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert (progress.status, progress.fetched, progress.unmatched) == ("done", 1, [])
    assert asked == ["1605.08386"]
