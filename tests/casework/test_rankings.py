"""Rankings on the hand-built week: every expected figure is counted here from the rows themselves."""
from __future__ import annotations

import math
import statistics

import pytest

from casework_data import END, MINUTES_PER_DAY, NOW, SPECS, START, insert, is_late, lateness_days
from casework_helpers import bj, count_working_minutes
from matrix.reading.rankings import account_rankings, period_rankings


def expected(account: str) -> dict:
    rows = [sp for sp in SPECS if sp.account == account and START <= sp.opened < END
            and sp.status not in ("invalid", "merged")]
    n = len(rows)
    responded = [sp for sp in rows if sp.fra]
    on_time = [sp for sp in responded if sp.frd is None or sp.fra <= sp.frd]
    closed = [sp for sp in rows if sp.status == "closed"]
    closed_on_time = [sp for sp in closed if sp.cd is None or sp.closed <= sp.cd]
    minutes = sorted(sp.wm for sp in responded if sp.wm is not None)
    late = [sp for sp in rows if is_late(sp, NOW)]
    return {
        "cases": n,
        "responded": len(responded),
        "response_rate": len(responded) / n,
        "on_time_responses": len(on_time),
        "on_time_response_rate": len(on_time) / n,
        "closed": len(closed),
        "on_time_closed": len(closed_on_time),
        "on_time_closure_rate": len(closed_on_time) / n,
        "median_response_working_minutes": statistics.median(minutes) if minutes else None,
        "p90_response_working_minutes": minutes[math.ceil(0.9 * len(minutes)) - 1] if minutes else None,
        "overdue_count": len(late),
        "days_overdue": round(sum(lateness_days(sp, NOW) for sp in late), 2),
        "negative_share": sum(sp.sentiment == "negative" for sp in rows) / n,
    }


def test_figures_per_account_match_counting(world):
    insert(world)
    with world.session() as s:
        ranks = account_rankings(s, START, END, now=NOW, policy=world.policy)
    got = {r.account_uid: r for r in ranks}
    assert set(got) == {"2001", "2002", "2003", "1000"}
    for uid, r in got.items():
        exp = expected(uid)
        for key, value in exp.items():
            assert getattr(r, key) == pytest.approx(value), (uid, key)
    a = got["2001"]
    assert (a.screen_name, a.name, a.department) == ("银川公安", "银川市公安局", "公安")
    # a sanity anchor computed by hand: 2001 answered 3 of 4, on time 2 of 4; the unanswered case
    # runs from Wednesday 17:30 to next Wednesday 10:00 = 4 full working days + 90 min
    assert (a.cases, a.responded, a.on_time_responses) == (4, 3, 2)
    assert lateness_days(SPECS[2], NOW) == pytest.approx(4 + 90 / 450)


def test_order_scope_and_department(world):
    insert(world)
    with world.session() as s:
        ranks = account_rankings(s, START, END, now=NOW, policy=world.policy)
        # best on-time response rate first; ties broken by on-time closure, then fewer days overdue
        assert [r.account_uid for r in ranks] == ["2002", "2001", "2003", "1000"]
        mine = account_rankings(s, START, END, account_uids=["2002"], now=NOW, policy=world.policy)
        assert [r.account_uid for r in mine] == ["2002"]
        assert mine[0] == next(r for r in ranks if r.account_uid == "2002")
        assert account_rankings(s, START, END, account_uids=[], now=NOW, policy=world.policy) == []
        dept = account_rankings(s, START, END, department="住建", now=NOW, policy=world.policy)
        assert [r.account_uid for r in dept] == ["2003"]
        assert dept[0].response_rate == 0 and dept[0].median_response_working_minutes is None
        assert dept[0].overdue_count == 0 and dept[0].days_overdue == 0
        with pytest.raises(ValueError, match="ends"):
            account_rankings(s, END, START, policy=world.policy)


def test_totals_and_late_case_list(world):
    by_id = insert(world)
    with world.session() as s:
        data = period_rankings(s, START, END, now=NOW, policy=world.policy)
    in_period = [sp for sp in SPECS if START <= sp.opened < END and sp.status not in ("invalid", "merged")]
    t = data.total
    assert t.cases == len(in_period) == sum(r.cases for r in data.ranks)
    assert t.overdue_count == sum(is_late(sp, NOW) for sp in in_period) == len(data.late_cases)
    assert t.days_overdue == pytest.approx(sum(lateness_days(sp, NOW) for sp in in_period), abs=0.01)
    all_minutes = sorted(sp.wm for sp in in_period if sp.wm is not None)
    assert t.median_response_working_minutes == statistics.median(all_minutes)
    for late in data.late_cases:
        assert late.days_overdue == pytest.approx(lateness_days(by_id[late.case_id], NOW))
    assert data.late_cases == sorted(data.late_cases, key=lambda c: (-c.days_overdue, c.case_id))
    fwd = [c for c in data.late_cases if c.account_uid == "1000"]
    assert len(fwd) == 1 and fwd[0].deadline == "forward" and fwd[0].met_at is None


def test_lateness_stops_at_now(world):
    insert(world)
    with world.session() as s:
        early = bj(2025, 11, 19, 17, 30)  # exactly the unanswered case's first-response deadline
        ranks = {r.account_uid: r for r in account_rankings(s, START, END, now=early, policy=world.policy)}
    # at that instant only the case answered late on Wednesday 10:30 counts for 2001
    assert ranks["2001"].overdue_count == 1
    assert ranks["2001"].days_overdue == pytest.approx(round(count_working_minutes(
        bj(2025, 11, 18, 17, 30), bj(2025, 11, 19, 10, 30)) / MINUTES_PER_DAY, 2))
