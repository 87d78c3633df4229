"""`wzmon db copy`: move a pilot (SQLite) into production (PostgreSQL), or any wzmon database to another.

Every table of the schema is copied in dependency order (parents before children), in batches, in
ONE transaction on the target: a failed copy leaves the target as it was. Rows are read from one
consistent snapshot of the source (a read transaction), so pollers may keep running on it, though
what they write after the copy starts is not copied. On PostgreSQL the id sequences are moved past
the copied ids. At the end the row count of every table is compared, source vs target.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.engine import make_url

from matrix.storage.db import current_revision, head_revision, open_db, safe_url
from matrix.storage.models import Base

BATCH = 2000


class CopyError(Exception):
    """The copy cannot start or did not come out right (the message says which database and why)."""


@dataclass
class CopyResult:
    tables: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (source rows, target rows)
    rows: int = 0
    sequences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(a == b for a, b in self.tables.values())


def tables() -> list[Table]:
    """The schema's tables, parents first."""
    return list(Base.metadata.sorted_tables)


def row_counts(conn: Connection) -> dict[str, int]:
    return {t.name: conn.scalar(select(func.count()).select_from(t)) or 0 for t in tables()}


def _snapshot_engine(url: str) -> Engine:
    """An engine whose connections can hold a read snapshot over many statements."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # driver-level autocommit, so our explicit BEGIN is the one transaction (pysqlite would not open one for SELECTs)
        return create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 30})
    return create_engine(url, isolation_level="REPEATABLE READ", pool_pre_ping=True)


def _batches(conn: Connection, table: Table, size: int) -> Iterator[list[dict]]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = conn.execution_options(stream_results=True, yield_per=size).execute(select(table).order_by(*order))
    for part in result.mappings().partitions(size):
        yield [dict(r) for r in part]


def reset_sequences(conn: Connection) -> list[str]:
    """PostgreSQL: each serial id sequence continues after the largest copied id."""
    done = []
    for t in tables():
        for col in t.primary_key.columns:
            if col.autoincrement is True or (col.autoincrement == "auto" and col.type.python_type is int):
                seq = conn.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": t.name, "c": col.name})
                if seq:
                    conn.execute(text(f'SELECT setval(:s, COALESCE((SELECT MAX("{col.name}") FROM "{t.name}"), 0) + 1, false)'),
                                 {"s": seq})
                    done.append(seq)
    return done


def copy_database(src_url: str, dst_url: str, *, force: bool = False, batch: int = BATCH,
                  progress: Callable[[str, int, int], None] | None = None) -> CopyResult:
    """Copy every wzmon table from SRC_URL to DST_URL (migrated to the current schema first).

    Refuses a target holding any row unless FORCE (then its rows are deleted first, in the same
    transaction). PROGRESS(table, rows done in it, rows in it) is called after each batch.
    """
    if make_url(src_url) == make_url(dst_url):
        raise CopyError("source and target are the same database")
    src_checked = open_db(src_url)  # current schema or a clear DatabaseError (run `wzmon db upgrade` on it)
    rev = current_revision(src_checked)
    if rev != head_revision():
        raise CopyError(f"source {safe_url(src_url)} is at schema {rev}: run `wzmon --db SOURCE db upgrade` first")
    dst = open_db(dst_url, create=True)
    src = _snapshot_engine(src_url)
    result = CopyResult()
    try:
        with src.connect() as sconn, dst.begin() as dconn:
            if sconn.dialect.name == "sqlite":
                sconn.exec_driver_sql("BEGIN")
            counts = row_counts(sconn)
            existing = {k: v for k, v in row_counts(dconn).items() if v}
            if existing and not force:
                raise CopyError(f"target {safe_url(dst_url)} is not empty (" + ", ".join(
                    f"{k} {v}" for k, v in sorted(existing.items())) + "); copy into an empty database, or pass "
                    "--force to delete the target's rows first")
            if existing:
                for t in reversed(tables()):
                    dconn.execute(delete(t))
            for t in tables():
                done = 0
                if progress:
                    progress(t.name, 0, counts[t.name])
                for rows in _batches(sconn, t, batch):
                    dconn.execute(t.insert(), rows)
                    done += len(rows)
                    if progress:
                        progress(t.name, done, counts[t.name])
                result.rows += done
            if dconn.dialect.name == "postgresql":
                result.sequences = reset_sequences(dconn)
            after = row_counts(dconn)
            result.tables = {name: (counts[name], after[name]) for name in counts}
            if not result.ok:
                bad = [f"{k}: {a} -> {b}" for k, (a, b) in result.tables.items() if a != b]
                raise CopyError("row counts differ after the copy, nothing was kept: " + "; ".join(bad))
            if sconn.dialect.name == "sqlite":
                sconn.exec_driver_sql("COMMIT")
    finally:
        src.dispose()
    return result
