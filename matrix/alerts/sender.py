"""The sender: claims due outbox rows, delivers them, logs every attempt; safe to run twice at once.

Delivery of one row:
1. claim it — `UPDATE alerts SET status='sending', claimed_at=now, claimed_by=me, attempts=attempts+1
   WHERE id=:id AND status IN ('pending','failed') AND due` in its own transaction; only the sender whose
   UPDATE changed the row goes on (an atomic compare-and-set, the same on SQLite and PostgreSQL);
2. deliver it through its channel (network time is spent outside any database transaction);
3. record the outcome and the attempt in one transaction: sent / failed (retry after backoff) / dead.

A sender that dies between 1 and 3 leaves the row 'sending'; once its lease (lease_seconds, far above
any send timeout) has run out another sender takes it back and retries. That is the only case in which
a message can arrive twice (the remote accepted it but the outcome was never recorded); the lease
makes it impossible for a sender that is merely slow. Email keeps one Message-ID per alert so mail
systems can fold such a repeat; webhooks get an Idempotency-Key header.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable

from sqlalchemy import Engine, func, or_, select, update

from matrix.alerts import secrets
from matrix.alerts.channels import SENDERS, Message
from matrix.alerts.config import AlertsConfig, load_config
from matrix.alerts.contacts import contact_key, validate_contact
from matrix.alerts.errors import ContactError, DeliveryError
from matrix.alerts.outbox import _as_contact, enqueue_digests, enqueue_route_alerts
from matrix.alerts.window import Window
from matrix.storage.db import session_scope
from matrix.storage.models import Account, Alert, AlertAttempt, Case
from matrix.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

RETRYABLE = ("pending", "failed")
FINAL_CASE_STATUSES = ("closed", "invalid", "merged")
RATE_WINDOW = timedelta(seconds=60)


@dataclass
class SendReport:
    """What one pass did."""

    sent: int = 0
    failed: int = 0  # will be retried
    dead: int = 0
    held: int = 0  # due but the window is closed
    rate_limited: int = 0  # due but the robot's per-minute budget is spent
    cancelled: int = 0  # the case was closed/merged/invalid before its alert could go out
    lost_claims: int = 0  # another sender claimed it first
    reclaimed: int = 0  # stale 'sending' rows taken back
    digests: int = 0
    closed_reason: str = ""
    outcomes: list[tuple[int, str, str]] = field(default_factory=list)  # (alert id, status, error)

    def summary(self) -> str:
        parts = [f"{self.sent} sent", f"{self.failed} to retry", f"{self.dead} dead"]
        if self.held:
            parts.append(f"{self.held} held ({self.closed_reason})")
        if self.rate_limited:
            parts.append(f"{self.rate_limited} waiting for robot rate limits")
        if self.cancelled:
            parts.append(f"{self.cancelled} cancelled (case closed meanwhile)")
        if self.digests:
            parts.append(f"{self.digests} digests queued")
        if self.reclaimed:
            parts.append(f"{self.reclaimed} stale claims taken back")
        return ", ".join(parts)

    @property
    def busy(self) -> bool:
        return bool(self.sent or self.failed or self.dead or self.digests or self.reclaimed)


class Sender:
    """Delivers the outbox. `clock` is injectable so tests and simulations control time."""

    def __init__(
        self,
        engine: Engine,
        config: AlertsConfig | None = None,
        *,
        worker: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        window: Window | None = None,
        senders: dict | None = None,
    ):
        self.engine = engine
        self.config = config or load_config()
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock
        self.window = window or Window(self.config)
        self.senders = dict(SENDERS if senders is None else senders)
        secrets.install_log_filter()

    # ---------------------------------------------------------------- passes
    def run_once(self, now: datetime | None = None, *, ids: Iterable[int] | None = None,
                 ignore_window: bool = False, digests: bool = True) -> SendReport:
        """One pass: take back stale claims, queue due digests, deliver every due row (or just IDS)."""
        now = as_utc(now) if now is not None else self.clock()
        report = SendReport()
        report.reclaimed = self.reclaim_stale(now)
        if digests and self.config.digest_minute is not None and ids is None:
            with session_scope(self.engine) as session:
                report.digests = enqueue_digests(session, now, self.config, is_working_day=self.window.is_working_day)
        if ids is None:  # closed Weibo routes: once per episode (outbox.enqueue_route_alerts)
            with session_scope(self.engine) as session:
                enqueue_route_alerts(session, now, self.config)
        candidates = self._due(now, ids)
        if not ignore_window:
            reason = self.window.why_closed(now)
            if reason:
                report.held, report.closed_reason = len(candidates), reason
                return report
        used: dict[str, int] = {}
        for alert_id, channel, key in candidates:
            limit = self.config.rate_limits.get(channel)
            if limit and key:
                if key not in used:
                    used[key] = self._recent_sends(key, now)
                if used[key] >= limit:
                    report.rate_limited += 1
                    continue
            claimed_at = self._claim(alert_id, now)
            if claimed_at is None:
                report.lost_claims += 1
                continue
            if limit and key:
                used[key] += 1
            status, error = self._deliver(alert_id, claimed_at, now)
            report.outcomes.append((alert_id, status, error))
            if status == "sent":
                report.sent += 1
            elif status == "dead":
                report.dead += 1
            elif status == "cancelled":
                report.cancelled += 1
            else:
                report.failed += 1
        return report

    def loop(self, interval: float = 30.0, stop: threading.Event | None = None, passes: int | None = None) -> None:
        """run_once every INTERVAL seconds until STOP is set (or PASSES passes ran)."""
        stop = stop or threading.Event()
        n = 0
        while not stop.is_set():
            report = self.run_once()
            if report.busy:
                log.info("alerts: %s", report.summary())
            n += 1
            if passes is not None and n >= passes:
                return
            stop.wait(interval)

    # ---------------------------------------------------------------- steps
    def _due(self, now: datetime, ids: Iterable[int] | None) -> list[tuple[int, str, str]]:
        q = (
            select(Alert.id, Alert.channel, Alert.contact_key)
            .where(Alert.status.in_(RETRYABLE), or_(Alert.next_attempt_at.is_(None), Alert.next_attempt_at <= now))
            .order_by(Alert.id)
        )
        if ids is not None:
            q = q.where(Alert.id.in_(list(ids)))
        with self.engine.connect() as conn:
            return [(r[0], r[1], r[2] or "") for r in conn.execute(q)]

    def _recent_sends(self, key: str, now: datetime) -> int:
        """Requests made to this robot in the last minute: attempts logged plus rows being sent."""
        since = now - RATE_WINDOW
        with self.engine.connect() as conn:
            attempts = conn.execute(
                select(func.count(AlertAttempt.id))
                .join(Alert, Alert.id == AlertAttempt.alert_id)
                .where(Alert.contact_key == key, AlertAttempt.at > since, AlertAttempt.at <= now)
            ).scalar_one()
            sending = conn.execute(
                select(func.count(Alert.id)).where(Alert.contact_key == key, Alert.status == "sending", Alert.claimed_at > since)
            ).scalar_one()
        return int(attempts) + int(sending)

    def _claim(self, alert_id: int, now: datetime) -> datetime | None:
        """Atomically take the row for this sender; its claim time, or None when someone else has it."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(Alert)
                .where(
                    Alert.id == alert_id,
                    Alert.status.in_(RETRYABLE),
                    or_(Alert.next_attempt_at.is_(None), Alert.next_attempt_at <= now),
                )
                .values(status="sending", claimed_at=now, claimed_by=self.worker, attempts=Alert.attempts + 1)
                .execution_options(synchronize_session=False)
            )
        return now if result.rowcount == 1 else None

    def reclaim_stale(self, now: datetime) -> int:
        """Give 'sending' rows whose lease ran out back to the retry queue, logging the lost attempt."""
        cutoff = now - timedelta(seconds=self.config.lease_seconds)
        with self.engine.connect() as conn:
            stale = conn.execute(
                select(Alert.id, Alert.claimed_at, Alert.claimed_by, Alert.attempts)
                .where(Alert.status == "sending", Alert.claimed_at < cutoff)
            ).all()
        n = 0
        for alert_id, claimed_at, claimed_by, attempts in stale:
            error = f"sender {claimed_by} stopped before recording the outcome (claimed {as_utc(claimed_at).isoformat()}); retrying"
            dead = attempts >= self.config.max_attempts
            with self.engine.begin() as conn:
                changed = conn.execute(
                    update(Alert)
                    .where(Alert.id == alert_id, Alert.status == "sending", Alert.claimed_at == claimed_at)
                    .values(status="dead" if dead else "failed", next_attempt_at=None if dead else now,
                            last_error=error, claimed_at=None, claimed_by="")
                ).rowcount
                if changed:
                    conn.execute(AlertAttempt.__table__.insert().values(alert_id=alert_id, at=claimed_at, ok=False, error=error))
                    n += 1
        return n

    def _deliver(self, alert_id: int, claimed_at: datetime, now: datetime) -> tuple[str, str]:
        """Send one claimed row and record the outcome; (status, error)."""
        started = time.monotonic()
        with session_scope(self.engine) as session:
            alert = session.get(Alert, alert_id)
            message = Message(subject=alert.subject, text=alert.body, alert_id=alert.id, dedupe_key=alert.dedupe_key,
                              extra={"case_id": alert.case_id, "level": alert.level, "account_uid": alert.account_uid})
            case = session.get(Case, alert.case_id) if alert.case_id is not None else None
            if case is not None and case.status in FINAL_CASE_STATUSES and alert.level not in ("digest", "test"):
                return self._cancel(alert_id, claimed_at, f"case #{case.id} was {case.status} before the alert went out")
            try:
                contact = self.find_contact(session, alert)
            except DeliveryError as exc:
                contact, early = None, exc
            else:
                early = None
            attempts = alert.attempts
        error = ""
        permanent = False
        try:
            if early is not None:
                raise early
            send = self.senders.get(contact["channel"])
            if send is None:
                raise DeliveryError(f"no sender for channel {contact['channel']!r}", permanent=True)
            send(contact, message, self.config)
        except DeliveryError as exc:
            error, permanent = secrets.scrub(str(exc)), exc.permanent
        except Exception as exc:  # noqa: BLE001 - a bug in a channel must not leave the row claimed
            log.exception("alerts: unexpected error delivering alert %s", alert_id)
            error = secrets.scrub(f"internal error: {exc.__class__.__name__}: {exc}")
        duration_ms = int((time.monotonic() - started) * 1000)
        if not error:
            status, values = "sent", {"status": "sent", "sent_at": now, "last_error": "", "next_attempt_at": None}
        elif permanent or attempts >= self.config.max_attempts:
            status = "dead"
            values = {"status": "dead", "last_error": error, "next_attempt_at": None}
        else:
            status = "failed"
            values = {"status": "failed", "last_error": error,
                      "next_attempt_at": now + timedelta(seconds=self.config.backoff(attempts))}
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(Alert)
                .where(Alert.id == alert_id, Alert.status == "sending", Alert.claimed_by == self.worker,
                       Alert.claimed_at == claimed_at)
                .values(claimed_at=None, claimed_by="", **values)
            ).rowcount
            attempt = AlertAttempt.__table__
            if not changed:
                # Our lease ran out and another sender took the row back (and logged this attempt as
                # lost): correct that log line with what really happened; the row is theirs now.
                error_note = f"outcome after the lease ran out: {error or 'delivered'}"
                fixed = conn.execute(
                    attempt.update().where(attempt.c.alert_id == alert_id, attempt.c.at == claimed_at)
                    .values(ok=not error, error=error_note, duration_ms=duration_ms)
                ).rowcount
                if not fixed:
                    conn.execute(attempt.insert().values(alert_id=alert_id, at=claimed_at, ok=not error,
                                                         error=error_note, duration_ms=duration_ms))
            else:
                conn.execute(attempt.insert().values(
                    alert_id=alert_id, at=claimed_at, ok=not error, error=error, duration_ms=duration_ms))
        if not changed:
            log.warning("alerts: lease on alert %s ran out while it was being sent (lease_seconds too short?)", alert_id)
        if error:
            log.warning("alerts: alert %s %s: %s", alert_id, status, error)
        return status, error

    def _cancel(self, alert_id: int, claimed_at: datetime, reason: str) -> tuple[str, str]:
        """A held alert whose case ended meanwhile is not sent (it would tell of a case already done)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(Alert)
                .where(Alert.id == alert_id, Alert.status == "sending", Alert.claimed_by == self.worker,
                       Alert.claimed_at == claimed_at)
                .values(status="cancelled", last_error=reason, next_attempt_at=None, claimed_at=None, claimed_by="",
                        attempts=Alert.attempts - 1)
            )
        return "cancelled", reason

    def find_contact(self, session, alert: Alert) -> dict:
        """The roster (or office) contact behind an outbox row, validated; DeliveryError when gone or bad."""
        if alert.channel == "none":
            raise DeliveryError(alert.last_error or "no contact", permanent=True)
        if alert.account_uid is not None:
            account = session.get(Account, alert.account_uid)
            pool = list(account.contacts or []) if account is not None else []
            where = f"the roster of account {alert.account_uid}"
        else:
            pool = list(self.config.office_contacts)
            where = "the office contacts (office_contacts / WZMON_ALERTS_OFFICE)"
        for raw in pool:
            if contact_key(_as_contact(raw)) == alert.contact_key:
                try:
                    return validate_contact(raw)
                except ContactError as exc:
                    raise DeliveryError(f"bad contact: {exc}", permanent=True) from None
        raise DeliveryError(f"{alert.channel} {alert.address} is no longer in {where}", permanent=True)


def send_pending(engine: Engine, config: AlertsConfig | None = None, now: datetime | None = None) -> SendReport:
    """One pass of a fresh sender (what `wzmon alerts send` does without --loop)."""
    return Sender(engine, config).run_once(now)
