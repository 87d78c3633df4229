"""How late a case is, for many cases at once: the one rule behind rankings and the daily rollup.

A case is late when a deadline it was bound by passed before it was met: the forwarding (while the
case waits at the coordinator), the first response (met by the first response, or by closure without
one), or the closure. Its lateness is the largest of these, in whole working minutes of the policy's
calendar from the deadline to when it was met, or to `now` while unmet. A deadline takes over from an
earlier one in that list only when it is strictly later.

Everything runs in numpy over the calendar's integer local microseconds: at 90 days there are tens of
thousands of late cases, and a Python loop over datetimes cost seconds.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    and_,
    func,
    literal,
    or_,
    select,
    type_coerce,
)

from matrix.rules.workcal import _US_PER_MIN, WorkingCalendar
from matrix.storage.models import Case, UTCDateTime
from matrix.timeutil import as_utc

NONE = np.iinfo(np.int64).min  # a missing time (NaT) in the arrays of `local_us`
DEADLINES = ("forward", "first_response", "closure")
# a case's deadlines and when they were met, in the order `lateness` takes them
STAMPS = ("forward_due", "first_response_due", "first_response_at", "closure_due", "closed_at")


class Lateness(NamedTuple):
    """Per case: working minutes late on its latest deadline, and which (index into DEADLINES; -1: on time)."""

    minutes: Any  # int64 array
    which: Any  # int8 array


def calendar_key(cal: WorkingCalendar) -> str:
    """A short fingerprint of the calendar's definition: lateness stored under another key is not reused."""
    blob = json.dumps(cal.describe(), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def local_us(cal: WorkingCalendar, values: Sequence[Any]) -> Any:
    """Stored times (text on SQLite, naive or aware UTC datetimes) as int64 local µs; NONE where missing."""
    off = cal.lus(datetime(1970, 1, 1, tzinfo=timezone.utc))
    vals = [v.astimezone(timezone.utc).replace(tzinfo=None) if isinstance(v, datetime) and v.tzinfo else v
            for v in values]
    us = np.array(vals, dtype="datetime64[us]").astype(np.int64)
    return np.where(us == NONE, NONE, us + off)


def lateness(cal: WorkingCalendar, now: datetime, awaiting: Any, forward_due: Any, response_due: Any,
             response_at: Any, closure_due: Any, closed_at: Any) -> Lateness:
    """Lateness of each case from its deadlines and the times they were met (int64 local µs arrays
    from `local_us`; `awaiting`: a bool array, the case still waits for forwarding)."""
    n = len(awaiting)
    xnow = cal.lus(now)

    def minutes_late(cond: Any, due: Any, end: Any) -> Any:
        out = np.zeros(n, dtype=np.int64)
        k = np.nonzero(cond)[0]
        if k.size:
            out[k] = np.maximum(cal.working_lus_between_many(due[k], end[k]), 0) // _US_PER_MIN
        return out

    f_cond = np.asarray(awaiting, dtype=bool) & (forward_due != NONE) & (forward_due < xnow)
    best = np.where(f_cond, minutes_late(f_cond, forward_due, np.full(n, xnow)), -1)
    which = np.where(f_cond, 0, -1)
    r_met = np.where(response_at != NONE, response_at, closed_at)
    r_end = np.where(r_met != NONE, r_met, xnow)
    r_cond = (response_due != NONE) & (r_end > response_due)
    r_min = minutes_late(r_cond, response_due, r_end)
    take = r_cond & ((which < 0) | (r_min > best))
    best, which = np.where(take, r_min, best), np.where(take, 1, which)
    c_end = np.where(closed_at != NONE, closed_at, xnow)
    c_cond = (closure_due != NONE) & (c_end > closure_due)
    c_min = minutes_late(c_cond, closure_due, c_end)
    take = c_cond & ((which < 0) | (c_min > best))
    best, which = np.where(take, c_min, best), np.where(take, 2, which)
    return Lateness(np.where(which >= 0, best, 0).astype(np.int64), which.astype(np.int8))


def candidates(now: datetime) -> ColumnElement[bool]:
    """SQL: the case may be late on some deadline as of NOW (`lateness` decides how late, in working time)."""
    now_param = literal(as_utc(now), UTCDateTime())
    response_met = func.coalesce(Case.first_response_at, Case.closed_at, now_param)
    closure_met = func.coalesce(Case.closed_at, now_param)
    return or_(
        and_(Case.first_response_due.is_not(None), response_met > Case.first_response_due),
        and_(Case.closure_due.is_not(None), closure_met > Case.closure_due),
        and_(Case.status == "awaiting_forward", Case.forward_due.is_not(None), Case.forward_due < now_param),
    )


def late_cases(conn: Connection, calendar: WorkingCalendar, now: datetime, where: Sequence[Any],
               keys: Sequence[Any]) -> tuple[list[tuple], list[tuple], Lateness]:
    """The cases under WHERE that may be late as of NOW: their KEYS columns, their STAMPS as stored (text on
    SQLite), and their lateness (one row each, in the same order; `which` -1: not late after all)."""
    stamps = [type_coerce(Case.__table__.c[c], String) for c in STAMPS]
    rows = conn.execute(select(*keys, Case.status, *stamps).where(*where, candidates(now))).all()
    if not rows:
        return [], [], Lateness(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8))
    n = len(keys)
    cols = list(zip(*rows))
    late = lateness(calendar, as_utc(now), [s == "awaiting_forward" for s in cols[n]],
                    *(local_us(calendar, col) for col in cols[n + 1:]))
    return [r[:n] for r in rows], [r[n + 1:] for r in rows], late
