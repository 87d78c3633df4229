"""The whole pipeline in one test: fake Weibo over real HTTP → crawler → sentiment → cases → SLA clock.

The scenario knows the truth (who was asked, who forwarded, who answered when); the test replays its
days through the real poller against the real server and checks the database says the same: a case
for every request, the right account owing it, the first response seen at the time it was made, and
overdue flags exactly where the policy's deadlines, applied to the scenario's own times, put them.
"""
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
from matrix.storage.models import Account, Case, CaseEvent, Post
from matrix.rules.policy import load_policy
from matrix.polling.pollstore import build_poller

CST = timezone(timedelta(hours=8))
END = datetime(2025, 11, 21, 18, 0, tzinfo=CST)  # a Friday evening: weekend clocks are in play too


def _t(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@pytest.fixture
def played(db_url, tmp_path):
    """Play a 4-day scenario (plus a day of history) through the poller; yields (scenario, engine, policy)."""
    scenario = Scenario(seed=11, accounts=6, days=4, history_days=1, end=END, threads_per_account_day=1.2)
    clock = SimClock.fixed(scenario.start)
    server = serve_in_thread(scenario, clock=clock, comment_dates="full")
    try:
        roster = tmp_path / "roster.csv"
        roster.write_text(scenario.roster_csv(), encoding="utf-8")
        runner = CliRunner()
        res = runner.invoke(main, ["--db", db_url, "accounts", "import", str(roster)])
        assert res.exit_code == 0, res.output
        engine = open_db(db_url)
        policy = load_policy()
        poller = build_poller(
            engine, policy,
            {"base_url": server.base_url, "search_base_url": server.base_url,
             "budget": RequestBudget(per_minute=1_000_000, burst=1000)},
            now=clock.now,
        )
        t = scenario.start
        while t < scenario.end:
            t = min(t + timedelta(hours=6), scenario.end)
            clock.set(t)
            report = poller.poll_once(max_requests=10_000)
            assert not report.errors, report.errors
        poller.poll_once(max_requests=10_000)  # a last look at the end, then the clock
        poller.tick()
        yield scenario, engine, policy, server
    finally:
        server.stop()


def test_cases_and_overdue_flags_match_the_scenario(played, db_url):
    scenario, engine, policy, server = played
    uid_of = {a.screen_name: a.uid for a in scenario.accounts}
    coordinator = next(a.uid for a in scenario.accounts if a.role == "coordinator")
    truth = [r for r in scenario.truth_at(scenario.end) if r["intent"] not in ("own",)]
    checked = {"late": 0, "on_time": 0, "unanswered_overdue": 0, "unanswered_in_time": 0}
    with session_scope(engine) as s:
        cases = {c.post_id: c for c in s.scalars(select(Case))}
        stored = set(s.scalars(select(Post.id)))
        for row in truth:
            if row["deleted_at"] and row["post_id"] not in stored:
                continue  # deleted before anyone could see it: nothing to judge
            case = cases.get(row["post_id"])
            if row["intent"] == "thanks":
                assert case is None, f"thank-you post {row['post_id']} opened a case"
                continue
            assert case is not None, f"no case for {row['intent']} post {row['post_id']}: {row['addressed']}"
            forwarded_to = row["forwarded_to"]
            responded = _t(row["responded_at"])
            if forwarded_to:
                assert case.account_uid == uid_of[forwarded_to], row
                assert case.forwarded_at == _t(row["forwarded_at"]), row
            elif row["intent"] in ("multi", "via"):
                assert case.account_uid == coordinator and case.status == "awaiting_forward", row
            else:
                assert case.account_uid == uid_of[row["target"]], row
            assert case.first_response_at == responded, (row, case.first_response_at)
            if row["closed_at"]:
                assert case.status == "closed" and case.closed_at == _t(row["closed_at"]), row
            # the deadline the policy sets, from the scenario's own times
            if case.status == "awaiting_forward":
                limit = policy.limits(case.kind, "").forward
                due = policy.deadline(_t(row["created_at"]), limit)
                assert case.forward_due == due
                assert case.overdue == (scenario.end > due), row
                checked["unanswered_overdue" if case.overdue else "unanswered_in_time"] += 1
                continue
            category = next(a.category for a in scenario.accounts if a.uid == case.account_uid)
            start = _t(row["forwarded_at"]) or _t(row["created_at"])
            due = policy.deadline(start, policy.limits(case.kind, category).first_response)
            assert case.first_response_due == due, (row, case.first_response_due, due)
            if responded is None:
                assert case.status == "open", row
                assert case.overdue == (scenario.end > due), (row, due)
                checked["unanswered_overdue" if case.overdue else "unanswered_in_time"] += 1
            else:
                late = responded > due
                assert (case.first_response_at > case.first_response_due) == late
                checked["late" if late else "on_time"] += 1
        # every overdue case is backed by an event saying so, stamped when it was observed
        for case in cases.values():
            if case.overdue:
                ev = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                       CaseEvent.type.in_(["overdue", "escalated"]))).first()
                assert ev is not None and ev.at >= case.overdue_since
        # nobody in the roster opened a case against themselves
        roster_uids = set(s.scalars(select(Account.uid)))
        assert all(c.citizen_uid not in roster_uids for c in cases.values())
    # the scenario must exercise both sides of every judgement for this test to mean anything
    assert checked["late"] >= 1 and checked["on_time"] >= 3, checked
    assert checked["unanswered_overdue"] >= 1, checked

    # `wzmon cases --format csv` lists the same cases, overdue flags included
    res = CliRunner().invoke(main, ["--db", db_url, "cases", "--format", "csv"])
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    header = lines[0].split(",")
    assert header == ["case_id", "post_id", "account_uid", "kind", "status", "opened_at", "forwarded_at",
                      "first_response_at", "closed_at", "first_response_due", "closure_due",
                      "first_response_working_minutes", "overdue", "overdue_level", "policy_version", "provisional",
                      "pending", "origin"]
    with session_scope(engine) as s:
        n = len(s.scalars(select(Case.id)).all())
        overdue = len(s.scalars(select(Case.id).where(Case.overdue.is_(True))).all())
    assert len(lines) - 1 == n
    assert sum(1 for ln in lines[1:] if ",true," in ln) == overdue
    assert all(",+08:00" not in ln and "+08:00" in ln for ln in lines[1:])
