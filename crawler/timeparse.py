"""`created_at` in every form Weibo shows, resolved to an aware datetime in Asia/Shanghai.

Relative forms (刚刚, 5分钟前, 昨天 10:20, 06-05 ...) only mean something against the moment the page
was fetched, so the caller passes that moment (the response's Date header, not the local clock).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from crawler.clock import now_utc
from crawler.constants import SHANGHAI
from crawler.exceptions import TimeFormatError

API_FORMAT = "%a %b %d %H:%M:%S %z %Y"  # Tue Jun 08 09:35:04 +0800 2021

_SUFFIX = re.compile(r"\s*(?:来自|來自|发布于|發佈於)\s*\S*.*$")
_AGO = re.compile(r"^(\d+)\s*(秒|秒钟|分钟|分|小时|小時|天)前$")
_DAYWORD = re.compile(r"^(今天|昨天|前天)\s*(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_MD_DASH = re.compile(r"^(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_MD_CN = re.compile(r"^(\d{1,2})月(\d{1,2})日\s*(?:(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_YMD = re.compile(
    r"^(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_API = re.compile(r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{1,2}) "
                  r"(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4}) (\d{4})$")
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                       "Dec"), 1)}
_ZONES: dict[str, timezone] = {}
_SECONDS = {"秒": 1, "秒钟": 1, "分钟": 60, "分": 60, "小时": 3600, "小時": 3600, "天": 86400}


def to_shanghai(value: datetime) -> datetime:
    """Aware datetime in Asia/Shanghai; a naive value is taken to be Shanghai wall time."""
    if value.tzinfo is None:
        return value.replace(tzinfo=SHANGHAI)
    return value.astimezone(SHANGHAI)


def strip_suffix(text: str) -> str:
    """Drop a trailing `来自河南` / `来自iPhone客户端` / `发布于 北京` from a time string, and on weibo.cn pages the
    client name that follows the time after a no-break space (`2020-06-05 11:12:14\xa0网页`)."""
    text = text.strip()
    if "\xa0" in text:
        text = text.split("\xa0", 1)[0]
    return _SUFFIX.sub("", text).strip()


def _zone(tz: str | None):
    if not tz:
        return SHANGHAI
    if tz == "Z":
        return timezone.utc
    sign = 1 if tz[0] == "+" else -1
    digits = tz[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _month_day(now: datetime, month: int, day: int, hh: int, mm: int, ss: int) -> datetime:
    """MM-DD has no year: this year unless that lands in the future, then last year."""
    value = now.replace(month=month, day=day, hour=hh, minute=mm, second=ss, microsecond=0) \
        if _valid(now.year, month, day) else None
    if value is None or value > now + timedelta(minutes=5):
        year = now.year - 1
        if not _valid(year, month, day):
            raise TimeFormatError(f"no such date {month:02d}-{day:02d}")
        value = now.replace(year=year, month=month, day=day, hour=hh, minute=mm, second=ss, microsecond=0)
    return value


def _valid(year: int, month: int, day: int) -> bool:
    try:
        datetime(year, month, day)
        return True
    except ValueError:
        return False


def parse_created_at(value: str | datetime | int | float, fetched_at: datetime | None = None) -> datetime:
    """Parse any Weibo time form; relative ones are resolved against `fetched_at` (aware, any zone).

    Raises `TimeFormatError` naming the string when it is in no known form.
    """
    if isinstance(value, datetime):
        return to_shanghai(value)
    if isinstance(value, (int, float)):  # epoch seconds (some PC endpoints)
        return datetime.fromtimestamp(float(value), tz=SHANGHAI)
    if not isinstance(value, str) or not value.strip():
        raise TimeFormatError(f"empty or non-text created_at: {value!r}")
    raw = value
    text = strip_suffix(value)
    m = _API.match(text)  # the API form, read without strptime (it is most of what the site sends)
    if m:
        tz = _ZONES.get(m.group(6))
        if tz is None:
            tz = _ZONES[m.group(6)] = _zone(m.group(6))
        try:
            return datetime(int(m.group(7)), _MONTHS[m.group(1)], int(m.group(2)), int(m.group(3)), int(m.group(4)),
                            int(m.group(5)), tzinfo=tz).astimezone(SHANGHAI)
        except ValueError:
            pass
    try:
        return datetime.strptime(text, API_FORMAT).astimezone(SHANGHAI)
    except ValueError:
        pass
    now = to_shanghai(fetched_at) if fetched_at is not None else now_utc().astimezone(SHANGHAI)
    now = now.replace(microsecond=0)
    if text in ("刚刚", "刚才", "剛剛"):
        return now
    m = _AGO.match(text)
    if m:
        return now - timedelta(seconds=int(m.group(1)) * _SECONDS[m.group(2)])
    m = _DAYWORD.match(text)
    if m:
        back = {"今天": 0, "昨天": 1, "前天": 2}[m.group(1)]
        day = now - timedelta(days=back)
        return day.replace(hour=int(m.group(2)), minute=int(m.group(3)), second=int(m.group(4) or 0))
    for pattern in (_MD_DASH, _MD_CN):
        m = pattern.match(text)
        if m:
            month, day = int(m.group(1)), int(m.group(2))
            hh, mm, ss = (int(m.group(i) or 0) for i in (3, 4, 5))
            try:
                return _month_day(now, month, day, hh, mm, ss)
            except (TimeFormatError, ValueError) as exc:
                raise TimeFormatError(f"bad date in created_at {raw!r}: {exc}") from None
    m = _YMD.match(text)
    if m:
        y, mo, d = (int(m.group(i)) for i in (1, 2, 3))
        hh, mm, ss = (int(m.group(i) or 0) for i in (4, 5, 6))
        try:
            return datetime(y, mo, d, hh, mm, ss, tzinfo=_zone(m.group(7))).astimezone(SHANGHAI)
        except ValueError as exc:
            raise TimeFormatError(f"bad date in created_at {raw!r}: {exc}") from None
    raise TimeFormatError(f"unknown created_at form {raw!r}")


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with offset (Shanghai), seconds precision."""
    return to_shanghai(value).isoformat(timespec="seconds") if value is not None else None
