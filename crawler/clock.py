"""The one clock every part of wzmon asks for "now": the machine's, or a start the user sets.

`WZMON_NOW=2026-12-22T10:00` (or `wzmon --now …`) makes the clock start at that instant and run on in
real time from there, the way `faketime -f @…` does, so the poller, the case engine, the alerts and the
board can all be taken across a year boundary, Spring Festival or Golden Week together, in tests and in
`wzmon demo`. A time without a zone is Asia/Shanghai. It lives in the crawler, the lowest layer, so that
matrix and the board read the same clock without the crawler knowing about them.
"""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

from crawler.constants import SHANGHAI

__all__ = ["NOW_ENV", "ClockSettingError", "now_utc", "parse_now"]

NOW_ENV = "WZMON_NOW"
_anchors: dict[str, tuple[datetime, float]] = {}


class ClockSettingError(ValueError):
    """WZMON_NOW (or --now) is not a date-time."""


def parse_now(text: str) -> datetime:
    """An ISO date or date-time ('2026-12-22', '2026-12-22T10:00', '2026-12-22 10:00+08:00') as aware UTC."""
    value = text.strip()
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise ClockSettingError(
            f"{NOW_ENV}={text!r} is not a date-time; write it like 2026-12-22T10:00 (Asia/Shanghai) "
            "or 2026-12-22T02:00+00:00") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=SHANGHAI)
    return at.astimezone(timezone.utc)


def now_utc() -> datetime:
    """Now, aware, in UTC: the machine's clock, or the start set in WZMON_NOW plus the real time since."""
    spec = os.environ.get(NOW_ENV)
    if not spec:
        return datetime.now(timezone.utc)
    anchor = _anchors.get(spec)
    if anchor is None:
        anchor = _anchors[spec] = (parse_now(spec), time.monotonic())
    start, t0 = anchor
    return start + timedelta(seconds=time.monotonic() - t0)
