"""A fake arXiv API for library imports: a real HTTP server on 127.0.0.1 answering `id_list`
look-ups with the entries of the recorded responses in ../shared/fixtures (one recording per id,
joined into one feed when several ids are asked at once, as arXiv answers); ids without a
recording get arXiv's recorded answer for an id it does not know (no entries).

Not a conftest.py (see app_client.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from conftest import shared_path
from fixture_server import fixture_server

BODIES = ("fixtures", "arxiv_api", "arxiv.py_golden_2026", "bodies")
RECORDED = {
    "1707.08567": "id_1707.08567_s0_m100_6a1afebfc6a3.xml",
    "astro-ph/0601001": "id_astro-ph_0601001_s0_m100_3150dca9dc76.xml",
    "1605.08386": "id_1605.08386_s0_m100_199195aa31ad.xml",
}
UNKNOWN_ANSWER = "id_0808.05394_s0_m100_7b0c7d0a7cdd.xml"  # arXiv's 200 with no entries
TITLES = {
    "1707.08567": "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications",
    "astro-ph/0601001": "Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE-III Transit Surveys "
    "Toward the Galactic Bulge and Carina",
    "1605.08386": "Heat-bath random walks with Markov bases",
}


def recorded_feed(ids: list[str]) -> bytes:
    """One Atom feed with the recorded entry of each id that has one, in the order asked."""
    shell = shared_path(*BODIES, UNKNOWN_ANSWER).read_bytes()
    entries = b"".join(_entry(RECORDED[arxiv_id]) for arxiv_id in ids if arxiv_id in RECORDED)
    return shell.replace(b"</feed>", entries + b"</feed>")


def _entry(name: str) -> bytes:
    body = shared_path(*BODIES, name).read_bytes()
    start, end = body.index(b"<entry"), body.rindex(b"</entry>") + len(b"</entry>")
    return body[start:end]


@contextmanager
def fake_arxiv(status: int = 200) -> Iterator[tuple[str, list[str]]]:
    """(the API's URL, the id lists asked for, in order) while the fake runs."""
    asked: list[str] = []

    def respond(path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        id_list = query.get("id_list", [""])[0]
        asked.append(id_list)
        if status != 200:
            return status, {"Retry-After": "0", "Content-Type": "text/plain"}, b"Service Unavailable"
        return 200, {"Content-Type": "application/atom+xml"}, recorded_feed(id_list.split(","))

    with fixture_server(respond) as (base, _):
        yield f"{base}/api/query", asked
