"""Poll jobs leased through the database, so several pollers (processes or machines) share the work.

Each source key (`timeline:<uid>`, `comments:<mid>` ...) and each shared chore (`task:sla-clock`) is
a row of `poll_leases`. A poller claims a row that is free or whose lease has expired:

- PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` picks the row without waiting on a poller that is
  claiming it at the same moment, then an UPDATE writes owner, a fresh token and the expiry;
- SQLite (one writer at a time): a single `UPDATE ... WHERE expired` is the claim; its row count
  says who won.

A lease that is not renewed expires (`ttl` seconds), so a dead poller's work is picked up by another.
Every commit of a leased source checks the token inside its own transaction (`fence`) and renews
the expiry there: a poller whose lease was taken over can never move that source's cursor again.
Times are wall-clock UTC of the pollers' machines (keep them in NTP sync; the ttl is minutes, the
skew should be milliseconds).
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from sqlalchemy import Connection, Engine, and_, case, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from matrix.storage.db import session_scope
from matrix.storage.models import PollerProcess, PollLease
from matrix.timeutil import as_utc

log = logging.getLogger("wzmon.matrix.leases")

DEFAULT_TTL = 120.0
SLA_CLOCK_TASK = "task:sla-clock"


class LeaseLost(Exception):
    """This poller's lease on a source was taken over (it expired); the page is not stored."""


def default_poller_id() -> str:
    """`<host>:<pid>`: unique among running pollers, readable in `wzmon status`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def wall_clock() -> datetime:
    return datetime.fromtimestamp(time.time(), timezone.utc)


@dataclass
class Lease:
    source_key: str
    owner: str
    token: str
    expires_at: datetime
    takeover: bool = False  # the previous holder's lease had expired (it died or stalled)


class LeaseManager:
    """Claims, renews and releases leases for one poller (`owner`). Thread-safe (no shared state)."""

    def __init__(self, engine: Engine, owner: str | None = None, ttl: float = DEFAULT_TTL,
                 clock: Callable[[], datetime] | None = None) -> None:
        if ttl <= 0:
            raise ValueError(f"lease ttl must be > 0 seconds, got {ttl}")
        self.engine = engine
        self.owner = owner or default_poller_id()
        self.ttl = float(ttl)
        self._clock = clock or wall_clock
        self.dialect = engine.dialect.name

    def now(self) -> datetime:
        return as_utc(self._clock())

    # ------------------------------------------------------------------ claiming
    def _ensure_rows(self, session: Session | Connection, keys: Iterable[str]) -> None:
        rows = [{"source_key": k, "owner": "", "token": "", "claims": 0, "takeovers": 0, "last_owner": ""}
                for k in dict.fromkeys(keys)]
        if not rows:
            return
        if self.dialect == "postgresql":
            session.execute(postgresql.insert(PollLease).values(rows).on_conflict_do_nothing(index_elements=["source_key"]))
        elif self.dialect == "sqlite":
            session.execute(sqlite.insert(PollLease).values(rows).on_conflict_do_nothing(index_elements=["source_key"]))
        else:  # other engines: insert what is missing (claims below stay atomic)
            have = set(session.scalars(select(PollLease.source_key).where(PollLease.source_key.in_([r["source_key"] for r in rows]))))
            missing = [r for r in rows if r["source_key"] not in have]
            if missing:
                session.execute(insert(PollLease), missing)

    def ensure(self, keys: Iterable[str]) -> None:
        """Create the lease rows of KEYS that do not exist yet (free), in one statement."""
        keys = list(keys)
        for i in range(0, len(keys), 1000):
            with self.engine.begin() as conn:
                self._ensure_rows(conn, keys[i:i + 1000])

    def claim(self, source_key: str) -> Lease | None:
        """The lease on SOURCE_KEY if it is free or expired (or already ours), else None. Never waits."""
        lease = self._try_claim(source_key)
        if lease is None:
            with self.engine.connect() as conn:
                exists = conn.scalar(select(PollLease.source_key).where(PollLease.source_key == source_key))
            if exists is None:
                self.ensure([source_key])
                lease = self._try_claim(source_key)
        return lease

    def _try_claim(self, source_key: str) -> Lease | None:
        now = self.now()
        token = uuid.uuid4().hex
        expires = now + timedelta(seconds=self.ttl)
        free = or_(PollLease.owner == "", PollLease.expires_at.is_(None), PollLease.expires_at <= now,
                   PollLease.owner == self.owner)
        other = and_(PollLease.owner != "", PollLease.owner != self.owner)
        values = dict(owner=self.owner, token=token, leased_at=now, expires_at=expires, released_at=None,
                      claims=PollLease.claims + 1,
                      takeovers=PollLease.takeovers + case((other, 1), else_=0),
                      last_owner=case((other, PollLease.owner), else_=""))
        with self.engine.begin() as s:
            if self.dialect == "postgresql":
                # skip a row another poller is claiming this very moment instead of queueing behind it
                row = s.execute(select(PollLease.source_key).where(PollLease.source_key == source_key, free)
                                .with_for_update(skip_locked=True)).first()
                if row is None:
                    return None
            # the UPDATE re-checks `free` atomically (SQLite: it is the claim; one writer at a time)
            res = s.execute(update(PollLease).where(PollLease.source_key == source_key, free).values(**values)
                            .returning(PollLease.last_owner, PollLease.takeovers))
            got = res.first()
            if got is None:
                return None
        if got.last_owner:  # someone else held it and never released it: it had expired
            log.warning("took over %s from %s (its lease expired)", source_key, got.last_owner,
                        extra={"poller": self.owner, "source_key": source_key})
        return Lease(source_key, self.owner, token, expires, takeover=bool(got.last_owner))

    def claim_any(self, keys: list[str], limit: int = 1) -> list[Lease]:
        """Up to LIMIT leases among KEYS, in the order given (the scheduler's priority order)."""
        out: list[Lease] = []
        for key in keys:
            lease = self.claim(key)
            if lease is not None:
                out.append(lease)
                if len(out) >= limit:
                    break
        return out

    # ------------------------------------------------------------------ holding
    def fence(self, session: Session | Connection, lease: Lease) -> None:
        """Inside the caller's transaction: check LEASE is still ours and extend it; else raise LeaseLost.

        On PostgreSQL the row is locked until the caller commits, so a takeover waits for this commit
        (and then sees the renewed expiry) instead of racing it.
        """
        now = self.now()
        expires = now + timedelta(seconds=self.ttl)
        res = session.execute(update(PollLease).where(
            PollLease.source_key == lease.source_key, PollLease.owner == self.owner, PollLease.token == lease.token,
        ).values(expires_at=expires))
        if res.rowcount != 1:
            raise LeaseLost(f"poller {self.owner} no longer holds {lease.source_key} (lease expired and was taken "
                            "over); its page was not stored")
        lease.expires_at = expires

    def renew(self, lease: Lease) -> bool:
        """Extend LEASE; False when it was lost."""
        try:
            with self.engine.begin() as conn:
                self.fence(conn, lease)
            return True
        except LeaseLost:
            return False

    def release(self, lease: Lease) -> None:
        """Give the source back (finished with it): any poller may claim it at once."""
        now = self.now()
        with self.engine.begin() as s:
            s.execute(update(PollLease).where(
                PollLease.source_key == lease.source_key, PollLease.owner == self.owner, PollLease.token == lease.token,
            ).values(owner="", token="", expires_at=None, released_at=now))

    def release_all(self) -> int:
        """Release every lease of this poller (clean shutdown)."""
        now = self.now()
        with session_scope(self.engine) as s:
            res = s.execute(update(PollLease).where(PollLease.owner == self.owner).values(
                owner="", token="", expires_at=None, released_at=now))
            return res.rowcount or 0

    def held(self) -> list[str]:
        now = self.now()
        with session_scope(self.engine) as s:
            return list(s.scalars(select(PollLease.source_key).where(PollLease.owner == self.owner,
                                                                      PollLease.expires_at > now)))


def active_leases(engine: Engine, now: datetime | None = None) -> list[dict]:
    """Leases held right now: source key, owner, expiry (for `wzmon status`)."""
    now = as_utc(now) or wall_clock()
    with session_scope(engine) as s:
        rows = s.execute(select(PollLease.source_key, PollLease.owner, PollLease.expires_at)
                         .where(PollLease.owner != "", PollLease.expires_at > now)
                         .order_by(PollLease.owner, PollLease.source_key)).all()
    return [{"source_key": k, "owner": o, "expires_at": as_utc(e)} for k, o, e in rows]


# ---------------------------------------------------------------------------------------- heartbeats
class PollerRegistry:
    """A poller's row in `pollers`: started, heartbeats after each pass, stopped."""

    def __init__(self, engine: Engine, poller_id: str, clock: Callable[[], datetime] | None = None) -> None:
        self.engine, self.poller_id = engine, poller_id
        self._clock = clock or wall_clock

    def start(self) -> None:
        now = as_utc(self._clock())
        with session_scope(self.engine) as s:
            row = s.get(PollerProcess, self.poller_id)
            if row is None:
                row = PollerProcess(poller_id=self.poller_id, passes=0, requests_total=0, items_total=0)
                s.add(row)
            row.host, row.pid, row.started_at, row.heartbeat_at = socket.gethostname(), os.getpid(), now, now
            row.state, row.last_error = "running", ""

    def beat(self, requests: int = 0, items: int = 0, error: str = "", pass_done: bool = True) -> None:
        now = as_utc(self._clock())
        with session_scope(self.engine) as s:
            s.execute(update(PollerProcess).where(PollerProcess.poller_id == self.poller_id).values(
                heartbeat_at=now, state="running",
                passes=PollerProcess.passes + (1 if pass_done else 0),
                requests_total=PollerProcess.requests_total + requests,
                items_total=PollerProcess.items_total + items,
                last_pass_at=now if pass_done else PollerProcess.last_pass_at,
                last_error=error[:2000]))

    def stop(self) -> None:
        now = as_utc(self._clock())
        with session_scope(self.engine) as s:
            s.execute(update(PollerProcess).where(PollerProcess.poller_id == self.poller_id)
                      .values(state="stopped", heartbeat_at=now))
