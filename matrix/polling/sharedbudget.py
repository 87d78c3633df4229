"""One request budget per site for every poller, kept in the database (`site_budgets`).

`DbRequestBudget` has the API of `crawler.budget.RequestBudget` (`acquire(why)`, `try_acquire()`,
`pause(seconds, reason)`, `paused_until`, `per_minute`, `burst`, `jitter`, `interval`, `now()`,
`granted`, `waited`), so a `WeiboClient` and the `Poller` use it unchanged. The token bucket is one
row; each grant is a compare-and-swap on its `version` (read, refill, take, `UPDATE ... WHERE
version = v`), which is atomic on PostgreSQL and on SQLite alike, so N pollers together never send
more than `burst + per_minute x minutes`. A refusal seen by one poller pauses them all.
Waiting happens outside any transaction: a poller asleep on the budget holds no lock.
"""
from __future__ import annotations

import logging
import random
import time
from typing import Callable

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from matrix.storage.db import session_scope
from matrix.storage.models import SiteBudget
from matrix.timeutil import utcnow

log = logging.getLogger("wzmon.matrix.sharedbudget")

DEFAULT_SITE = "weibo"


class DbRequestBudget:
    """Token bucket in `site_budgets` shared by every process that opens the same SITE."""

    def __init__(self, engine: Engine, per_minute: float | None = None, burst: int | None = None, jitter: float = 0.0,
                 *, site: str = DEFAULT_SITE, clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None, rng: random.Random | None = None,
                 max_wait_step: float = 5.0) -> None:
        """PER_MINUTE / BURST set the site's rate (the latest poller to start with a rate wins); None keeps
        the stored one. CLOCK is Unix seconds (shared by every machine), SLEEP how to wait."""
        if per_minute is not None and per_minute <= 0:
            raise ValueError(f"per_minute must be > 0, got {per_minute}")
        if burst is not None and burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst}")
        if not 0 <= jitter <= 5:
            raise ValueError(f"jitter is a fraction of the request spacing (0..5), got {jitter}")
        self.engine = engine
        self.site = site
        self.jitter = float(jitter)
        self._clock = clock or time.time
        self._sleep = sleep or time.sleep
        self._rng = rng or random.Random()
        self.max_wait_step = max_wait_step
        self.granted = 0
        self.waited = 0.0
        self.conflicts = 0
        self._setup(per_minute, burst)

    # ------------------------------------------------------------------ the row
    def _setup(self, per_minute: float | None, burst: int | None) -> None:
        now = self._clock()
        with session_scope(self.engine) as s:
            dialect = s.get_bind().dialect.name
            values = {"site": self.site, "per_minute": float(per_minute or 30.0), "burst": int(burst or 1),
                      "tokens": float(burst or 1), "stamp": now, "paused_until": 0.0, "pause_reason": "",
                      "granted_total": 0, "version": 0, "updated_at": utcnow()}
            if dialect in ("postgresql", "sqlite"):
                ins = (postgresql if dialect == "postgresql" else sqlite).insert(SiteBudget).values(values)
                s.execute(ins.on_conflict_do_nothing(index_elements=["site"]))
            elif s.get(SiteBudget, self.site) is None:
                s.add(SiteBudget(**values))
        changes: dict = {}
        if per_minute is not None:
            changes["per_minute"] = float(per_minute)
        if burst is not None:
            changes["burst"] = int(burst)
        if changes:
            with session_scope(self.engine) as s:
                s.execute(update(SiteBudget).where(SiteBudget.site == self.site)
                          .values(**changes, version=SiteBudget.version + 1, updated_at=utcnow()))
        row = self.state()
        self.per_minute, self.burst = float(row["per_minute"]), int(row["burst"])

    def state(self) -> dict:
        """The bucket as stored: per_minute, burst, tokens, stamp, paused_until, pause_reason, granted_total."""
        with session_scope(self.engine) as s:
            r = s.get(SiteBudget, self.site)
            if r is None:
                raise LookupError(f"no budget row for site {self.site!r}")
            return {"site": r.site, "per_minute": r.per_minute, "burst": r.burst, "tokens": r.tokens, "stamp": r.stamp,
                    "paused_until": r.paused_until, "pause_reason": r.pause_reason,
                    "granted_total": r.granted_total, "version": r.version}

    def _take(self) -> float:
        """One compare-and-swap attempt: 0.0 = token taken; > 0 = seconds to wait; < 0 = lost a race."""
        now = self._clock()
        with self.engine.begin() as s:
            r = s.execute(select(SiteBudget.per_minute, SiteBudget.burst, SiteBudget.tokens, SiteBudget.stamp,
                                 SiteBudget.paused_until, SiteBudget.pause_reason, SiteBudget.version)
                          .where(SiteBudget.site == self.site)).one()
            self.per_minute, self.burst = float(r.per_minute), int(r.burst)
            if now < r.paused_until:
                return r.paused_until - now
            tokens = min(float(r.burst), float(r.tokens) + max(0.0, now - float(r.stamp)) * float(r.per_minute) / 60.0)
            if tokens < 1.0:
                return (1.0 - tokens) * 60.0 / float(r.per_minute)
            res = s.execute(update(SiteBudget).where(SiteBudget.site == self.site, SiteBudget.version == r.version)
                            .values(tokens=tokens - 1.0, stamp=max(now, float(r.stamp)),
                                    granted_total=SiteBudget.granted_total + 1, version=SiteBudget.version + 1))
            if res.rowcount != 1:
                self.conflicts += 1
                return -1.0
        return 0.0

    # ------------------------------------------------------------------ RequestBudget API
    @property
    def interval(self) -> float:
        """Mean seconds between requests at the full rate."""
        return 60.0 / self.per_minute

    def now(self) -> float:
        return self._clock()

    def acquire(self, why: str = "") -> float:
        """Take one token from the site's bucket, sleeping (outside any transaction) as needed."""
        waited = 0.0
        while True:
            delay = self._take()
            if delay == 0.0:
                break
            if delay < 0:  # another poller took the token first: look again at once (tiny random pause)
                delay = self._rng.uniform(0.0, 0.005)
            else:
                delay = min(delay, self.max_wait_step)  # re-read: another poller may pause or retune the site
                log.debug("budget %s: waiting %.2fs%s", self.site, delay, f" for {why}" if why else "")
            self._sleep(delay)
            waited += delay
        if self.jitter:
            extra = self._rng.uniform(0.0, self.jitter * self.interval)
            if extra > 0:
                self._sleep(extra)
                waited += extra
        self.granted += 1
        self.waited += waited
        return waited

    def try_acquire(self) -> bool:
        """Take a token only if one is free right now (no sleeping)."""
        while True:
            delay = self._take()
            if delay == 0.0:
                self.granted += 1
                return True
            if delay > 0:
                return False

    def pause(self, seconds: float, reason: str) -> float:
        """Stop every poller of the site for SECONDS (a refusal cool-down); returns when it ends (Unix s)."""
        until = self._clock() + max(0.0, seconds)
        with self.engine.begin() as s:
            s.execute(update(SiteBudget).where(SiteBudget.site == self.site, SiteBudget.paused_until < until)
                      .values(paused_until=until, pause_reason=reason[:2000], version=SiteBudget.version + 1,
                              updated_at=utcnow()))
        log.warning("crawler cooling down %.0fs (all pollers of %s): %s", seconds, self.site, reason)
        return self.paused_until

    @property
    def paused_until(self) -> float:
        return float(self.state()["paused_until"])

    def __repr__(self) -> str:
        return f"DbRequestBudget(site={self.site!r}, per_minute={self.per_minute:g}, burst={self.burst})"
