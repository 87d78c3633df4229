"""Bench: the fault soak. Three `wzmon run` pollers on one database while the fake Weibo server refuses
(418/403), times out, truncates, resets and garbles at random, and one poller at a time is killed
with SIGKILL (then restarted) several times. (432 is not injected: it carries Retry-After: 60 and the pollers
honour it, a minute of real time per refusal.) At the end the database must hold every post the server
published, exactly once.

    python tests/bench/bench_soak.py [--db URL] [--kills 4] [--refuse-rate 0.03] [--fault-rate 0.08] [--budget-seconds 150]

Default database: a fresh one on the local PostgreSQL (dropped afterwards); `--db sqlite:///soak.db`
runs it on SQLite. Prints posts published, stored, lost (must be 0), duplicated (must be 0), the
faults served and the lease takeovers; exits 1 if anything was lost or doubled.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "bench"))

from sqlalchemy import text  # noqa: E402

from bench_ingest import PG, fresh_pg  # noqa: E402
from matrix.storage.db import dispose_engines, open_db  # noqa: E402
from tests.scale import scaleutil as su  # noqa: E402

# 432 is left out: it carries Retry-After: 60, which the pollers honour (a minute of real time per refusal)
REFUSE = ["418", "403"]
BREAK = ["truncated", "disconnect", "broken_json", "html"]


def soak(url: str, args: argparse.Namespace, tmp: Path) -> int:
    rng = random.Random(args.seed)
    engine = open_db(url, create=True)
    sc = su.scenario(seed=args.seed, accounts=args.accounts, days=args.days, history_days=0.5, citizens=60,
                     threads_per_account_day=3.0, own_per_account_day=1.5)
    server = su.serve(sc, fault_seed=args.seed)
    su.load_roster(engine, sc, tmp)
    # refusals and broken bodies at random, and answers slower than the pollers' timeout (1.5 s)
    server.faults.add("random", probability=args.refuse_rate, kinds=REFUSE)
    server.faults.add("random", probability=args.fault_rate, kinds=BREAK)
    server.faults.add("slow", probability=args.slow_rate, seconds=2.5)
    procs = su.ProcessPollers(url, server.base_url, 3, lease_seconds=3.0, interval=1.0, log_dir=tmp,
                              env={"WZMON_HTTP_TIMEOUT": "1.5", "WZMON_BACKOFF_SCALE": "0.005"})
    schedule = su.steps(sc, hours=args.step_hours)
    kill_at = sorted(rng.sample(range(len(schedule)), min(args.kills, len(schedule))))
    t0 = time.monotonic()
    restarts: list[str] = []
    try:
        for i, t in enumerate(schedule):
            server.clock.set(t)
            if i in kill_at:
                # wait (briefly) for a victim that holds sources right now: killed mid-batch
                deadline = time.monotonic() + 10
                victim = None
                while time.monotonic() < deadline and victim is None:
                    holders = [n for n in procs.procs if procs.procs[n].poll() is None and su.holder_of_any_lease(engine, n)]
                    victim = rng.choice(holders) if holders else None
                    time.sleep(0.02)
                victim = victim or rng.choice(list(procs.procs))
                procs.kill(victim)
                print(f"  step {i + 1}/{len(schedule)}: SIGKILL {victim}", flush=True)
                restarts.append(victim)
            elif restarts:
                name = restarts.pop(0)
                procs.start(name)  # the killed poller comes back a step later
            # under steady faults some source is always failing, so a step gets a bounded time; walks
            # cut short resume from their cursors at the next step
            caught = su.wait_caught_up(engine, t, timeout=args.step_seconds, alive=procs.alive, required=False)
            print(f"  step {i + 1}/{len(schedule)} at {time.monotonic() - t0:.0f} s"
                  f"{'' if caught else ' (moved on with walks still under way)'}", flush=True)
        for name in restarts:
            procs.start(name)
        # the end of the faulty run: the server answers normally again and the pollers drain
        server.faults.clear()
        left = max(args.budget_seconds - (time.monotonic() - t0), 30)
        su.wait_caught_up(engine, sc.end, timeout=left, alive=procs.alive, settle=1.0)
        print(f"  drained at {time.monotonic() - t0:.0f} s", flush=True)
    finally:
        procs.close()
        server.stop()
    seconds = time.monotonic() - t0
    result = su.tally(engine, server)
    with engine.connect() as conn:
        takeovers = conn.execute(text("SELECT coalesce(sum(takeovers), 0) FROM poll_leases")).scalar()
        health = Counter(dict(conn.execute(text("SELECT state, count(*) FROM crawler_health GROUP BY state")).all()))
    stats = server.stats
    print(f"soak on {url.split('://')[0]}: {seconds:.0f} s, {len(schedule)} clock steps, 3 pollers, "
          f"{procs.kills} SIGKILLs, {takeovers} lease takeovers")
    print(f"  requests served {stats['total']}, faults {dict(sorted(stats['faults'].items()))}")
    print(f"  crawler health events {dict(sorted(health.items()))}")
    print(f"  posts published {result.published}")
    print(f"  posts stored    {result.stored}")
    print(f"  lost            {result.lost}")
    print(f"  duplicated      {result.duplicated}  {result.detail}")
    print(f"  (all items stored {result.items}: posts, reposts, comments; cases {result.cases})")
    dispose_engines()
    return 1 if result.lost or result.duplicated or not procs.kills else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="database URL (default: a fresh database on the local PostgreSQL)")
    ap.add_argument("--pg", default=PG)
    ap.add_argument("--accounts", type=int, default=8)
    ap.add_argument("--days", type=float, default=2)
    ap.add_argument("--step-hours", type=float, default=6)
    ap.add_argument("--kills", type=int, default=4)
    ap.add_argument("--refuse-rate", type=float, default=0.03, help="share of requests refused (418/403)")
    ap.add_argument("--fault-rate", type=float, default=0.08, help="share truncated/reset/garbled/HTML")
    ap.add_argument("--slow-rate", type=float, default=0.03, help="share answered after the timeout")
    ap.add_argument("--keep-logs", metavar="DIR", help="keep the pollers' JSON logs here")
    ap.add_argument("--step-seconds", type=float, default=10, help="real seconds per simulated clock step")
    ap.add_argument("--budget-seconds", type=float, default=170, help="give up (fail) after this long")
    ap.add_argument("--seed", type=int, default=4)
    args = ap.parse_args()
    drop = lambda: None  # noqa: E731
    url = args.db
    if not url:
        url, drop = fresh_pg(args.pg)
    try:
        if args.keep_logs:
            Path(args.keep_logs).mkdir(parents=True, exist_ok=True)
            code = soak(url, args, Path(args.keep_logs))
        else:
            with tempfile.TemporaryDirectory(prefix="wzmon-soak-") as d:
                code = soak(url, args, Path(d))
    finally:
        drop()
    sys.exit(code)


if __name__ == "__main__":
    main()
