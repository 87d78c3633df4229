"""Read functions for the board and the exports: every one is scoped to the accounts a user may see.

`account_uids=None` means the office (all accounts); a list means a member user's own accounts and
is applied in SQL, so nothing outside it is ever read. An empty list sees nothing. Results are plain
lists of dicts or pandas DataFrames whose datetimes are timezone-aware UTC (the board shows them in
Asia/Shanghai). Day buckets are Asia/Shanghai calendar days.
"""
from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from matrix.storage import rollup
from matrix.storage.models import (
    Account,
    Alert,
    AlertAttempt,
    Case,
    CaseEvent,
    CrawlerHealth,
    PolicyVersion,
    PollCursor,
    Post,
)
from matrix.storage.parsewarnings import (
    PARSE_WARNING,
    latest_parse_warnings,
    parse_warning_counts,
)
from matrix.storage.rollup import ACTIVE_STATUSES, COUNTED_STATUSES  # noqa: F401 - one definition, shared with the rollup (and re-exported)
from matrix.timeutil import SHANGHAI, as_utc, utcnow

LEVELS = ("warning", "overdue", "催办", "通报")
KINDS = ("投诉", "咨询", "求助", "建议", "表扬", "其他")
STATUSES = ("awaiting_forward", "open", "responded", "closed", "invalid", "merged")
BAD_HEALTH = ("blocked", "login_required")
LONG_PERIOD_DAYS = 14  # from this length on, period lists scan the cases table instead of its time index

Scope = Sequence[str] | None


# ---------------------------------------------------------------------------------------------- helpers


def local_day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in Asia/Shanghai, as aware UTC datetimes."""
    lo = datetime.combine(start, time(0), tzinfo=SHANGHAI)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    return as_utc(lo), as_utc(hi)  # type: ignore[return-value]


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same length just before [start, end]."""
    days = (end - start).days + 1
    return start - timedelta(days=days), start - timedelta(days=1)


def _scoped(col: Any, account_uids: Scope) -> ColumnElement[bool]:
    if account_uids is None:
        return true()
    uids = list(account_uids)
    if not uids:
        return false()
    return col.in_(uids)


def _filter_in(col: Any, values: Sequence[Any] | None) -> ColumnElement[bool]:
    """An optional user filter (None or empty = no filter) — unlike scope, empty means 'all'."""
    if not values:
        return true()
    return col.in_(list(values))


def _between(col: Any, start: date | None, end: date | None) -> ColumnElement[bool]:
    conds: list[ColumnElement[bool]] = []
    if start is not None:
        conds.append(col >= local_day_bounds(start, start)[0])
    if end is not None:
        conds.append(col < local_day_bounds(end, end)[1])
    return and_(true(), *conds)


def _local_day(session: Session, col: Any) -> Any:
    """The Asia/Shanghai calendar day of a stored UTC timestamp, as a SQL expression (UTC+8, no DST)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(col, "+8 hours")
    # stored as naive UTC: read it as UTC, then take the wall time in Shanghai
    return func.date(func.timezone("Asia/Shanghai", func.timezone("UTC", col)))


def _frame(rows: Sequence[Any], columns: Sequence[str]) -> pd.DataFrame:
    """A DataFrame of result rows; columns holding datetimes become datetime64[UTC]."""
    df = pd.DataFrame([tuple(r) for r in rows], columns=list(columns))
    for c in df.columns:
        if df[c].dtype != object:
            continue
        first = df[c].dropna()
        if len(first) and isinstance(first.iloc[0], datetime):
            df[c] = pd.to_datetime(df[c], utc=True)
    return df


def _exec(session: Session, stmt: Any) -> Any:
    """Run a column select on the session's connection: Core rows, without the ORM's per-row work."""
    return session.connection().execute(stmt)


def _account_dept_filter(department: Sequence[str] | str | None) -> ColumnElement[bool]:
    if not department:
        return true()
    if isinstance(department, str):
        department = [department]
    return Account.department.in_(list(department))


def _long_range_column(session: Session, col: Any, start: date | None, end: date | None) -> Any:
    """COL itself, or on SQLite for a long (or open) period `+COL`: the same value, but kept off COL's
    index, so a period holding most rows is read in table order (a scan) rather than by thousands of
    index-ordered random reads — several times faster when the period covers weeks."""
    if session.get_bind().dialect.name != "sqlite":
        return col
    if start is not None and end is not None and (end - start).days < LONG_PERIOD_DAYS:
        return col
    return UnaryExpression(col, operator=custom_op("+"), type_=col.type)


def pending_due_expr() -> Any:
    """The deadline a case is now running against, by status."""
    return case(
        (Case.status == "awaiting_forward", Case.forward_due),
        (Case.status == "open", Case.first_response_due),
        (Case.status == "responded", func.coalesce(Case.next_reply_due, Case.closure_due)),
        else_=None,
    )


# --------------------------------------------------------------------------------------- reference data


def data_now(session: Session, live_within: timedelta = timedelta(days=2)) -> datetime:
    """The time the board reads the data at: now when the data are live (the newest item is under
    `live_within` old), else the newest item's time — a finished demo on simulated time, or an old
    archive, is shown as of its own last day instead of as an empty today."""
    now = utcnow()
    latest = _exec(session, select(func.max(Post.created_at))).scalar()
    if latest is None:
        return now
    latest = as_utc(latest)
    return now if now - latest <= live_within else latest  # type: ignore[operator,return-value]


def calendar_state(session: Session, account_uids: Scope = None) -> dict[str, Any]:
    """What the board says about the working calendar: open cases with a 时限待定 deadline or a provisional
    one (in the user's scope), and the warning from 60 days before the official calendar ends."""
    from matrix.rules.notices import calendar_outlook
    from matrix.rules.policy import load_policy

    active = and_(Case.status.in_(ACTIVE_STATUSES), _scoped(Case.account_uid, account_uids))
    pending = _exec(session, select(func.count()).select_from(Case).where(active, Case.pending_dues.is_not(None))).scalar()
    provisional = _exec(session, select(func.count()).select_from(Case).where(
        active, Case.provisional_dues != "")).scalar()
    try:
        outlook = calendar_outlook(load_policy(os.environ.get("WZMON_POLICY") or None), utcnow())
    except Exception as exc:  # noqa: BLE001 - a broken policy or calendar file is shown, not a crash
        outlook = {"last_official_year": None, "days_left": None, "warning": f"the policy cannot be read: {exc}"}
    return {"pending": int(pending or 0), "provisional": int(provisional or 0), **outlook}


def account_uid(session: Session, uid_or_name: str) -> str | None:
    """The roster's uid for a uid or a screen name, or None when the roster has no such account."""
    return session.execute(
        select(Account.uid).where(or_(Account.uid == uid_or_name, Account.screen_name == uid_or_name))
    ).scalars().first()


def accounts(session: Session, account_uids: Scope = None) -> pd.DataFrame:
    """The roster the user may see: uid, screen_name, name, department, category, role."""
    cols = [Account.uid, Account.screen_name, Account.name, Account.department, Account.category, Account.role]
    rows = _exec(session, select(*cols).where(_scoped(Account.uid, account_uids)).order_by(Account.screen_name)).all()
    return _frame(rows, ["uid", "screen_name", "name", "department", "category", "role"])


# ------------------------------------------------------------------------------------------- headlines


def _fold_days(days: Iterable[rollup.CaseDay], key: Callable[[rollup.CaseDay], Any]
               ) -> tuple[dict[Any, dict[str, int]], dict[Any, list[int]]]:
    """The rollup's day-and-account rows added up by KEY(row): each count, and the response minutes."""
    sums: dict[Any, dict[str, int]] = {}
    minutes: dict[Any, list[int]] = {}
    for r in days:
        k = key(r)
        acc = sums.get(k)
        if acc is None:
            acc = sums[k] = dict.fromkeys(rollup.COUNTS, 0)
        for name, v in zip(rollup.COUNTS, r[2:-1]):
            acc[name] += v
        if r.minutes:
            minutes.setdefault(k, []).extend(r.minutes)
    return sums, minutes


def _figures(days: Sequence[rollup.CaseDay]) -> dict[str, Any]:
    """Headline figures from per-day-and-account rows of `rollup.case_days`."""
    sums, mins = _fold_days(days, lambda r: None)
    c = sums.get(None) or dict.fromkeys(rollup.COUNTS, 0)
    minutes = mins.get(None, [])
    n, negative, responded, on_time_n = c["counted"], c["negative"], c["responded"], c["on_time"]
    return {
        "cases": n,
        "open": c["active"],
        "overdue": c["overdue"],
        "closed": c["closed"],
        "negative": negative,
        "negative_share": negative / n if n else None,
        "responded": responded,
        "response_rate": responded / n if n else None,
        "on_time_response_rate": on_time_n / n if n else None,
        "median_response_working_minutes": float(statistics.median(minutes)) if minutes else None,
    }


def _two_periods(session: Session, start: date, end: date, account_uids: Scope) -> tuple[dict[str, Any], dict[str, Any]]:
    """Figures for [start, end] and the period before it, from the daily rollup (exact: see matrix.storage.rollup)."""
    prev_start, _ = previous_period(start, end)
    days = rollup.case_days(session.connection(), prev_start, end, account_uids)
    return _figures([r for r in days if r.day >= start]), _figures([r for r in days if r.day < start])


def headline_figures(
    session: Session, start: date, end: date, account_uids: Scope = None, now: datetime | None = None
) -> dict[str, Any]:
    """Figures for cases opened in [start, end] and the period before it, plus what stands now.

    Returns {"current": {...}, "previous": {...}, "overdue_now", "open_now", "due_today", "now"}.
    """
    now = as_utc(now) or data_now(session)
    current, previous = _two_periods(session, start, end, account_uids)
    today = now.astimezone(SHANGHAI).date()
    t_lo, t_hi = local_day_bounds(today, today)
    scope = _scoped(Case.account_uid, account_uids)
    due = pending_due_expr()
    overdue_now, open_now, due_today = _exec(session, select(  # one pass over the active cases
        func.count().filter(Case.overdue == true()),
        func.count(),
        func.count().filter(and_(due >= t_lo, due < t_hi)),
    ).where(Case.status.in_(ACTIVE_STATUSES), scope)).one()
    return {
        "current": current,
        "previous": previous,
        "overdue_now": overdue_now,
        "open_now": open_now,
        "due_today": due_today,
        "now": now,
    }


# ----------------------------------------------------------------------------------------------- lists

CASE_LIST_COLUMNS = [
    "case_id", "account_uid", "screen_name", "account_name", "department", "kind", "status", "overdue",
    "overdue_level", "opened_at", "due", "deadline_note", "overdue_since", "first_response_at", "citizen_name",
    "sentiment_label", "text",
]


def deadline_note_expr() -> Any:
    """'时限待定' when a deadline could not be counted, '暂定' when one rests on a provisional calendar year."""
    return case(
        (Case.pending_dues.is_not(None), literal("时限待定")),
        (Case.provisional_dues != "", literal("暂定")),
        else_=literal(""),
    )


def _case_list_select(text_chars: int) -> Any:
    return (
        select(
            Case.id, Case.account_uid, Account.screen_name, Account.name, Account.department, Case.kind,
            Case.status, Case.overdue, Case.overdue_level, Case.opened_at, pending_due_expr(),
            deadline_note_expr(), Case.overdue_since, Case.first_response_at, Case.citizen_name, Case.sentiment_label,
            func.substr(Post.text, 1, text_chars),
        )
        .select_from(Case)
        .outerjoin(Account, Account.uid == Case.account_uid)
        .outerjoin(Post, Post.id == Case.post_id)
    )


def overdue_cases(
    session: Session,
    *,
    account_uids: Scope = None,
    accounts: Sequence[str] | None = None,
    department: Sequence[str] | str | None = None,
    kind: Sequence[str] | None = None,
    level: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    limit: int | None = 1000,
    text_chars: int = 120,
) -> pd.DataFrame:
    """Cases overdue now (longest overdue first). `start`/`end` filter on the day the case opened.

    The DataFrame's `attrs["total"]` holds the number of matching cases when `limit` cut the list.
    """
    where = and_(
        Case.overdue == true(),
        Case.status.in_(ACTIVE_STATUSES),
        _scoped(Case.account_uid, account_uids),
        _filter_in(Case.account_uid, accounts),
        _filter_in(Case.kind, kind),
        _filter_in(Case.overdue_level, level),
        _between(Case.opened_at, start, end),
    )
    needs_account = bool(department)
    q = _case_list_select(text_chars).where(where, _account_dept_filter(department))
    q = q.order_by(Case.overdue_since.asc(), Case.id.asc())
    if limit:
        q = q.limit(limit)
    df = _frame(_exec(session, q).all(), CASE_LIST_COLUMNS)
    total = len(df)
    if limit and total >= limit:
        cq = select(func.count()).select_from(Case)
        if needs_account:
            cq = cq.join(Account, Account.uid == Case.account_uid)
        total = _exec(session, cq.where(where, _account_dept_filter(department))).scalar_one()
    df.attrs["total"] = total
    return df


def cases(
    session: Session,
    *,
    account_uids: Scope = None,
    accounts: Sequence[str] | None = None,
    department: Sequence[str] | str | None = None,
    kind: Sequence[str] | None = None,
    status: Sequence[str] | None = None,
    level: Sequence[str] | None = None,
    overdue_only: bool = False,
    sentiment: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    limit: int | None = 1000,
    text_chars: int = 120,
) -> pd.DataFrame:
    """Any cases by filter, newest first (the general list behind exports and pickers)."""
    where = and_(
        _scoped(Case.account_uid, account_uids),
        _filter_in(Case.account_uid, accounts),
        _filter_in(Case.kind, kind),
        _filter_in(Case.status, status),
        _filter_in(Case.overdue_level, level),
        _filter_in(Case.sentiment_label, sentiment),
        (Case.overdue == true()) if overdue_only else true(),
        _between(Case.opened_at, start, end),
        _account_dept_filter(department),
    )
    q = _case_list_select(text_chars).where(where).order_by(Case.opened_at.desc(), Case.id.desc())
    if limit:
        q = q.limit(limit)
    df = _frame(_exec(session, q).all(), CASE_LIST_COLUMNS)
    df.attrs["total"] = len(df)
    return df


NEGATIVE_COLUMNS = [
    "created_at", "source", "case_id", "account_uid", "screen_name", "account_name", "department", "kind",
    "author", "sentiment_score", "text", "post_id",
]


def negative_posts(
    session: Session,
    *,
    account_uids: Scope = None,
    accounts: Sequence[str] | None = None,
    department: Sequence[str] | str | None = None,
    kind: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    limit: int | None = 1000,
    text_chars: int = 160,
) -> pd.DataFrame:
    """Negative items aimed at the accounts, newest first.

    Two sources: citizen posts that opened a case (source "case"), and negative comments or reposts by
    others under a case's post or under an account's own post (source "comment"). The account is the
    case's owner or the author of the post commented on.
    """
    # 1. case posts
    q1 = (
        select(
            Post.created_at, literal("case"), Case.id, Case.account_uid, Account.screen_name, Account.name,
            Account.department, Case.kind, Post.screen_name, Post.sentiment_score,
            func.substr(Post.text, 1, text_chars), Post.id,
        )
        .select_from(Case)
        .join(Post, Post.id == Case.post_id)
        .outerjoin(Account, Account.uid == Case.account_uid)
        .where(
            or_(Case.sentiment_label == "negative", Post.sentiment_label == "negative"),
            Case.status != "merged",
            _scoped(Case.account_uid, account_uids),
            _filter_in(Case.account_uid, accounts),
            _filter_in(Case.kind, kind),
            _between(_long_range_column(session, Case.opened_at, start, end), start, end),
            _account_dept_filter(department),
        )
        .order_by(Post.created_at.desc())
    )
    if limit:
        q1 = q1.limit(limit)
    rows = list(_exec(session, q1).all())
    # 2. negative comments/reposts under a case post or an account's post
    parent = aliased(Post)
    own_accounts = select(Account.uid)
    common = [
        Post.sentiment_label == "negative",
        or_(Post.user_id.is_(None), Post.user_id.not_in(own_accounts)),
        _between(Post.created_at, start, end),
        _account_dept_filter(department),
    ]
    if account_uids is None and not accounts:
        # office, all accounts: one pass over the period's negative items, owner = case owner or post author
        owner_uid = func.coalesce(Case.account_uid, parent.user_id)
        variants = [(owner_uid, [or_(Case.id.is_not(None), parent.user_id.in_(own_accounts))])]
    else:
        # a set of accounts: reach the items through those accounts' cases and posts (indexed), not by
        # scanning every negative item of the period
        uids = [u for u in (accounts or account_uids or []) if account_uids is None or u in account_uids]
        # (IN over the accounts' case posts steers SQLite to the parent_id index, not a period scan)
        case_posts = select(Case.post_id).where(Case.account_uid.in_(uids))
        own_posts = select(Post.id).where(Post.user_id.in_(uids))
        variants = [
            (Case.account_uid, [Post.parent_id.in_(case_posts), Case.account_uid.in_(uids)]),
            (parent.user_id, [Post.parent_id.in_(own_posts), parent.user_id.in_(uids), Case.id.is_(None)]),
        ]
    for owner_uid, conds in variants:
        q2 = (
            select(
                Post.created_at, literal("comment"), Case.id, owner_uid, Account.screen_name, Account.name,
                Account.department, func.coalesce(Case.kind, Post.post_kind, ""), Post.screen_name,
                Post.sentiment_score, func.substr(Post.text, 1, text_chars), Post.id,
            )
            .select_from(Post)
            .join(parent, parent.id == Post.parent_id)
            .outerjoin(Case, Case.post_id == parent.id)
            .outerjoin(Account, Account.uid == owner_uid)
            .where(*common, *conds, _filter_in(Case.kind, kind) if kind else true())
            .order_by(Post.created_at.desc())
        )
        if limit:
            q2 = q2.limit(limit)
        rows.extend(_exec(session, q2).all())
    df = _frame(rows, NEGATIVE_COLUMNS)
    if len(df):
        df = df.sort_values("created_at", ascending=False, kind="stable").reset_index(drop=True)
        if limit:
            df = df.head(limit)
    df.attrs["total"] = len(df)
    return df


# ----------------------------------------------------------------------------------------- case detail


def case_detail(session: Session, case_id: int, account_uids: Scope = None) -> dict[str, Any] | None:
    """Everything about one case, or None when it does not exist or lies outside the user's accounts."""
    row = session.execute(
        select(Case, Post, Account)
        .select_from(Case)
        .outerjoin(Post, Post.id == Case.post_id)
        .outerjoin(Account, Account.uid == Case.account_uid)
        .where(Case.id == case_id, _scoped(Case.account_uid, account_uids))
    ).first()
    if row is None:
        return None
    c, p, a = row
    out: dict[str, Any] = {col.name: getattr(c, col.key) for col in Case.__table__.columns}
    out["case_id"] = c.id
    out["post"] = (
        {col.name: getattr(p, col.key) for col in Post.__table__.columns} if p is not None else None
    )
    out["account"] = (
        {"uid": a.uid, "screen_name": a.screen_name, "name": a.name, "department": a.department,
         "category": a.category, "role": a.role}
        if a is not None else None
    )
    out["deadlines"] = [
        {"name": name, "due": getattr(c, name)}
        for name in ("forward_due", "first_response_due", "next_reply_due", "closure_due")
        if getattr(c, name) is not None
    ]
    pv = session.get(PolicyVersion, c.policy_version) if c.policy_version else None
    out["policy"] = (
        {"version": pv.version, "sha256": pv.sha256, "loaded_at": pv.loaded_at, "source": pv.source}
        if pv is not None else {"version": c.policy_version}
    )
    # cases merged into this one that the user may see
    out["merged_from"] = list(
        _exec(session, 
            select(Case.id).where(Case.merged_into == c.id, _scoped(Case.account_uid, account_uids))
        ).scalars()
    )
    return out


TIMELINE_COLUMNS = [
    "at", "entry", "type", "actor", "account_uid", "text", "reason", "post_id", "calendar_minutes",
    "working_minutes", "policy_version",
]


def case_timeline(session: Session, case_id: int, account_uids: Scope = None) -> pd.DataFrame:
    """Posts and events of a case on one time line (oldest first); empty when out of scope.

    Posts: the citizen's post, comments under it (citizen follow-ups and account replies), reposts of it
    (the coordinator's forwarding) and any post an event points to. Entry is "post" or "event".
    """
    c = session.execute(
        select(Case).where(Case.id == case_id, _scoped(Case.account_uid, account_uids))
    ).scalar_one_or_none()
    if c is None:
        return _frame([], TIMELINE_COLUMNS)
    account_ids = set(_exec(session, select(Account.uid)).scalars())
    events = session.execute(
        select(CaseEvent).where(CaseEvent.case_id == c.id).order_by(CaseEvent.at, CaseEvent.id)
    ).scalars().all()
    event_posts = {e.post_id for e in events if e.post_id}
    posts = session.execute(
        select(Post).where(
            or_(
                Post.id == c.post_id,
                Post.parent_id == c.post_id,
                Post.reposted_id == c.post_id,
                Post.id.in_(event_posts) if event_posts else false(),
            )
        )
    ).scalars().all()
    rows: list[tuple[Any, ...]] = []
    for p in posts:
        if p.id == c.post_id:
            kind = "citizen_post"
        elif p.user_id and p.user_id in account_ids:
            kind = "account_repost" if p.item_type == "repost" else "account_reply"
        elif p.user_id and p.user_id == c.citizen_uid:
            kind = "citizen_followup"
        else:
            kind = f"other_{p.item_type}"
        rows.append((p.created_at, "post", kind, p.screen_name, p.user_id, p.text, "", p.id, None, None, ""))
    for e in events:
        rows.append((
            e.at, "event", e.type, e.actor, e.account_uid, "", e.reason, e.post_id, e.calendar_minutes,
            e.working_minutes, e.policy_version,
        ))
    rows.sort(key=lambda r: (as_utc(r[0]), 0 if r[1] == "post" else 1))
    return _frame(rows, TIMELINE_COLUMNS)


def case_ids_in_scope(session: Session, ids: Sequence[int], account_uids: Scope = None) -> list[int]:
    """Which of `ids` the user may see (for merge pickers and links)."""
    if not ids:
        return []
    return list(
        _exec(session, 
            select(Case.id).where(Case.id.in_(list(ids)), _scoped(Case.account_uid, account_uids))
        ).scalars()
    )


# ------------------------------------------------------------------------------------- per-account table


def account_summary(
    session: Session, start: date, end: date, account_uids: Scope = None, department: Sequence[str] | str | None = None
) -> pd.DataFrame:
    """Per account, for cases opened in the period: cases, open, overdue now, responded, response rate,
    on-time response rate, median response (working minutes), negative share. Accounts with no cases
    are listed with zeros."""
    by_uid, minutes = _fold_days(rollup.case_days(session.connection(), start, end, account_uids),
                                 lambda r: r.account_uid)
    med = {uid: float(statistics.median(v)) for uid, v in minutes.items()}
    zeros = dict.fromkeys(rollup.COUNTS, 0)
    roster = _exec(session, 
        select(Account.uid, Account.screen_name, Account.name, Account.department, Account.role).where(
            _scoped(Account.uid, account_uids), _account_dept_filter(department)
        )
    ).all()
    out = []
    for uid, screen_name, name, dept, role in roster:
        c = by_uid.get(uid, zeros)
        n = c["counted"]
        out.append({
            "account_uid": uid, "screen_name": screen_name, "name": name, "department": dept, "role": role,
            "cases": n, "open": c["active"], "overdue": c["overdue"], "responded": c["responded"],
            "closed": c["closed"],
            "response_rate": c["responded"] / n if n else None,
            "on_time_response_rate": c["on_time"] / n if n else None,
            "median_response_working_minutes": med.get(uid),
            "negative_share": c["negative"] / n if n else None,
        })
    df = pd.DataFrame(out, columns=[
        "account_uid", "screen_name", "name", "department", "role", "cases", "open", "overdue", "responded",
        "closed", "response_rate", "on_time_response_rate", "median_response_working_minutes", "negative_share",
    ])
    return df.sort_values(["overdue", "cases"], ascending=[False, False], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- trends


def _post_counts(session: Session, start: date, end: date, account_uids: Scope) -> dict[date, int]:
    """Items per day: every item for the office (from the daily rollup); for a member, the items by its
    own accounts plus the citizen posts that opened its cases (two indexed counts, disjoint)."""
    if account_uids is None:
        return rollup.post_days(session.connection(), start, end)
    uids = list(account_uids)
    if not uids:
        return {}
    lo, hi = local_day_bounds(start, end)
    pday = _local_day(session, Post.created_at).label("day")
    own = _exec(session, select(pday, func.count()).where(
        Post.user_id.in_(uids), Post.created_at >= lo, Post.created_at < hi).group_by(pday)).all()
    case_posts = (
        select(pday, func.count())
        .select_from(Case)
        .join(Post, Post.id == Case.post_id)
        .where(
            Case.account_uid.in_(uids), Case.opened_at >= lo - timedelta(days=1), Case.opened_at < hi,
            Post.created_at >= lo, Post.created_at < hi, or_(Post.user_id.is_(None), Post.user_id.not_in(uids)),
        )
        .group_by(pday)
    )
    out: dict[date, int] = {}
    for d, n in [*own, *_exec(session, case_posts).all()]:
        key = date.fromisoformat(str(d)[:10])
        out[key] = out.get(key, 0) + n
    return out


def trends(session: Session, start: date, end: date, account_uids: Scope = None) -> pd.DataFrame:
    """One row per Asia/Shanghai day in [start, end]: posts, cases, negative, negative_share, responded,
    median_response_working_minutes, overdue_now (cases opened that day and overdue now).

    posts: every stored item that day for the office; for a member, the items by its own accounts plus
    the citizen posts that opened its cases.
    """
    posts = _post_counts(session, start, end, account_uids)
    by_day, minutes = _fold_days(rollup.case_days(session.connection(), start, end, account_uids), lambda r: r.day)
    med = {k: float(statistics.median(v)) for k, v in minutes.items()}
    zeros = dict.fromkeys(rollup.COUNTS, 0)
    out = []
    d = start
    while d <= end:
        c = by_day.get(d, zeros)
        n, neg = c["counted"], c["negative"]
        out.append({
            "day": pd.Timestamp(d), "posts": posts.get(d, 0), "cases": n, "negative": neg,
            "negative_share": neg / n if n else None, "responded": c["responded"],
            "median_response_working_minutes": med.get(d), "overdue_now": c["overdue"],
        })
        d += timedelta(days=1)
    return pd.DataFrame(out, columns=[
        "day", "posts", "cases", "negative", "negative_share", "responded", "median_response_working_minutes",
        "overdue_now",
    ])


def account_trends(session: Session, start: date, end: date, account_uids: Scope = None) -> pd.DataFrame:
    """Per account and day: cases opened, responded, on time, overdue now, median response minutes."""
    rows = rollup.case_days(session.connection(), start, end, account_uids)
    names = dict(_exec(session, select(Account.uid, Account.screen_name).where(_scoped(Account.uid, account_uids))).all())
    df = pd.DataFrame(
        [(r.account_uid, names.get(r.account_uid, r.account_uid or ""), pd.Timestamp(str(r.day)), r.counted,
          r.responded, r.on_time, r.overdue) for r in rows],
        columns=["account_uid", "screen_name", "day", "cases", "responded", "on_time", "overdue_now"],
    )
    df["on_time_response_rate"] = (df["on_time"] / df["cases"]).where(df["cases"] > 0)
    return df.sort_values(["screen_name", "day"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------- crawler status


def _account_source_keys(session: Session, account_uids: Scope) -> list[str] | None:
    if account_uids is None:
        return None
    rows = _exec(session, select(Account.uid, Account.screen_name).where(_scoped(Account.uid, account_uids))).all()
    return [f"timeline:{u}" for u, _ in rows] + [f"mentions:{s}" for _, s in rows]


def crawler_status(session: Session, account_uids: Scope = None) -> pd.DataFrame:
    """Per poll source: last poll, last new item, cursor, totals, last error, latest health state.

    A member sees only the timeline and mention sources of its own accounts.
    """
    keys = _account_source_keys(session, account_uids)
    q = select(PollCursor).order_by(PollCursor.kind, PollCursor.source_key)
    if keys is not None:
        q = q.where(_scoped(PollCursor.source_key, keys))
    cursors = session.execute(q).scalars().all()
    latest = (select(CrawlerHealth.source_key, func.max(CrawlerHealth.id).label("mid"))
              .where(CrawlerHealth.state != PARSE_WARNING).group_by(CrawlerHealth.source_key))
    if keys is not None:
        latest = latest.where(_scoped(CrawlerHealth.source_key, keys))
    sub = latest.subquery()
    health = {
        h.source_key: h
        for h in session.execute(select(CrawlerHealth).join(sub, sub.c.mid == CrawlerHealth.id)).scalars()
    }
    warned = parse_warning_counts(session, keys)
    import json

    rows = []
    for c in cursors:
        h = health.get(c.source_key)
        rows.append((
            c.source_key, c.kind, c.target, c.last_polled_at, c.last_new_at, c.last_item_at, c.items_total,
            c.requests_total, c.errors_total, c.last_error, json.dumps(c.cursor, ensure_ascii=False, sort_keys=True),
            h.state if h else "", h.at if h else None, warned.get(c.source_key, 0),
        ))
    return _frame(rows, [
        "source_key", "kind", "target", "last_polled_at", "last_new_at", "last_item_at", "items_total",
        "requests_total", "errors_total", "last_error", "cursor", "health_state", "health_at", "parse_warnings",
    ])


def parse_warning_log(session: Session, limit: int = 50, account_uids: Scope = None) -> pd.DataFrame:
    """The latest items the crawler could not read, one row per warning, newest first: when, source, the
    warning (file or source, item id, field, why) and the stored answer it was found in. A member sees its own
    sources only."""
    keys = _account_source_keys(session, account_uids)
    rows = latest_parse_warnings(session, limit, keys)
    return _frame(rows, ["at", "source_key", "warning", "raw_response_id"])


def crawler_health_log(session: Session, limit: int = 200, account_uids: Scope = None) -> pd.DataFrame:
    """The most recent crawler health events (office: all; member: its own sources plus global events)."""
    q = select(
        CrawlerHealth.at, CrawlerHealth.source_key, CrawlerHealth.state, CrawlerHealth.http_status,
        CrawlerHealth.message, CrawlerHealth.cooldown_until,
    )
    keys = _account_source_keys(session, account_uids)
    if keys is not None:
        q = q.where(or_(CrawlerHealth.source_key == "", _scoped(CrawlerHealth.source_key, keys)))
    rows = _exec(session, q.order_by(CrawlerHealth.at.desc(), CrawlerHealth.id.desc()).limit(limit)).all()
    return _frame(rows, ["at", "source_key", "state", "http_status", "message", "cooldown_until"])


def crawler_alarm(session: Session, now: datetime | None = None) -> dict[str, Any] | None:
    """The crawler's standing trouble, for the banner on every page, or None when all is well.

    Trouble = the latest blocked/login_required event is newer than the latest ok event, or a
    cool-down is still running. Not scoped: it says nothing about any account's data.
    """
    now = as_utc(now) or utcnow()
    bad = session.execute(
        select(CrawlerHealth).where(CrawlerHealth.state.in_(BAD_HEALTH)).order_by(CrawlerHealth.id.desc()).limit(1)
    ).scalar_one_or_none()
    if bad is None:
        return None
    ok_id = _exec(session, select(func.max(CrawlerHealth.id)).where(  # a route answering again is not the site
        CrawlerHealth.state == "ok", CrawlerHealth.source_key.not_like("route-%"))).scalar()
    cooling = bad.cooldown_until is not None and as_utc(bad.cooldown_until) > now  # type: ignore[operator]
    if ok_id is not None and ok_id > bad.id and not cooling:
        return None
    return {
        "state": bad.state, "at": bad.at, "source_key": bad.source_key, "http_status": bad.http_status,
        "message": bad.message, "cooldown_until": bad.cooldown_until,
    }


def closed_route_alarm(session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
    """Weibo routes closed an hour or more (matrix.storage.route_health), for the board's banner: [{route, since, message}]."""
    from matrix.storage.route_health import closed_routes

    return closed_routes(session, as_utc(now) or utcnow())


# ---------------------------------------------------------------------------------------------- alerts


def alert_log(
    session: Session,
    *,
    account_uids: Scope = None,
    status: Sequence[str] | None = None,
    level: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    limit: int = 1000,
) -> pd.DataFrame:
    """The alert outbox, newest first. Alerts with no account (digests, tests) are office-only."""
    q = (
        select(
            Alert.id, Alert.created_at, Alert.case_id, Alert.account_uid, Account.screen_name, Alert.level,
            Alert.channel, Alert.address, Alert.subject, Alert.status, Alert.attempts, Alert.next_attempt_at,
            Alert.sent_at, Alert.last_error,
        )
        .select_from(Alert)
        .outerjoin(Account, Account.uid == Alert.account_uid)
        .where(
            _scoped(Alert.account_uid, account_uids),
            _filter_in(Alert.status, status),
            _filter_in(Alert.level, level),
            _between(Alert.created_at, start, end),
        )
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(limit)
    )
    return _frame(_exec(session, q).all(), [
        "alert_id", "created_at", "case_id", "account_uid", "screen_name", "level", "channel", "address",
        "subject", "status", "attempts", "next_attempt_at", "sent_at", "last_error",
    ])


def alert_attempts(session: Session, *, account_uids: Scope = None, limit: int = 1000) -> pd.DataFrame:
    """The delivery log: every attempt, newest first, scoped through its alert's account."""
    q = (
        select(
            AlertAttempt.at, AlertAttempt.alert_id, Alert.case_id, Alert.account_uid, Alert.channel,
            AlertAttempt.ok, AlertAttempt.error, AlertAttempt.duration_ms,
        )
        .join(Alert, Alert.id == AlertAttempt.alert_id)
        .where(_scoped(Alert.account_uid, account_uids))
        .order_by(AlertAttempt.at.desc(), AlertAttempt.id.desc())
        .limit(limit)
    )
    return _frame(_exec(session, q).all(), [
        "at", "alert_id", "case_id", "account_uid", "channel", "ok", "error", "duration_ms",
    ])


# --------------------------------------------------------------------------------------- 账号巡检 (inspection)


def _board_policy() -> Any:
    from matrix.rules.policy import load_policy

    return load_policy(os.environ.get("WZMON_POLICY") or None)


def silence_board(session: Session, now: datetime, account_uids: Scope = None) -> pd.DataFrame:
    """Every member account's silence at NOW (days since its last own post, level), longest first."""
    from matrix.casework.inspection import silence_now

    rows = [s.as_dict() for s in silence_now(session, _board_policy(), now, account_uids)]
    cols = ["account_uid", "screen_name", "name", "department", "category", "last_post_at", "last_post_id",
            "last_post_text", "days_silent", "warning_at", "breach_at", "level", "warning_limit", "breach_limit"]
    return pd.DataFrame(rows, columns=cols)


def inspection_month(session: Session, month: str, now: datetime, account_uids: Scope = None) -> pd.DataFrame:
    """The month's inspection rows (those of `wzmon report inspect`), 单项否决 first."""
    from dataclasses import asdict

    from matrix.casework.inspection import CSV_FIELDS, inspect_month

    rep = inspect_month(session, _board_policy(), month, now, account_uids)
    return pd.DataFrame([asdict(r) for r in rep.rows], columns=CSV_FIELDS)


def dead_link_list(session: Session, account_uids: Scope = None) -> pd.DataFrame:
    """Links in members' own posts found dead at their last check, with the post."""
    from matrix.casework.inspection import dead_links

    cols = ["account_uid", "screen_name", "url", "http_status", "error", "checked_at", "dead_since", "checks",
            "post_id", "post_text", "post_created_at", "post_url"]
    return pd.DataFrame(dead_links(session, account_uids), columns=cols)


def link_counts(session: Session, account_uids: Scope = None) -> dict[str, int]:
    """How many links in members' posts are known, checked and dead."""
    from matrix.casework.inspection import link_summary

    return link_summary(session, account_uids)


def inspection_rules(session: Session) -> dict[str, Any]:
    """The silence limits and the rule they apply (for the page's caption)."""
    from matrix.casework.inspection import zh_limit

    out = _board_policy().describe()["inspection"]
    return {**out, "silence_warning_zh": zh_limit(out["silence_warning"]), "silence_breach_zh": zh_limit(out["silence_breach"])}
