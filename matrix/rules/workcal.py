"""The Chinese working calendar behind every working-time SLA clock.

Working days come from `chinesecalendar` (national holidays and the 调休 make-up working days on
weekends), corrected by days the office adds by hand in its policy file. Working time is the
office's working hours on those days (default 08:30–12:00 and 13:30–17:30, Asia/Shanghai).

Definitions (each function below repeats the one it uses):

* working time: on a working day, the half-open intervals [start, end) of `work_hours`, in the
  calendar's time zone (wall clock).
* `add_working_minutes(t, m)`: the earliest instant at which m minutes of working time have passed
  since t. A result that falls exactly on the end of a block is that end (12:00, not 13:30), so
  "4 working hours" from Monday 08:00 is Monday 13:30+30 min = 14:00 and `m = 0` returns t itself.
* `add_working_days(t, n)`: close of business (end of the last block) on the n-th working day after
  the day of receipt. The day of receipt is t's local date when t falls on a working day before
  close of business; a post on a rest day or after close of business counts as received on the next
  working day (as 12345 centres count it). So `n = 0` is close of business on the day of receipt,
  a post on Friday 10:00 with n = 1 is due Monday 17:30, and one on Friday 23:59 is due Tuesday 17:30.
* `shift_working_days(t, n)`: t moved on by n full working days of working time (n × the minutes in
  one working day); used for extensions and for escalation offsets counted from a deadline, so a due
  of Tuesday 17:30 shifted by 5 is the next Tuesday 17:30.
* `working_minutes_between(a, b)`: whole minutes of working time in [a, b), truncated towards zero;
  negative when b is before a.

All arithmetic runs on integer microseconds of local time and one table of working days with its
running count (built once, ~10,000 days), so no function loops over minutes or days: each is a few
integer operations and at most one bisect.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from importlib import metadata
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar

from matrix.rules.holidays import PROVISIONAL_YEARS, STATUTORY_RULE, statutory_holidays

__all__ = [
    "CalendarError",
    "WorkingCalendar",
    "DEFAULT_WORK_HOURS",
    "chinesecalendar_years",
    "parse_clock",
]

DEFAULT_WORK_HOURS: tuple[tuple[str, str], ...] = (("08:30", "12:00"), ("13:30", "17:30"))
_US_PER_MIN = 60_000_000
_US_PER_DAY = 86_400_000_000
_CLOCK = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


class CalendarError(ValueError):
    """A date the working calendar cannot place: its year is unknown to chinesecalendar and the
    policy file adds no days for it, or the calendar itself is set up wrongly."""

    def __init__(self, message: str, year: int | None = None):
        super().__init__(message)
        self.year = year


def chinesecalendar_years() -> tuple[int, int]:
    """First and last year the installed chinesecalendar has holiday data for."""
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


def _chinesecalendar_version() -> str:
    try:
        return metadata.version("chinesecalendar")
    except metadata.PackageNotFoundError:  # pragma: no cover - installed as a dependency
        return "?"


def parse_clock(text: str) -> int:
    """'HH:MM' (00:00–24:00) to minutes after midnight; ValueError with the reason otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"expected a time like '08:30', got {text!r}")
    m = _CLOCK.match(text.strip())
    if not m:
        raise ValueError(f"expected a time like '08:30' (HH:MM, 00:00–24:00), got {text!r}")
    minutes = int(m.group(1)) * 60 + int(m.group(2))
    if minutes > 24 * 60:
        raise ValueError(f"{text!r} is after 24:00")
    return minutes


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_ONE_US = timedelta(microseconds=1)
_ORD_1970 = date(1970, 1, 1).toordinal()
_HAND_YEARS = (1970, 2100)  # days added by hand must fall in these years
_HOLIDAY_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
                  "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节",
                  "National Day": "国庆节", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日"}


class WorkingCalendar:
    """Working days and hours; all public functions take aware datetimes in any offset.

    Naive datetimes are taken to be UTC, the convention of `matrix.timeutil` (storage is UTC).
    Results are aware datetimes in the calendar's zone (Asia/Shanghai by default). The zone must
    keep one UTC offset over the years covered (no daylight saving), as every zone in China does.

    Internally an instant is an integer: microseconds of local wall-clock time since 1970-01-01
    00:00 local ("lus"); a day is an ordinal indexing one precomputed table of working days and
    its running count, so every function is a few integer operations and a bisect.
    """

    def __init__(
        self,
        work_hours: Sequence[tuple[str, str]] = DEFAULT_WORK_HOURS,
        extra_workdays: Iterable[date | str] = (),
        extra_holidays: Iterable[date | str] = (),
        tz: str | ZoneInfo = "Asia/Shanghai",
        source: str = "the policy file",
        notice_days: Mapping[date, bool] | None = None,
        notice_sources: Mapping[int, str] | None = None,
        notice_names: Mapping[date, str] | None = None,
        official_until: int | None = None,
    ):
        """`extra_workdays`/`extra_holidays`: the office's own days from the policy file. `notice_days`:
        days of the State Council notices the office imported (`wzmon calendar import`; True = working
        day), `notice_sources` naming each year's notice. A year neither chinesecalendar, a notice nor the
        office's days cover is provisional (weekends and the statutory days of matrix.rules.holidays).
        `official_until` ignores chinesecalendar's data after that year (to measure what a provisional year costs
        against the official one)."""
        self.source = source
        self.calendar_file: Any = None  # the office's file of imported notices (set by the policy)
        self.calendar_version = 0
        try:
            self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(f"unknown time zone {tz!r} (use an IANA name like 'Asia/Shanghai')") from exc
        blocks: list[tuple[int, int]] = []
        for pair in work_hours:
            if len(pair) != 2:
                raise CalendarError(f"a working-hours block needs a start and an end, got {pair!r}")
            try:
                start, end = parse_clock(pair[0]), parse_clock(pair[1])
            except ValueError as exc:
                raise CalendarError(f"working hours {pair!r}: {exc}") from exc
            if end <= start:
                raise CalendarError(f"working hours {pair[0]}–{pair[1]}: the end must be after the start")
            blocks.append((start, end))
        if not blocks:
            raise CalendarError("working hours are empty: give at least one block like ('08:30', '12:00')")
        blocks.sort()
        for (_, e1), (s2, _) in zip(blocks, blocks[1:]):
            if s2 < e1:
                raise CalendarError("working hours overlap: blocks must not overlap")
        self.work_hours: tuple[tuple[str, str], ...] = tuple(
            (f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}") for s, e in blocks
        )
        self._blocks: tuple[tuple[int, int], ...] = tuple((s * _US_PER_MIN, e * _US_PER_MIN) for s, e in blocks)
        self.minutes_per_day: int = sum(e - s for s, e in blocks)
        self._day_us = self.minutes_per_day * _US_PER_MIN
        self._close_us = self._blocks[-1][1]
        try:
            self.extra_workdays: frozenset[date] = frozenset(_as_date(d) for d in extra_workdays)
            self.extra_holidays: frozenset[date] = frozenset(_as_date(d) for d in extra_holidays)
        except ValueError as exc:
            raise CalendarError(f"extra days must be dates like 2027-01-01: {exc}") from exc
        both = self.extra_workdays & self.extra_holidays
        if both:
            raise CalendarError(
                "listed both as extra working day and extra holiday: " + ", ".join(sorted(map(str, both)))
            )
        for d in sorted(self.extra_workdays | self.extra_holidays):
            if not _HAND_YEARS[0] <= d.year <= _HAND_YEARS[1]:
                raise CalendarError(f"extra day {d} is outside the years {_HAND_YEARS[0]}–{_HAND_YEARS[1]}")
        self.notice_days: dict[date, bool] = dict(notice_days or {})
        self.notice_sources: dict[int, str] = dict(notice_sources or {})
        self._notice_names: dict[date, str] = dict(notice_names or {})
        for d, working in sorted(self.notice_days.items()):
            own = True if d in self.extra_workdays else False if d in self.extra_holidays else None
            if own is not None and own != working:
                notice = self.notice_sources.get(d.year, "an imported notice")
                raise CalendarError(
                    f"{d} is a {'working' if own else 'rest'} day in {source} [calendar] "
                    f"extra_{'workdays' if own else 'holidays'} but a {'working' if working else 'rest'} day in "
                    f"{notice}; remove one of the two", year=d.year)
        self._known = chinesecalendar_years()
        if official_until is not None:
            self._known = (self._known[0], min(self._known[1], official_until))
        self._notice_years = {d.year for d in self.notice_days} | set(self.notice_sources)
        self._hand_years = {d.year for d in self.extra_workdays | self.extra_holidays} | self._notice_years
        lo, hi = self._known
        self._provisional_years = frozenset(
            y for y in range(max(hi + 1, PROVISIONAL_YEARS[0]), PROVISIONAL_YEARS[1] + 1) if y not in self._hand_years)
        self._build_table()
        self._off_us = self._fixed_offset_us()
        self._epoch_wall = datetime(1970, 1, 1, tzinfo=self.tz)

    # ------------------------------------------------------------------ setup

    def _build_table(self) -> None:
        lo, hi = self._known
        years = set(range(lo, hi + 1)) | self._hand_years | self._provisional_years
        self._y0, self._y1 = min(years), max(years)
        self._base = date(self._y0, 1, 1).toordinal()
        self._n = date(self._y1 + 1, 1, 1).toordinal() - self._base
        work = bytearray(self._n)
        unknown = bytearray(self._n)
        prov = bytearray(self._n)
        holidays, workdays = chinese_calendar.holidays, chinese_calendar.workdays
        statutory: dict[date, str] = {}
        for y in self._provisional_years:
            statutory.update(statutory_holidays(y))
        self._statutory = statutory
        notice = self.notice_days
        for i in range(self._n):
            d = date.fromordinal(self._base + i)
            if d in self.extra_workdays:
                work[i] = 1
            elif d in self.extra_holidays:
                pass
            elif d in notice:
                work[i] = 1 if notice[d] else 0
            elif lo <= d.year <= hi:
                work[i] = 1 if (d in workdays or (d.weekday() < 5 and d not in holidays)) else 0
            elif d.year in self._hand_years:
                work[i] = 1 if d.weekday() < 5 else 0
            elif d.year in self._provisional_years:
                prov[i] = 1
                work[i] = 1 if d.weekday() < 5 and d not in statutory else 0
            else:
                unknown[i] = 1
        self._work = bytes(work)
        self._unknown = bytes(unknown)
        self._cum = list(accumulate(work, initial=0))  # _cum[i] = working days in [base, base + i)
        self._ucum = list(accumulate(unknown, initial=0))
        self._pcum = list(accumulate(prov, initial=0))  # provisional days, for the `provisional` flag
        self._d0 = self._base - _ORD_1970  # table index = days since 1970-01-01 - _d0

    def _fixed_offset_us(self) -> int:
        offsets = set()
        for y in range(self._y0, self._y1 + 2):
            for m in (1, 4, 7, 10):
                offsets.add(datetime(y, m, 1, 12, tzinfo=self.tz).utcoffset())
        if len(offsets) != 1:
            raise CalendarError(
                f"time zone {self.tz.key!r} changes its UTC offset (daylight saving) within "
                f"{self._y0}–{self._y1}; use a zone without it, such as 'Asia/Shanghai'"
            )
        return offsets.pop() // _ONE_US

    # ------------------------------------------------------------------ days

    def covers(self, year: int) -> bool:
        """True when working days of `year` are known officially (chinesecalendar, an imported notice or
        days added by hand), not provisionally."""
        lo, hi = self._known
        return lo <= year <= hi or year in self._hand_years

    def is_provisional_year(self, year: int) -> bool:
        """True when `year`'s days are derived from the statutory rule (no notice known yet)."""
        return year in self._provisional_years

    def last_official_year(self) -> int:
        """The last year of the unbroken run of officially known years that starts with chinesecalendar's."""
        year = self._known[1]
        while year + 1 in self._hand_years:
            year += 1
        return year

    def provisional_lus(self, xa: int, xb: int) -> bool:
        """Whether any day from local µs `xa`'s day to `xb`'s day (either order) is provisional: a deadline
        counted across such a day may move once the year's notice is imported."""
        ia, ib = xa // _US_PER_DAY - self._d0, xb // _US_PER_DAY - self._d0
        lo, hi = (ia, ib) if ia <= ib else (ib, ia)
        lo, hi = max(lo, 0), min(hi, self._n - 1)
        return lo <= hi and self._pcum[hi + 1] != self._pcum[lo]

    def day_source(self, day: date) -> tuple[bool, str, str]:
        """(working?, name of the holiday or '', where the day comes from) for `calendar show`."""
        working = self.is_workday(day)
        lo, hi = self._known
        if day in self.extra_workdays or day in self.extra_holidays:
            return working, "", f"office: {self.source} [calendar]"
        if day in self.notice_days or day.year in self._notice_years:
            return (working, self._notice_names.get(day, ""),
                    f"office: {self.notice_sources.get(day.year, 'imported notice')}")
        if lo <= day.year <= hi:
            name = str(chinese_calendar.get_holiday_detail(day)[1] or "")
            return working, _HOLIDAY_NAMES.get(name, name), f"installed data: chinesecalendar {_chinesecalendar_version()}"
        if day.year in self._hand_years:
            return working, "", f"office: {self.source} [calendar]"
        return working, self._statutory.get(day, ""), f"provisional: {STATUTORY_RULE}, no 调休"

    def _unknown_year(self, year: int) -> CalendarError:
        lo, hi = self._known
        return CalendarError(
            f"no working calendar for {year}: chinesecalendar {_chinesecalendar_version()} knows {lo}–{hi}; "
            f"import that year's State Council notice (wzmon calendar import notice.txt) or add its holidays and "
            f"make-up working days under [calendar] extra_holidays / extra_workdays in {self.source}",
            year=year,
        )

    def _fail(self, i: int, j: int | None = None) -> CalendarError:
        """Error naming an unknown year among table indexes i..j (an unknown day inside, else the edge)."""
        j = i if j is None else j
        lo, hi = min(i, j), max(i, j)
        a, b = max(lo, 0), min(hi, self._n - 1)
        if a <= b:
            k = self._unknown.find(1, a, b + 1)
            if k >= 0:
                return self._unknown_year(_year_of(self._base + k))
        return self._unknown_year(_year_of(self._base + (lo if lo < 0 else hi)))

    def _isw(self, o: int) -> int:
        i = o - self._base
        if 0 <= i < self._n and not self._unknown[i]:
            return self._work[i]
        raise self._fail(i)

    def is_workday(self, day: date | datetime) -> bool:
        """Whether `day` (a date, or the local date of an instant) is a working day."""
        if isinstance(day, datetime):
            return bool(self._isw(self.lus(day) // _US_PER_DAY + _ORD_1970))
        return bool(self._isw(day.toordinal()))

    def _count(self, o1: int, o2: int) -> int:
        """Working days in [o1, o2), o1 <= o2."""
        i1, i2 = o1 - self._base, o2 - self._base
        if i1 < 0 or i2 > self._n or self._ucum[i2] != self._ucum[i1]:
            raise self._fail(i1, i2 - 1)
        return self._cum[i2] - self._cum[i1]

    def workdays_between(self, d1: date, d2: date) -> int:
        """Working days in [d1, d2) (negative when d2 < d1)."""
        o1, o2 = d1.toordinal(), d2.toordinal()
        return self._count(o1, o2) if o1 <= o2 else -self._count(o2, o1)

    def _nth_after(self, o: int, n: int) -> int:
        i = o - self._base
        if not 0 <= i < self._n:
            raise self._fail(i)
        target = self._cum[i + 1] + n
        j = bisect.bisect_left(self._cum, target, i + 1)
        if j > self._n:
            raise self._fail(i + 1, self._n)
        if self._ucum[j] != self._ucum[i + 1]:
            raise self._fail(i + 1, j - 1)
        return self._base + j - 1

    def _nth_before(self, o: int, n: int) -> int:
        i = o - self._base
        if not 0 <= i < self._n:
            raise self._fail(i)
        target = self._cum[i] - n + 1
        if target < 1:
            raise self._fail(-1, i)
        j = bisect.bisect_left(self._cum, target, 0, i + 1)
        if self._ucum[i] != self._ucum[j - 1]:
            raise self._fail(j - 1, i - 1)
        return self._base + j - 1

    def nth_workday_after(self, day: date, n: int) -> date:
        """The n-th working day strictly after `day` (n >= 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        return date.fromordinal(self._nth_after(day.toordinal(), n))

    def nth_workday_before(self, day: date, n: int) -> date:
        """The n-th working day strictly before `day` (n >= 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        return date.fromordinal(self._nth_before(day.toordinal(), n))

    # ------------------------------------------------------------- instants

    def lus(self, t: datetime) -> int:
        """Local wall-clock microseconds since 1970-01-01 00:00 for an instant (naive = UTC)."""
        if t.tzinfo is None:
            return (t - _EPOCH_NAIVE) // _ONE_US + self._off_us
        return (t - _EPOCH_UTC) // _ONE_US + self._off_us

    def from_lus(self, x: int) -> datetime:
        """The aware datetime (in the calendar's zone) for local microseconds `x`."""
        return self._epoch_wall + timedelta(microseconds=x)

    def _local(self, t: datetime) -> datetime:
        if t.tzinfo is None:
            t = t.replace(tzinfo=timezone.utc)
        return t.astimezone(self.tz)

    def _worked_before(self, us: int) -> int:
        """Working microseconds on a working day from midnight up to `us`."""
        total = 0
        for s, e in self._blocks:
            if us <= s:
                break
            total += (e if us >= e else us) - s
        return total

    def _instant_in_day(self, worked: int) -> int:
        """Microseconds after midnight at which `worked` (0 < worked <= one day) working time is reached."""
        for s, e in self._blocks:
            length = e - s
            if worked <= length:
                return s + worked
            worked -= length
        return self._close_us

    def _latest_in_day(self, worked: int) -> int:
        """Latest microsecond after midnight with `worked` (0 <= worked <= one day) working time before it."""
        for s, e in self._blocks:
            length = e - s
            if worked < length:
                return s + worked
            worked -= length
        return self._close_us

    @property
    def close_of_business_us(self) -> int:
        """Microseconds after local midnight at which the working day ends (the last block's end)."""
        return self._close_us

    def _day(self, d: int) -> int:
        """Table index of day `d` (days since 1970-01-01), raising CalendarError for unknown days."""
        i = d - self._d0
        if 0 <= i < self._n and not self._unknown[i]:
            return i
        raise self._fail(i)

    def add_working_lus(self, x: int, amount: int) -> int:
        """Local µs at which `amount` (> 0) µs of working time have passed since local µs `x`."""
        d, us = divmod(x, _US_PER_DAY)
        i = self._day(d)
        day_us = self._day_us
        if self._work[i]:
            target = self._worked_before(us) + amount
            if target <= day_us:
                return d * _US_PER_DAY + self._instant_in_day(target)
            remaining = target - day_us
        else:
            remaining = amount
        k = -(-remaining // day_us)
        rest = remaining - (k - 1) * day_us
        return (self._nth_after(d + _ORD_1970, k) - _ORD_1970) * _US_PER_DAY + self._instant_in_day(rest)

    def subtract_working_lus(self, x: int, amount: int) -> int:
        """Latest local µs from which `amount` (> 0) µs of working time pass until local µs `x`."""
        d, us = divmod(x, _US_PER_DAY)
        i = self._day(d)
        if self._work[i]:
            worked = self._worked_before(us)
            if amount <= worked:
                return d * _US_PER_DAY + self._latest_in_day(worked - amount)
            remaining = amount - worked
        else:
            remaining = amount
        k = -(-remaining // self._day_us)
        left = k * self._day_us - remaining
        return (self._nth_before(d + _ORD_1970, k) - _ORD_1970) * _US_PER_DAY + self._latest_in_day(left)

    def working_lus_between(self, xa: int, xb: int) -> int:
        """Working µs between two local µs values (negative when xb < xa)."""
        da, ua = divmod(xa, _US_PER_DAY)
        db, ub = divmod(xb, _US_PER_DAY)
        ia, ib = da - self._d0, db - self._d0
        lo, hi = (ia, ib) if ia <= ib else (ib, ia)
        if lo < 0 or hi >= self._n or self._ucum[hi + 1] != self._ucum[lo]:
            raise self._fail(lo, hi)
        work = self._work
        wa = self._worked_before(ua) if work[ia] else 0
        wb = self._worked_before(ub) if work[ib] else 0
        return (self._cum[ib] - self._cum[ia]) * self._day_us + wb - wa

    def working_lus_between_many(self, xa: Any, xb: Any) -> Any:
        """`working_lus_between` over two int64 numpy arrays at once (rankings measure tens of thousands
        of late cases per page view). Same results, element by element; CalendarError names the first
        pair that reaches a year the calendar does not know."""
        import numpy as np

        xa = np.asarray(xa, dtype=np.int64)
        xb = np.asarray(xb, dtype=np.int64)
        if xa.size == 0:
            return np.zeros(0, dtype=np.int64)
        da, ua = np.divmod(xa, _US_PER_DAY)
        db, ub = np.divmod(xb, _US_PER_DAY)
        ia, ib = da - self._d0, db - self._d0
        lo, hi = np.minimum(ia, ib), np.maximum(ia, ib)
        bad = (lo < 0) | (hi >= self._n)
        cum, ucum, work = self._arrays()
        safe_lo, safe_hi = np.clip(lo, 0, self._n - 1), np.clip(hi, 0, self._n - 1)
        bad |= ucum[safe_hi + 1] != ucum[safe_lo]
        if bad.any():
            k = int(np.argmax(bad))
            raise self._fail(int(lo[k]), int(hi[k]))

        def worked_before(us: Any) -> Any:
            total = np.zeros_like(us)
            for s, e in self._blocks:
                total += np.clip(us - s, 0, e - s)
            return total

        wa = np.where(work[ia] == 1, worked_before(ua), 0)
        wb = np.where(work[ib] == 1, worked_before(ub), 0)
        return (cum[ib] - cum[ia]) * self._day_us + wb - wa

    def _arrays(self) -> tuple[Any, Any, Any]:
        """The day tables as numpy arrays (cumulative working days, cumulative unknown days, workday
        flags), built on first use and kept: the calendar does not change once built."""
        arrays = self.__dict__.get("_np_tables")
        if arrays is None:
            import numpy as np

            arrays = self._np_tables = (np.asarray(self._cum, dtype=np.int64), np.asarray(self._ucum, dtype=np.int64),
                                        np.frombuffer(self._work, dtype=np.uint8))
        return arrays

    def close_of_business_lus(self, x: int, days: int) -> int:
        """`add_working_days` on local µs."""
        d, us = divmod(x, _US_PER_DAY)
        i = self._day(d)
        o = d + _ORD_1970
        if not (self._work[i] and us < self._close_us):
            o = self._nth_after(o, 1)
        if days:
            o = self._nth_after(o, days)
        return (o - _ORD_1970) * _US_PER_DAY + self._close_us

    # ------------------------------------------------------------- public API

    def is_working_time(self, t: datetime) -> bool:
        """True inside a working block [start, end) of a working day."""
        d, us = divmod(self.lus(t), _US_PER_DAY)
        if not self._isw(d + _ORD_1970):
            return False
        return any(s <= us < e for s, e in self._blocks)

    def add_working_minutes(self, start: datetime, minutes: int) -> datetime:
        """Earliest instant by which `minutes` of working time have passed since `start`.

        `minutes = 0` returns `start` (in the calendar's zone). A result on the end of a block is that
        end, e.g. 30 working minutes from 11:30 is 12:00.
        """
        if minutes < 0:
            raise ValueError(f"minutes must not be negative, got {minutes}")
        if minutes == 0:
            return self._local(start)
        return self.from_lus(self.add_working_lus(self.lus(start), minutes * _US_PER_MIN))

    def subtract_working_minutes(self, end: datetime, minutes: int) -> datetime:
        """Latest instant from which `minutes` of working time pass until `end` (warning points)."""
        if minutes < 0:
            raise ValueError(f"minutes must not be negative, got {minutes}")
        if minutes == 0:
            return self._local(end)
        return self.from_lus(self.subtract_working_lus(self.lus(end), minutes * _US_PER_MIN))

    def receipt_day(self, t: datetime) -> date:
        """The working day a post at `t` counts as received on (see module docstring)."""
        d, us = divmod(self.lus(t), _US_PER_DAY)
        o = d + _ORD_1970
        if self._isw(o) and us < self._close_us:
            return date.fromordinal(o)
        return date.fromordinal(self._nth_after(o, 1))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Close of business on the `days`-th working day after the day of receipt of `start`.

        The day of receipt is `start`'s local date if that is a working day and `start` is before
        close of business; otherwise the next working day. `days = 0`: close of business on the day
        of receipt.
        """
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        return self.from_lus(self.close_of_business_lus(self.lus(start), days))

    def shift_working_days(self, t: datetime, days: int) -> datetime:
        """`t` moved on by `days` whole working days of working time (extensions, escalation offsets)."""
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        if days == 0:
            return self._local(t)
        return self.from_lus(self.add_working_lus(self.lus(t), days * self._day_us))

    def working_us_between(self, a: datetime, b: datetime) -> int:
        """Working microseconds in [a, b); negative when b < a."""
        return self.working_lus_between(self.lus(a), self.lus(b))

    def working_minutes_between(self, a: datetime, b: datetime) -> int:
        """Whole minutes of working time in [a, b), truncated towards zero; negative when b < a."""
        us = self.working_lus_between(self.lus(a), self.lus(b))
        return us // _US_PER_MIN if us >= 0 else -((-us) // _US_PER_MIN)

    def describe(self) -> dict:
        lo, hi = self._known
        return {
            "timezone": str(self.tz.key),
            "work_hours": [f"{s}-{e}" for s, e in self.work_hours],
            "minutes_per_working_day": self.minutes_per_day,
            "extra_workdays": sorted(d.isoformat() for d in self.extra_workdays),
            "extra_holidays": sorted(d.isoformat() for d in self.extra_holidays),
            "chinesecalendar": f"{_chinesecalendar_version()} ({lo}–{hi})",
        }


def _year_of(ordinal: int) -> int:
    if ordinal < 1:
        return 1
    try:
        return date.fromordinal(ordinal).year
    except (ValueError, OverflowError):
        return 9999
