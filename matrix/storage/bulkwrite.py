"""Bulk writes of the archive import's thousands of rows per batch, below the ORM's per-row cost.

PostgreSQL: COPY. SQLite: the driver's own executemany of a statement compiled once (SQLAlchemy's
executemany builds and binds a parameter dictionary per row in Python, which costs more than SQLite's insert).

A many-values INSERT of a thousand rows is a half-megabyte statement that the driver rescans for its
placeholders and SQLAlchemy binds value by value; an executemany is a round of binding per row. COPY sends the
rows as data, adapted in C by psycopg, and the server loads them without planning a statement per row. It
cannot skip conflicting keys or return ids by itself, so:

- ids are taken from the table's sequence first (`next_ids`) and written explicitly, in the callers' order;
- rows that may already exist go through a temporary table and one INSERT ... SELECT ... ON CONFLICT DO NOTHING
  RETURNING (`copy_insert_new`).

On SQLite the batch takes the database's one write lock first (`hold_write_lock`), so ids are the next ones
after the table's largest and "not stored yet" is read before writing.

Values are converted as the ORM would bind them (UTC datetimes stored naive, JSON through the engine's
serializer) and missing columns take the model's Python-side defaults, so rows read back the same whichever
path wrote them (tests/ingest/test_batch_equals_single.py compares them field by field).
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlalchemy import JSON, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from matrix.storage.models import UTCDateTime, utc_text
from matrix.timeutil import as_utc

__all__ = ["COPY_MIN", "hold_write_lock", "bulk_insert", "bulk_executemany", "copy_rows", "copy_insert_new", "next_ids", "is_postgresql"]

# fewer rows than this (a live poller's page) go by ordinary statements: COPY's set-up would cost more
COPY_MIN = 100


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@contextmanager
def _driver(session: Session, what: str) -> Iterator[Any]:
    """The driver's own connection, its errors raised as SQLAlchemy's (callers catch those: an import then
    stores the batch file by file and names the file the database refused)."""
    dialect = session.get_bind().dialect
    try:
        yield session.connection().connection.driver_connection
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(what, None, exc, dialect.loaded_dbapi.Error) from exc


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def bulk_executemany(session: Session, stmt: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Run STMT (an INSERT without RETURNING, or an UPDATE with bind parameters) once per row of ROWS, by the
    driver's executemany on SQLite (compiled once, each value that needs it through the type's own bind processor,
    as the ORM would, UTC datetimes through `utc_text`, which writes the same text) and by SQLAlchemy's
    executemany elsewhere."""
    if not rows:
        return
    if _dialect(session) != "sqlite":
        session.connection().execute(stmt, list(rows))
        return
    table = getattr(stmt, "table", None)
    if getattr(stmt, "is_insert", False) and table is not None:
        _, rows = _complete(table, rows)
    compiled = stmt.compile(dialect=session.get_bind().dialect, column_keys=list(rows[0]))
    procs = compiled._bind_processors
    order = compiled.positiontup
    utc = _memo(utc_text)  # a batch repeats its times (a page's fetch time, a run's stamp, shared deadlines)
    conv = [(i, utc if _is_utc_datetime(compiled, k) else _json_fast(compiled, k, procs.get(k)))
            for i, k in enumerate(order)]
    conv = [(i, f) for i, f in conv if f is not None]  # most columns bind as they are: touch only the others
    get = itemgetter(*order)
    params: list[Any] = []
    for r in rows:
        values = list(get(r)) if len(order) > 1 else [r[order[0]]]
        for i, f in conv:
            v = values[i]
            if v is not None:
                values[i] = f(v)
        params.append(values)
    with _driver(session, compiled.string) as raw:
        raw.executemany(compiled.string, params)


def _memo(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """CONVERT, remembering its answers for the values it has seen (datetimes keep their own hash)."""
    seen: dict[Any, Any] = {}

    def converted(value: Any) -> Any:
        out = seen.get(value)
        if out is None:
            out = seen[value] = convert(value)
        return out

    return converted


def _json_fast(compiled: Any, key: str, proc: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """A JSON column's processor, with the empty list and dict (most posts' mentions and topics) answered by the
    text that processor gives them, not serialised anew for each row."""
    bind = compiled.binds.get(key)
    if proc is None or bind is None or not isinstance(bind.type, JSON):
        return proc
    empty_list, empty_dict = proc([]), proc({})

    def converted(value: Any) -> Any:
        if not value:
            if type(value) is list:
                return empty_list
            if type(value) is dict:
                return empty_dict
        return proc(value)

    return converted


def _is_utc_datetime(compiled: Any, key: str) -> bool:
    bind = compiled.binds.get(key)
    return bind is not None and isinstance(bind.type, UTCDateTime) and _stores_default_datetime_text(compiled.dialect)


def _stores_default_datetime_text(dialect: Any) -> bool:
    """Whether the dialect stores datetimes in SQLAlchemy's default SQLite text form, the one
    `utc_text` writes."""
    impl = UTCDateTime().dialect_impl(dialect).impl_instance
    return getattr(impl, "_storage_format", None) == _SQLITE_DATETIME_FORMAT


_SQLITE_DATETIME_FORMAT = ("%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d")


def hold_write_lock(session: Session, table: Table) -> None:
    """SQLite: take the database's one write lock now, for the rest of the transaction (a write statement takes
    it when it starts, even one that changes no row), so what is read next cannot change before the writes."""
    if _dialect(session) == "sqlite":
        with _driver(session, "UPDATE ... WHERE 0") as raw:
            raw.execute(f'UPDATE "{table.name}" SET id = id WHERE 0')


def next_ids_sqlite(session: Session, table: Table, n: int) -> list[int]:
    """N ids after TABLE's largest (SQLite, under the transaction's write lock: no other writer can take them)."""
    hold_write_lock(session, table)
    with _driver(session, "SELECT MAX(id)") as raw:
        top = raw.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table.name}"').fetchone()[0]
    return list(range(top + 1, top + 1 + n))


def bulk_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """Append ROWS to TABLE in bulk (COPY on PostgreSQL, the driver's executemany on SQLite); with IDS, the new
    rows' serial ids in ROWS' order. Callers on SQLite must already have written in this transaction."""
    if not rows:
        return []
    new: list[int] = []
    if ids:
        new = next_ids(session, table, len(rows)) if is_postgresql(session) else next_ids_sqlite(session, table, len(rows))
        rows = [{**r, "id": i} for r, i in zip(rows, new)]
    if is_postgresql(session):
        copy_rows(session, table, rows)
    else:
        bulk_executemany(session, table.insert(), rows)
    return new


def _converters(table: Table, columns: Sequence[str], session: Session) -> list[Callable[[Any], Any] | None]:
    from psycopg.types.json import Json

    dumps = session.get_bind().dialect._json_serializer or json.dumps  # what the ORM path would write

    def utc(v: Any) -> Any:
        v = as_utc(v)
        return v.replace(tzinfo=None) if v is not None else None

    def js(v: Any) -> Any:
        return None if v is None else Json(v, dumps)

    out: list[Callable[[Any], Any] | None] = []
    for name in columns:
        t = table.c[name].type
        out.append(utc if isinstance(t, UTCDateTime) else js if isinstance(t, JSON) else None)
    return out


def _complete(table: Table, rows: Sequence[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns to write (those of the rows, plus those with a Python-side default the ORM would fill)."""
    given = list(rows[0])
    defaults: dict[str, Callable[[], Any]] = {}
    for col in table.columns:
        if col.name in given or col.default is None or col.primary_key:
            continue
        d = col.default
        if d.is_scalar:
            defaults[col.name] = (lambda v=d.arg: v)
        elif d.is_callable:
            defaults[col.name] = (lambda f=d.arg: f(None))
    if defaults:
        rows = [{**{k: f() for k, f in defaults.items()}, **r} for r in rows]
    return [*given, *defaults], list(rows)


def _copy(session: Session, target: str, table: Table, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    conv = _converters(table, columns, session)
    cols = ", ".join(f'"{c}"' for c in columns)
    with _driver(session, f"COPY {target}") as raw, raw.cursor() as cur, \
            cur.copy(f"COPY {target} ({cols}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row([v if f is None else f(v) for f, v in zip(conv, (r.get(c) for c in columns))])


def next_ids(session: Session, table: Table, n: int, column: str = "id") -> list[int]:
    """N fresh values of TABLE's serial COLUMN, in increasing order (taken, so no other writer gets them)."""
    if n <= 0:
        return []
    with _driver(session, "SELECT nextval") as raw, raw.cursor() as cur:
        cur.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    (table.name, column, n))
        return sorted(r[0] for r in cur.fetchall())


def copy_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Append ROWS to TABLE (PostgreSQL) in one COPY, inside the session's transaction."""
    if not rows:
        return
    columns, rows = _complete(table, rows)
    _copy(session, f'"{table.name}"', table, columns, rows)


def copy_insert_new(session: Session, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str],
                    returning: Sequence[str]) -> list[tuple[Any, ...]]:
    """Insert ROWS whose CONFLICT key is not stored yet (PostgreSQL), through a temporary table: one COPY and
    one INSERT ... ON CONFLICT DO NOTHING; the RETURNING columns of the rows inserted (a racing writer's rows
    are left alone and not returned)."""
    if not rows:
        return []
    seen: set[tuple[Any, ...]] = set()  # a key repeated within ROWS: the first is inserted, as row by row
    rows = [r for r in rows if not ((k := tuple(r[c] for c in conflict)) in seen or seen.add(k))]
    columns, rows = _complete(table, rows)
    tmp = f"wzmon_copy_{table.name}"
    cols = ", ".join(f'"{c}"' for c in columns)
    # the columns' types only: no constraints, no defaults drawing on sequences
    with _driver(session, f"CREATE TEMP TABLE {tmp}") as raw, raw.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {tmp}")
        cur.execute(f'CREATE TEMP TABLE {tmp} ON COMMIT DROP AS SELECT {cols} FROM "{table.name}" WITH NO DATA')
    _copy(session, tmp, table, columns, rows)
    with _driver(session, f'INSERT INTO "{table.name}" ... SELECT') as raw, raw.cursor() as cur:
        cur.execute(f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM {tmp} '
                    f'ON CONFLICT ({", ".join(conflict)}) DO NOTHING RETURNING {", ".join(returning)}')
        found = cur.fetchall()
        cur.execute(f"DROP TABLE {tmp}")
    return found
