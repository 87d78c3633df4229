"""Daily rollups behind the board's period figures, exact at every moment.

A 90-day period over 200,000 cases and 1,000,000 items is too slow to aggregate on each filter change,
so `rollup_case_days` holds per Asia/Shanghai day x account the case counts the board shows (and the
sorted first-response minutes, since medians cannot be added up; and, for the rankings, how many closed
cases were late and by how many working minutes: final once a case is closed, measured on the calendar
whose `lateness.calendar_key` the row carries) and `rollup_post_days` the items per day. They are a
cache that can never be read stale:

* database triggers (installed by migration 0006, `install`) append the day of every case or item that
  is inserted, deleted, or updated in a column the figures read, to `rollup_dirty` — whatever wrote it
  (the engine, the clock's bulk UPDATE, office actions, imports, `db copy`, hand-made SQL);
* readers (`case_days`, `post_days`) take a day from the rollup only while no marker names it (and, when
  they ask for lateness, only if it was measured on their calendar), and compute other days from the
  base tables with the same code that fills the rollup;
* `refresh` folds marked days back in (after each clock tick, see `matrix.polling.ingest.Ingestor.tick`);
  `rebuild` recomputes everything (`install` runs it; the migration runs `install`).

If the triggers are missing (a later SQLite migration that rebuilds `cases` or `posts` in batch mode
drops them: it must call `install` again), readers do not trust the rollup and compute directly.

The marker table is deliberately not part of `matrix.storage.models.Base`: `wzmon db copy` copies and
compares every model table, and the target's own triggers write markers of their own.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Date,
    Integer,
    MetaData,
    Table,
    and_,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    text,
    true,
)

from matrix.rules.workcal import WorkingCalendar
from matrix.storage.lateness import calendar_key, late_cases
from matrix.storage.models import Case, Post, RollupCaseDay, RollupPostDay
from matrix.timeutil import SHANGHAI, as_utc

ACTIVE_STATUSES = ("awaiting_forward", "open", "responded")
COUNTED_STATUSES = ("awaiting_forward", "open", "responded", "closed")  # not invalid, not merged

DIRTY = Table(
    "rollup_dirty",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False, index=True),
)

# the case columns the figures read: an UPDATE touching none of them leaves the rollup as it is
CASE_COLUMNS = ("opened_at", "account_uid", "status", "overdue", "sentiment_label", "first_response_at",
                "first_response_due", "first_response_working_minutes", "closed_at", "closure_due")
# the case definitions the rollup and the rankings share
ON_TIME_RESPONSE = and_(Case.first_response_at.is_not(None),
                        or_(Case.first_response_due.is_(None), Case.first_response_at <= Case.first_response_due))
ON_TIME_CLOSURE = and_(Case.status == "closed", or_(Case.closure_due.is_(None), Case.closed_at <= Case.closure_due))
SETTLED = and_(Case.status == "closed", Case.closed_at.is_not(None))  # every deadline met: lateness is final
TRIGGERS = ("rollup_cases_ins", "rollup_cases_upd", "rollup_cases_del",
            "rollup_posts_ins", "rollup_posts_upd", "rollup_posts_del")
ROLLUP_LOCK = 0x777A726F6C  # "wzrol": serialises refreshes on PostgreSQL
CHUNK = 500

Scope = Sequence[str] | None


# ------------------------------------------------------------------------------------------- triggers


def _sqlite_day(ref: str) -> str:
    return f"date({ref}, '+8 hours')"


def _pg_day(ref: str) -> str:
    return f"(timezone('Asia/Shanghai', timezone('UTC', {ref})))::date"


def _sqlite_triggers() -> dict[str, str]:
    """Trigger name -> its CREATE statement."""
    def mark(ref: str) -> str:
        d = _sqlite_day(ref)
        return (f"INSERT INTO rollup_dirty (day) SELECT d FROM (SELECT {d} AS d) "
                "WHERE d IS NOT NULL AND NOT EXISTS (SELECT 1 FROM rollup_dirty WHERE day = d);")

    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in CASE_COLUMNS)
    bodies = {
        "rollup_cases_ins": f"AFTER INSERT ON cases BEGIN {mark('NEW.opened_at')} END",
        "rollup_cases_upd": f"AFTER UPDATE ON cases WHEN {changed} BEGIN {mark('OLD.opened_at')} {mark('NEW.opened_at')} END",
        "rollup_cases_del": f"AFTER DELETE ON cases BEGIN {mark('OLD.opened_at')} END",
        "rollup_posts_ins": f"AFTER INSERT ON posts BEGIN {mark('NEW.created_at')} END",
        "rollup_posts_upd": "AFTER UPDATE ON posts WHEN OLD.created_at IS NOT NEW.created_at "
                            f"BEGIN {mark('OLD.created_at')} {mark('NEW.created_at')} END",
        "rollup_posts_del": f"AFTER DELETE ON posts BEGIN {mark('OLD.created_at')} END",
    }
    return {name: f"CREATE TRIGGER IF NOT EXISTS {name} {body}" for name, body in bodies.items()}


def _pg_trigger_sql() -> list[str]:
    def mark(ref: str) -> str:
        d = _pg_day(ref)
        return (f"INSERT INTO rollup_dirty (day) SELECT d FROM (SELECT {d} AS d) x "
                "WHERE d IS NOT NULL AND NOT EXISTS (SELECT 1 FROM rollup_dirty r WHERE r.day = x.d);")

    def function(name: str, body: str) -> str:
        return (f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {body} RETURN NULL; END $$")

    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in CASE_COLUMNS)
    out = [
        function("wzmon_rollup_cases_new", mark("NEW.opened_at")),
        function("wzmon_rollup_cases_old", mark("OLD.opened_at")),
        function("wzmon_rollup_cases_both", mark("OLD.opened_at") + " " + mark("NEW.opened_at")),
        function("wzmon_rollup_posts_new", mark("NEW.created_at")),
        function("wzmon_rollup_posts_old", mark("OLD.created_at")),
        function("wzmon_rollup_posts_both", mark("OLD.created_at") + " " + mark("NEW.created_at")),
    ]
    # row triggers without markers or unique keys to wait on: concurrent writers never block each other here
    specs = [
        ("rollup_cases_ins", "INSERT", "cases", "", "wzmon_rollup_cases_new"),
        ("rollup_cases_upd", "UPDATE", "cases", f"WHEN ({changed})", "wzmon_rollup_cases_both"),
        ("rollup_cases_del", "DELETE", "cases", "", "wzmon_rollup_cases_old"),
        ("rollup_posts_ins", "INSERT", "posts", "", "wzmon_rollup_posts_new"),
        ("rollup_posts_upd", "UPDATE", "posts", "WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at)",
         "wzmon_rollup_posts_both"),
        ("rollup_posts_del", "DELETE", "posts", "", "wzmon_rollup_posts_old"),
    ]
    for name, event, table, when, fn in specs:
        out.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        out.append(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {when} EXECUTE FUNCTION {fn}()")
    return out


def install(conn: Connection, fill: bool = True, calendar: WorkingCalendar | None = None) -> None:
    """Create the marker table and (anew) the triggers, then rebuild the rollups from scratch (FILL)."""
    DIRTY.create(conn, checkfirst=True)
    if conn.dialect.name == "postgresql":
        stmts = _pg_trigger_sql()
    else:
        stmts = [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS] + list(_sqlite_triggers().values())
    for sql in stmts:
        conn.exec_driver_sql(sql)
    if fill:
        rebuild(conn, calendar)


def uninstall(conn: Connection) -> None:
    """Drop the triggers, their functions and the marker table (migration 0006 downgrade)."""
    pg = conn.dialect.name == "postgresql"
    for name in TRIGGERS:
        table = "cases" if "cases" in name else "posts"
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if pg else ""))
    if pg:
        for what in ("cases", "posts"):
            for kind in ("new", "old", "both"):
                conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS wzmon_rollup_{what}_{kind}()")
    DIRTY.drop(conn, checkfirst=True)


# Below this many rows a row trigger is cheaper than setting it aside. Measured on SQLite: the posts insert
# trigger costs about 24 µs a row (188,236 posts in batches of 2,000: 9.3 s with it, 4.7 s without), dropping and
# re-creating it about 3 ms a batch.
BULK_MIN_ROWS = 200


@contextmanager
def trigger_set_aside(conn: Connection, trigger: str, days: Iterable[date], rows: int) -> Iterator[None]:
    """Around a bulk write of ROWS rows that TRIGGER (one of TRIGGERS) would mark on DAYS (Asia/Shanghai):
    mark each day once instead of letting the row trigger check every row (a policy recompute of 100,000 cases
    spent a second there; an archive import a tenth of its time).

    SQLite only, inside the caller's transaction: the trigger is dropped, the days are marked and the
    trigger re-created before commit, all atomically (one writer at a time, so no other write can slip
    past the missing trigger; readers see the schema as it was). DAYS must hold every day the trigger would
    mark for these rows (more only costs a recount at the next refresh; `utc_days` gives an insert's).
    Elsewhere, or for fewer than BULK_MIN_ROWS rows, or without the triggers, it does nothing special.
    """
    if conn.dialect.name != "sqlite" or rows < BULK_MIN_ROWS or not installed(conn):
        yield
        return
    days = sorted(set(days))
    create = _sqlite_triggers()[trigger]
    conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
    if days:
        have = set(map(_as_date, conn.execute(select(DIRTY.c.day).where(DIRTY.c.day.in_(days))).scalars()))
        missing = [{"day": d} for d in days if d not in have]
        if missing:
            conn.execute(insert(DIRTY), missing)
    try:
        yield
    finally:
        conn.exec_driver_sql(create)


def utc_days(times: Iterable[datetime | None]) -> set[date]:
    """The days SQLite's triggers mark for these UTC times: the stored UTC text's date eight hours on
    (`date(t, '+8 hours')`, not the zone's history)."""
    out: set[date] = set()
    for t in times:
        if t is not None:
            out.add((as_utc(t).replace(tzinfo=None) + _EIGHT_HOURS).date())
    return out


_EIGHT_HOURS = timedelta(hours=8)


def installed(conn: Connection) -> bool:
    """Whether every trigger is in place (if not, the rollup may be stale and is not read)."""
    if conn.dialect.name == "postgresql":
        q = text("SELECT count(DISTINCT tgname) FROM pg_trigger WHERE NOT tgisinternal AND tgname = ANY(:names) "
                 "AND tgrelid IN ('cases'::regclass, 'posts'::regclass)")
        return conn.execute(q, {"names": list(TRIGGERS)}).scalar() == len(TRIGGERS)
    q = text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (%s)"
             % ", ".join(f"'{n}'" for n in TRIGGERS))
    return conn.execute(q).scalar() == len(TRIGGERS)


# ----------------------------------------------------------------------------------------- computing


def local_day(dialect: str, col: Any) -> Any:
    """The Asia/Shanghai calendar day of a stored UTC timestamp, as SQL (the same as the triggers')."""
    if dialect == "sqlite":
        return func.date(col, "+8 hours")
    return func.date(func.timezone("Asia/Shanghai", func.timezone("UTC", col)))


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def _bounds(day: date) -> tuple[datetime, datetime]:
    lo = as_utc(datetime.combine(day, time(0), tzinfo=SHANGHAI))
    return lo, lo + timedelta(days=1)  # type: ignore[operator,return-value]


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days folded into [first, last] runs."""
    out: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if out and (d - out[-1][1]).days == 1:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _on_days(col: Any, days: Iterable[date] | None) -> ColumnElement[bool]:
    """COL falls on one of DAYS (None = any day), as index-friendly ranges."""
    if days is None:
        return true()
    runs = _runs(days)
    if not runs:
        return false()
    return or_(*(and_(col >= _bounds(a)[0], col < _bounds(b)[1]) for a, b in runs))


def _scoped(col: Any, account_uids: Scope) -> ColumnElement[bool]:
    if account_uids is None:
        return true()
    uids = list(account_uids)
    return col.in_(uids) if uids else false()


class CaseDay(NamedTuple):
    """The cases opened on one Asia/Shanghai day for one account (None: not assigned): the counts the
    board shows, and the sorted first-response working minutes (medians cannot be added up)."""

    day: date
    account_uid: str | None
    total: int
    counted: int
    active: int
    overdue: int
    closed: int
    negative: int
    responded: int
    on_time: int
    on_time_closed: int
    late_closed: int  # closed cases that were late on some deadline (only when read with a calendar)
    late_closed_minutes: int  # their working minutes late, summed
    minutes: list[int]


COUNTS = CaseDay._fields[2:-1]  # the fields that add up across days and accounts


def compute_case_days(conn: Connection, days: Iterable[date] | None, account_uids: Scope = None,
                      calendar: WorkingCalendar | None = None) -> list[CaseDay]:
    """Per day and account, straight from `cases` (for DAYS, or every day when None); the lateness of
    closed cases is measured on CALENDAR (None: left at 0)."""
    day = local_day(conn.dialect.name, Case.opened_at)
    counted = Case.status.in_(COUNTED_STATUSES)
    where = and_(_on_days(Case.opened_at, days), _scoped(Case.account_uid, account_uids))
    rows = conn.execute(
        select(
            day, Case.account_uid, func.count(),
            func.count().filter(counted),
            func.count().filter(Case.status.in_(ACTIVE_STATUSES)),
            func.count().filter(and_(counted, Case.overdue == true())),
            func.count().filter(Case.status == "closed"),
            func.count().filter(and_(counted, Case.sentiment_label == "negative")),
            func.count().filter(and_(counted, Case.first_response_at.is_not(None))),
            func.count().filter(and_(counted, ON_TIME_RESPONSE)),
            func.count().filter(ON_TIME_CLOSURE),
        ).where(where).group_by(day, Case.account_uid)
    ).all()
    minutes: dict[tuple[date, Any], list[int]] = {}
    for d, uid, m in conn.execute(
        select(day, Case.account_uid, Case.first_response_working_minutes).where(
            where, counted, Case.first_response_working_minutes.is_not(None)
        )
    ):
        minutes.setdefault((_as_date(d), uid), []).append(m)
    late = _closed_lateness(conn, where, calendar) if calendar is not None else {}
    out = []
    for d, uid, *counts in rows:
        d = _as_date(d)
        out.append(CaseDay(d, uid, *counts, *late.get((d, uid), (0, 0)), sorted(minutes.get((d, uid), []))))
    return out


def _closed_lateness(conn: Connection, where: ColumnElement[bool], calendar: WorkingCalendar) -> dict[tuple, tuple[int, int]]:
    """(day, account) -> (late closed cases, their working minutes late) for the settled cases under WHERE
    (met or missed, every deadline is behind them, so the moment they are measured at does not matter)."""
    day = local_day(conn.dialect.name, Case.opened_at)
    keys, _, late = late_cases(conn, calendar, datetime(1970, 1, 1, tzinfo=SHANGHAI), (where, SETTLED),
                               (day, Case.account_uid))
    out: dict[tuple, tuple[int, int]] = {}
    for i in (late.which >= 0).nonzero()[0].tolist():
        key = (_as_date(keys[i][0]), keys[i][1])
        n, m = out.get(key, (0, 0))
        out[key] = (n + 1, m + int(late.minutes[i]))
    return out


def compute_post_days(conn: Connection, days: Iterable[date] | None) -> dict[date, int]:
    """Stored items per day, straight from `posts`."""
    day = local_day(conn.dialect.name, Post.created_at)
    rows = conn.execute(select(day, func.count()).where(_on_days(Post.created_at, days)).group_by(day)).all()
    return {_as_date(d): n for d, n in rows}


def default_calendar() -> WorkingCalendar:
    """The shipped policy's calendar: what the rollup measures lateness on when no policy is at hand."""
    from matrix.rules.policy import load_policy

    return load_policy().calendar


def _store(conn: Connection, days: Sequence[date] | None, calendar: WorkingCalendar) -> None:
    """Replace the rollup rows of DAYS (None = all) by fresh computations (lateness on CALENDAR)."""
    if days is None:
        conn.execute(delete(RollupCaseDay))
        conn.execute(delete(RollupPostDay))
    else:
        for i in range(0, len(days), CHUNK):
            part = list(days[i:i + CHUNK])
            conn.execute(delete(RollupCaseDay).where(RollupCaseDay.day.in_(part)))
            conn.execute(delete(RollupPostDay).where(RollupPostDay.day.in_(part)))
    key = calendar_key(calendar)
    case_rows = [{**r._asdict(), "account_uid": r.account_uid or "", "calendar_key": key}
                 for r in compute_case_days(conn, days, calendar=calendar)]
    for i in range(0, len(case_rows), 5000):
        conn.execute(insert(RollupCaseDay), case_rows[i:i + 5000])
    post_rows = [{"day": d, "posts": n} for d, n in compute_post_days(conn, days).items()]
    if post_rows:
        conn.execute(insert(RollupPostDay), post_rows)


def _lock(conn: Connection) -> None:
    """One refresher at a time, reading the newest data: a refresh from an older snapshot must never
    overwrite a newer one after the newer one consumed the markers."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ROLLUP_LOCK})
    else:  # take SQLite's write lock before reading anything, so the reads see the latest commit
        conn.execute(DIRTY.delete().where(false()))


def _other_calendar_days(conn: Connection, calendar: WorkingCalendar, *where: ColumnElement[bool]) -> set[date]:
    """Days (under WHERE) whose lateness was measured on another calendar than CALENDAR."""
    r = RollupCaseDay
    q = select(r.day).where(r.calendar_key != calendar_key(calendar), *where).distinct()
    return {_as_date(d) for d in conn.execute(q).scalars()}


def rebuild(conn: Connection, calendar: WorkingCalendar | None = None) -> None:
    """Recompute both rollups from scratch and clear every marker (in the caller's transaction);
    lateness on CALENDAR (default: the shipped policy's)."""
    _lock(conn)
    conn.execute(DIRTY.delete())
    _store(conn, None, calendar or default_calendar())


def refresh(conn: Connection, max_days: int | None = None, calendar: WorkingCalendar | None = None) -> int:
    """Fold the days marked since the last refresh back into the rollups, and re-measure the days
    whose lateness was measured on another calendar than CALENDAR (default: the shipped policy's);
    returns how many days.

    Only the markers read here are removed, so a day changed by a transaction that commits meanwhile
    stays marked (and is read from the base tables) until the next refresh.
    """
    _lock(conn)
    calendar = calendar or default_calendar()
    marks = conn.execute(select(DIRTY.c.id, DIRTY.c.day).order_by(DIRTY.c.id)).all()
    days = sorted({_as_date(d) for _, d in marks} | _other_calendar_days(conn, calendar))
    if not days:
        return 0
    if max_days is not None and len(days) > max_days:
        days = days[-max_days:]
    keep = set(days)
    ids = [i for i, d in marks if _as_date(d) in keep]
    _store(conn, days, calendar)
    for i in range(0, len(ids), CHUNK):
        conn.execute(DIRTY.delete().where(DIRTY.c.id.in_(ids[i:i + CHUNK])))
    return len(days)


# ------------------------------------------------------------------------------------------- reading


def _unsettled(conn: Connection, start: date, end: date, calendar: WorkingCalendar | None = None) -> set[date] | None:
    """The days in [start, end] the rollup cannot answer for (None = none of them: no triggers): days
    marked changed, and, when lateness on CALENDAR is wanted, days measured on another calendar."""
    if not installed(conn):
        return None
    rows = conn.execute(select(DIRTY.c.day).where(DIRTY.c.day >= start, DIRTY.c.day <= end).distinct()).scalars()
    out = {_as_date(d) for d in rows}
    if calendar is not None:
        out |= _other_calendar_days(conn, calendar, RollupCaseDay.day >= start, RollupCaseDay.day <= end)
    return out


def _period_days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def case_days(conn: Connection, start: date, end: date, account_uids: Scope = None,
              calendar: WorkingCalendar | None = None) -> list[CaseDay]:
    """Per day in [start, end] and account in scope, for cases opened that day (see CaseDay), exactly
    what `compute_case_days` gives on the base tables at this moment. The lateness of closed cases is
    meaningful only when a CALENDAR is given (it is measured on that calendar)."""
    if start > end:
        return []
    unsettled = _unsettled(conn, start, end, calendar)
    if unsettled is None:
        return compute_case_days(conn, _period_days(start, end), account_uids, calendar)
    r = RollupCaseDay
    q = select(*(r.__table__.c[name] for name in CaseDay._fields)).where(
        r.day >= start, r.day <= end, _scoped(r.account_uid, account_uids))
    if unsettled:
        q = q.where(r.day.not_in(sorted(unsettled)))
    out = [CaseDay(_as_date(d), uid or None, *rest) for d, uid, *rest in conn.execute(q)]
    if unsettled:
        out.extend(compute_case_days(conn, unsettled, account_uids, calendar))
    return out


def post_days(conn: Connection, start: date, end: date) -> dict[date, int]:
    """Stored items per day in [start, end] (every item: the office's count), exactly as `posts` holds them."""
    if start > end:
        return {}
    unsettled = _unsettled(conn, start, end)
    if unsettled is None:
        return compute_post_days(conn, _period_days(start, end))
    r = RollupPostDay
    q = select(r.day, r.posts).where(r.day >= start, r.day <= end)
    if unsettled:
        q = q.where(r.day.not_in(sorted(unsettled)))
    out = {_as_date(d): n for d, n in conn.execute(q)}
    if unsettled:
        out.update(compute_post_days(conn, unsettled))
    return out
