"""Working time used to place responses (fast = within working hours, late = days of working time later).

Uses the national holiday calendar (`chinesecalendar`, with make-up working days) and falls back to
Monday-Friday outside the years it covers.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import chinese_calendar

DAY_START = time(9, 0)
DAY_END = time(17, 30)


def is_workday(d: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        return d.weekday() < 5


def next_working_moment(dt: datetime) -> datetime:
    """`dt` itself if inside working hours of a working day, else the next working day's 09:00."""
    d = dt.date()
    if is_workday(d) and DAY_START <= dt.timetz().replace(tzinfo=None) < DAY_END:
        return dt
    if is_workday(d) and dt.timetz().replace(tzinfo=None) < DAY_START:
        return dt.replace(hour=DAY_START.hour, minute=DAY_START.minute, second=0, microsecond=0)
    d += timedelta(days=1)
    while not is_workday(d):
        d += timedelta(days=1)
    return datetime.combine(d, DAY_START, tzinfo=dt.tzinfo)


def add_workdays(dt: datetime, n: int) -> date:
    """The date `n` working days after `dt`'s date."""
    d = dt.date()
    while n > 0:
        d += timedelta(days=1)
        if is_workday(d):
            n -= 1
    return d
