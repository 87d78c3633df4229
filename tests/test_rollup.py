"""The daily rollups give exactly what the direct queries over `cases` and `posts` give, at every moment.

The reference functions below are the board's period queries as they were before the rollups (straight
aggregation of the base tables). Each test compares them with `matrix.reading.queries` on both backends: on a
fresh rollup, after writes of every kind (ORM, bulk SQL, deletes) before any refresh (the marked days are
read from the base tables), after a refresh, after a rebuild, with the triggers gone, and for members.
"""
from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pandas as pd
from alembic import command
from sqlalchemy import and_, delete, func, or_, select, true, update
from sqlalchemy.orm import Session

from matrix.reading import queries as q
from matrix.storage import rollup
from matrix.storage.db import alembic_config, dispose_engines, open_db, session_scope
from matrix.storage.models import Account, Case, Post, RollupCaseDay, RollupPostDay
from matrix.rules.policy import Policy, load_policy
from matrix.reading.rankings import period_rankings
from matrix.timeutil import as_utc
from matrix.reading.queries import (
    ACTIVE_STATUSES,
    COUNTED_STATUSES,
    _account_dept_filter,
    _exec,
    _local_day,
    _scoped,
    local_day_bounds,
    previous_period,
)

Scope = Sequence[str] | None
NOW = datetime(2026, 3, 31, 9, 30, tzinfo=timezone.utc)
TODAY = NOW.astimezone(q.SHANGHAI).date()
MEMBERS = [f"71000000{i:02d}" for i in range(6)]
COORD = "7100000099"
STATUSES = ["awaiting_forward", "open", "responded", "closed", "closed", "closed", "invalid", "merged"]
POLICY = load_policy()


def _medians(pairs: Sequence[Any]) -> dict[Any, float]:
    groups: dict[Any, list[float]] = {}
    for key, value in pairs:
        groups.setdefault(key, []).append(value)
    return {k: float(statistics.median(v)) for k, v in groups.items()}


# ------------------------------------------------- the direct queries (the board before the rollups)

def _ref_figures(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Headline figures from (status, overdue, negative, responded, on_time, minutes) per case."""
    counted = [r for r in rows if r[0] in COUNTED_STATUSES]
    n = len(counted)
    negative = sum(1 for r in counted if r[2])
    responded = sum(1 for r in counted if r[3])
    on_time_n = sum(1 for r in counted if r[4])
    minutes = [r[5] for r in counted if r[5] is not None]
    return {
        "cases": n,
        "open": sum(1 for r in rows if r[0] in ACTIVE_STATUSES),
        "overdue": sum(1 for r in counted if r[1]),
        "closed": sum(1 for r in rows if r[0] == "closed"),
        "negative": negative,
        "negative_share": negative / n if n else None,
        "responded": responded,
        "response_rate": responded / n if n else None,
        "on_time_response_rate": on_time_n / n if n else None,
        "median_response_working_minutes": float(statistics.median(minutes)) if minutes else None,
    }


def ref_two_periods(session: Session, start: date, end: date, account_uids: Scope) -> tuple[dict[str, Any], dict[str, Any]]:
    """Figures for [start, end] and the period before it, from one pass over the cases of both."""
    lo, hi = local_day_bounds(start, end)
    prev_lo, _ = local_day_bounds(*previous_period(start, end))
    on_time = and_(
        Case.first_response_at.is_not(None),
        or_(Case.first_response_due.is_(None), Case.first_response_at <= Case.first_response_due),
    )
    rows = _exec(session, select(
        Case.opened_at >= lo, Case.status, Case.overdue, Case.sentiment_label == "negative",
        Case.first_response_at.is_not(None), on_time, Case.first_response_working_minutes,
    ).where(Case.opened_at >= prev_lo, Case.opened_at < hi, _scoped(Case.account_uid, account_uids))).all()
    current = [tuple(r[1:]) for r in rows if r[0]]
    previous = [tuple(r[1:]) for r in rows if not r[0]]
    return _ref_figures(current), _ref_figures(previous)



def ref_account_summary(
    session: Session, start: date, end: date, account_uids: Scope = None, department: Sequence[str] | str | None = None
) -> pd.DataFrame:
    """Per account, for cases opened in the period: cases, open, overdue now, responded, response rate,
    on-time response rate, median response (working minutes), negative share. Accounts with no cases
    are listed with zeros."""
    lo, hi = local_day_bounds(start, end)
    counted = Case.status.in_(COUNTED_STATUSES)
    on_time = and_(
        Case.first_response_at.is_not(None),
        or_(Case.first_response_due.is_(None), Case.first_response_at <= Case.first_response_due),
    )
    agg = _exec(session, 
        select(
            Case.account_uid,
            func.count().filter(counted),
            func.count().filter(Case.status.in_(ACTIVE_STATUSES)),
            func.count().filter(and_(counted, Case.overdue == true())),
            func.count().filter(and_(counted, Case.first_response_at.is_not(None))),
            func.count().filter(and_(counted, on_time)),
            func.count().filter(and_(counted, Case.sentiment_label == "negative")),
            func.count().filter(Case.status == "closed"),
        )
        .where(Case.opened_at >= lo, Case.opened_at < hi, _scoped(Case.account_uid, account_uids))
        .group_by(Case.account_uid)
    ).all()
    minutes = _exec(session, 
        select(Case.account_uid, Case.first_response_working_minutes).where(
            Case.opened_at >= lo, Case.opened_at < hi, counted,
            Case.first_response_working_minutes.is_not(None),
            _scoped(Case.account_uid, account_uids),
        )
    ).all()
    med = (
        _medians(minutes)
    )
    roster = _exec(session, 
        select(Account.uid, Account.screen_name, Account.name, Account.department, Account.role).where(
            _scoped(Account.uid, account_uids), _account_dept_filter(department)
        )
    ).all()
    by_uid = {r[0]: r[1:] for r in agg}
    out = []
    for uid, screen_name, name, dept, role in roster:
        n, open_, overdue, responded, on_time_n, negative, closed = by_uid.get(uid, (0,) * 7)
        out.append({
            "account_uid": uid, "screen_name": screen_name, "name": name, "department": dept, "role": role,
            "cases": n, "open": open_, "overdue": overdue, "responded": responded, "closed": closed,
            "response_rate": responded / n if n else None,
            "on_time_response_rate": on_time_n / n if n else None,
            "median_response_working_minutes": med.get(uid),
            "negative_share": negative / n if n else None,
        })
    df = pd.DataFrame(out, columns=[
        "account_uid", "screen_name", "name", "department", "role", "cases", "open", "overdue", "responded",
        "closed", "response_rate", "on_time_response_rate", "median_response_working_minutes", "negative_share",
    ])
    return df.sort_values(["overdue", "cases"], ascending=[False, False], kind="stable").reset_index(drop=True)



def ref_trends(session: Session, start: date, end: date, account_uids: Scope = None) -> pd.DataFrame:
    """One row per Asia/Shanghai day in [start, end]: posts, cases, negative, negative_share, responded,
    median_response_working_minutes, overdue_now (cases opened that day and overdue now).

    posts: every stored item that day for the office; for a member, the items by its own accounts plus
    the citizen posts that opened its cases.
    """
    lo, hi = local_day_bounds(start, end)
    pday = _local_day(session, Post.created_at).label("day")
    pq = select(pday, func.count()).where(Post.created_at >= lo, Post.created_at < hi)
    if account_uids is not None:
        case_posts = select(Case.post_id).where(
            Case.opened_at >= lo - timedelta(days=1), Case.opened_at < hi, _scoped(Case.account_uid, account_uids)
        )
        pq = pq.where(or_(_scoped(Post.user_id, account_uids), Post.id.in_(case_posts)))
    posts = dict(_exec(session, pq.group_by(pday)).all())
    cday = _local_day(session, Case.opened_at).label("day")
    counted = Case.status.in_(COUNTED_STATUSES)
    crow = _exec(session, 
        select(
            cday,
            func.count().filter(counted),
            func.count().filter(and_(counted, Case.sentiment_label == "negative")),
            func.count().filter(and_(counted, Case.first_response_at.is_not(None))),
            func.count().filter(and_(counted, Case.overdue == true())),
        )
        .where(Case.opened_at >= lo, Case.opened_at < hi, _scoped(Case.account_uid, account_uids))
        .group_by(cday)
    ).all()
    by_day = {str(r[0]): r[1:] for r in crow}
    mins = _exec(session, 
        select(cday, Case.first_response_working_minutes).where(
            Case.opened_at >= lo, Case.opened_at < hi, counted, Case.first_response_working_minutes.is_not(None),
            _scoped(Case.account_uid, account_uids),
        )
    ).all()
    med = _medians(mins)
    posts = {str(k): v for k, v in posts.items()}
    med = {str(k): v for k, v in med.items()}
    out = []
    d = start
    while d <= end:
        key = d.isoformat()
        n, neg, resp, od = by_day.get(key, (0, 0, 0, 0))
        out.append({
            "day": pd.Timestamp(d), "posts": posts.get(key, 0), "cases": n, "negative": neg,
            "negative_share": neg / n if n else None, "responded": resp,
            "median_response_working_minutes": med.get(key), "overdue_now": od,
        })
        d += timedelta(days=1)
    return pd.DataFrame(out, columns=[
        "day", "posts", "cases", "negative", "negative_share", "responded", "median_response_working_minutes",
        "overdue_now",
    ])



def ref_account_trends(session: Session, start: date, end: date, account_uids: Scope = None) -> pd.DataFrame:
    """Per account and day: cases opened, responded, on time, overdue now, median response minutes."""
    lo, hi = local_day_bounds(start, end)
    cday = _local_day(session, Case.opened_at).label("day")
    counted = Case.status.in_(COUNTED_STATUSES)
    on_time = and_(
        Case.first_response_at.is_not(None),
        or_(Case.first_response_due.is_(None), Case.first_response_at <= Case.first_response_due),
    )
    rows = _exec(session, 
        select(
            Case.account_uid, cday,
            func.count().filter(counted),
            func.count().filter(and_(counted, Case.first_response_at.is_not(None))),
            func.count().filter(and_(counted, on_time)),
            func.count().filter(and_(counted, Case.overdue == true())),
        )
        .where(Case.opened_at >= lo, Case.opened_at < hi, _scoped(Case.account_uid, account_uids))
        .group_by(Case.account_uid, cday)
    ).all()
    names = dict(_exec(session, select(Account.uid, Account.screen_name).where(_scoped(Account.uid, account_uids))).all())
    df = pd.DataFrame(
        [(uid, names.get(uid, uid or ""), pd.Timestamp(str(day)), n, r, ot, od) for uid, day, n, r, ot, od in rows],
        columns=["account_uid", "screen_name", "day", "cases", "responded", "on_time", "overdue_now"],
    )
    df["on_time_response_rate"] = (df["on_time"] / df["cases"]).where(df["cases"] > 0)
    return df.sort_values(["screen_name", "day"]).reset_index(drop=True)




# ----------------------------------------------------------------------------------------------- data


def _fill(engine, seed: int = 1, n_cases: int = 400, n_items: int = 900) -> None:  # noqa: ANN001
    """Random cases and items over ~100 days, around local midnight too (day edges), with every status,
    missing minutes, missing deadlines, no account, ties in minutes."""
    rng = random.Random(seed)
    with session_scope(engine) as s:
        s.add_all([Account(uid=COORD, screen_name="问政银川", role="coordinator", department="问政办")] + [
            Account(uid=u, screen_name=f"成员{i}", department="公安" if i % 2 else "教育") for i, u in enumerate(MEMBERS)
        ])
        s.flush()
        pid = 9_000_000
        posts, cases = [], []
        for cid in range(1, n_cases + 1):
            pid += 1
            # many opened near 16:00 UTC (= local midnight), so day edges are exercised
            opened = NOW - timedelta(days=rng.randint(0, 100), hours=rng.choice([0, 6.5, 13.99, 14.01, rng.random() * 24]))
            acct = rng.choice(MEMBERS + [COORD, None])
            status = rng.choice(STATUSES)
            minutes = rng.choice([None, rng.randint(1, 50), rng.randint(1, 3000), 60, 60])
            first = opened + timedelta(minutes=minutes or 30) if status in ("responded", "closed") and rng.random() < 0.9 else None
            # closed mostly with a closing time (a few without: not settled), deadlines met or missed by days
            closed_at = opened + timedelta(hours=rng.uniform(1, 400)) if status == "closed" and rng.random() < 0.95 else None
            author = rng.choice([f"8{rng.randint(0, 99):08d}", None, MEMBERS[0]])
            posts.append(Post(id=str(pid), item_type="post", user_id=author, screen_name="市民", text=f"诉求 {cid}",
                              created_at=opened, mentions=[], topics=[], sentiment_label=rng.choice(["negative", "neutral"])))
            cases.append(Case(id=cid, post_id=str(pid), account_uid=acct, kind="投诉", status=status, opened_at=opened,
                              first_response_at=first,
                              first_response_due=rng.choice([None, opened + timedelta(minutes=rng.randint(10, 2000))]),
                              first_response_working_minutes=minutes if first else rng.choice([None, minutes]),
                              closed_at=closed_at,
                              closure_due=rng.choice([None, opened + timedelta(hours=rng.uniform(2, 300))]),
                              forward_due=opened + timedelta(hours=rng.uniform(1, 30)) if status == "awaiting_forward" else None,
                              overdue=rng.random() < 0.3, sentiment_label=rng.choice(["negative", "neutral", None])))
        for i in range(n_items):
            pid += 1
            parent = posts[rng.randrange(len(posts))]
            at = NOW - timedelta(days=rng.randint(0, 100), minutes=rng.randint(0, 1440))
            posts.append(Post(id=str(pid), item_type=rng.choice(["comment", "repost", "post"]), parent_id=parent.id,
                              user_id=rng.choice(MEMBERS + [COORD, "8000000001", None]), screen_name="x", text="评论",
                              created_at=at, mentions=[], topics=[]))
        s.add_all(posts)
        s.flush()
        s.add_all(cases)


PERIODS = [(TODAY - timedelta(days=d - 1), TODAY) for d in (1, 7, 30, 90)] + [
    (TODAY - timedelta(days=60), TODAY - timedelta(days=45)),  # a past period
    (TODAY + timedelta(days=1), TODAY + timedelta(days=3)),  # nothing in it
]
SCOPES: list[Scope] = [None, [MEMBERS[0]], [MEMBERS[1], MEMBERS[2], COORD], [], ["no-such-account"]]


def _same(engine) -> None:  # noqa: ANN001
    """Every period figure from the rollup path equals the direct computation, for every period and scope."""
    with Session(engine) as s:
        for start, end in PERIODS:
            for scope in SCOPES:
                where = f"{start}..{end} {scope}"
                assert q._two_periods(s, start, end, scope) == ref_two_periods(s, start, end, scope), where
                for new, old in (
                    (q.account_summary(s, start, end, account_uids=scope),
                     ref_account_summary(s, start, end, account_uids=scope)),
                    (q.account_summary(s, start, end, account_uids=scope, department="公安"),
                     ref_account_summary(s, start, end, account_uids=scope, department="公安")),
                    (q.trends(s, start, end, account_uids=scope), ref_trends(s, start, end, account_uids=scope)),
                    (q.account_trends(s, start, end, account_uids=scope),
                     ref_account_trends(s, start, end, account_uids=scope)),
                ):
                    pd.testing.assert_frame_equal(new, old, check_exact=True, obj=where)
                _same_rankings(s, start, end, scope, where)


def _same_rankings(s: Session, start: date, end: date, scope: Scope, where: str, policy: Any = None) -> None:
    """The rankings read from the rollup equal the rankings counted from `cases`, figure for figure."""
    lo, hi = local_day_bounds(start, end)
    policy = policy or POLICY
    for dept in (None, "公安"):
        got, want = (period_rankings(s, lo, hi, None if scope is None else list(scope), dept, now=NOW, policy=policy,
                                     with_late_cases=False, use_rollup=use) for use in (True, False))
        assert (got.ranks, got.total) == (want.ranks, want.total), f"rankings {where} {dept}"


def _dirty_days(engine) -> set[date]:  # noqa: ANN001
    with engine.connect() as conn:
        return {rollup._as_date(d) for d in conn.execute(select(rollup.DIRTY.c.day)).scalars()}


def _rollup_rows(engine) -> tuple[list, list]:  # noqa: ANN001
    with engine.connect() as conn:
        cases = sorted(tuple(r) for r in conn.execute(select(RollupCaseDay.__table__)))
        posts = sorted(tuple(r) for r in conn.execute(select(RollupPostDay.__table__)))
    return cases, posts


# ---------------------------------------------------------------------------------------------- tests


def test_fresh_rollup_equals_direct_queries(db_url):
    engine = open_db(db_url)
    _fill(engine)
    assert _dirty_days(engine)  # the inserts marked their days
    _same(engine)  # marked days are read from the base tables
    with engine.begin() as conn:
        assert rollup.refresh(conn) > 0
    assert not _dirty_days(engine)
    _same(engine)  # now every day from the rollup
    before = _rollup_rows(engine)
    with engine.begin() as conn:
        rollup.rebuild(conn)
    assert _rollup_rows(engine) == before  # incremental refreshes and a rebuild agree


def test_every_kind_of_write_is_seen_before_and_after_refresh(db_url):
    engine = open_db(db_url)
    _fill(engine, seed=2)
    with engine.begin() as conn:
        rollup.refresh(conn)
    rng = random.Random(5)
    with session_scope(engine) as s:  # ORM updates of the columns the figures read
        for case in s.scalars(select(Case).where(Case.id.in_(rng.sample(range(1, 401), 60)))):
            case.status = rng.choice(STATUSES)
            case.overdue = not case.overdue
            case.account_uid = rng.choice(MEMBERS + [None])
            case.first_response_working_minutes = rng.choice([None, 7, 60])
            case.sentiment_label = rng.choice(["negative", None])
        moved = s.get(Case, 3)
        moved.opened_at = moved.opened_at - timedelta(days=40)  # to another day: both days change
    with engine.begin() as conn:  # bulk SQL, as the clock's sweep writes
        conn.execute(update(Case).where(Case.id % 7 == 0).values(overdue=True))
        conn.execute(update(Case).where(Case.id % 11 == 0).values(first_response_due=None))
        conn.execute(delete(Case).where(Case.id.in_([5, 6])))
        conn.execute(delete(Post).where(Post.parent_id == "9000010"))
        conn.execute(update(Post).where(Post.id == "9000020").values(created_at=NOW - timedelta(days=80)))
        conn.execute(update(Case).where(Case.id == 9).values(evaluated_at=NOW))  # no figure changes: no marker
    _same(engine)
    with engine.begin() as conn:
        rollup.refresh(conn)
    _same(engine)
    after_refresh = _rollup_rows(engine)
    with engine.begin() as conn:
        rollup.rebuild(conn)
    assert _rollup_rows(engine) == after_refresh


def test_unrelated_updates_mark_nothing(db_url):
    engine = open_db(db_url)
    _fill(engine, seed=3, n_cases=50, n_items=50)
    with engine.begin() as conn:
        rollup.refresh(conn)
        conn.execute(update(Case).values(evaluated_at=NOW, overdue_level="催办", policy_version="v2"))
        conn.execute(update(Post).values(sentiment_score=0.5))
    assert not _dirty_days(engine)


def test_without_triggers_the_rollup_is_not_read(db_url):
    """A later migration that rebuilds `cases` drops the triggers: the figures stay exact (read directly)."""
    engine = open_db(db_url)
    _fill(engine, seed=4)
    with engine.begin() as conn:
        rollup.refresh(conn)
        conn.exec_driver_sql("DROP TRIGGER rollup_cases_upd" + (" ON cases" if conn.dialect.name == "postgresql" else ""))
        assert not rollup.installed(conn)
        conn.execute(update(Case).values(status="closed", overdue=False))  # not marked any more
    _same(engine)
    with engine.begin() as conn:
        rollup.install(conn)  # puts the trigger back and rebuilds
        assert rollup.installed(conn)
    assert not _dirty_days(engine)
    _same(engine)


def test_upgrade_fills_the_rollup_from_existing_rows(db_url):
    engine = open_db(db_url)
    _fill(engine, seed=6, n_cases=120, n_items=200)  # rows written at head, then the schema taken back
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
        assert not conn.dialect.has_table(conn, "rollup_case_days")
    dispose_engines()
    engine = open_db(db_url, create=True)
    assert not _dirty_days(engine)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(RollupCaseDay)) > 0
        assert conn.scalar(select(func.sum(RollupPostDay.posts))) == conn.scalar(select(func.count()).select_from(Post))
    _same(engine)


def test_the_clock_tick_refreshes_marked_days(db_url):
    from matrix.polling.ingest import Ingestor
    from matrix.rules.policy import load_policy

    engine = open_db(db_url)
    _fill(engine, seed=7, n_cases=80, n_items=80)
    assert _dirty_days(engine)
    Ingestor(engine, load_policy(), scorer=object()).tick(NOW)
    assert not _dirty_days(engine)
    _same(engine)


def test_member_scope_reads_only_its_accounts(db_url):
    engine = open_db(db_url)
    _fill(engine, seed=8)
    with engine.begin() as conn:
        rollup.refresh(conn)
        rows = rollup.case_days(conn, TODAY - timedelta(days=100), TODAY, [MEMBERS[0]])
    assert rows and {r[1] for r in rows} == {MEMBERS[0]}


def test_a_bulk_recompute_marks_its_days_and_keeps_the_trigger(db_url, monkeypatch):
    """A policy recompute updates cases in bulk with the row trigger set aside (SQLite): the days it
    touched are marked all the same, the figures stay exact, and the trigger is back afterwards."""
    from matrix.casework.cases import recompute
    from matrix.rules.policy import load_policy

    engine = open_db(db_url)
    _fill(engine, seed=9)
    with engine.begin() as conn:
        rollup.refresh(conn)
    assert not _dirty_days(engine)
    monkeypatch.setattr(rollup, "BULK_MIN_ROWS", 1)  # take the bulk path with a few hundred cases
    with session_scope(engine) as s:
        result = recompute(s, load_policy(), NOW)
    assert result.changed > 0
    with engine.connect() as conn:
        assert rollup.installed(conn)
    marked = _dirty_days(engine)
    with Session(engine) as s:
        opened = s.scalars(select(Case.opened_at).where(Case.status.in_(["awaiting_forward", "open", "responded"]))).all()
    assert marked and marked <= {as_utc(o).astimezone(q.SHANGHAI).date() for o in opened}
    _same(engine)
    with engine.begin() as conn:
        rollup.refresh(conn)
    _same(engine)
    with engine.begin() as conn:  # the re-created trigger still marks
        conn.execute(update(Case).where(Case.id == 1).values(overdue=True, first_response_due=NOW))
    assert _dirty_days(engine)


def test_rankings_read_lateness_measured_on_their_own_calendar(db_url):
    """Closed cases' lateness is stored with the calendar it was measured on: rankings under a policy
    with other working hours compute those days afresh (same as counting directly), and the clock's
    refresh with that policy re-measures them, after which the rollup answers again."""
    engine = open_db(db_url)
    _fill(engine, seed=10)
    with engine.begin() as conn:
        rollup.refresh(conn)
    text = POLICY.text.replace('work_hours = ["08:30-12:00", "13:30-17:30"]', 'work_hours = ["09:00-12:00", "14:00-18:00"]')
    other = Policy.from_text(text)
    assert other.calendar.minutes_per_day != POLICY.calendar.minutes_per_day
    start, end = TODAY - timedelta(days=89), TODAY
    with Session(engine) as s:
        _same_rankings(s, start, end, None, "other calendar, not yet re-measured", other)
        lo, hi = local_day_bounds(start, end)
        ours, theirs = (period_rankings(s, lo, hi, now=NOW, policy=p, with_late_cases=False) for p in (POLICY, other))
        assert ours.total.days_overdue != theirs.total.days_overdue  # the calendar matters
    with engine.begin() as conn:
        assert rollup.refresh(conn, calendar=other.calendar) > 0
        keys = set(conn.execute(select(RollupCaseDay.calendar_key).distinct()).scalars())
    assert keys == {rollup.calendar_key(other.calendar)}
    with Session(engine) as s:
        _same_rankings(s, start, end, None, "other calendar, re-measured", other)
        _same_rankings(s, start, end, [MEMBERS[1]], "back to the shipped calendar, member")


def test_rankings_of_a_cut_day_are_counted_directly(db_url):
    """A period that does not start at local midnight cannot come from daily rows; it is counted directly."""
    engine = open_db(db_url)
    _fill(engine, seed=11, n_cases=150, n_items=10)
    with engine.begin() as conn:
        rollup.refresh(conn)
    lo, hi = local_day_bounds(TODAY - timedelta(days=30), TODAY)
    with Session(engine) as s:  # cut just after the period's first counted case
        first = s.scalar(select(func.min(Case.opened_at)).where(
            Case.opened_at >= lo, Case.account_uid.is_not(None), Case.status.not_in(["invalid", "merged"])))
        at = as_utc(first) + timedelta(seconds=1)
        cut = period_rankings(s, at, hi, now=NOW, policy=POLICY, with_late_cases=False)
        whole = period_rankings(s, lo, hi, now=NOW, policy=POLICY, with_late_cases=False)
        direct = period_rankings(s, at, hi, now=NOW, policy=POLICY, use_rollup=False)
    assert (cut.ranks, cut.total) == (direct.ranks, direct.total)
    assert cut.total.cases < whole.total.cases
