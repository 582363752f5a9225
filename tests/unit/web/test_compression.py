"""web/compression.py: Starlette's gzip rules with ISA-L's compressor. Answers are decoded with
the standard library's gzip, whole and streamed, and the rules (size, type, Accept-Encoding)
are the same as Starlette's own middleware's."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from paperboy.web.compression import FastGZipMiddleware

PAGE = ("<article>" + "A card with an abstract about diffusion models. " * 40 + "</article>\n") * 150
GZIP = {"Accept-Encoding": "gzip, deflate"}


def _chunks() -> Iterator[bytes]:
    for start in range(0, len(PAGE), 70_000):
        yield PAGE[start : start + 70_000].encode()


async def page(request):
    return HTMLResponse(PAGE)


async def small(request):
    return HTMLResponse("<p>short</p>")


async def streamed(request):
    return StreamingResponse(_chunks(), media_type="text/html")


async def image(request):
    return Response(PAGE.encode(), media_type="image/png")


@pytest.fixture
def client() -> Iterator[TestClient]:
    endpoints = {"/page": page, "/small": small, "/streamed": streamed, "/image": image}
    app = Starlette(routes=[Route(path, endpoint) for path, endpoint in endpoints.items()])
    app.add_middleware(FastGZipMiddleware)
    with TestClient(app) as test_client:
        yield test_client


def _raw(client: TestClient, path: str, headers: dict[str, str]) -> tuple[dict[str, str], bytes]:
    """The answer's headers and its bytes as sent (not decoded by the client)."""
    with client.stream("GET", path, headers=headers) as response:
        return dict(response.headers), b"".join(response.iter_raw())


@pytest.mark.parametrize("path", ["/page", "/streamed"])
def test_a_large_answer_is_gzip_that_the_standard_library_decodes(client, path):
    headers, body = _raw(client, path, GZIP)
    assert headers["content-encoding"] == "gzip"
    assert "accept-encoding" in headers["vary"].lower()
    assert gzip.decompress(body) == PAGE.encode()
    assert len(body) < len(PAGE) // 5


def test_small_answers_images_and_clients_without_gzip_get_the_bytes_as_they_are(client):
    for path, headers in (("/small", GZIP), ("/image", GZIP), ("/page", {"Accept-Encoding": "identity"})):
        sent, body = _raw(client, path, headers)
        assert "content-encoding" not in sent, path
        assert body in (b"<p>short</p>", PAGE.encode())
