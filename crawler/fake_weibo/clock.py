"""Simulated time for the fake server: a running clock (start + real elapsed x speed) or a manual one."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")


def _aware(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError(f"clock times must be timezone-aware, got naive {dt.isoformat()}")
    return dt.astimezone(CST)


class SimClock:
    """`now() = start + real_elapsed * speed`; with `manual=True` time moves only by `set`/`advance`."""

    def __init__(self, start: datetime, speed: float = 1.0, manual: bool = False) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self._lock = threading.Lock()
        self._start = _aware(start)
        self._t0 = time.monotonic()
        self.speed = float(speed)
        self.manual = manual
        self.until: datetime | None = None  # a running clock stops here (a demo's scenario never runs past its end)

    @classmethod
    def fixed(cls, at: datetime) -> "SimClock":
        """A manual clock standing at `at` (tests move it explicitly)."""
        return cls(at, manual=True)

    def now(self) -> datetime:
        with self._lock:
            if self.manual:
                return self._start
            now = self._start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)
            return min(now, self.until) if self.until is not None else now

    def set(self, at: datetime) -> datetime:
        """Jump to `at` (running clocks keep running from there)."""
        with self._lock:
            self._start = _aware(at)
            self._t0 = time.monotonic()
            return self._start

    def advance(self, delta: timedelta | None = None, *, minutes: float = 0, hours: float = 0,
                days: float = 0) -> datetime:
        """Move forward by `delta` and/or minutes/hours/days; returns the new now."""
        step = (delta or timedelta()) + timedelta(minutes=minutes, hours=hours, days=days)
        return self.set(self.now() + step)

    def describe(self) -> dict:
        return {"now": self.now().isoformat(), "speed": self.speed, "manual": self.manual}
