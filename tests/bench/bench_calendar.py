"""Calendar bench: what a provisional year costs, and what it costs to build and use.

    python tests/bench/bench_calendar.py

For 2025 and 2026, whose official days (with 调休) are known, 10,000 random deadlines per year are counted twice:
on the official calendar, and on the provisional one wzmon uses for a year nobody has published yet (weekends and
the statutory days of 《全国年节及纪念日放假办法》, no 调休; `WorkingCalendar(official_until=year - 1)`). It prints how
many deadlines differ, by limit, and by how much: the price of not knowing the 调休 days before the notice is out.
Then the time to build the calendar (now holding the provisional years to 2099) and a deadline's cost, as ratios
to a calendar holding the official years only.
"""
from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from matrix.rules.policy import Limit, load_policy  # noqa: E402
from matrix.rules.workcal import WorkingCalendar  # noqa: E402

SH = timezone(timedelta(hours=8))
LIMITS = [Limit(4, "hours", "working"), Limit(1, "days", "working"), Limit(5, "days", "working"),
          Limit(15, "days", "working")]
N = 10_000


def differing(year: int, seed: int = 1) -> None:
    official = WorkingCalendar()
    provisional = WorkingCalendar(official_until=year - 1)
    assert provisional.is_provisional_year(year) and not official.is_provisional_year(year)
    on_official, on_provisional = load_policy(), load_policy()  # two policies: each caches its own deadlines
    on_official.calendar, on_provisional.calendar = official, provisional
    rng = random.Random(seed)
    start0 = datetime(year, 1, 1, tzinfo=SH)
    span = (datetime(year, 12, 1, tzinfo=SH) - start0).total_seconds()  # deadlines stay inside the year
    by_limit = {str(limit): [0, 0, 0.0] for limit in LIMITS}
    for _ in range(N):
        start = start0 + timedelta(seconds=rng.uniform(0, span))
        limit = rng.choice(LIMITS)
        a = on_official.deadline(start, limit)
        b = on_provisional.deadline(start, limit)
        row = by_limit[str(limit)]
        row[0] += 1
        if a != b:
            row[1] += 1
            row[2] += abs((a - b).total_seconds()) / 86400
    total = sum(r[1] for r in by_limit.values())
    print(f"{year}: {total} of {N} random deadlines differ between provisional and official days "
          f"({total / N:.1%})")
    for name, (n, d, days) in by_limit.items():
        print(f"  {name:<18} {d:>5} of {n:<5} differ" + (f", by {days / d:.1f} days on average" if d else ""))


def build_and_use() -> None:
    t = time.perf_counter()
    for _ in range(5):
        WorkingCalendar(official_until=2026)
    full = (time.perf_counter() - t) / 5
    cal = WorkingCalendar()
    rng = random.Random(2)
    xs = [cal.lus(datetime(2026, 1, 1, tzinfo=SH) + timedelta(days=rng.uniform(0, 700))) for _ in range(50_000)]
    day = 15 * cal.minutes_per_day * 60_000_000
    t = time.perf_counter()
    for x in xs:
        cal.add_working_lus(x, day)
    per = (time.perf_counter() - t) / len(xs)
    t = time.perf_counter()
    for x in xs:
        cal.provisional_lus(x, x + day)
    flag = (time.perf_counter() - t) / len(xs)
    print(f"build: {full * 1000:.1f} ms (2004–2099); 15-working-day deadline {per * 1e6:.2f} µs, "
          f"provisional flag {flag * 1e6:.2f} µs (ratio {flag / per:.2f} of a deadline)")


if __name__ == "__main__":
    differing(2025)
    differing(2026)
    build_and_use()
