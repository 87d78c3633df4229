"""`wzmon poll --once` typed as an office without a login cookie types it, in a subprocess, while m.weibo.cn refuses
(the fake's doors, 432) and s.weibo.com search wants its login as it always does: the timelines are read through
weibo.com/ajax, the mention sources wait for a door, the pass is not stopped and nothing cools the crawler down.
Before, the search's login wall counted as the site refusing us and every source waited out 15 minutes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

from crawler.fake_weibo.clock import SimClock
from crawler.fake_weibo.scenario import Scenario
from crawler.fake_weibo.server import serve_in_thread

WZMON = [sys.executable, "-m", "matrix.cli.root"]
END = datetime(2026, 12, 31, 8, 0, tzinfo=timezone.utc)  # 16:00 in Yinchuan on the last day of the year


def wzmon(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([*WZMON, *args], capture_output=True, text=True, env=env, timeout=300)


def test_poll_without_a_login_cookie_reads_on_through_the_open_door(db_url, tmp_path) -> None:
    scenario = Scenario(seed=11, accounts=3, days=2, history_days=1, end=END)
    server = serve_in_thread(scenario, clock=SimClock.fixed(END), refuse=("mobile",))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WZMON_WEIBO_COOKIE")}
    env["WZMON_NOW"] = END.isoformat()
    roster = tmp_path / "roster.csv"
    roster.write_text(scenario.roster_csv(), encoding="utf-8")
    try:
        assert wzmon("--db", db_url, "init", env=env).returncode == 0
        assert wzmon("--db", db_url, "accounts", "import", str(roster), env=env).returncode == 0
        text = wzmon("--db", db_url, "poll", "--once", "--base-url", server.base_url, "--rpm", "6000", env=env)
        again = wzmon("--db", db_url, "poll", "--once", "--base-url", server.base_url, "--rpm", "6000",
                      "--format", "json", env=env)
        asked = dict(server.stats["requests"])
    finally:
        server.stop()
    n = len(scenario.accounts)
    assert text.returncode == 0, text.stdout + text.stderr  # not "stopped early"
    assert "Stopped early" not in text.stdout
    first = text.stdout.splitlines()[0]
    assert first.startswith(f"Polled {n} of {n + 1} sources"), text.stdout  # every timeline; one mention source tried
    assert "no route: 1 source(s), e.g. mentions:" in text.stdout and "s.weibo.com" in text.stdout
    assert f"waiting: {n - 1} source(s)" in text.stdout
    assert asked.get("search_html") == 1 and asked.get("pc_mymblog", 0) >= n
    assert again.returncode == 0, again.stdout + again.stderr
    data = json.loads(again.stdout)
    # the second run takes the closed search route over from the database: the mention sources wait, unasked (the
    # one that failed is in its own short cool-down), and s.weibo.com saw one request in both runs (above)
    assert data["stopped"] is None and data["sources_waiting"] == n - 1 and data["sources_failed"] == 0
