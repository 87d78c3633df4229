"""Export speed and memory on 1,000,000 posts (SQLite): `python tests/bench/bench_export.py [--rows N]`.

Prints rows per second (wall clock and per CPU second: on a shared machine the CPU figure is the stable
one) and peak memory for CSV and JSONL. Each export runs in its own subprocess so its
peak RSS (resource.getrusage max RSS) is its own; tracemalloc peak (Python allocations) is measured on a
smaller run, and the same export at a tenth of the rows shows whether memory stays flat. The baseline is
a bare sqlite3 + csv.writer dump of the same table (no pseudonyms, time formatting or formula guard).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

CHILD = r"""
import json, os, resource, sys, time, tracemalloc
from matrix.storage.db import open_db
from matrix.export.api import export_table
url, fmt, out, limit, trace = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
engine = open_db(url, create=True)  # migrates a kept bench database if the schema moved on
with engine.connect() as c:
    c.exec_driver_sql("select count(*) from posts").scalar()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
filters = {}
if limit:
    # a period that holds `limit` posts (posts are one per second from the start)
    from datetime import datetime, timedelta, timezone
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    filters = {"since": t0, "until": t0 + timedelta(seconds=limit)}
if trace:
    tracemalloc.start()
t, cpu = time.perf_counter(), time.process_time()
res = export_table(engine, "posts", fmt, out_dir=out, filters=filters, key=b"bench-key-0123456789")
dt, cpu = time.perf_counter() - t, time.process_time() - cpu
peak_py = tracemalloc.get_traced_memory()[1] if trace else None
print(json.dumps({"rows": res.rows, "seconds": dt, "cpu": cpu, "bytes": res.bytes, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "rss_base_kb": base, "tracemalloc_peak": peak_py}))
"""

WORDS = ["@问政银川 ", "路灯坏了", "噪音扰民", "请尽快处理", "\n", "=SUM(A1)", "谢谢", "孩子上学", "公交线路", "@银川公安 "]


def generate(path: Path, rows: int) -> float:
    from matrix.storage.db import dispose_engines, open_db

    url = f"sqlite:///{path}"
    open_db(url, create=True)
    dispose_engines()
    t = time.perf_counter()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    members = [(str(1000000000 + i), f"成员{i}") for i in range(20)]
    con.executemany(
        "INSERT INTO accounts (uid, screen_name, name, department, category, role, contacts, created_at, updated_at) "
        "VALUES (?, ?, ?, '部门', '', 'member', '[]', '2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000')",
        [(uid, name, name) for uid, name in members],
    )
    rnd = random.Random(1)
    t0 = datetime(2024, 1, 1)
    cols = ("id, item_type, mid, bid, user_id, screen_name, text, created_at, fetched_at, parent_id, reply_to_id, reposted_id, "
            "mentions, topics, is_long_text, client, region, reposts_count, comments_count, attitudes_count, source_url, "
            "sentiment_label, sentiment_score, sentiment_confidence, post_kind")

    def batch(start: int, n: int):
        for i in range(start, start + n):
            member = i % 10 == 0
            uid, name = members[i % 20] if member else (str(6000000000 + i % 50000), f"市民{i % 50000}")
            when = (t0 + timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S.000000")
            text = "".join(rnd.choice(WORDS) for _ in range(8))
            pid = str(5000000000000000 + i)
            yield (pid, "comment" if i % 3 == 0 else "post", pid, f"N{i:08d}", uid, name, text, when, when,
                   str(5000000000000000 + i - 1) if i % 3 == 0 else None, None, None,
                   '["问政银川"]' if "@" in text else "[]", "[]", 0, "微博 weibo.com", "宁夏", i % 7, i % 11, i % 13,
                   f"https://m.weibo.cn/status/{pid}", rnd.choice(["negative", "neutral", "positive"]), rnd.uniform(-1, 1),
                   rnd.random(), rnd.choice(["投诉", "咨询", "求助", "建议", "表扬", "其他"]))

    step = 50_000
    for start in range(0, rows, step):
        con.executemany(f"INSERT INTO posts ({cols}) VALUES ({', '.join('?' * 25)})", batch(start, min(step, rows - start)))
    con.commit()
    con.close()
    return time.perf_counter() - t


def baseline(path: Path, out: Path) -> tuple[int, float]:
    import csv

    t = time.process_time()
    con = sqlite3.connect(path)
    n = 0
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        for row in con.execute("SELECT * FROM posts ORDER BY id"):
            w.writerow(row)
            n += 1
    con.close()
    return n, time.process_time() - t


def child(url: str, fmt: str, out: Path, limit: int = 0, trace: bool = False) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", CHILD, url, fmt, str(out), str(limit), "1" if trace else "0"],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"export subprocess failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", help="folder to keep the database and exports in (default: a temporary one)")
    args = ap.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="wzmon-bench-export-"))
    tmp.mkdir(parents=True, exist_ok=True)
    db = tmp / "bench.db"
    if not db.exists():
        gen = generate(db, args.rows)
        print(f"generated {args.rows:,} posts in {gen:.1f} s ({db.stat().st_size / 2**20:.0f} MiB SQLite)")
    url = f"sqlite:///{db}"

    n, secs = baseline(db, tmp / "baseline.csv")
    base_rate = n / secs
    print(f"baseline (sqlite3 + csv.writer, no transforms): {n:,} rows in {secs:.1f} CPU s = {base_rate:,.0f} rows/CPU-s")

    tenth = max(args.rows // 10, 1)
    for fmt in ("csv", "jsonl"):
        full = child(url, fmt, tmp / f"out-{fmt}")
        small = child(url, fmt, tmp / f"out-{fmt}-small", limit=tenth)
        rate, cpu_rate = full["rows"] / full["seconds"], full["rows"] / full["cpu"]
        print(
            f"{fmt:5s}: {full['rows']:,} rows in {full['seconds']:.1f} s wall = {rate:,.0f} rows/s; "
            f"{full['cpu']:.1f} CPU s = {cpu_rate:,.0f} rows/CPU-s (ratio vs baseline {cpu_rate / base_rate:.2f}); file {full['bytes'] / 2**20:.0f} MiB; "
            f"peak RSS {full['rss_kb'] / 1024:.0f} MiB (after imports {full['rss_base_kb'] / 1024:.0f} MiB; "
            f"at {small['rows']:,} rows {small['rss_kb'] / 1024:.0f} MiB)"
        )
    traced = child(url, "csv", tmp / "out-trace", limit=tenth, trace=True)
    print(f"csv  : tracemalloc peak of Python allocations over {traced['rows']:,} rows: {traced['tracemalloc_peak'] / 2**20:.1f} MiB")
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
