"""The working calendar: deadlines pinned across weekends, Golden Week, 调休, lunch and offsets."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import chinese_calendar
import pytest

from matrix.rules.workcal import CalendarError, WorkingCalendar, chinesecalendar_years

SH = timezone(timedelta(hours=8))
UTC = timezone.utc
JST = timezone(timedelta(hours=9))


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def test_golden_week_2025_as_chinesecalendar_has_it():
    # The facts the Golden Week tests below rely on.
    assert chinese_calendar.is_workday(date(2025, 9, 28))  # Sunday, 调休 working day
    assert chinese_calendar.is_workday(date(2025, 10, 11))  # Saturday, 调休 working day
    for d in range(1, 9):
        assert not chinese_calendar.is_workday(date(2025, 10, d))
    assert chinese_calendar.is_workday(date(2025, 10, 9))


def test_weekend_is_skipped(cal):
    fri = sh(2025, 3, 7, 10, 0)
    assert cal.add_working_days(fri, 1) == sh(2025, 3, 10, 17, 30)  # Monday close of business
    # Friday 16:00 + 4 working hours: 1.5 h on Friday, 2.5 h from Monday 08:30
    assert cal.add_working_minutes(sh(2025, 3, 7, 16, 0), 240) == sh(2025, 3, 10, 11, 0)
    assert cal.working_minutes_between(sh(2025, 3, 7, 17, 0), sh(2025, 3, 10, 9, 0)) == 60


def test_golden_week(cal):
    before = sh(2025, 9, 30, 10, 0)  # Tuesday before the holiday
    assert cal.add_working_days(before, 1) == sh(2025, 10, 9, 17, 30)
    assert cal.add_working_minutes(sh(2025, 9, 30, 16, 0), 240) == sh(2025, 10, 9, 11, 0)
    # 15 working days: Oct 9, 10, 11 (调休 Sat), 13–17, 20–24, 27, 28
    assert cal.add_working_days(before, 15) == sh(2025, 10, 28, 17, 30)
    # nothing counts during the holiday
    assert cal.working_minutes_between(sh(2025, 10, 1, 0, 0), sh(2025, 10, 8, 23, 59)) == 0
    assert cal.add_working_days(sh(2025, 10, 3, 9, 0), 0) == sh(2025, 10, 9, 17, 30)


def test_tiaoxiu_saturday_and_sunday_work(cal):
    assert cal.is_workday(date(2025, 10, 11))
    assert cal.is_working_time(sh(2025, 10, 11, 9, 0))
    # Friday 10 Oct 17:00 → Monday 13 Oct 09:00: 30 min Fri + 450 on Saturday + 30 on Monday
    assert cal.working_minutes_between(sh(2025, 10, 10, 17, 0), sh(2025, 10, 13, 9, 0)) == 510
    assert cal.add_working_days(sh(2025, 10, 10, 10, 0), 1) == sh(2025, 10, 11, 17, 30)
    # A post on Friday 23:59 before Golden Week: Sunday 28 Sep is a working day
    assert cal.add_working_minutes(sh(2025, 9, 26, 23, 59), 240) == sh(2025, 9, 28, 14, 0)
    assert cal.add_working_days(sh(2025, 9, 26, 23, 59), 1) == sh(2025, 9, 29, 17, 30)


def test_lunch_break(cal):
    assert not cal.is_working_time(sh(2025, 3, 5, 12, 0))
    assert not cal.is_working_time(sh(2025, 3, 5, 12, 30))
    assert cal.is_working_time(sh(2025, 3, 5, 11, 59, 59))
    assert cal.is_working_time(sh(2025, 3, 5, 13, 30))
    assert not cal.is_working_time(sh(2025, 3, 5, 17, 30))
    assert cal.add_working_minutes(sh(2025, 3, 5, 11, 45), 30) == sh(2025, 3, 5, 13, 45)
    # ending exactly at the lunch break gives 12:00, not 13:30
    assert cal.add_working_minutes(sh(2025, 3, 5, 11, 30), 30) == sh(2025, 3, 5, 12, 0)
    # a post during lunch starts counting at 13:30
    assert cal.add_working_minutes(sh(2025, 3, 5, 12, 15), 10) == sh(2025, 3, 5, 13, 40)
    assert cal.working_minutes_between(sh(2025, 3, 5, 11, 0), sh(2025, 3, 5, 14, 0)) == 90
    assert cal.working_minutes_between(sh(2025, 3, 5, 12, 5), sh(2025, 3, 5, 13, 25)) == 0


def test_friday_2359(cal):
    fri = sh(2025, 3, 7, 23, 59)
    # Monday 08:30–12:00 is 3.5 h, the last 30 min after lunch
    assert cal.add_working_minutes(fri, 240) == sh(2025, 3, 10, 14, 0)
    # after close of business: received Monday, one working day later is Tuesday
    assert cal.receipt_day(fri) == date(2025, 3, 10)
    assert cal.add_working_days(fri, 1) == sh(2025, 3, 11, 17, 30)
    assert cal.add_working_days(sh(2025, 3, 7, 17, 29), 1) == sh(2025, 3, 10, 17, 30)
    assert cal.working_minutes_between(fri, sh(2025, 3, 10, 8, 31)) == 1


def test_working_days_zero_and_close_of_business(cal):
    assert cal.add_working_days(sh(2025, 3, 5, 9, 0), 0) == sh(2025, 3, 5, 17, 30)
    assert cal.add_working_days(sh(2025, 3, 5, 17, 30), 0) == sh(2025, 3, 6, 17, 30)
    assert cal.add_working_minutes(sh(2025, 3, 8, 3, 0), 0) == sh(2025, 3, 8, 3, 0)
    with pytest.raises(ValueError):
        cal.add_working_days(sh(2025, 3, 5, 9, 0), -1)
    with pytest.raises(ValueError):
        cal.add_working_minutes(sh(2025, 3, 5, 9, 0), -1)


def test_shift_and_subtract(cal):
    assert cal.shift_working_days(sh(2025, 3, 4, 17, 30), 2) == sh(2025, 3, 6, 17, 30)
    assert cal.shift_working_days(sh(2025, 3, 7, 10, 0), 1) == sh(2025, 3, 10, 10, 0)
    # Oct 9, 10, 11 (调休 Saturday), 13, 14
    assert cal.shift_working_days(sh(2025, 9, 30, 17, 30), 5) == sh(2025, 10, 14, 17, 30)
    # 4 working hours before Tuesday 10:00: 90 min on Tuesday, 150 on Monday → Monday 15:00
    assert cal.subtract_working_minutes(sh(2025, 3, 11, 10, 0), 240) == sh(2025, 3, 10, 15, 0)
    assert cal.subtract_working_minutes(sh(2025, 10, 9, 9, 0), 60) == sh(2025, 9, 30, 17, 0)
    assert cal.nth_workday_before(date(2025, 10, 9), 1) == date(2025, 9, 30)
    assert cal.nth_workday_after(date(2025, 9, 30), 1) == date(2025, 10, 9)


def test_across_new_year(cal):
    # 2024-12-31 (Tue) is a working day; 2025-01-01 a holiday
    assert cal.add_working_days(sh(2024, 12, 31, 9, 0), 2) == sh(2025, 1, 3, 17, 30)
    assert cal.working_minutes_between(sh(2024, 12, 31, 17, 0), sh(2025, 1, 2, 9, 0)) == 60
    assert cal.workdays_between(date(2024, 1, 1), date(2026, 1, 1)) == sum(
        chinese_calendar.is_workday(date(2024, 1, 1) + timedelta(days=i)) for i in range(731)
    )


def test_offsets_are_the_same_instant(cal):
    local = sh(2025, 3, 7, 10, 0)
    as_utc = datetime(2025, 3, 7, 2, 0, tzinfo=UTC)
    as_jst = datetime(2025, 3, 7, 11, 0, tzinfo=JST)
    naive_utc = datetime(2025, 3, 7, 2, 0)
    expected = sh(2025, 3, 10, 17, 30)
    for start in (local, as_utc, as_jst, naive_utc):
        due = cal.add_working_days(start, 1)
        assert due == expected
        assert due.utcoffset() == timedelta(hours=8)
    assert cal.add_working_minutes(as_jst, 60) == sh(2025, 3, 7, 11, 0)


def test_the_local_date_decides_not_the_utc_date(cal):
    # Friday 16:30 UTC is Saturday 00:30 in Shanghai: received Monday, due Tuesday
    late = datetime(2025, 3, 7, 16, 30, tzinfo=UTC)
    assert cal.receipt_day(late) == date(2025, 3, 10)
    assert cal.add_working_days(late, 1) == sh(2025, 3, 11, 17, 30)
    # Monday 08:00 +09:00 is Monday 07:00 in Shanghai, before work
    assert not cal.is_working_time(datetime(2025, 3, 10, 8, 0, tzinfo=JST))
    assert cal.is_working_time(datetime(2025, 3, 10, 9, 31, tzinfo=JST))


def test_shanghai_has_no_dst(cal):
    for month in (1, 4, 7, 10):
        due = cal.add_working_minutes(datetime(2025, month, 8, 0, 0, tzinfo=UTC), 60)
        assert due.utcoffset() == timedelta(hours=8)
        assert due.tzinfo is cal.tz


def test_unknown_year_is_a_clear_error(cal):
    """Past the lunar tables (2099) and before chinesecalendar's first year nothing is guessed."""
    lo, hi = chinesecalendar_years()
    later = 2100
    with pytest.raises(CalendarError) as info:
        cal.add_working_days(sh(later, 3, 3, 10, 0), 1)
    msg = str(info.value)
    assert str(later) in msg and f"{lo}–{hi}" in msg
    assert "wzmon calendar import" in msg and "[calendar] extra_holidays / extra_workdays" in msg
    assert info.value.year == later
    with pytest.raises(CalendarError):
        cal.is_workday(date(lo - 1, 6, 2))
    # a deadline that runs into the unknown year fails too, rather than guessing
    with pytest.raises(CalendarError):
        cal.add_working_days(sh(2099, 12, 30, 10, 0), 5)


def test_a_year_nobody_published_is_provisional(cal):
    """After chinesecalendar's last year the clock goes on, on weekends and the statutory days only."""
    _, hi = chinesecalendar_years()
    y = hi + 1
    assert cal.is_provisional_year(y) and not cal.covers(y) and not cal.is_provisional_year(hi)
    assert not cal.is_workday(date(y, 1, 1))  # 元旦
    assert not cal.is_workday(date(y, 10, 1)) and not cal.is_workday(date(y, 5, 2))
    monday = next(date(y, 3, d) for d in range(1, 8) if date(y, 3, d).weekday() == 0)
    assert cal.is_workday(monday) and not cal.is_workday(monday - timedelta(days=1))
    due = cal.add_working_days(sh(hi, 12, 22, 10, 0), 15)
    assert due.year == y
    assert cal.provisional_lus(cal.lus(sh(hi, 12, 22, 10, 0)), cal.lus(due))
    assert not cal.provisional_lus(cal.lus(sh(hi, 12, 1, 10, 0)), cal.lus(sh(hi, 12, 10, 10, 0)))
    assert cal.last_official_year() == hi


def test_days_added_by_hand_make_a_year_known():
    _, hi = chinesecalendar_years()
    y = hi + 1
    jan1 = date(y, 1, 1)
    # a working Monday-to-Friday day turned holiday, and the Saturday after turned working day
    sat = next(jan1 + timedelta(days=i) for i in range(7) if (jan1 + timedelta(days=i)).weekday() == 5)
    mon = sat + timedelta(days=2)
    cal = WorkingCalendar(extra_holidays=[jan1.isoformat()], extra_workdays=[sat], source="p.toml")
    assert not cal.is_workday(jan1)
    assert cal.is_workday(sat)
    assert not cal.is_workday(sat + timedelta(days=1))
    assert cal.is_workday(mon)
    assert cal.add_working_days(datetime.combine(sat, datetime.min.time(), tzinfo=SH).replace(hour=9), 1) == \
        datetime.combine(mon, datetime.min.time(), tzinfo=SH).replace(hour=17, minute=30)
    assert cal.covers(y) and not cal.is_provisional_year(y) and cal.last_official_year() == y
    assert cal.is_provisional_year(y + 1)  # the next year nobody published goes on provisionally
    with pytest.raises(CalendarError, match="p.toml"):
        cal.is_workday(date(2100, 3, 1))


def test_extra_days_override_chinesecalendar():
    cal = WorkingCalendar(extra_holidays=[date(2025, 3, 5)], extra_workdays=["2025-03-08"])
    assert not cal.is_workday(date(2025, 3, 5))
    assert cal.is_workday(date(2025, 3, 8))
    assert cal.add_working_days(sh(2025, 3, 4, 9, 0), 1) == sh(2025, 3, 6, 17, 30)


def test_other_fixed_zone():
    cal = WorkingCalendar(tz="Asia/Urumqi")  # UTC+6, no DST
    due = cal.add_working_minutes(datetime(2025, 3, 5, 2, 30, tzinfo=UTC), 30)
    assert due == datetime(2025, 3, 5, 9, 0, tzinfo=timezone(timedelta(hours=6)))


def test_configurable_hours():
    cal = WorkingCalendar(work_hours=[("09:00", "17:00")])
    assert cal.minutes_per_day == 480
    assert cal.add_working_minutes(sh(2025, 3, 5, 16, 0), 120) == sh(2025, 3, 6, 10, 0)
    assert cal.add_working_days(sh(2025, 3, 5, 16, 0), 1) == sh(2025, 3, 6, 17, 0)
    around = WorkingCalendar(work_hours=[("00:00", "24:00")])
    assert around.add_working_minutes(sh(2025, 3, 7, 23, 30), 60) == sh(2025, 3, 10, 0, 30)
    assert around.add_working_days(sh(2025, 3, 7, 23, 30), 0) == sh(2025, 3, 8, 0, 0)


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"work_hours": [("08:30", "25:00")]}, "HH:MM"),
        ({"work_hours": [("12:00", "08:30")]}, "end must be after the start"),
        ({"work_hours": [("08:00", "12:00"), ("11:00", "13:00")]}, "overlap"),
        ({"work_hours": []}, "empty"),
        ({"tz": "Asia/Beijing"}, "unknown time zone"),
        ({"extra_workdays": ["2025-13-01"]}, "dates like 2027-01-01"),
        ({"extra_workdays": ["2025-03-08"], "extra_holidays": ["2025-03-08"]}, "both"),
        ({"extra_holidays": ["2207-01-01"]}, "outside the years"),
        ({"tz": "America/New_York"}, "daylight saving"),
    ],
)
def test_calendar_setup_errors(kwargs, needle):
    with pytest.raises(CalendarError, match=needle):
        WorkingCalendar(**kwargs)


def test_a_gap_between_known_years_is_provisional_and_the_end_is_named():
    _, hi = chinesecalendar_years()
    cal = WorkingCalendar(extra_holidays=[date(hi + 3, 1, 1)])
    assert cal.covers(hi + 3) and not cal.covers(hi + 1) and cal.is_provisional_year(hi + 1)
    assert cal.last_official_year() == hi
    assert cal.working_minutes_between(sh(hi, 12, 1, 9, 0), sh(hi + 3, 3, 1, 9, 0)) > 0
    assert not cal.is_workday(date(hi + 3, 1, 1)) and cal.is_workday(date(hi + 3, 1, 2)) == (
        date(hi + 3, 1, 2).weekday() < 5)
    with pytest.raises(CalendarError) as info:
        cal.add_working_days(sh(2099, 12, 30, 9, 0), 5)
    assert info.value.year == 2100
    lo, _ = chinesecalendar_years()
    with pytest.raises(CalendarError) as info:
        cal.subtract_working_minutes(sh(lo, 1, 5, 9, 0), 450 * 10)
    assert info.value.year == lo - 1


def test_many_pairs_at_once_match_one_pair_at_a_time(cal):
    """The numpy form the rankings use gives what the scalar form gives, pair by pair (block edges,
    lunch, weekends, Golden Week, either order), and the same error for an unknown year."""
    import random

    import numpy as np

    rng = random.Random(3)
    lo = cal.lus(datetime(2024, 12, 20, tzinfo=timezone.utc))
    hi = cal.lus(datetime(2025, 10, 20, tzinfo=timezone.utc))
    day = 86_400_000_000
    xa = [rng.randrange(lo, hi) for _ in range(3000)]
    xb = [rng.randrange(lo, hi) if rng.random() < 0.5 else x + rng.randrange(-3 * day, 3 * day) for x in xa]
    for d in range(0, 300, 7):  # exactly on the working blocks' edges, and a µs either side
        base = (lo // day + d) * day
        for s, e in cal._blocks:
            for eps in (-1, 0, 1):
                xa.append(base + s + eps)
                xb.append(base + e - eps + rng.choice([0, day]))
    many = cal.working_lus_between_many(np.array(xa), np.array(xb))
    assert [int(v) for v in many] == [cal.working_lus_between(a, b) for a, b in zip(xa, xb)]
    assert cal.working_lus_between_many(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).size == 0
    far = cal.lus(datetime(2100, 1, 5, tzinfo=timezone.utc))
    with pytest.raises(CalendarError, match="2100"):
        cal.working_lus_between_many(np.array([lo, lo]), np.array([lo + day, far]))
