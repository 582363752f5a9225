"""A member's private feed: `/feeds/private/{token}.rss` (or .atom, .json), where the token is a
personal access token with the `feed` scope alone (made in Settings → API tokens, revoked there):
a single-purpose token, since a feed address ends up in feed readers and their services.

It lists the member's alerts first (services/alerts.py: those this feed showed before and those
no channel showed yet, which it claims: an alert seen on the site or mailed is never fed, and
one fed is shown as seen on the site and never mailed), then the latest listing day's papers
that the member's digest preferences select (categories, keywords, how many), trending first,
or in their "For you" order when their digest is ranked "For you" (the feed follows the digest's
choice; its personal section is the mail's alone: the feed already is personal); without a
digest subscription, the day's top papers. The token in the URL is the credential:
feed readers send no cookies or headers. A bad or revoked token is a 404 that says no more.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from starlette.responses import Response

from paperboy.domain.digest import MAX_TOP_N, Preferences
from paperboy.services.api_tokens import user_for_feed_token
from paperboy.services.digests import personal_papers
from paperboy.services.notifications import Notification, alerts_to_feed, describe
from paperboy.services.subscriptions import subscription_of
from paperboy.web.conditional import conditional
from paperboy.web.context import app_context
from paperboy.web.feed_formats import (
    MEDIA_TYPES,
    FeedEntry,
    FeedInfo,
    entry_for_alert,
    entry_for_paper,
    render_feed,
)
from paperboy.web.urls import day_url, paper_url

router = APIRouter(include_in_schema=False)
PRIVATE_HEADERS = {"Cache-Control": "private, max-age=300, must-revalidate", "Referrer-Policy": "no-referrer"}


@router.api_route("/feeds/private/{token}.{fmt}", methods=["GET", "HEAD"])
def private_feed(request: Request, token: str, fmt: str) -> Response:
    if fmt not in MEDIA_TYPES:
        return _plain(404, f"no format {fmt[:20]!r}: choose one of {', '.join(MEDIA_TYPES)}")
    ctx = app_context(request)
    user = user_for_feed_token(ctx.engine, token[:200])
    if user is None:
        return _plain(404, "no such feed: the address is mistyped, or its token was revoked")
    subscription = subscription_of(ctx.engine, user)
    preferences = subscription.preferences if subscription else Preferences(top_n=MAX_TOP_N)
    index = ctx.searcher.meaning.vector_index() if preferences.for_you else None
    found = personal_papers(ctx.engine, ctx.settings, preferences, user_id=user.id, index=index)
    base = ctx.settings.public_url
    day = found[0].day if found else None
    title = f"{ctx.settings.site_name}: papers for {user.name}"
    what = "your digest's filters" if subscription else "trending"
    what += ', in your "For you" order' if preferences.for_you else ""
    description = f"The latest day's papers by {what}" + (f", {found[0].label}" if found else "")
    info = FeedInfo(title, description, base + (day_url(day) if day else "/"), base + request.url.path)
    entries = [_alert_entry(alert, base) for alert in alerts_to_feed(ctx.engine, user.id)]
    entries += [
        entry_for_paper(item.paper, base + paper_url(item.paper.arxiv_id), upvotes=item.upvotes, listed=day)
        for item in (found[1] if found else [])
    ]
    return conditional(request, render_feed(fmt, info, entries), MEDIA_TYPES[fmt], headers=PRIVATE_HEADERS)


def _alert_entry(alert: Notification, base: str) -> FeedEntry:
    text = describe(alert) + (f": {alert.detail}" if alert.kind in ("version", "journal", "activity") else "")
    title = f"Alert: {text} — {alert.title}"
    return entry_for_alert(
        f"{base}/notifications#alert-{alert.id}",
        base + paper_url(alert.arxiv_id),
        title,
        text,
        alert.created_at,
    )


def _plain(status_code: int, message: str) -> Response:
    return PlainTextResponse(message + "\n", status_code=status_code, headers={"Cache-Control": "no-store"})
