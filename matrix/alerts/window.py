"""When alerts may go out: outside quiet hours and, if configured, only on working days.

Alerts due in a closed window are held (left pending), never dropped. Working days come from the
policy's working calendar (chinesecalendar plus the office's own corrections); for a year the
calendar has no data for, Monday–Friday is assumed rather than holding alerts forever.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any, Callable

from matrix.alerts.config import AlertsConfig
from matrix.timeutil import local

log = logging.getLogger(__name__)


def default_calendar() -> Any:
    """The shipped policy's working calendar, else a plain WorkingCalendar, else None (chinesecalendar)."""
    try:
        from matrix.rules.policy import load_policy

        return load_policy().calendar
    except Exception:  # noqa: BLE001 - any failure falls back to the plain calendar
        try:
            from matrix.rules.workcal import WorkingCalendar

            return WorkingCalendar()
        except Exception:  # noqa: BLE001
            return None


def working_day_checker(calendar: Any = None) -> Callable[[date], bool]:
    """is_working_day(d) using calendar.is_workday, falling back to chinesecalendar, then Mon–Fri."""

    def check(day: date) -> bool:
        if calendar is not None:
            try:
                return bool(calendar.is_workday(day))
            except ValueError:  # CalendarError: year unknown
                return day.weekday() < 5
        try:
            import chinese_calendar

            return bool(chinese_calendar.is_workday(day))
        except (ImportError, NotImplementedError):
            return day.weekday() < 5

    return check


class Window:
    """Quiet hours (local time) and working-day-only sending."""

    def __init__(self, config: AlertsConfig, is_working_day: Callable[[date], bool] | None = None):
        self.config = config
        self.is_working_day = is_working_day or working_day_checker(default_calendar() if config.working_days_only else None)

    def allowed(self, now: datetime) -> bool:
        return self.why_closed(now) == ""

    def why_closed(self, now: datetime) -> str:
        """'' when sending is allowed at now, else the reason ('quiet hours 22:00-08:00', 'rest day')."""
        t = local(now)
        if self.config.working_days_only and not self.is_working_day(t.date()):
            return f"{t.date()} is not a working day"
        quiet = self.config.quiet_hours
        if quiet:
            start, end = quiet
            m = t.hour * 60 + t.minute
            inside = (start <= m < end) if start < end else (m >= start or m < end)
            if inside:
                return f"quiet hours {start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
        return ""

    def next_open(self, now: datetime, horizon_days: int = 40) -> datetime | None:
        """The first minute at or after now when sending is allowed (minute steps over quiet spans)."""
        t = local(now).replace(second=0, microsecond=0)
        if t < local(now):
            t += timedelta(minutes=1)
        end = t + timedelta(days=horizon_days)
        while t < end:
            if self.allowed(t):
                return t
            if self.config.working_days_only and not self.is_working_day(t.date()):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
                continue
            t += timedelta(minutes=1)
        return None
