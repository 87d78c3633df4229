"""Per-account rankings for a period: the one source of the figures on the board, in exports and in 通报.

A case belongs to the period when it was opened in [start, end). Cases marked 无效诉求 (invalid) or
merged into another case are left out: they are not requests the account owed an answer to.

Definitions (each figure is computed once, here):

* cases: cases of the account opened in the period.
* responded / 响应率: cases with a first response; responded / cases.
* on_time_responses / 按时响应率: first response at or before first_response_due (a case with no
  first-response deadline counts as on time once answered); on_time_responses / cases.
* closed, on_time_closed / 按时办结率: cases closed; closed at or before closure_due (or with no
  closure deadline); on_time_closed / cases.
* median / p90 working minutes to first response: over answered cases
  (Case.first_response_working_minutes), p90 by the nearest-rank method.
* late cases, overdue_count, days_overdue: a case is late when a deadline it was bound by passed
  before it was met: the first response (met by the first response, or by closure without one), the
  closure, or, while it sits at the coordinator, the forwarding. Lateness runs from the deadline to
  when it was met, or to `now` while still unmet, in working days (working minutes of the policy's
  calendar divided by the minutes of one working day); a case late on several deadlines counts its
  largest lateness. overdue_count counts late cases, days_overdue sums their lateness.
* negative_share: cases whose sentiment_label is "negative", over cases.

Counts come from one grouped SQL query; medians, and lateness (which needs the working calendar),
are computed in Python over the few columns they need.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
from sqlalchemy import String, and_, case, func, literal, or_, select, type_coerce
from sqlalchemy.orm import Session

from matrix.models import Account, Case, UTCDateTime
from matrix.timeutil import as_utc, utcnow
from matrix.workcal import _US_PER_MIN

EXCLUDED_STATUSES = ("invalid", "merged")


@dataclass
class AccountRank:
    """One account's figures for one period (field names are the contract in .ci/CONTRACTS.md)."""

    account_uid: str
    screen_name: str
    name: str
    department: str
    cases: int
    responded: int
    response_rate: float | None
    on_time_responses: int
    on_time_response_rate: float | None
    closed: int
    on_time_closed: int
    on_time_closure_rate: float | None
    median_response_working_minutes: float | None
    p90_response_working_minutes: float | None
    overdue_count: int
    days_overdue: float
    negative_share: float | None
    negative: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LateCase:
    """A case that missed a deadline, with how late, for the overdue list of a 通报."""

    case_id: int
    post_id: str
    account_uid: str
    status: str
    kind: str
    opened_at: datetime
    deadline: str  # forward | first_response | closure: the deadline it is latest on
    due: datetime
    met_at: datetime | None  # when that deadline was met; None while still unmet
    days_overdue: float
    overdue_level: str


@dataclass
class PeriodRankings:
    """Everything a period's rankings hold: per-account rows (ranked), the whole-matrix row, late cases."""

    start: datetime
    end: datetime
    now: datetime
    policy_version: str
    ranks: list[AccountRank]
    total: AccountRank
    late_cases: list[LateCase] = field(default_factory=list)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def median(values: list[int]) -> float | None:
    """Median of the values (mean of the two middle ones for an even count); None when empty."""
    if not values:
        return None
    s = sorted(values)
    n = len(s)
    mid = n // 2
    return float(s[mid]) if n % 2 else (s[mid - 1] + s[mid]) / 2


def percentile_nearest_rank(values: list[int], pct: float) -> float | None:
    """The smallest value with at least pct% of values at or below it (nearest-rank); None when empty."""
    if not values:
        return None
    s = sorted(values)
    k = max(1, math.ceil(pct / 100 * len(s)))
    return float(s[k - 1])


def _minutes_per_working_day(policy: Any) -> int:
    cal = getattr(policy, "calendar", None)
    minutes = getattr(cal, "minutes_per_day", None)
    if not minutes:
        raise ValueError("the policy's working calendar has no working minutes per day; cannot count working days")
    return int(minutes)


def working_days_late(policy: Any, due: datetime, met: datetime) -> float:
    """Working days from `due` to `met` (0 when met on time), as a fraction of one working day."""
    if met <= due:
        return 0.0
    return max(policy.working_minutes(due, met), 0) / _minutes_per_working_day(policy)


def _filters(start: datetime, end: datetime, account_uids: list[str] | None, department: str | None) -> list:
    conds = [
        Case.opened_at >= as_utc(start),
        Case.opened_at < as_utc(end),
        Case.status.not_in(EXCLUDED_STATUSES),
        Case.account_uid.is_not(None),
    ]
    if account_uids is not None:
        conds.append(Case.account_uid.in_(list(account_uids)) if account_uids else literal(False))
    if department is not None:
        conds.append(Case.account_uid.in_(select(Account.uid).where(Account.department == department)))
    return conds


def _late_rows(session: Session, policy: Any, conds: list, now: datetime) -> list[tuple]:
    """(case_id, account_uid, days late, deadline, due, met_at) for every late case under CONDS.

    SQL keeps only cases late on some deadline; numpy measures the lateness in working time on the
    calendar's integer local microseconds, all rows at once (at 90 days there are tens of thousands of
    late cases, and a Python loop over datetimes cost seconds). `due` and `met_at` stay as stored.
    """
    now = as_utc(now)
    now_param = literal(now, UTCDateTime())
    response_met = func.coalesce(Case.first_response_at, Case.closed_at, now_param)
    closure_met = func.coalesce(Case.closed_at, now_param)
    candidate = or_(
        and_(Case.first_response_due.is_not(None), response_met > Case.first_response_due),
        and_(Case.closure_due.is_not(None), closure_met > Case.closure_due),
        and_(Case.status == "awaiting_forward", Case.forward_due.is_not(None), Case.forward_due < now_param),
    )
    table = Case.__table__
    stamps = [type_coerce(table.c[c], String) for c in
              ("forward_due", "first_response_due", "first_response_at", "closure_due", "closed_at")]
    rows = session.connection().execute(
        select(table.c.id, table.c.account_uid, table.c.status, *stamps).where(*conds, candidate)
    ).all()
    if not rows:
        return []
    ids, uids, status, fwd_raw, rdue_raw, rat_raw, cdue_raw, cat_raw = zip(*rows)
    cal = policy.calendar
    per_day = _minutes_per_working_day(policy)
    off = cal.lus(datetime(1970, 1, 1, tzinfo=timezone.utc))
    xnow = cal.lus(now)
    fwd, rdue, rat, cdue, cat = (_local_us(col, off) for col in (fwd_raw, rdue_raw, rat_raw, cdue_raw, cat_raw))
    awaiting = np.array([s == "awaiting_forward" for s in status])

    def days_late(cond: Any, due: Any, end: Any) -> Any:
        """Working days from due to end where COND holds (whole working minutes, as before)."""
        out = np.zeros(len(rows))
        k = np.nonzero(cond)[0]
        if k.size:
            minutes = np.maximum(cal.working_lus_between_many(due[k], end[k]), 0) // _US_PER_MIN
            out[k] = minutes / per_day
        return out

    # the deadline a case is latest on: forwarding, then first response, then closure, each taking
    # over only when strictly later (as the per-case rule says)
    f_cond = awaiting & (fwd != _NONE) & (fwd < xnow)
    best = np.where(f_cond, days_late(f_cond, fwd, np.full(len(rows), xnow)), -np.inf)
    which = np.where(f_cond, 0, -1)
    r_met = np.where(rat != _NONE, rat, cat)
    r_end = np.where(r_met != _NONE, r_met, xnow)
    r_cond = (rdue != _NONE) & (r_end > rdue)
    r_days = days_late(r_cond, rdue, r_end)
    take = r_cond & ((which < 0) | (r_days > best))
    best, which = np.where(take, r_days, best), np.where(take, 1, which)
    c_end = np.where(cat != _NONE, cat, xnow)
    c_cond = (cdue != _NONE) & (c_end > cdue)
    c_days = days_late(c_cond, cdue, c_end)
    take = c_cond & ((which < 0) | (c_days > best))
    best, which = np.where(take, c_days, best), np.where(take, 2, which)

    out: list[tuple] = []
    for i in np.nonzero(which >= 0)[0].tolist():
        w = int(which[i])
        if w == 0:
            due, met = fwd_raw[i], None
        elif w == 1:
            due, met = rdue_raw[i], rat_raw[i] if rat_raw[i] is not None else cat_raw[i]
        else:
            due, met = cdue_raw[i], cat_raw[i]
        out.append((ids[i], uids[i], float(best[i]), _DEADLINES[w], due, met))
    return out


_NONE = np.iinfo(np.int64).min  # a missing time (NaT) in the arrays of `_local_us`
_DEADLINES = ("forward", "first_response", "closure")


def _local_us(values: Sequence[Any], off: int) -> Any:
    """Stored times (text on SQLite, naive UTC datetimes elsewhere) as int64 local µs; _NONE where missing."""
    vals = [v.astimezone(timezone.utc).replace(tzinfo=None) if isinstance(v, datetime) and v.tzinfo else v
            for v in values]
    us = np.array(vals, dtype="datetime64[us]").astype(np.int64)
    return np.where(us == _NONE, _NONE, us + off)


def _as_time(value: Any) -> datetime | None:
    """A stored time (text or datetime) as an aware UTC datetime."""
    return None if value is None else as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _late_case_objects(session: Session, late: list[tuple]) -> list[LateCase]:
    """LateCase records (with post, kind, opening time and level) for the late rows, latest first."""
    info: dict[int, tuple] = {}
    ids = [r[0] for r in late]
    conn = session.connection()
    for chunk in range(0, len(ids), 5000):
        part = ids[chunk:chunk + 5000]
        for row in conn.execute(
            select(Case.id, Case.post_id, Case.status, Case.kind, Case.opened_at, Case.overdue_level)
            .where(Case.id.in_(part))
        ):
            info[row[0]] = tuple(row[1:])
    out = []
    for case_id, uid, days, which, due, met in late:
        post_id, status, kind, opened_at, level = info[case_id]
        out.append(LateCase(case_id=case_id, post_id=post_id, account_uid=uid, status=status, kind=kind,
                            opened_at=opened_at, deadline=which, due=_as_time(due), met_at=_as_time(met),
                            days_overdue=days,
                            overdue_level=level or ""))
    out.sort(key=lambda c: (-c.days_overdue, c.case_id))
    return out


def _rank_key(r: AccountRank) -> tuple:
    """Best first: on-time response rate, then on-time closure rate, then fewer days overdue."""
    return (
        -(r.on_time_response_rate or 0.0),
        -(r.on_time_closure_rate or 0.0),
        r.days_overdue,
        -r.cases,
        r.screen_name,
        r.account_uid,
    )


def period_rankings(
    session: Session,
    start: datetime,
    end: datetime,
    account_uids: list[str] | None = None,
    department: str | None = None,
    *,
    now: datetime | None = None,
    policy: Any = None,
    with_late_cases: bool = True,
) -> PeriodRankings:
    """Per-account rows (best first), the whole-selection totals and the late cases of the period.

    `now` (default: the current time) is where lateness of still-unmet deadlines stops counting;
    `policy` (default: the shipped policy) supplies the working calendar for days overdue.
    `with_late_cases=False` skips building the list of late cases (the figures are the same).
    """
    if policy is None:
        from matrix.policy import load_policy

        policy = load_policy()
    now = as_utc(now) if now is not None else utcnow()
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        raise ValueError(f"the period ends ({end:%Y-%m-%d %H:%M} UTC) before it starts ({start:%Y-%m-%d %H:%M} UTC)")
    conds = _filters(start, end, account_uids, department)
    session.flush()  # the queries below read through the connection, past the session's autoflush

    def count_if(cond) -> Any:  # noqa: ANN001
        return func.sum(case((cond, 1), else_=0))

    responded = Case.first_response_at.is_not(None)
    on_time_resp = and_(
        responded, or_(Case.first_response_due.is_(None), Case.first_response_at <= Case.first_response_due)
    )
    closed = and_(Case.status == "closed", Case.closed_at.is_not(None))
    on_time_closed = and_(closed, or_(Case.closure_due.is_(None), Case.closed_at <= Case.closure_due))
    conn = session.connection()  # Core rows: no ORM loading overhead on large periods
    agg = conn.execute(
        select(
            Case.account_uid,
            func.count(Case.id),
            count_if(responded),
            count_if(on_time_resp),
            count_if(closed),
            count_if(on_time_closed),
            count_if(Case.sentiment_label == "negative"),
        )
        .where(*conds)
        .group_by(Case.account_uid)
    ).all()

    minutes: dict[str, list[int]] = {}
    for uid, m in conn.execute(
        select(Case.account_uid, Case.first_response_working_minutes).where(
            *conds, responded, Case.first_response_working_minutes.is_not(None)
        )
    ).all():  # one fetch, not a round per row
        minutes.setdefault(uid, []).append(int(m))

    late = _late_rows(session, policy, conds, now)
    late_by: dict[str, list[float]] = {}
    for row in late:
        late_by.setdefault(row[1], []).append(row[2])

    uids = [row[0] for row in agg]
    accounts = {
        a.uid: a
        for a in conn.execute(
            select(Account.uid, Account.screen_name, Account.name, Account.department).where(Account.uid.in_(uids))
        )
    } if uids else {}

    def make(uid: str, screen: str, name: str, dept: str, n: int, resp: int, otr: int, cl: int, otc: int,
             neg: int, mins: list[int], lates: list[float]) -> AccountRank:
        return AccountRank(
            account_uid=uid,
            screen_name=screen,
            name=name,
            department=dept,
            cases=n,
            responded=resp,
            response_rate=_rate(resp, n),
            on_time_responses=otr,
            on_time_response_rate=_rate(otr, n),
            closed=cl,
            on_time_closed=otc,
            on_time_closure_rate=_rate(otc, n),
            median_response_working_minutes=median(mins),
            p90_response_working_minutes=percentile_nearest_rank(mins, 90),
            overdue_count=len(lates),
            days_overdue=round(sum(lates), 2),
            negative_share=_rate(neg, n),
            negative=neg,
        )

    ranks: list[AccountRank] = []
    totals = [0, 0, 0, 0, 0, 0]
    for uid, n, resp, otr, cl, otc, neg in agg:
        vals = [int(n or 0), int(resp or 0), int(otr or 0), int(cl or 0), int(otc or 0), int(neg or 0)]
        totals = [a + b for a, b in zip(totals, vals)]
        acc = accounts.get(uid)
        ranks.append(
            make(
                uid, acc.screen_name if acc else uid, acc.name if acc else "", acc.department if acc else "",
                *vals, minutes.get(uid, []), late_by.get(uid, []),
            )
        )
    ranks.sort(key=_rank_key)
    all_minutes = [m for ms in minutes.values() for m in ms]
    total = make("", "合计", "", "", *totals, all_minutes, [row[2] for row in late])
    return PeriodRankings(
        start=start, end=end, now=now, policy_version=str(getattr(policy, "version", "")),
        ranks=ranks, total=total, late_cases=_late_case_objects(session, late) if with_late_cases else [],
    )


def account_rankings(
    session: Session,
    start: datetime,
    end: datetime,
    account_uids: list[str] | None = None,
    department: str | None = None,
    *,
    now: datetime | None = None,
    policy: Any = None,
) -> list[AccountRank]:
    """One AccountRank per account with cases opened in [start, end), best first.

    `account_uids` limits the accounts (None: all, the office's view; a list: a member's own
    accounts), `department` keeps accounts of that department; both are applied in SQL.
    """
    return period_rankings(
        session, start, end, account_uids, department, now=now, policy=policy, with_late_cases=False
    ).ranks
