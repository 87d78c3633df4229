"""Done-when of issue 17, typed as a person would: `wzmon demo --no-dashboard --refuse mobile` (and `--refuse
search`) still finds every request the scenario left unanswered past its deadline, through the other routes."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

WZMON = [sys.executable, "-m", "matrix.cli.root"]


@pytest.mark.slow
@pytest.mark.parametrize("route", ["mobile", "search"])
def test_demo_with_a_closed_door_misses_nothing(route: str, tmp_path) -> None:
    db = tmp_path / "demo.db"
    out = subprocess.run([*WZMON, "--db", f"sqlite:///{db}", "demo", "--no-dashboard", "--refuse", route,
                          "--play-seconds", "5", "--accounts", "12", "--days", "3"], capture_output=True, text=True,
                         env={**os.environ, "WZMON_NOW": "2026-12-22T10:00"}, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"refusing {route}" in out.stdout
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("The scenario left"))
    left = int(line.split("left ")[1].split()[0])
    held = int(line.split("holds ")[1].split()[0])
    assert left > 0 and held == left and "MISSING" not in line, line
    with sqlite3.connect(db) as con:  # the closure is on record, once, naming the route
        rows = con.execute("SELECT state, message FROM crawler_health WHERE source_key = ?",
                           (f"route-{route}",)).fetchall()
    if route == "mobile":
        assert [r[0] for r in rows] == ["route_closed"] and "weibo.com/ajax" in rows[0][1]
    else:  # m.weibo.cn search is preferred and open: s.weibo.com is never asked, nothing to report
        assert rows == []
