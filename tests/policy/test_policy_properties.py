"""Properties of the SLA clock that must hold for any instant, offset and amount (hypothesis)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from matrix.rules.policy import Limit, load_policy

POLICY = load_policy()
CAL = POLICY.calendar
US = timedelta(microseconds=1)

offsets = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))
instants = st.builds(
    lambda naive, tz: naive.replace(tzinfo=timezone.utc).astimezone(tz),
    st.datetimes(min_value=datetime(2005, 1, 1), max_value=datetime(2025, 12, 1)),
    offsets,
)
minutes = st.integers(min_value=0, max_value=15_000)
amounts = st.integers(min_value=0, max_value=40)
units = st.sampled_from(["minutes", "hours", "days"])
bases = st.sampled_from(["working", "calendar"])

FAST = settings(max_examples=150, deadline=None)


@FAST
@given(instants, instants)
def test_working_minutes_never_exceed_calendar_minutes(a, b):
    a, b = min(a, b), max(a, b)
    w = POLICY.working_minutes(a, b)
    assert 0 <= w <= POLICY.calendar_minutes(a, b)
    assert POLICY.working_minutes(b, a) == -w


@FAST
@given(instants, minutes)
def test_adding_working_minutes_round_trips(a, m):
    end = CAL.add_working_minutes(a, m)
    assert end >= a
    assert CAL.working_minutes_between(a, end) == m
    if m > 0:
        # the earliest such instant: a microsecond earlier the minutes are not yet used up
        assert CAL.working_us_between(a, end - US) < m * 60_000_000
        assert end.utcoffset() == timedelta(hours=8)


@FAST
@given(instants, minutes)
def test_subtracting_working_minutes_round_trips(e, m):
    start = CAL.subtract_working_minutes(e, m)
    assert start <= e
    assert CAL.working_minutes_between(start, e) == m


@FAST
@given(instants, instants, instants)
def test_working_time_is_additive(a, b, c):
    a, b, c = sorted((a, b, c))
    assert CAL.working_us_between(a, b) + CAL.working_us_between(b, c) == CAL.working_us_between(a, c)


@FAST
@given(instants)
def test_is_working_time_matches_the_count(t):
    assert CAL.is_working_time(t) == (CAL.working_us_between(t, t + US) == 1)


@FAST
@given(instants, st.integers(min_value=0, max_value=40))
def test_working_days_end_at_close_of_business_on_a_working_day(a, n):
    due = CAL.add_working_days(a, n)
    assert due > a
    assert CAL.is_workday(due)
    assert due.strftime("%H:%M") == CAL.work_hours[-1][1]
    # exactly n working days lie strictly between the day of receipt and the due day
    assert CAL.workdays_between(CAL.receipt_day(a), due.date()) == n


@FAST
@given(instants, amounts, amounts, units, bases)
def test_deadlines_are_monotonic_in_their_limits(start, x, y, unit, basis):
    lo, hi = min(x, y), max(x, y)
    assert POLICY.deadline(start, Limit(lo, unit, basis)) <= POLICY.deadline(start, Limit(hi, unit, basis))
    assert POLICY.deadline(start, Limit(lo, unit, basis)) >= start


@FAST
@given(instants, instants, amounts, units, bases)
def test_deadlines_are_monotonic_in_their_start(a, b, n, unit, basis):
    a, b = min(a, b), max(a, b)
    limit = Limit(n, unit, basis)
    assert POLICY.deadline(a, limit) <= POLICY.deadline(b, limit)


@FAST
@given(instants, amounts, st.integers(0, 15), st.integers(0, 15))
def test_extensions_never_shorten_a_deadline(start, n, e1, e2):
    limit = Limit(n, "days", "working")
    lo, hi = min(e1, e2), max(e1, e2)
    assert POLICY.deadline(start, limit) <= POLICY.deadline(start, limit, lo) <= POLICY.deadline(start, limit, hi)


@FAST
@given(instants, amounts, units, bases, st.lists(st.integers(0, 60 * 24 * 60), min_size=2, max_size=6))
def test_levels_only_rise_and_never_before_their_time(start, n, unit, basis, steps):
    due = POLICY.deadline(start, Limit(n, unit, basis))
    order = POLICY.levels
    warn = POLICY.warning_at(start, due, basis)
    seen = []
    for minutes_later in sorted(steps):
        now = start + timedelta(minutes=minutes_later)
        level = POLICY.level(due, now, start, basis)
        seen.append(order.index(level))
        if now <= due:
            assert level in ("", "warning")
            assert (level == "warning") == (now >= warn)
        else:
            assert level not in ("", "warning")
            for name, at in POLICY.escalation_times(due):
                if now <= at:
                    assert order.index(level) < order.index(name)
    assert seen == sorted(seen)


@FAST
@given(instants, amounts, units, bases, st.integers(0, 12), st.lists(st.integers(-600, 60 * 24 * 60), min_size=1, max_size=5))
def test_clock_agrees_with_level(start, n, unit, basis, ext, steps):
    limit = Limit(n, unit, basis)
    clock = POLICY.clock(start, limit, ext)
    due = POLICY.deadline(start, limit, ext)
    assert clock.due == due
    assert clock.warning_at == POLICY.warning_at(start, due, basis)
    for minutes_later in steps:
        now = start + timedelta(minutes=minutes_later)
        assert clock.level(now) == POLICY.level(due, now, start, basis)
