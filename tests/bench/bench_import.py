"""Bench: `wzmon import` of a researcher's archive, end to end, in items per second, SQLite and PostgreSQL.

    python tests/bench/bench_import.py [--items 200000] [--small 20000] [--skip-pg] [--cache DIR]

The archive is generated in real m.weibo.cn shapes (`tests/bench/archive.py`: four weeks of a 60-member matrix,
timelines, @-mention searches, comments with replies, reposts; many files, replies often before their posts)
and kept in --cache between runs. Each run is the command as a person types it, in a subprocess on a fresh
database with the roster imported: parse, score, store, open and follow cases, deadlines, level events and the
alert outbox, then the clock's tick. The figure is new items stored per second of the command's wall time.

Printed in the same run, for scale: `wzmon parse` of the same files (items/s; the import's ratio to it) and a bare
`executemany` of the same post rows into the posts table (rows/s; the import's ratio to it), and the command's
peak memory at the small and the full archive. Targets (issue #18): >= 2,000 items/s on SQLite, >= 1,500 on
PostgreSQL; peak memory should stay flat between the two sizes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.bench.archive import write_archive  # noqa: E402
from tests.bench.bench_ingest import fresh_pg  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WZMON = [sys.executable, str(Path(__file__).with_name("_peak_memory.py"))]
TARGETS = {"sqlite": 2000, "postgresql": 1500}


def archive(cache: Path, items: int, seed: int = 7) -> tuple[Path, Path, int]:
    folder = cache / f"archive-{items}-{seed}"
    roster = folder.parent / f"{folder.name}-roster.csv"
    done = folder / ".complete"
    if not done.exists():
        print(f"   generating a {items:,}-item archive in {folder} ...", flush=True)
        a = write_archive(folder, items=items, seed=seed)
        done.write_text(str(a.files))
    return folder, roster, int(done.read_text())


def wzmon(args: list[str], db: str, env: dict | None = None) -> tuple[float, int, str]:
    """Run `wzmon ARGS`; (seconds, peak memory in MB, stdout)."""
    peak = Path(tempfile.mktemp(prefix="wzmon-peak-"))
    e = {**os.environ, "WZMON_DB": db, "WZMON_PEAK_FILE": str(peak), **(env or {})}
    t0 = time.perf_counter()
    proc = subprocess.run([*WZMON, *args], capture_output=True, text=True, env=e)
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0,):
        raise SystemExit(f"wzmon {' '.join(args[:3])} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    mb = int(peak.read_text()) // 1024 if peak.exists() else -1
    peak.unlink(missing_ok=True)
    return seconds, mb, proc.stdout


def import_run(db: str, folder: Path, roster: Path) -> dict:
    wzmon(["init"], db)
    wzmon(["accounts", "import", str(roster)], db)
    seconds, mb, out = wzmon(["import", str(folder), "--no-progress", "--format", "json"], db)
    summary = json.loads(out.strip().splitlines()[-1])
    if summary["failed"]:
        raise SystemExit(f"import failed on {len(summary['failed'])} files: {summary['failed'][:2]}")
    return {"seconds": seconds, "mb": mb, "new": summary["new"], "items": summary["items"],
            "cases": summary["cases_touched"], "rate": summary["new"] / seconds}


def parse_rate(folder: Path) -> tuple[float, int]:
    """`wzmon parse` over the same files (in chunks of 4,000 names per command line): records/s, records."""
    files = sorted(str(p) for p in folder.iterdir() if p.suffix == ".json")
    records, seconds = 0, 0.0
    for i in range(0, len(files), 4000):
        s, _, out = wzmon(["parse", *files[i:i + 4000]], "sqlite:///:memory:")
        seconds += s
        records += out.count("\n")
    return records / seconds, records


def executemany_rate(folder: Path, tmp: Path) -> float:
    """The same post rows through the driver's executemany alone (no parsing timed, no scoring, no cases)."""
    from crawler.importer import parse_file
    from matrix.storage.db import open_db
    from matrix.polling.ingest import flatten_items

    seen: dict[str, dict] = {}
    for f in sorted(folder.glob("*.json")):
        for item in flatten_items(parse_file(f).items):
            seen.setdefault(item.id, item.to_row())
    rows = list(seen.values())
    cols = list(rows[0])
    db = tmp / "bare.db"
    engine = open_db(f"sqlite:///{db}", create=True)
    conn = engine.raw_connection()
    values = [tuple(json.dumps(r[c], ensure_ascii=False) if isinstance(r[c], list) else
                    (r[c].isoformat() if hasattr(r[c], "isoformat") else r[c]) for c in cols) for r in rows]
    t0 = time.perf_counter()
    cur = conn.cursor()
    cur.executemany(f"INSERT INTO posts ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values)
    conn.commit()
    seconds = time.perf_counter() - t0
    conn.close()
    engine.dispose()
    return len(rows) / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=200_000)
    ap.add_argument("--small", type=int, default=20_000)
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--pg", default=PG)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "wzmon-bench-archives")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    big, big_roster, big_files = archive(args.cache, args.items)
    small, small_roster, _ = archive(args.cache, args.small)
    print(f"archive: {big_files:,} files of about {args.items:,} items (and {args.small:,} for memory)")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        for backend in ("sqlite", "postgresql"):
            if backend == "postgresql" and args.skip_pg:
                continue
            runs = {}
            for label, folder, roster in (("small", small, small_roster), ("full", big, big_roster)):
                if backend == "sqlite":
                    db, drop = f"sqlite:///{tmp / f'{label}.db'}", (lambda: None)
                else:
                    db, drop = fresh_pg(args.pg)
                try:
                    runs[label] = import_run(db, folder, roster)
                finally:
                    drop()
            results[backend] = runs
            r = runs["full"]
            ok = "ok" if r["rate"] >= TARGETS[backend] else "BELOW TARGET"
            print(f"{backend:10s} import {r['new']:,} new items ({r['items']:,} read, {r['cases']:,} cases) in "
                  f"{r['seconds']:.1f} s = {r['rate']:,.0f} items/s (target {TARGETS[backend]:,}: {ok}); "
                  f"peak memory {runs['small']['mb']} MB at {args.small:,} items, {r['mb']} MB at {args.items:,}")
        p_rate, p_records = parse_rate(big)
        x_rate = executemany_rate(big, tmp)
    print(f"wzmon parse of the same files: {p_records:,} records in {p_records / p_rate:.1f} s = {p_rate:,.0f}/s")
    print(f"bare executemany of the same post rows (SQLite): {x_rate:,.0f} rows/s")
    for backend, runs in results.items():
        rate = runs["full"]["rate"]
        print(f"ratio {backend}: import / parse = {rate / p_rate:.2f}, import / bare executemany = {rate / x_rate:.3f}")


if __name__ == "__main__":
    main()
