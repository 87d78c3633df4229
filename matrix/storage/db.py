"""Opening the database: URL choice, SQLite pragmas (WAL, busy timeout), migrations, friendly errors."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DB = "sqlite:///wzmon.db"
MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseError(Exception):
    """A database problem a user can act on (bad URL, server down, schema missing)."""


def resolve_url(url: str | None = None) -> str:
    """--db beats WZMON_DB beats ./wzmon.db. A bare path is taken as a SQLite file."""
    url = url or os.environ.get("WZMON_DB") or DEFAULT_DB
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API objects
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process. Raises DatabaseError with a plain message on a bad URL."""
    url = resolve_url(url)
    if url in _engines:
        return _engines[url]
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"not a database URL: {url!r} (try sqlite:///wzmon.db or postgresql+psycopg://user@host/db)") from exc
    kwargs: dict = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            parent = Path(db).expanduser().resolve().parent
            if not parent.exists():
                raise DatabaseError(f"folder {parent} for the SQLite file does not exist")
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
        if parsed.get_backend_name() == "postgresql":
            kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot use {safe_url(url)}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    _engines[url] = engine
    return engine


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def check_connection(engine: Engine) -> None:
    """Connect once, turning driver errors into a sentence."""
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"cannot reach database {safe_url(str(engine.url))}: {reason}") from exc


def alembic_config(engine: Engine):  # noqa: ANN201 - alembic type is optional
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or migrate the schema (Alembic), keeping every row."""
    from alembic import command

    check_connection(engine)
    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    cfg = alembic_config(None)  # type: ignore[arg-type]
    return ScriptDirectory.from_config(cfg).get_current_head() or ""


def require_schema(engine: Engine) -> None:
    """Fail with advice when the database was never initialised or is behind the code."""
    check_connection(engine)
    if not inspect(engine).has_table("cases"):
        raise DatabaseError(f"database {safe_url(str(engine.url))} has no wzmon tables: run `wzmon init` first")
    rev, head = current_revision(engine), head_revision()
    if rev != head:
        raise DatabaseError(f"database is at schema {rev}, code expects {head}: run `wzmon db upgrade`")


def open_db(url: str | None = None, *, create: bool = False) -> Engine:
    """The engine for URL, migrated (create=True) or checked to be current."""
    engine = get_engine(url)
    parsed = make_url(engine.url)
    if not create and parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).expanduser().exists():
            raise DatabaseError(f"no database at {parsed.database}: run `wzmon init` first (or pass --db URL)")
    if create:
        upgrade(engine)
    else:
        require_schema(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    factory = sessionmaker(engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def chunks(values: Sequence[Any], size: int = 500) -> Iterator[list[Any]]:
    """VALUES in lists of SIZE (an IN list stays well inside every driver's parameter limit)."""
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i:i + size]
