"""Python API for research exports, shared by `wzmon export` and the dashboard's 导出 page.

    export_table(source, "posts", "csv", out_dir="exp/", filters={"since": ..., "kinds": ["投诉"]})
        -> ExportResult   # writes exp/posts.csv and adds the resource to exp/datapackage.json
    export_table(source, "cases", "jsonl", stream=fh, ...)   # data only, to a binary stream
    export_bytes(source, "posts", "csv", filters=...)         # iterator of bytes chunks (downloads)
    export_zip(source, ["posts", "cases"], "csv", stream=fh)  # tables + datapackage.json in one zip

`source` is a Session, an Engine or a Connection. Rows are streamed (server-side cursor on PostgreSQL,
yield_per batches) so memory stays flat whatever the row count. `role` is the caller's role: identified
exports need "office" (see matrix.export.access). `filters.account_uids` is the access scope.
"""
from __future__ import annotations

import hashlib
import io
import os
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Sequence

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from matrix.export import query as q
from matrix.export.access import require_identified_role
from matrix.export.datapackage import resource, write_package
from matrix.export.errors import ExportError
from matrix.export.pseudonym import Pseudonymiser, load_key
from matrix.export.rows import RowMaker
from matrix.export.schema import TABLES, TableSpec
from matrix.export.writers import FORMATS, WRITERS, XLSX_MAX_ROWS
from matrix.storage.models import PolicyVersion
from matrix.timeutil import as_utc, iso_local, utcnow

YIELD_PER = 2000
Source = Session | Engine | Connection


@dataclass
class ExportResult:
    table: str
    format: str
    rows: int
    path: Path | None = None  # the data file (None when written to a stream)
    package_path: Path | None = None
    bytes: int | None = None
    sha256: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    resource: dict[str, Any] = field(default_factory=dict)  # this table's datapackage resource


def tool_version() -> str:
    try:
        from importlib.metadata import version

        return version("wzmon")
    except Exception:  # noqa: BLE001 - not installed as a distribution
        return "unknown"


@contextmanager
def _connection(source: Source) -> Iterator[Connection]:
    if isinstance(source, Session):
        yield source.connection()
    elif isinstance(source, Connection):
        yield source
    elif isinstance(source, Engine):
        with source.connect() as conn:
            yield conn
    else:
        raise ExportError(f"export source must be a Session, Engine or Connection, not {type(source).__name__}")


def _check(table: str, fmt: str) -> TableSpec:
    if table not in TABLES:
        raise ExportError(f"unknown table {table!r}; choose from: {', '.join(TABLES)}")
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose from: {', '.join(FORMATS)}")
    return TABLES[table]


def _sql_text(conn: Connection, stmt: Any) -> str:
    try:
        return str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    except Exception:  # noqa: BLE001 - some literal types cannot render; show the bound form instead
        compiled = stmt.compile(dialect=conn.dialect)
        return f"{compiled} -- params: {dict((k, str(v)) for k, v in compiled.params.items())}"


class _Plan:
    """Everything one export needs, worked out before the first row is written."""

    def __init__(self, conn: Connection, spec: TableSpec, fmt: str, filters: q.ExportFilters, raw: bool,
                 identified: bool, role: str | None, key: bytes | None, actor: str | None) -> None:
        filters.check()
        if identified:
            require_identified_role(role)
        self.conn, self.spec, self.fmt, self.filters = conn, spec, fmt, filters
        self.safe = not raw and fmt != "jsonl"
        used = filters.used()
        self.ignored = sorted(used - spec.applicable_filters)
        self.uids = q.resolve_accounts(conn, filters) if used & {"accounts", "department"} or filters.account_uids is not None else None
        accounts = conn.execute(select(q.A.c.uid, q.A.c.screen_name, q.A.c.role)).all()
        members = frozenset(a.uid for a in accounts)
        coordinators = frozenset(a.uid for a in accounts if a.role == "coordinator")
        self.ps = None if identified else Pseudonymiser(key or load_key(), members, (a.screen_name for a in accounts if a.screen_name))
        self.maker = RowMaker(spec.name, self.ps, members, coordinators)
        self.names, self.types = spec.out_names(), spec.out_types()
        self.stmt = q.SELECTS[spec.name](filters, self.uids) if spec.name in q.SELECTS else None
        self.policy_seen: set[str] = set()
        self.provenance: dict[str, Any] = {
            "tool": "wzmon",
            "tool_version": tool_version(),
            "exported_at": iso_local(utcnow()),
            "exported_by": actor,
            "role": role,
            "table": spec.name,
            "format": fmt,
            "query": {
                "filters": filters.describe(),
                "ignored_filters": self.ignored,
                "account_uids_selected": self.uids,
                "sql": _sql_text(conn, self.stmt) if self.stmt is not None else "matrix.reading.rankings.account_rankings",
            },
            "pseudonymised": not identified,
            "pseudonym_key_id": self.ps.key_id if self.ps else None,
            "formula_neutralised": self.safe,
        }

    def count(self) -> int:
        if self.stmt is None:
            return len(self._ranking_rows())
        return q.count_of(self.conn, self.stmt)

    _rankings_cache: list[dict[str, Any]] | None = None

    def _ranking_rows(self) -> list[dict[str, Any]]:
        if self._rankings_cache is not None:
            return self._rankings_cache
        try:
            from matrix.reading.rankings import account_rankings
        except ModuleNotFoundError as exc:
            if exc.name in ("matrix.reading.rankings",):
                raise ExportError("rankings cannot be exported yet: matrix.reading.rankings is not built in this version") from exc
            raise
        f = self.filters
        start = f.since
        if start is None:
            first = self.conn.execute(select(q.C.c.opened_at).order_by(q.C.c.opened_at).limit(1)).scalar()
            start = first or utcnow()
        end = f.until or utcnow()
        if as_utc(start) >= as_utc(end):
            raise ExportError(f"the rankings period starts {iso_local(start)}, after it ends {iso_local(end)}: give --since and --until")
        session = Session(bind=self.conn)
        try:
            ranks = account_rankings(session, as_utc(start), as_utc(end), account_uids=self.uids, department=f.department)
        except ValueError as exc:
            raise ExportError(f"rankings: {exc}") from exc
        out = []
        for r in ranks:
            d = asdict(r) if is_dataclass(r) else (r._asdict() if hasattr(r, "_asdict") else dict(r))
            d["period_start"], d["period_end"] = as_utc(start), as_utc(end)
            out.append(d)
        self._rankings_cache = out
        return out

    def rows(self) -> Iterator[list[Any]]:
        values = self.maker.values
        pv = self.names.index("policy_version") if "policy_version" in self.names else None
        if self.stmt is None:
            source: Iterable[Any] = self._ranking_rows()
        else:
            source = self.conn.execute(self.stmt, execution_options={"yield_per": YIELD_PER}).mappings()
        for row in source:
            out = values(row)
            if pv is not None and out[pv]:
                self.policy_seen.add(out[pv])
            yield out

    def finish(self, rows: int) -> dict[str, Any]:
        conn = self.conn
        self.provenance["rows"] = rows
        self.provenance["policy_versions"] = [
            {"version": v, "sha256": s, "loaded_at": iso_local(at)}
            for v, s, at in conn.execute(select(PolicyVersion.version, PolicyVersion.sha256, PolicyVersion.loaded_at).order_by(PolicyVersion.loaded_at))
        ]
        self.provenance["policy_versions_in_rows"] = sorted(self.policy_seen)
        self.provenance["collection_window"] = q.collection_window(conn, self.spec.name, self.stmt)
        return self.provenance


def _progress(enabled: bool, total: int | None, desc: str):  # noqa: ANN202 - tqdm type
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=" rows", unit_scale=True, file=sys.stderr,
                disable=not (enabled and sys.stderr.isatty()), mininterval=0.5)


def _write(plan: _Plan, stream: IO[bytes], progress: bool) -> int:
    total = plan.count() if (progress and sys.stderr.isatty()) or plan.fmt == "xlsx" else None
    if plan.fmt == "xlsx" and total is not None and total > XLSX_MAX_ROWS:
        raise ExportError(f"{total:,} rows do not fit one Excel sheet ({XLSX_MAX_ROWS:,} max): use --format csv or jsonl, or narrow the filters")
    kwargs = {"sheet": plan.spec.name} if plan.fmt == "xlsx" else {}
    writer = WRITERS[plan.fmt](stream, plan.names, plan.types, plan.safe, **kwargs)
    n = 0
    with _progress(progress, total, plan.spec.name) as bar:
        for values in plan.rows():
            writer.write(values)
            n += 1
            if n % 1000 == 0:
                bar.update(1000)
        bar.update(n % 1000)
    writer.close()
    return n


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_table(
    source: Source,
    table: str,
    fmt: str = "csv",
    out_dir: str | os.PathLike[str] | None = None,
    stream: IO[bytes] | None = None,
    filters: q.ExportFilters | dict[str, Any] | None = None,
    raw: bool = False,
    identified: bool = False,
    *,
    role: str | None = None,
    actor: str | None = None,
    key: bytes | None = None,
    progress: bool = False,
) -> ExportResult:
    """Export one table. Give out_dir (writes <table>.<ext> + datapackage.json) or a binary stream (data only).

    raw=True writes exact text (no formula guard); identified=True writes real citizen ids (role "office"
    only); key overrides the project pseudonym key (tests); actor names the exporting user in provenance.
    """
    spec = _check(table, fmt)
    if (out_dir is None) == (stream is None):
        raise ExportError("give exactly one of out_dir (a folder) or stream (a binary file object)")
    flt = q.ExportFilters.coerce(filters)
    with _connection(source) as conn:
        plan = _Plan(conn, spec, fmt, flt, raw, identified, role, key, actor)
        if stream is not None:
            rows = _write(plan, stream, progress)
            prov = plan.finish(rows)
            res = resource(spec, fmt, path=f"{table}.{FORMATS[fmt][0]}", neutralised=plan.safe, pseudonymised=not identified,
                           provenance=prov, rows=rows, size=0, sha256="")
            res.pop("bytes"), res.pop("hash")
            return ExportResult(table, fmt, rows, provenance=prov, resource=res)
        folder = Path(out_dir)  # type: ignore[arg-type]
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{table}.{FORMATS[fmt][0]}"
        final, partial = folder / name, folder / f".{name}.partial"
        try:
            with partial.open("wb") as fh:
                rows = _write(plan, fh, progress)
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
        prov = plan.finish(rows)
    size, digest = final.stat().st_size, _sha256(final)
    res = resource(spec, fmt, path=name, neutralised=plan.safe, pseudonymised=not identified, provenance=prov,
                   rows=rows, size=size, sha256=digest)
    pkg = write_package(folder, res, created=prov["exported_at"], tool_version=prov["tool_version"])
    return ExportResult(table, fmt, rows, final, pkg, size, digest, prov, res)


def export_tables(source: Source, tables: Sequence[str], fmt: str, out_dir: str | os.PathLike[str], **kwargs: Any) -> list[ExportResult]:
    """Several tables into one folder and one datapackage.json (foreign keys link them)."""
    for t in tables:
        _check(t, fmt)
    return [export_table(source, t, fmt, out_dir=out_dir, **kwargs) for t in tables]


class _Chunks(io.RawIOBase):
    """A write-only binary sink whose contents are taken out in chunks by a generator."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.buf += b
        return len(b)

    def take(self) -> bytes:
        out = bytes(self.buf)
        self.buf.clear()
        return out


def export_bytes(
    source: Source,
    table: str,
    fmt: str = "csv",
    filters: q.ExportFilters | dict[str, Any] | None = None,
    raw: bool = False,
    identified: bool = False,
    *,
    role: str | None = None,
    actor: str | None = None,
    key: bytes | None = None,
    chunk_size: int = 1 << 16,
) -> Iterator[bytes]:
    """The export file as an iterator of byte chunks (CSV starts with the BOM), for a download button.

    csv and jsonl stream row by row; xlsx is built in a temporary file first (a zip cannot be streamed).
    Checks (table, format, role, filters) happen on the first next(), before any byte is produced.
    """
    spec = _check(table, fmt)
    flt = q.ExportFilters.coerce(filters)
    with _connection(source) as conn:
        plan = _Plan(conn, spec, fmt, flt, raw, identified, role, key, actor)
        if fmt == "xlsx":
            with tempfile.TemporaryFile() as tmp:
                _write(plan, tmp, False)
                tmp.seek(0)
                yield from iter(lambda: tmp.read(chunk_size), b"")
            return
        sink = _Chunks()
        writer = WRITERS[fmt](sink, plan.names, plan.types, plan.safe)
        for values in plan.rows():
            writer.write(values)
            if len(sink.buf) >= chunk_size:
                yield sink.take()
        writer.close()
        if sink.buf:
            yield sink.take()


def export_zip(source: Source, tables: Sequence[str], fmt: str, stream: IO[bytes], **kwargs: Any) -> list[ExportResult]:
    """Tables plus datapackage.json, zipped into a binary stream (the board's 'download with data dictionary')."""
    with tempfile.TemporaryDirectory(prefix="wzmon-export-") as tmp:
        results = export_tables(source, tables, fmt, tmp, **kwargs)
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for r in results:
                zf.write(r.path, arcname=r.path.name)  # type: ignore[union-attr]
            zf.write(Path(tmp) / "datapackage.json", arcname="datapackage.json")
    for r in results:
        r.path, r.package_path = None, None
    return results


def parse_when(value: str | datetime | None, *, end: bool = False) -> datetime | None:
    """A date or datetime in Beijing time unless it carries an offset. A bare date as `end` means the day after."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = value.strip()
        try:
            dt = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ExportError(f"not a date or time: {value!r} (use 2024-03-01 or 2024-03-01T08:00)") from exc
        if end and len(text) == 10:
            from datetime import timedelta

            dt = dt + timedelta(days=1)
    if dt.tzinfo is None:
        from matrix.timeutil import SHANGHAI

        dt = dt.replace(tzinfo=SHANGHAI)
    return as_utc(dt)
