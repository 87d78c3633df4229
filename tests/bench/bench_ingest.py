"""Bench: ingest throughput (poll, parse, score, store) in items per second, SQLite and PostgreSQL,
one poller and three.

    python tests/bench/bench_ingest.py [--accounts 30] [--days 4] [--pg URL] [--skip-pg]

A generated matrix is served by the fake Weibo server; its whole history becomes visible at once and
`wzmon run --poller-id pN` processes (real HTTP, real parser, the default sentiment model, real
commits with leases and the shared budget) read it until every source is caught up. Timing starts
when every poller has registered (model loaded) and stops when the last source is caught up; the
figure is items stored (posts, reposts, comments) per second of that time. Prints each run and the
three-poller speed-up over one poller.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from matrix.storage.db import dispose_engines, open_db, session_scope  # noqa: E402
from matrix.storage.models import Post, PollerProcess  # noqa: E402
from tests.scale import scaleutil as su  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def fresh_pg(server_url: str) -> tuple[str, callable]:
    base = make_url(server_url)
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"wzmon_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        dispose_engines()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def run(url: str, pollers: int, args: argparse.Namespace, tmp: Path) -> dict:
    engine = open_db(url, create=True)
    sc = su.scenario(seed=args.seed, accounts=args.accounts, days=args.days, history_days=0.5, citizens=80,
                     threads_per_account_day=args.threads, own_per_account_day=args.own)
    server = su.serve(sc)
    su.load_roster(engine, sc, tmp)
    procs = su.ProcessPollers(url, server.base_url, pollers, lease_seconds=30, interval=1.0, log_dir=tmp)
    try:
        deadline = time.monotonic() + 120
        while True:
            procs.alive()
            with session_scope(engine) as s:
                n = s.scalar(select(func.count()).select_from(PollerProcess).where(PollerProcess.passes > 0))
            if n >= pollers:
                break
            if time.monotonic() > deadline:
                raise SystemExit("pollers did not start within 120 s")
            time.sleep(0.2)
        with session_scope(engine) as s:
            before = s.scalar(select(func.count()).select_from(Post))
        server.clock.set(sc.end)
        t0 = time.perf_counter()
        su.wait_caught_up(engine, sc.end, timeout=args.timeout, alive=procs.alive)
        seconds = time.perf_counter() - t0
    finally:
        procs.close()
        server.stop()
    result = su.tally(engine, server)
    with session_scope(engine) as s:
        items = s.scalar(select(func.count()).select_from(Post)) - before
    dispose_engines()
    return {"items": items, "seconds": seconds, "rate": items / seconds, "requests": server.stats["total"],
            "lost": result.lost, "duplicated": result.duplicated}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=12)
    ap.add_argument("--days", type=float, default=2)
    ap.add_argument("--threads", type=float, default=4.0, help="citizen threads per account per day")
    ap.add_argument("--own", type=float, default=2.0, help="own posts per account per day")
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--pg", default=PG, help="PostgreSQL server URL (a fresh database is created on it)")
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="wzmon-bench-ingest-") as d:
        tmp = Path(d)
        backends = ["sqlite"] + ([] if args.skip_pg else ["postgresql"])
        for backend in backends:
            for n in (1, 3):
                run_dir = tmp / f"{backend}-{n}"
                run_dir.mkdir()
                if backend == "sqlite":
                    url, drop = f"sqlite:///{run_dir / 'bench.db'}", (lambda: None)
                else:
                    url, drop = fresh_pg(args.pg)
                try:
                    r = run(url, n, args, run_dir)
                finally:
                    drop()
                rows.append((backend, n, r))
                print(f"{backend:<10} {n} poller(s): {r['items']:>5} items in {r['seconds']:6.1f} s = "
                      f"{r['rate']:7.1f} items/s ({r['requests']} requests; lost {r['lost']}, duplicated "
                      f"{r['duplicated']})", flush=True)
    print()
    for backend in dict.fromkeys(b for b, _, _ in rows):
        one = next(r for b, n, r in rows if b == backend and n == 1)
        three = next(r for b, n, r in rows if b == backend and n == 3)
        print(f"{backend}: three pollers vs one: x{three['rate'] / one['rate']:.2f}")
    if any(r["lost"] or r["duplicated"] for _, _, r in rows):
        raise SystemExit("FAIL: items lost or duplicated")


if __name__ == "__main__":
    main()
