"""`paperboy digest`: send the due editions (for cron), preview a subscriber's next digest, and
show where subscriptions and editions stand."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from paperboy.cli_common import CommandError, add_command, migrated_engine
from paperboy.config import Settings


def add_digest(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    digest = add_command(commands, "digest", "E-mail digests: send, preview, status.", _help)
    digest.set_defaults(digest_parser=digest)
    actions = digest.add_subparsers(title="actions", metavar="ACTION")
    send = add_command(
        actions,
        "send",
        "Send the editions due today to every subscriber still waiting for them (safe to run "
        "again, or from cron every hour: each subscriber gets each edition once).",
        _send,
    )
    send.add_argument(
        "--date", type=_day, help="act as if today were this day, YYYY-MM-DD (default: today, UTC)"
    )
    send.add_argument(
        "--edition",
        metavar="KEY",
        help="send this edition only, due or not: daily:YYYY-MM-DD (a listing day) or weekly:YYYY-MM-DD",
    )
    preview = add_command(actions, "preview", "Print a subscriber's next digest (HTML).", _preview)
    preview.add_argument("email", metavar="EMAIL")
    preview.add_argument("--text", action="store_true", help="print the plain-text part instead")
    preview.add_argument("--date", type=_day, help="as if today were this day (default: today, UTC)")
    add_command(actions, "status", "Count subscriptions and show the latest editions.", _status)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a day: write YYYY-MM-DD") from None


def _help(args: argparse.Namespace, settings: Settings) -> int:
    args.digest_parser.print_help()
    return 2


def _send(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.domain.digest import EditionBusy, parse_edition_key
    from paperboy.integrations.mail import MailServerUnavailable
    from paperboy.services.digests import send_due_digests, send_edition

    try:
        with migrated_engine(settings) as engine:
            if args.edition:
                try:
                    edition = parse_edition_key(args.edition)
                except ValueError as exc:
                    raise CommandError(str(exc)) from None
                reports = [send_edition(engine, settings, edition)]
            else:
                reports = send_due_digests(engine, settings, today=args.date)
    except EditionBusy as exc:
        raise CommandError(f"{exc}; try again when it has finished") from None
    except MailServerUnavailable as exc:
        raise CommandError(f"{exc}; the mails sent so far are recorded, run again to send the rest") from None
    for report in reports:
        print(_summary(report))
    return 0 if all(report.finished for report in reports if report.subscribers) else 3


def _summary(report: object) -> str:
    from paperboy.domain.digest import SendReport

    assert isinstance(report, SendReport)
    key = report.edition.key
    if not report.subscribers:
        done = f", all {report.already} done before" if report.already else ""
        return f"{key}: nobody waiting{done}"
    parts = [f"{report.sent} sent", f"{report.skipped} with nothing to send", f"{report.bounced} bounced"]
    if report.deferred:
        parts.append(f"{report.deferred} deferred (the server refused them for now: run again later)")
    rate = f", {report.per_second:.0f} mails/s" if report.sent else ""
    rate += f" from {report.processes} processes" if report.processes > 1 else ""
    before = f"; {report.already} done before" if report.already else ""
    return f"{key}: {', '.join(parts)} in {report.seconds:.1f} s{rate}{before}"


def _preview(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.services.digests import preview_digest
    from paperboy.services.subscriptions import find_subscription

    with migrated_engine(settings) as engine:
        subscription = find_subscription(engine, args.email)
        if subscription is None:
            raise CommandError(f"no digest subscription for {args.email[:320]!r}")
        preview = preview_digest(engine, settings, subscription, today=args.date)
    if subscription.status != "active":
        print(f"paperboy: note: this subscription is {subscription.status}: it gets no mail", file=sys.stderr)
    if not preview.papers:
        print(
            f"paperboy: note: nothing in {preview.edition.key} passes its filters: no mail", file=sys.stderr
        )
    print(preview.text if args.text else preview.html, end="")
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from paperboy.services.digests import digest_status

    with migrated_engine(settings) as engine:
        status = digest_status(engine)
    shown = ", ".join(
        f"{status.subscriptions.get(name, 0)} {name}"
        for name in ("active", "pending", "unsubscribed", "bouncing")
    )
    print(f"subscriptions: {shown}")
    for edition in status.editions:
        state = (
            f"finished {edition.finished_at:%Y-%m-%d %H:%M} UTC" if edition.finished_at else "not finished"
        )
        sends = (
            ", ".join(f"{count} {status}" for status, count in sorted(edition.counts.items())) or "no mail"
        )
        print(f"{edition.key}: {state}; {sends}")
    return 0
