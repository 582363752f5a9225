"""A digest run over several processes: the waiting subscribers dealt into `digest_processes`
shares, each share sent by a process of its own, so that picking, ranking members' "For you"
and rendering (Python, one core per process) use every core of the host.

The run that holds the edition's lease (services/digest_sender.py) deals the shares and waits;
each process reads the edition and, when members wait, the vectors itself, and sends its share
exactly as a one-process run sends everything (its own `digest_connections`, the send log
written mail by mail, the lease's heartbeat under the holder's name). A subscriber is in one
share only, and every mail is recorded as it is accepted, so exactly-once holds as before: a
share that fails leaves its recorded mails recorded and the next run sends the rest. The
processes are started fresh ("spawn", safe beside `serve`'s threads) and die with the run's
process (Linux's parent-death signal), so no share goes on mailing after its run was killed
and another run took the lease over.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Engine

from paperboy.config import Settings
from paperboy.domain.digest import Edition, SendReport, Subscription
from paperboy.services.web_workers import usable_cores
from paperboy.storage import digests as store
from paperboy.storage.engine import now_utc
from paperboy.storage.transactions import write_transaction

SUBSCRIBERS_PER_PROCESS = 500  # below this a process's start (imports, the vectors) costs more than it saves
MOST_PROCESSES = 4  # a host's web workers keep some cores while an edition is sent
PR_SET_PDEATHSIG = 1
BEAT_EVERY_S = 10.0  # the holder keeps the lease while the shares start (their heartbeats follow)


def process_count(settings: Settings, waiting: int) -> int:
    """How many processes send `waiting` subscribers: `digest_processes` (0: one per core, at
    most MOST_PROCESSES; cores as `serve`'s workers count them, a container's quota included),
    fewer when the shares would be small; 1 off Linux."""
    if not sys.platform.startswith("linux"):
        return 1
    wanted = settings.digest_processes or min(usable_cores(), MOST_PROCESSES)
    return max(1, min(wanted, waiting // SUBSCRIBERS_PER_PROCESS))


def shares(waiting: list[Subscription], count: int) -> list[list[Subscription]]:
    """The subscribers dealt in turn into `count` shares, members apart from the others (each
    share gets as many of each, give or take one, however they are ordered), every share in
    the order of `waiting`."""
    members = [s.id for s in waiting if s.user_id is not None]
    others = [s.id for s in waiting if s.user_id is None]
    share_of = {sid: n % count for n, sid in enumerate(members + others)}
    dealt: list[list[Subscription]] = [[] for _ in range(count)]
    for subscription in waiting:
        dealt[share_of[subscription.id]].append(subscription)
    return dealt


def send_in_processes(
    engine: Engine,
    settings: Settings,
    report: SendReport,
    sender: str,
    moment: datetime,
    waiting: list[Subscription],
    count: int,
) -> None:
    """Send `waiting` from `count` processes under the lease `sender` holds, the shares' counts
    added to `report`; `digest_rate` is shared out. The first failure of a share is raised once
    every share has stopped."""
    url = engine.url.render_as_string(hide_password=False)
    each = replace(settings, digest_rate=settings.digest_rate / count)
    context = multiprocessing.get_context("spawn")
    initargs = (os.getpid(),)
    with ProcessPoolExecutor(count, mp_context=context, initializer=_die_with, initargs=initargs) as pool:
        futures = [
            pool.submit(send_share, url, each, report.edition, sender, moment, share)
            for share in shares(waiting, count)
        ]
        while wait(futures, timeout=BEAT_EVERY_S).not_done:
            with write_transaction(engine) as conn:
                store.heartbeat(conn, report.edition.key, sender, now_utc())
    report.processes = count
    done = [future.result() for future in futures if future.exception() is None]
    for name in ("subscribers", "sent", "skipped", "bounced", "deferred", "retries"):
        setattr(report, name, getattr(report, name) + sum(getattr(share, name) for share in done))
    for future in futures:
        if (failure := future.exception()) is not None:
            raise failure


def send_share(
    url: str, settings: Settings, edition: Edition, sender: str, moment: datetime, share: list[Subscription]
) -> SendReport:
    """One process's share (run in that process): the edition, the vectors when members wait, a
    SendingRun under the holder's lease."""
    from paperboy.domain.trending import trending_params
    from paperboy.services.digest_personal import PersonalDigests, ready_index
    from paperboy.services.digest_sender import Lease, SendingRun
    from paperboy.services.digest_vectors import ProcessVectors
    from paperboy.services.digests import edition_content
    from paperboy.storage.engine import make_engine

    engine = make_engine(url)
    report = SendReport(edition)
    own = ProcessVectors(engine, settings) if any(s.user_id is not None for s in share) else None
    try:
        content = edition_content(engine, settings, edition, moment)
        index = ready_index(own) if own is not None else None
        personal = PersonalDigests(engine, content, index, trending_params(settings), moment)
        lease = Lease(edition.key, sender)
        SendingRun(engine, settings, content, lease, report, now=now_utc, personal=personal).send(share)
    finally:
        if own is not None:
            own.close()
        engine.dispose()
    return report


def _die_with(parent: int) -> None:
    """In each share's process: end when the run's process ends, however it ends."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: process_count chose one process
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before the signal was asked for
        os.kill(os.getpid(), signal.SIGKILL)
