"""Speed of the SLA clock: the calls the case engine makes per case, for 100,000 cases.

Plain script (`python tests/policy/bench_policy.py`): prints figures and the ratio to the budget
share the clock may take of the issue's target (100,000 cases re-evaluated in < 5 s on SQLite).
"""
from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone

from matrix.rules.policy import KINDS, load_policy

N = 100_000
BUDGET_S = 1.5  # the clock's share of the 5 s target; the rest is the database


def main() -> None:
    t0 = time.perf_counter()
    policy = load_policy()
    print(f"load_policy: {time.perf_counter() - t0:.3f} s")
    rng = random.Random(1)
    base = datetime(2025, 1, 2, tzinfo=timezone.utc)
    starts = [base + timedelta(seconds=rng.randrange(0, 300 * 86400)) for _ in range(N)]
    kinds = [rng.choice(KINDS[:4]) for _ in starts]
    rows = []
    for label, later in (("overdue", None), ("running", timedelta(hours=20))):
        now_fixed = datetime(2025, 11, 1, tzinfo=timezone.utc)
        t, c = time.perf_counter(), time.process_time()
        for s, k in zip(starts, kinds):
            lim = policy.limits(k, "公安")
            now = now_fixed if later is None else s + later
            d1 = policy.deadline(s, lim.first_response)
            d2 = policy.deadline(s, lim.closure)
            policy.level(d1, now, s)
            policy.level(d2, now, s)
            policy.working_minutes(s, now)
        rows.append((f"deadline×2 + level×2 + working_minutes ({label})", time.perf_counter() - t, time.process_time() - c))
        t, c = time.perf_counter(), time.process_time()
        for s, k in zip(starts, kinds):
            lim = policy.limits(k, "公安")
            now = now_fixed if later is None else s + later
            policy.clock(s, lim.first_response).level(now)
            policy.clock(s, lim.closure).level(now)
        rows.append((f"clock×2 + Clock.level×2 ({label})", time.perf_counter() - t, time.process_time() - c))
    for name, wall, cpu in rows:
        print(f"{N:,} cases, {name}: wall {wall:.2f} s, cpu {cpu:.2f} s, "
              f"{N / cpu:,.0f} cases/s, ratio to {BUDGET_S} s budget {cpu / BUDGET_S:.2f}")


if __name__ == "__main__":
    main()
