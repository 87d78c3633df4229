"""The inspection end to end: a scenario with a member that falls silent and citizens asking in the comments under
members' own posts, served by the fake Weibo over real HTTP, read by the real poller (SQLite and PostgreSQL).

Expectations come from the scenario's own record (`Scenario.silent`, `Scenario.comment_truth`) and the policy."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from crawler.budget import RequestBudget
from crawler.fake_weibo.clock import SimClock
from crawler.fake_weibo.scenario import Scenario
from crawler.fake_weibo.server import serve_in_thread
from matrix.cli.root import main
from matrix.storage.db import open_db, session_scope
from matrix.casework.inspection import inspect_month, silence_now
from matrix.storage.models import Case
from matrix.rules.policy import load_policy
from matrix.polling.pollstore import build_poller

CST = timezone(timedelta(hours=8))
END = datetime(2026, 11, 20, 18, 0, tzinfo=CST)


@pytest.fixture
def played(db_url, tmp_path):
    scenario = Scenario(seed=5, accounts=6, days=6, history_days=1, end=END, silent_members=1, comment_requests=0.8)
    clock = SimClock.fixed(scenario.start)
    server = serve_in_thread(scenario, clock=clock, comment_dates="full")
    try:
        roster = tmp_path / "roster.csv"
        roster.write_text(scenario.roster_csv(), encoding="utf-8")
        assert CliRunner().invoke(main, ["--db", db_url, "accounts", "import", str(roster)]).exit_code == 0
        engine, policy = open_db(db_url), load_policy()
        poller = build_poller(engine, policy, {"base_url": server.base_url, "search_base_url": server.base_url,
                                               "budget": RequestBudget(per_minute=1_000_000, burst=1000)},
                              now=clock.now)
        t = scenario.start
        while t < scenario.end:
            t = min(t + timedelta(hours=4), scenario.end)
            clock.set(t)
            report = poller.poll_once(max_requests=10_000)
            assert not report.errors, report.errors
        poller.poll_once(max_requests=10_000)
        yield scenario, engine, policy
    finally:
        server.stop()


def test_silent_member_and_comment_cases(played):
    scenario, engine, policy = played
    assert len(scenario.silent) == 1 and scenario.comment_truth
    silent = scenario.silent[0]
    with session_scope(engine) as s:
        now = {x.account_uid: x for x in silence_now(s, policy, scenario.end)}
        rep = inspect_month(s, policy, "2026-11", scenario.end)
        comment_cases = {c.post_id: (c.account_uid, c.first_response_at, c.first_response_id, c.origin)
                         for c in s.scalars(select(Case).where(Case.origin == "comment"))}
    members = {a.uid for a in scenario.members}
    # the silent member: its last post exactly `silent_days` before the end, past the 14-day limit
    assert now[silent["uid"]].last_post_id == silent["last_post_id"]
    assert now[silent["uid"]].days_silent == silent["silent_days"] and now[silent["uid"]].level == "breach"
    assert all(x.level != "breach" for uid, x in now.items() if uid != silent["uid"])
    # the report names every member; the silent one alone fails the check
    assert {r.account_uid for r in rep.rows} == members
    assert [r.account_uid for r in rep.rows if r.verdict == "单项否决"] == [silent["uid"]]
    assert rep.rows[0].account_uid == silent["uid"]
    # comment cases: every one is a citizen's request the scenario made, owed by the member whose post it is under
    truth = {r["comment_id"]: r for r in scenario.comment_truth}
    assert set(comment_cases) <= set(truth), set(comment_cases) - set(truth)
    assert len(comment_cases) >= 0.8 * len(truth)
    for cid, (owner, first_at, first_id, _origin) in comment_cases.items():
        row = truth[cid]
        assert owner == row["member_uid"]
        answered = row["responded_at"] and datetime.fromisoformat(row["responded_at"]) <= scenario.end
        if answered:
            assert first_at == datetime.fromisoformat(row["responded_at"]) and first_id == row["response_id"], row
        else:
            assert first_at is None, row
    # both ways of answering are in play: a reply to the comment (reply_id), and a comment naming the citizen
    seen = {truth[c]["response_via"] for c, v in comment_cases.items() if v[1] is not None}
    assert seen == {"reply", "comment"}, "this scenario answers both ways before its end"
    by = {r.account_uid: r for r in rep.rows}
    for uid in members:
        mine = [c for c, v in comment_cases.items() if v[0] == uid]
        assert by[uid].comment_cases == len(mine)
