"""Policy clocks: which limits apply, deadlines, levels, extensions, phrases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from matrix.rules.policy import KINDS, Limit, Limits, Policy, load_policy

SH = timezone(timedelta(hours=8))


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


OVERRIDES = """\
version = "overrides"

[defaults]
forward = "4 working hours"
first_response = "1 working day"
next_reply = "1 working day"
closure = "5 working days"

[kinds."咨询"]
closure = "3 working days"

[categories."公安"]
first_response = "2 calendar hours"

[categories."公安".kinds."求助"]
closure = "1 working day"

[warning]
before = "4 working hours"

[[escalation]]
name = "提醒"
after = "2 working hours"

[[escalation]]
name = "约谈"
after = "3 calendar days"

[extension]
cap_working_days = 2
"""


@pytest.fixture(scope="module")
def overrides(tmp_path_factory) -> Policy:
    p: Path = tmp_path_factory.mktemp("pol") / "overrides.toml"
    p.write_text(OVERRIDES, encoding="utf-8")
    return load_policy(p)


def test_most_specific_limit_wins(overrides):
    assert overrides.limits("咨询").closure == Limit(3, "days", "working")
    assert overrides.limits("投诉").closure == Limit(5, "days", "working")
    police = overrides.limits("求助", "公安")
    assert police.first_response == Limit(2, "hours", "calendar")
    assert police.closure == Limit(1, "days", "working")
    assert police.forward == Limit(4, "hours", "working")
    assert overrides.limits("咨询", "公安").closure == Limit(3, "days", "working")
    # a category without overrides gets the kind's limits
    assert overrides.limits("咨询", "教育") == overrides.limits("咨询")
    assert overrides.categories == {"公安"}
    with pytest.raises(ValueError, match="unknown post kind"):
        overrides.limits("抱怨")


def test_limits_are_hashable_cache_keys(policy):
    cache = {}
    for kind in KINDS:
        lim = policy.limits(kind, "公安")
        cache[lim] = kind
        for clock in (lim.forward, lim.first_response, lim.next_reply, lim.closure):
            if clock is not None:
                cache[(sh(2025, 3, 3, 9, 0), clock)] = policy.deadline(sh(2025, 3, 3, 9, 0), clock)
    assert Limits(None, None, None, None) == Limits(None, None, None, None)
    assert hash(Limit(1, "days", "working")) == hash(Limit.parse("1 working day"))


def test_deadlines_by_basis(policy):
    start = sh(2025, 3, 7, 16, 0)  # Friday
    assert policy.deadline(start, Limit(4, "hours", "working")) == sh(2025, 3, 10, 11, 0)
    assert policy.deadline(start, Limit(30, "minutes", "working")) == sh(2025, 3, 7, 16, 30)
    assert policy.deadline(start, Limit(1, "days", "working")) == sh(2025, 3, 10, 17, 30)
    assert policy.deadline(start, Limit(48, "hours", "calendar")) == sh(2025, 3, 9, 16, 0)
    assert policy.deadline(start, Limit(7, "days", "calendar")) == sh(2025, 3, 14, 16, 0)
    utc = datetime(2025, 3, 7, 8, 0, tzinfo=timezone.utc)
    assert policy.deadline(utc, Limit(48, "hours", "calendar")) == sh(2025, 3, 9, 16, 0)
    assert policy.deadline(utc, Limit(48, "hours", "calendar")).utcoffset() == timedelta(hours=8)


def test_default_closure_over_golden_week(policy):
    start = sh(2025, 9, 30, 10, 0)
    assert policy.deadline(start, policy.limits("投诉").closure) == sh(2025, 10, 28, 17, 30)
    assert policy.deadline(start, policy.limits("咨询").closure) == sh(2025, 10, 11, 17, 30)  # 调休 Saturday
    assert policy.deadline(start, policy.limits("投诉").first_response) == sh(2025, 10, 9, 17, 30)


def test_extension_days_and_cap(policy, overrides):
    start = sh(2025, 3, 3, 9, 0)
    five = Limit(5, "days", "working")
    base = policy.deadline(start, five)
    assert base == sh(2025, 3, 10, 17, 30)
    assert policy.deadline(start, five, extension_days=2) == sh(2025, 3, 12, 17, 30)
    assert policy.deadline(start, five, extension_days=10) == sh(2025, 3, 24, 17, 30)
    # beyond the cap counts as the cap
    assert policy.deadline(start, five, extension_days=30) == policy.deadline(start, five, extension_days=10)
    assert overrides.deadline(start, five, extension_days=5) == sh(2025, 3, 12, 17, 30)
    with pytest.raises(ValueError):
        policy.deadline(start, five, extension_days=-1)


def test_extension_request_at_1659_vs_1701(policy):
    due = policy.deadline(sh(2025, 3, 3, 9, 0), Limit(5, "days", "working"))
    assert due == sh(2025, 3, 10, 17, 30)
    assert policy.extension_allowed(due, sh(2025, 3, 10, 16, 59))
    assert not policy.extension_allowed(due, sh(2025, 3, 10, 17, 1))
    assert not policy.extension_allowed(due, sh(2025, 3, 10, 17, 0))
    assert policy.extension_allowed(due, sh(2025, 3, 7, 22, 0))
    assert not policy.extension_allowed(due, sh(2025, 3, 11, 9, 0))
    # the same instants stamped in UTC
    assert policy.extension_allowed(due, datetime(2025, 3, 10, 8, 59, tzinfo=timezone.utc))
    assert not policy.extension_allowed(due, datetime(2025, 3, 10, 9, 1, tzinfo=timezone.utc))
    # a due before the cut-off time: the due itself is the limit
    early = sh(2025, 3, 10, 11, 0)
    assert policy.extension_cutoff(early) == early
    assert not policy.extension_allowed(early, sh(2025, 3, 10, 11, 30))


def test_extension_without_cutoff_or_cap(overrides, tmp_path):
    due = sh(2025, 3, 10, 17, 30)
    assert overrides.extension.cutoff is None
    assert overrides.extension_allowed(due, sh(2025, 3, 10, 17, 29))
    p = tmp_path / "noext.toml"
    p.write_text(OVERRIDES.replace("cap_working_days = 2", "cap_working_days = 0"), encoding="utf-8")
    assert not load_policy(p).extension_allowed(due, sh(2025, 3, 3, 9, 0))


def test_levels_in_time(policy):
    start = sh(2025, 3, 3, 9, 0)  # Monday
    due = policy.deadline(start, Limit(5, "days", "working"))  # Monday 10 March 17:30
    warn = policy.warning_at(start, due)
    # 420 working min left on Monday + 5 × 450 = 2670; 75% = 2002.5 min = Monday 420 + 3 × 450
    # + 232.5 on Friday: 08:30–12:00 (210) and 22.5 min after lunch
    assert warn == sh(2025, 3, 7, 13, 52, 30)
    assert policy.level(due, start, start) == ""
    assert policy.level(due, sh(2025, 3, 7, 13, 52, 29), start) == ""
    assert policy.level(due, sh(2025, 3, 7, 13, 52, 30), start) == "warning"
    assert policy.level(due, due, start) == "warning"
    assert policy.level(due, due + timedelta(seconds=1), start) == "催办"
    tongbao = sh(2025, 3, 17, 17, 30)  # 5 whole working days after the due
    assert policy.level(due, tongbao, start) == "催办"
    assert policy.level(due, tongbao + timedelta(minutes=1), start) == "通报"
    assert policy.escalation_times(due) == [("催办", due), ("通报", tongbao)]
    # before the case opened nothing is reached
    assert policy.level(due, start - timedelta(hours=1), start) == ""


def test_levels_with_before_and_custom_escalations(overrides):
    start = sh(2025, 3, 3, 9, 0)
    due = sh(2025, 3, 5, 10, 0)
    # 4 working hours before Wednesday 10:00: 90 min on Wednesday, 150 on Tuesday → Tuesday 15:00
    assert overrides.warning_at(start, due) == sh(2025, 3, 4, 15, 0)
    assert overrides.level(due, sh(2025, 3, 4, 14, 59), start) == ""
    assert overrides.level(due, sh(2025, 3, 4, 15, 0), start) == "warning"
    assert overrides.level(due, sh(2025, 3, 5, 10, 1), start) == "overdue"
    assert overrides.level(due, sh(2025, 3, 5, 12, 0), start) == "overdue"
    assert overrides.level(due, sh(2025, 3, 5, 12, 1), start) == "提醒"
    assert overrides.level(due, sh(2025, 3, 8, 10, 1), start) == "约谈"
    assert overrides.escalation_levels == ["提醒", "约谈"]
    assert overrides.levels == ["", "warning", "overdue", "提醒", "约谈"]
    # a short window: the warning point is clamped to the start, never before it
    assert overrides.warning_at(start, start + timedelta(hours=1)) == start


def test_warning_on_calendar_basis(policy):
    start = sh(2025, 3, 8, 0, 0)  # Saturday: no working time until Monday
    due = policy.deadline(start, Limit(24, "hours", "calendar"))
    assert policy.warning_at(start, due, basis="calendar") == sh(2025, 3, 8, 18, 0)
    # measured on working time a window without any falls back to calendar time
    assert policy.warning_at(start, due) == sh(2025, 3, 8, 18, 0)
    assert policy.level(due, sh(2025, 3, 8, 17, 59), start, basis="calendar") == ""
    assert policy.level(due, sh(2025, 3, 8, 18, 0), start, basis="calendar") == "warning"


def test_minutes(policy):
    a = sh(2025, 3, 7, 17, 0)
    b = datetime(2025, 3, 10, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Shanghai
    assert policy.working_minutes(a, b) == 60
    assert policy.calendar_minutes(a, b) == 2 * 24 * 60 + 16 * 60
    assert policy.working_minutes(b, a) == -60
    assert policy.calendar_minutes(b, a) == -(2 * 24 * 60 + 16 * 60)
    assert policy.calendar_minutes(a, a + timedelta(seconds=119)) == 1


def test_phrases_and_open_kinds(policy):
    assert policy.is_closing("您反映的问题已办结，感谢监督")
    assert policy.is_closing("经核实，已处理完毕")
    assert not policy.is_closing("正在核实，尚未处理")
    assert policy.is_forward("请@银川市公安局 核实处理")
    assert policy.is_forward("转办@兴庆区政府")
    assert policy.is_forward("请核实处理")
    assert not policy.is_forward("感谢您的关注")
    assert not policy.is_closing("")
    assert policy.opens_case("投诉") and not policy.opens_case("表扬")


def test_describe_is_plain_data(policy):
    import json

    d = policy.describe()
    json.dumps(d, ensure_ascii=False)
    assert d["version"] == policy.version
    assert d["limits"]["投诉"]["closure"] == "15 working days"
    assert d["escalation"] == [{"name": "催办", "after": "0 working days"}, {"name": "通报", "after": "5 working days"}]
    assert d["extension"] == {"cutoff": "17:00", "cap_working_days": 10}
    assert d["calendar"]["work_hours"] == ["08:30-12:00", "13:30-17:30"]
    assert "表扬" not in d["open_kinds"]
