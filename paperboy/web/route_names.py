"""The route a request went to, as its path template (`/papers/{arxiv_id:path}`): the label of
/metrics' request counters and of access log lines. A path no route takes is "unmatched", so
that scanners asking for random paths add no series."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from starlette.routing import BaseRoute, Match
from starlette.types import Scope

UNMATCHED = "unmatched"
_KEPT = 4096  # paths whose template was found by matching (page-cache hits), least recent out
_found: OrderedDict[str, str] = OrderedDict()


def route_name(scope: Scope) -> str:
    """The template of the route that answered; for an answer given before routing (a page from
    the page cache, a refusal of the request guard), the template the path matches."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path or "/"
    return _matched(scope)


def _matched(scope: Scope) -> str:
    key = scope["path"]
    name = _found.get(key)
    if name is not None:
        _found.move_to_end(key)
        return name
    name = _match(scope)
    _found[key] = name
    if len(_found) > _KEPT:
        _found.popitem(last=False)
    return name


def _match(scope: Scope) -> str:
    router = getattr(scope.get("app"), "router", None)
    asked = {**scope, "type": "http"}
    for route in _routes(router):
        match, _ = route.matches(asked)
        if match is not Match.NONE:
            return str(getattr(route, "path", UNMATCHED)) or "/"
    return UNMATCHED


def _routes(router: object) -> Iterator[BaseRoute]:
    """The routes in the order the router tries them, included routers' routes in their place
    (FastAPI keeps an included router as one entry; paperboy includes them without a prefix)."""
    for route in getattr(router, "routes", ()):
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included)
        else:
            yield route
