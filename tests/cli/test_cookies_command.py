"""`wzmon cookies` after real `wzmon poll --once` runs against the fake Weibo (HTTP on 127.0.0.1): each pooled cookie
by label and fingerprint with its budget, requests used and state; the one that hit a login wall out of use with the
reason and since when, and still out of use in the next run; the visitor cookie's state; never a cookie's value."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from crawler.cookiepool import fingerprint
from crawler.fake_weibo.clock import SimClock
from crawler.fake_weibo.scenario import Scenario
from crawler.fake_weibo.server import serve_in_thread
from matrix.cli.root import main

END = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
A, B = "SUB=_2A25office-secret-a; SUBP=0033a", "SUB=_2A25member-secret-b; SUBP=0033b"


def test_cookies_lists_states_budgets_and_never_values(db_url, tmp_path) -> None:
    scenario = Scenario(seed=7, accounts=2, days=2, history_days=1, end=END)
    server = serve_in_thread(scenario, clock=SimClock.fixed(END), search_html_needs_login=False)
    folder = tmp_path / "cookies"
    folder.mkdir()
    (folder / "a.cookie").write_text(A, encoding="utf-8")
    (folder / "b.cookie").write_text(B, encoding="utf-8")
    env = {"WZMON_WEIBO_COOKIE_DIR": str(folder), "WZMON_WEIBO_VISITOR": "1"}
    run = CliRunner()
    try:
        roster = tmp_path / "roster.csv"
        roster.write_text(scenario.roster_csv(), encoding="utf-8")
        assert run.invoke(main, ["--db", db_url, "accounts", "import", str(roster)]).exit_code == 0
        never = run.invoke(main, ["--db", db_url, "cookies"], env=env)
        assert never.exit_code == 0 and "not used yet" in never.output
        server.faults.add("captcha", count=1)  # the first request of the pass meets ok:-100: its cookie goes
        for hours in (0, 2):
            out = run.invoke(main, ["--db", db_url, "poll", "--once", "--base-url", server.base_url, "--rpm", "6000"],
                             env={**env, "WZMON_NOW": (END + timedelta(hours=hours)).isoformat()})
            assert out.exit_code == 0, out.output
        text = run.invoke(main, ["--db", db_url, "cookies"], env=env)
        js = run.invoke(main, ["--db", db_url, "cookies", "--format", "json"], env=env)
    finally:
        server.stop()
    assert text.exit_code == 0 and js.exit_code == 0, text.output + js.output
    for output in (never.output, text.output, js.output):
        assert "secret" not in output
    data = json.loads(js.output)
    rows = {r["label"]: r for r in data["cookies"]}
    assert set(rows) == {"a.cookie", "b.cookie"}
    assert rows["a.cookie"]["fingerprint"] == fingerprint(A) and rows["a.cookie"]["budget"]["per_minute"] == 6
    out_, in_ = rows["a.cookie"], rows["b.cookie"]
    assert out_["state"] == "out of use" and "login wall" in out_["reason"] and out_["since"].startswith("2026-11-20T18")
    assert in_["state"] == "in use" and in_["requests_used"] > out_["requests_used"] >= 1
    assert data["visitor"]["configured"] is True
    assert f"a.cookie\t{fingerprint(A)}\t6/min" in text.output and "out of use since 2026-11-20T18" in text.output
    assert "Visitor cookie: on" in text.output, text.output


def test_cookies_mistake_names_the_unreadable_file(db_url, tmp_path) -> None:
    out = CliRunner().invoke(main, ["--db", db_url, "cookies", "--cookie-file", str(tmp_path / "nope.cookie")])
    assert out.exit_code == 1 and "nope.cookie cannot be read" in out.output
