"""`GET /api/v1/me/recommendations`: a period's papers ranked for the token's account ("For
you", services/recommend.py), each with its arXiv id, score and reason. Scope: read. Never
kept by anyone: private, no-store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import Engine
from starlette.responses import Response

from paperboy.domain.calendar import Period
from paperboy.domain.trending import trending_params
from paperboy.services.feed import latest_period
from paperboy.services.recommend import recommend_papers
from paperboy.web.api.account import Reader
from paperboy.web.api.errors import API_ERRORS, ApiError
from paperboy.web.api.models import Recommendations
from paperboy.web.api.params import (
    DAY_SCHEMA,
    MONTH_SCHEMA,
    WEEK_SCHEMA,
    integer_schema,
    period,
    whole_number,
)
from paperboy.web.conditional import json_answer
from paperboy.web.context import app_context

router = APIRouter(prefix="/api/v1", tags=["account"], responses=API_ERRORS)
MAX_LIMIT = 1000  # a busy day's whole listing fits in one answer
DEFAULT_LIMIT = 50


@router.get(
    "/me/recommendations",
    response_model=Recommendations,
    summary="Papers of a day, week or month ranked for the account",
)
def recommendations(
    request: Request,
    user: Reader,
    date: Annotated[str | None, DAY_SCHEMA, Query(description="A day, 2025-06-12.")] = None,
    week: Annotated[str | None, WEEK_SCHEMA, Query(description="An ISO week, 2025-W24.")] = None,
    month: Annotated[str | None, MONTH_SCHEMA, Query(description="A month, 2025-06.")] = None,
    limit: Annotated[
        str | None, integer_schema(1, MAX_LIMIT), Query(description=f"Papers per answer, 1 to {MAX_LIMIT}.")
    ] = None,
) -> Response:
    """That period's papers (date, week or month; none: the latest listing day; several: the
    day wins over the week, the week over the month) ranked for the account, best first.
    Scope: read."""
    size = whole_number("limit", limit, default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    ctx = app_context(request)
    chosen = _period(ctx.engine, date, week, month)
    found = recommend_papers(
        ctx.engine,
        ctx.searcher.meaning.vector_index(),
        user.id,
        chosen,
        trending=trending_params(ctx.settings),
    )
    body = {
        "period": chosen.key,
        "kind": chosen.kind,
        "total": found.total,
        "limit": size,
        "personal_share": found.signals.personal_share,
        "cold": found.cold,
        "items": [
            {
                "id": item.arxiv_id,
                "title": item.title,
                "score": round(item.score, 6),
                "reason": item.reason.text,
                "reason_kind": item.reason.kind,
            }
            for item in found.page(0, size)
        ],
    }
    answer = json_answer(body)
    answer.headers["Cache-Control"] = "private, no-store"
    return answer


def _period(engine: Engine, date: str | None, week: str | None, month: str | None) -> Period:
    given = [
        (name, text) for name, text in (("date", date), ("week", week), ("month", month)) if text is not None
    ]
    periods = [period(name, text, ("day",) if name == "date" else (name,)) for name, text in given]
    if periods:  # each checked; the shortest wins
        return periods[0]
    latest = latest_period(engine, "day")
    if latest is None:
        raise ApiError(404, "not_found", "The catalogue has no listings yet.")
    return latest
