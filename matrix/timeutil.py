"""Time helpers shared by storage and the rules: everything is stored in UTC, shown in Asia/Shanghai."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from crawler.clock import now_utc

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Now in UTC from the one injectable clock (WZMON_NOW, see crawler.clock)."""
    return now_utc()


def as_utc(value: datetime | None) -> datetime | None:
    """Aware datetime in UTC; naive values are taken to be UTC already (that is how we store them)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def local(value: datetime | None) -> datetime | None:
    """The same instant in Asia/Shanghai (UTC+8, no DST)."""
    v = as_utc(value)
    return v.astimezone(SHANGHAI) if v is not None else None


def iso_local(value: datetime | None) -> str:
    """ISO 8601 with +08:00 offset, or '' for None."""
    v = local(value)
    return v.isoformat(timespec="seconds") if v is not None else ""
