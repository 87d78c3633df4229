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
  (Case.first_response_working_minutes, set once a case is answered), p90 by the nearest-rank method.
* late cases, overdue_count, days_overdue: a case is late when a deadline it was bound by passed
  before it was met: the first response (met by the first response, or by closure without one), the
  closure, or, while it sits at the coordinator, the forwarding. Lateness runs from the deadline to
  when it was met, or to `now` while still unmet, in working days (working minutes of the policy's
  calendar divided by the minutes of one working day); a case late on several deadlines counts its
  largest lateness (`matrix.storage.lateness`). overdue_count counts late cases; days_overdue is their
  working minutes late, summed, over the minutes of one working day.
* negative_share: cases whose sentiment_label is "negative", over cases.

For a period of whole days (the board's), counts, response minutes and the lateness of closed cases
(final once closed) come from the daily rollup (`matrix.storage.rollup`, exact at every moment), and only the
cases still open are measured here; otherwise, and for the list of late cases, everything is computed
from `cases`: counts in one grouped SQL query, lateness in numpy over the few columns it needs.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from matrix.storage import rollup
from matrix.storage.lateness import DEADLINES, late_cases
from matrix.storage.models import Account, Case
from matrix.timeutil import SHANGHAI, as_utc, utcnow

EXCLUDED_STATUSES = ("invalid", "merged")


@dataclass
class AccountRank:
    """One account's figures for one period (the board, the 通报 and the rankings export read these fields)."""

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
    # where the cases came from (0009): posts @-mentioning the account, and requests in the comments under its
    # own posts (matrix.casework.inspection); `cases` counts both. comment_on_time: comment cases answered by their
    # first-response deadline.
    mention_cases: int = 0
    comment_cases: int = 0
    comment_on_time: int = 0

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
    # member accounts silent past the inspection limit within the period (set by matrix.reading.report.build_report):
    # (account_uid, screen_name, department, days since the last post at the period's end, longest silence)
    silent: list[tuple[str, str, str, float | None, float | None]] = field(default_factory=list)


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
    """(case_id, account_uid, working minutes late, deadline, due, met_at) for every late case under
    CONDS; `due` and `met_at` stay as stored."""
    keys, stamps, late = late_cases(session.connection(), policy.calendar, now, conds, (Case.id, Case.account_uid))
    out: list[tuple] = []
    for i in np.nonzero(late.which >= 0)[0].tolist():
        w = int(late.which[i])
        fwd, rdue, rat, cdue, cat = stamps[i]
        due, met = ((fwd, None), (rdue, rat if rat is not None else cat), (cdue, cat))[w]
        out.append((*keys[i], int(late.minutes[i]), DEADLINES[w], due, met))
    return out


def _as_time(value: Any) -> datetime | None:
    """A stored time (text or datetime) as an aware UTC datetime."""
    return None if value is None else as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _late_case_objects(session: Session, late: list[tuple], per_day: int) -> list[LateCase]:
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
    for case_id, uid, minutes, which, due, met in late:
        post_id, status, kind, opened_at, level = info[case_id]
        out.append(LateCase(case_id=case_id, post_id=post_id, account_uid=uid, status=status, kind=kind,
                            opened_at=opened_at, deadline=which, due=_as_time(due), met_at=_as_time(met),
                            days_overdue=minutes / per_day,
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


@dataclass
class _Tally:
    """One account's (or the whole selection's) counts before they become an AccountRank."""

    cases: int = 0
    responded: int = 0
    on_time_responses: int = 0
    closed: int = 0
    on_time_closed: int = 0
    negative: int = 0
    late: int = 0
    late_minutes: int = 0
    minutes: list[int] = field(default_factory=list)

    def add(self, other: "_Tally") -> None:
        for f in fields(self):
            if f.name != "minutes":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        self.minutes.extend(other.minutes)


def _add_late(tallies: dict[str, _Tally], late_rows: list[tuple]) -> None:
    """Each row of `_late_rows` to its account's tally."""
    for _, uid, minutes, *_ in late_rows:
        t = tallies.setdefault(uid, _Tally())
        t.late += 1
        t.late_minutes += minutes


def _tally_direct(session: Session, policy: Any, conds: list, now: datetime) -> tuple[dict[str, _Tally], list[tuple]]:
    """Per-account tallies straight from `cases`, and the late rows (for the list of late cases)."""
    def count_if(cond) -> Any:  # noqa: ANN001
        return func.sum(case((cond, 1), else_=0))

    conn = session.connection()  # Core rows: no ORM loading overhead on large periods
    tallies: dict[str, _Tally] = {}
    for uid, n, resp, otr, cl, otc, neg in conn.execute(
        select(Case.account_uid, func.count(Case.id), count_if(Case.first_response_at.is_not(None)),
               count_if(rollup.ON_TIME_RESPONSE), count_if(Case.status == "closed"), count_if(rollup.ON_TIME_CLOSURE),
               count_if(Case.sentiment_label == "negative"))
        .where(*conds).group_by(Case.account_uid)
    ).all():
        tallies[uid] = _Tally(int(n or 0), int(resp or 0), int(otr or 0), int(cl or 0), int(otc or 0), int(neg or 0))
    for uid, m in conn.execute(
        select(Case.account_uid, Case.first_response_working_minutes)
        .where(*conds, Case.first_response_working_minutes.is_not(None))
    ).all():  # one fetch, not a round per row
        tallies[uid].minutes.append(int(m))
    late = _late_rows(session, policy, conds, now)
    _add_late(tallies, late)
    return tallies, late


def _whole_days(start: datetime, end: datetime) -> tuple[date, date] | None:
    """The Asia/Shanghai days [first, last] that [start, end) covers exactly; None if it cuts a day."""
    a, b = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
    if a.time() != time(0) or b.time() != time(0):
        return None
    return a.date(), b.date() - timedelta(days=1)


def _tally_from_rollup(session: Session, policy: Any, days: tuple[date, date], conds: list, now: datetime,
                       account_uids: list[str] | None, department: str | None) -> dict[str, _Tally]:
    """The same tallies from the daily rollup: counts, response minutes and the lateness of closed cases
    (final, computed once per day) from `rollup.case_days`; only cases still open are measured here."""
    conn = session.connection()
    uids = None if account_uids is None else list(account_uids)
    if department is not None:
        in_dept = set(conn.execute(select(Account.uid).where(Account.department == department)).scalars())
        uids = sorted(in_dept) if uids is None else [u for u in uids if u in in_dept]
    tallies: dict[str, _Tally] = {}
    for r in rollup.case_days(conn, days[0], days[1], uids, calendar=policy.calendar):
        if not r.account_uid or not r.counted:
            continue
        t = tallies.setdefault(r.account_uid, _Tally())
        t.add(_Tally(r.counted, r.responded, r.on_time, r.closed, r.on_time_closed, r.negative, r.late_closed,
                     r.late_closed_minutes, list(r.minutes)))
    _add_late(tallies, _late_rows(session, policy, [*conds, ~rollup.SETTLED], now))
    return tallies


def _rank(uid: str, account: Any, t: _Tally, per_day: int) -> AccountRank:
    n = t.cases
    return AccountRank(
        account_uid=uid,
        screen_name=account.screen_name if account else uid,
        name=account.name if account else "",
        department=account.department if account else "",
        cases=n,
        responded=t.responded,
        response_rate=_rate(t.responded, n),
        on_time_responses=t.on_time_responses,
        on_time_response_rate=_rate(t.on_time_responses, n),
        closed=t.closed,
        on_time_closed=t.on_time_closed,
        on_time_closure_rate=_rate(t.on_time_closed, n),
        median_response_working_minutes=median(t.minutes),
        p90_response_working_minutes=percentile_nearest_rank(t.minutes, 90),
        overdue_count=t.late,
        days_overdue=round(t.late_minutes / per_day, 2),
        negative_share=_rate(t.negative, n),
        negative=t.negative,
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
    use_rollup: bool = True,
) -> PeriodRankings:
    """Per-account rows (best first), the whole-selection totals and the late cases of the period.

    `now` (default: the current time) is where lateness of still-unmet deadlines stops counting;
    `policy` (default: the shipped policy) supplies the working calendar for days overdue.
    `with_late_cases=False` skips building the list of late cases (the figures are the same) and, for
    a period of whole days, reads the daily rollup (`use_rollup=False` forces the direct count; both
    give the same figures, which the tests check).
    """
    if policy is None:
        from matrix.rules.policy import load_policy

        policy = load_policy()
    now = as_utc(now) if now is not None else utcnow()
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        raise ValueError(f"the period ends ({end:%Y-%m-%d %H:%M} UTC) before it starts ({start:%Y-%m-%d %H:%M} UTC)")
    conds = _filters(start, end, account_uids, department)
    per_day = _minutes_per_working_day(policy)
    session.flush()  # the queries below read through the connection, past the session's autoflush
    days = _whole_days(start, end) if use_rollup and not with_late_cases else None
    late: list[tuple] = []
    if days is not None:
        tallies = _tally_from_rollup(session, policy, days, conds, now, account_uids, department)
    else:
        tallies, late = _tally_direct(session, policy, conds, now)

    conn = session.connection()
    accounts = {
        a.uid: a
        for a in conn.execute(
            select(Account.uid, Account.screen_name, Account.name, Account.department)
            .where(Account.uid.in_(list(tallies)))
        )
    } if tallies else {}
    ranks = sorted((_rank(uid, accounts.get(uid), t, per_day) for uid, t in tallies.items()), key=_rank_key)
    total = _Tally()
    for t in tallies.values():
        total.add(t)
    total_rank = _rank_total(total, per_day)
    _split_by_origin(session, conds, ranks, total_rank)
    return PeriodRankings(
        start=start, end=end, now=now, policy_version=str(getattr(policy, "version", "")),
        ranks=ranks, total=total_rank,
        late_cases=_late_case_objects(session, late, per_day) if with_late_cases else [],
    )


def _split_by_origin(session: Session, conds: list, ranks: list[AccountRank], total: AccountRank) -> None:
    """Fill mention_cases / comment_cases / comment_on_time of each row (and the total) from `cases`: one
    grouped query over the same selection the figures were counted on."""
    by = {r.account_uid: r for r in ranks}
    for uid, origin, n, on_time in session.connection().execute(
        select(Case.account_uid, Case.origin, func.count(Case.id), func.sum(case((rollup.ON_TIME_RESPONSE, 1), else_=0)))
        .where(*conds).group_by(Case.account_uid, Case.origin)
    ).all():
        for row in (by.get(uid), total):
            if row is None:
                continue
            if origin == "comment":
                row.comment_cases += int(n or 0)
                row.comment_on_time += int(on_time or 0)
            else:
                row.mention_cases += int(n or 0)


def _rank_total(total: _Tally, per_day: int) -> AccountRank:
    row = _rank("", None, total, per_day)
    row.screen_name = "合计"
    return row


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
