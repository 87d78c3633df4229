"""One site-wide request budget and a growing cool-down after refusals.

Weibo blocks bursts (432/418) and answers them with captchas; every crawler whose users complain
sleeps per thread. Here all work takes tokens from ONE bucket (requests per minute, a small burst,
random jitter), and a refusal pauses the whole bucket for a cool-down that doubles each time.
Clock and sleep are injectable so tests and the benchmark can run in simulated time.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger("wzmon.crawler.budget")
_EPS = 1e-9  # float slack: a refill of exactly the missing fraction must count as a whole token


class SimulatedClock:
    """A clock whose `sleep` advances time instead of waiting; `on_advance` can move a server's clock too."""

    def __init__(self, start: float = 0.0, on_advance: Callable[[float], None] | None = None) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self.on_advance = on_advance
        self.slept = 0.0

    def time(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._now += seconds
            self.slept += seconds
        if self.on_advance is not None:
            self.on_advance(seconds)


class RequestBudget:
    """Token bucket: `per_minute` tokens a minute, at most `burst` saved up, shared by every caller.

    `acquire()` blocks (sleeping through the injected `sleep`) until a token is free and any cool-down
    has passed, then adds up to `jitter` x the mean spacing of random delay so requests do not tick
    like a metronome. Thread-safe: callers queue on one lock, so the rate holds across threads.
    """

    def __init__(self, per_minute: float, burst: int = 1, jitter: float = 0.0, *,
                 clock: Callable[[], float] | None = None, sleep: Callable[[float], None] | None = None,
                 rng: random.Random | None = None) -> None:
        if per_minute <= 0:
            raise ValueError(f"per_minute must be > 0, got {per_minute}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst}")
        if not 0 <= jitter <= 5:
            raise ValueError(f"jitter is a fraction of the request spacing (0..5), got {jitter}")
        self.per_minute = float(per_minute)
        self.burst = int(burst)
        self.jitter = float(jitter)
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._pause_lock = threading.Lock()
        self._tokens = float(burst)
        self._stamp = self._clock()
        self._paused_until = 0.0
        self._pause_reason = ""
        self.granted = 0
        self.waited = 0.0

    @classmethod
    def simulated(cls, per_minute: float, burst: int = 1, jitter: float = 0.0, clock: SimulatedClock | None = None,
                  seed: int = 0) -> "RequestBudget":
        clock = clock or SimulatedClock()
        return cls(per_minute, burst, jitter, clock=clock.time, sleep=clock.sleep, rng=random.Random(seed))

    @property
    def interval(self) -> float:
        """Mean seconds between requests at the full rate."""
        return 60.0 / self.per_minute

    def now(self) -> float:
        return self._clock()

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.per_minute / 60.0)
        self._stamp = now

    def pause(self, seconds: float, reason: str) -> float:
        """Stop all requests for `seconds` (a refusal cool-down); returns when it ends (budget clock)."""
        with self._pause_lock:
            until = self._clock() + max(0.0, seconds)
            if until > self._paused_until:
                self._paused_until = until
                self._pause_reason = reason
            log.warning("crawler cooling down %.0fs: %s", seconds, reason)
            return self._paused_until

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def acquire(self, why: str = "") -> float:
        """Take one token, sleeping as long as needed; returns seconds waited."""
        waited = 0.0
        with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    delay = self._paused_until - now
                    log.info("budget: waiting %.1fs, cooling down after %s", delay, self._pause_reason)
                    self._sleep(delay)
                    waited += delay
                    continue
                self._refill(now)
                if self._tokens >= 1.0 - _EPS:
                    self._tokens = max(0.0, self._tokens - 1.0)
                    break
                delay = max((1.0 - self._tokens) * 60.0 / self.per_minute, 1e-3)
                log.debug("budget: waiting %.2fs for a request slot (%g/min)%s", delay, self.per_minute,
                          f" for {why}" if why else "")
                self._sleep(delay)
                waited += delay
            if self.jitter:
                extra = self._rng.uniform(0.0, self.jitter * self.interval)
                if extra > 0:
                    log.debug("budget: jitter %.2fs", extra)
                    self._sleep(extra)
                    waited += extra
                    self._refill(self._clock())
            self.granted += 1
            self.waited += waited
            return waited

    def try_acquire(self) -> bool:
        """Take a token only if one is free right now (no sleeping)."""
        with self._lock:
            now = self._clock()
            if now < self._paused_until:
                return False
            self._refill(now)
            if self._tokens >= 1.0 - _EPS:
                self._tokens = max(0.0, self._tokens - 1.0)
                self.granted += 1
                return True
            return False


@dataclass
class BackoffPolicy:
    base: float
    factor: float
    cap: float


DEFAULT_POLICIES = {
    "blocked": BackoffPolicy(base=120.0, factor=2.0, cap=4 * 3600.0),
    "login_required": BackoffPolicy(base=900.0, factor=2.0, cap=6 * 3600.0),
    "transport": BackoffPolicy(base=30.0, factor=2.0, cap=1800.0),
    "malformed": BackoffPolicy(base=60.0, factor=2.0, cap=3600.0),
}


class Backoff:
    """Exponential cool-down after consecutive refusals of one kind; reset by a success.

    `failure(kind)` returns the next cool-down in seconds (base x factor^(n-1), capped, +/- jitter,
    never less than a server's Retry-After) and logs why. There is no retry loop here: the caller
    pauses the budget (site-wide refusals) or the source (its own failures) for that long.
    """

    def __init__(self, policies: dict[str, BackoffPolicy] | None = None, jitter: float = 0.1,
                 rng: random.Random | None = None) -> None:
        self.policies = {**DEFAULT_POLICIES, **(policies or {})}
        self.jitter = jitter
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self.streak: dict[str, int] = {}

    def failure(self, kind: str, retry_after: float | None = None, where: str = "") -> float:
        policy = self.policies.get(kind) or self.policies["transport"]
        with self._lock:
            n = self.streak.get(kind, 0) + 1
            self.streak[kind] = n
        delay = min(policy.cap, policy.base * policy.factor ** (n - 1))
        if self.jitter:
            delay *= 1.0 + self._rng.uniform(-self.jitter, self.jitter)
        if retry_after:
            delay = max(delay, float(retry_after))
        log.warning("%s%s (#%d in a row): cooling down %.0fs", kind, f" at {where}" if where else "", n, delay)
        return delay

    def success(self, kind: str | None = None) -> None:
        with self._lock:
            if kind is None:
                self.streak.clear()
            else:
                self.streak.pop(kind, None)

    def current(self, kind: str) -> int:
        return self.streak.get(kind, 0)
