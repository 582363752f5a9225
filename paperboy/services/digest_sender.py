"""The worker of services/digests.py's `send_edition`: the edition's lease, and the run that
mails the content it was handed over several connections.

Only one run sends an edition at a time: it holds the lease on the edition's row and renews it
with a heartbeat. The lease of a run that died on this host (its process is gone) is free at
once; elsewhere it is free after LEASE_STALE without a heartbeat.

Inside a run, `digest_connections` threads each keep one connection to the mail server and take
the next waiting subscriber from a shared queue: while one waits for the server's answer, another
renders. Each mail is recorded as soon as the server accepted it (storage/digests.py).
"""

from __future__ import annotations

import heapq
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from paperboy.config import Settings
from paperboy.domain.digest import (
    DigestPaper,
    Edition,
    EditionBusy,
    EditionContent,
    Progress,
    SendReport,
    Subscription,
)
from paperboy.integrations.mail import Delivery, DeliveryFailed, open_delivery
from paperboy.services.digest_mail import DigestRenderer
from paperboy.services.digest_personal import PersonalDigests
from paperboy.services.notifications import Notification, alerts_to_mail
from paperboy.services.subscriptions import DigestLinks
from paperboy.storage import digests as store
from paperboy.storage import seen
from paperboy.storage.notifications import mark_shown as mark_alerts_shown
from paperboy.storage.transactions import write_transaction

LEASE_STALE = timedelta(seconds=60)  # a run silent this long has stopped: another may take over
HEARTBEAT_EVERY_S = 10.0
MAILED_KEPT = timedelta(days=120)  # no edition offers a paper listed longer ago than this


# --- the lease ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Lease:
    key: str
    sender: str
    finished: bool = False
    beat_at: float = field(default_factory=time.monotonic)


@contextmanager
def hold_edition(engine: Engine, edition: Edition, now: Callable[[], datetime]) -> Iterator[Lease]:
    """The edition's row (created on first use) held by this run; EditionBusy when another has it.
    Set `lease.finished` before leaving to mark the edition done."""
    lease = Lease(edition.key, f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    moment = now()
    with write_transaction(engine) as conn:
        store.ensure_edition(conn, edition, moment)
        holder = store.edition_holder(conn, edition.key)
        dead = [holder] if holder and _is_dead_local_run(holder) else []
        if not store.claim_edition(conn, edition.key, lease.sender, moment, moment - LEASE_STALE, dead):
            raise EditionBusy(f"the {edition.key} edition is being sent by another run ({holder})")
    try:
        yield lease
    finally:
        with write_transaction(engine) as conn:
            store.release_edition(conn, edition.key, lease.sender, finished=now() if lease.finished else None)


def _is_dead_local_run(sender: str) -> bool:
    """True for a run of this host whose process is gone (killed): its lease is free at once."""
    parts = sender.rsplit(":", 2)  # host:pid:run
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


# --- the run --------------------------------------------------------------------------------------


@dataclass(order=True, slots=True)
class _Retry:
    due: float  # time.monotonic()
    subscription_id: int
    attempts: int = field(compare=False)
    subscription: Subscription = field(compare=False)


class SendingRun:
    """Picks, renders, delivers and records, mail by mail, over several connections."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        content: EditionContent,
        lease: Lease,
        report: SendReport,
        *,
        now: Callable[[], datetime],
        personal: PersonalDigests,
        deliveries: Callable[[], Delivery] | None = None,
    ) -> None:
        self.engine, self.settings, self.content, self.lease = engine, settings, content, lease
        self.personal = personal
        self.edition, self.report, self.now = content.edition, report, now
        self.deliveries = deliveries or (lambda: open_delivery(settings))
        self.renderer = DigestRenderer(settings)
        self.links = DigestLinks(engine, settings)
        self.started = now()
        self.stopped: set[int] = set()  # unsubscribed (or bounced elsewhere) since the run began
        self.mailed: dict[int, set[int]] = {}
        self.lock = threading.Lock()  # the report, the heartbeat, the pace
        self.interval = 1.0 / settings.digest_rate if settings.digest_rate > 0 else 0.0
        self.next_slot = time.monotonic()
        self.failed = threading.Event()
        self.errors: list[BaseException] = []

    def send(self, waiting: list[Subscription], progress: Progress | None = None) -> None:
        self.report.subscribers = len(waiting)
        self.progress = progress
        self.personal.expect(waiting)
        with write_transaction(self.engine) as conn:
            store.prune_mailed(conn, self.started - MAILED_KEPT)
        with self.engine.connect() as conn:
            self.mailed = store.mailed_among(conn, self.content.paper_ids, edition=self.edition)
            attempts = store.send_attempts(conn, self.edition.key)
        work: queue.SimpleQueue[tuple[Subscription, int]] = queue.SimpleQueue()
        for subscription in waiting:
            work.put((subscription, attempts.get(subscription.id, 0)))
        count = max(1, min(self.settings.digest_connections, len(waiting)))
        threads = [
            threading.Thread(target=self._work, args=(work,), name=f"digest-{i}") for i in range(count)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.errors:
            raise self.errors[0]

    def _work(self, work: queue.SimpleQueue[tuple[Subscription, int]]) -> None:
        """One connection's loop: new mails while there are any, retries when they fall due."""
        retries: list[_Retry] = []
        delivery = self.deliveries()
        try:
            while not self.failed.is_set():
                if retries and retries[0].due <= time.monotonic():
                    retry = heapq.heappop(retries)
                    with self.lock:
                        self.report.retries += 1
                    self._mail(delivery, retry.subscription, retry.attempts, retries)
                    continue
                try:
                    subscription, attempts = work.get_nowait()
                except queue.Empty:
                    if not retries:
                        return
                    self._sleep_until(retries[0].due)
                    continue
                self._mail(delivery, subscription, attempts, retries)
        except BaseException as exc:
            self.errors.append(exc)
            self.failed.set()
        finally:
            delivery.close()

    def _mail(
        self, delivery: Delivery, subscription: Subscription, attempts: int, retries: list[_Retry]
    ) -> None:
        if subscription.id in self.stopped:
            return
        mail = self.personal.pick(subscription, self.mailed.get(subscription.id, set()))
        if not mail.papers:
            self._record(subscription, "skipped", attempts, [])
            return
        links = self.links.mail_links(subscription)
        alerts = (
            alerts_to_mail(self.engine, subscription.user_id) if subscription.user_id and mail.alerts else []
        )
        envelope = self.renderer.envelope(
            self.edition, subscription, mail.papers, links, self.now(), alerts, mail.section
        )
        papers = mail.papers + [pick.item for pick in mail.section]  # the section is mailed too
        self._pace()
        try:
            delivery.deliver(envelope)
        except DeliveryFailed as exc:
            self._refused(subscription, papers, attempts + 1, exc, retries)
            return
        self._record(
            subscription, "sent", attempts + 1, papers, message_id=envelope.message_id, alerts=alerts
        )

    def _refused(
        self,
        subscription: Subscription,
        papers: list[DigestPaper],
        attempts: int,
        exc: DeliveryFailed,
        retries: list[_Retry],
    ) -> None:
        if exc.permanent:
            self._record(subscription, "bounced", attempts, papers, error=str(exc), bounce=True)
        elif attempts < self.settings.digest_retries:
            wait = self.settings.digest_retry_seconds * 2 ** (attempts - 1)
            heapq.heappush(retries, _Retry(time.monotonic() + wait, subscription.id, attempts, subscription))
        else:
            self._record(subscription, "deferred", attempts, papers, error=str(exc))

    def _record(
        self,
        subscription: Subscription,
        status: str,
        attempts: int,
        papers: list[DigestPaper],
        *,
        message_id: str | None = None,
        error: str | None = None,
        bounce: bool = False,
        alerts: Sequence[Notification] = (),
    ) -> None:
        moment = self.now()
        sent = [(item.paper.id, item.paper.arxiv_id) for item in papers]
        record = store.SendRecord(
            self.edition.key, subscription.id, status, attempts, sent, moment, message_id, error
        )
        with write_transaction(self.engine) as conn:
            store.record_send(conn, record)
            if status == "sent" and subscription.user_id is not None:  # mailed papers count as seen
                seen.insert_seen(conn, subscription.user_id, [pid for pid, _ in sent], moment, seen.MAILED)
            if alerts and subscription.user_id:  # mailed with the send record: never mailed again
                mark_alerts_shown(conn, subscription.user_id, [a.id for a in alerts], "mailed", moment)
            if bounce:
                store.update_subscription(
                    conn, subscription.id, moment, status="bouncing", bounce_reason=error
                )
            self._beat_if_due(conn, moment)
        with self.lock:
            setattr(self.report, status, getattr(self.report, status) + 1)
        if self.progress is not None:
            self.progress(self.report)

    def _beat_if_due(self, conn: Connection, moment: datetime) -> None:
        """Keep the lease, and learn who left since the run began (they get nothing more)."""
        with self.lock:
            if time.monotonic() - self.lease.beat_at < HEARTBEAT_EVERY_S:
                return
            self.lease.beat_at = time.monotonic()
        if not store.heartbeat(conn, self.edition.key, self.lease.sender, moment):
            raise EditionBusy(f"the {self.edition.key} edition was taken over by another run")
        self.stopped = store.stopped_since(conn, self.started)

    def _pace(self) -> None:
        if not self.interval:
            return
        with self.lock:
            slot = max(self.next_slot, time.monotonic())
            self.next_slot = slot + self.interval
        self._sleep_until(slot)

    def _sleep_until(self, moment: float) -> None:
        """Waits (for a retry, or the rate limit) keep the lease alive."""
        while (left := moment - time.monotonic()) > 0 and not self.failed.is_set():
            time.sleep(min(left, HEARTBEAT_EVERY_S / 4))
            if time.monotonic() - self.lease.beat_at >= HEARTBEAT_EVERY_S:
                with write_transaction(self.engine) as conn:
                    self._beat_if_due(conn, self.now())
