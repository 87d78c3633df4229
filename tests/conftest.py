"""Shared fixtures: a fresh migrated database per test, on SQLite and on the local PostgreSQL.

Backends: both by default. `WZMON_DB=postgresql+psycopg://...` runs the storage tests on that server only,
`WZMON_DB=sqlite:///...` on SQLite only, `WZMON_TEST_BACKENDS=sqlite` skips PostgreSQL explicitly.
A PostgreSQL server that is down is an error, not a skip: CI must not pass by testing less.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from matrix.storage.db import dispose_engines, open_db

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

# Every test (and every command it runs) sees the machine's clock and no office calendar file unless it sets
# them: a developer's own ~/.config/wzmon/calendar.toml or WZMON_NOW must not change what the tests judge.
os.environ.pop("WZMON_NOW", None)
os.environ["WZMON_CALENDAR"] = str(Path(tempfile.mkdtemp(prefix="wzmon-test-calendar-")) / "calendar.toml")

pytest_plugins = ["tests.fixtures_weibo"] if (Path(__file__).parent / "fixtures_weibo.py").exists() else []


def _backends() -> list[str]:
    explicit = os.environ.get("WZMON_TEST_BACKENDS")
    if explicit:
        return [b.strip() for b in explicit.split(",") if b.strip()]
    env = os.environ.get("WZMON_DB", "")
    if env.startswith("postgresql"):
        return ["postgresql"]
    if env.startswith("sqlite"):
        return ["sqlite"]
    return ["sqlite", "postgresql"]


def _pg_server_url() -> str:
    env = os.environ.get("WZMON_DB", "")
    return env if env.startswith("postgresql") else DEFAULT_PG


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tmpl") / "template.db"
    engine = open_db(f"sqlite:///{path}", create=True)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    dispose_engines()
    return path


@pytest.fixture(scope="session")
def _pg_template() -> str:
    """A migrated template database; each test clones it (CREATE DATABASE ... TEMPLATE), which is fast."""
    server = make_url(_pg_server_url())
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"wzmon_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - turned into a clear failure
        pytest.fail(
            f"PostgreSQL at {server.render_as_string(hide_password=True)} is not usable ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}). Start it with: pg_ctlcluster --skip-systemctl-redirect "
            "$(ls /etc/postgresql) main start, or set WZMON_TEST_BACKENDS=sqlite",
            pytrace=False,
        )
    url = server.set(database=name).render_as_string(hide_password=False)
    open_db(url, create=True)
    dispose_engines()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=_backends())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a fresh, migrated, empty wzmon database for this test."""
    if request.param == "sqlite":
        tmpl: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "wzmon.db"
        shutil.copy(tmpl, path)
        yield f"sqlite:///{path}"
        dispose_engines()
        return
    tmpl_name: str = request.getfixturevalue("_pg_template")
    server = make_url(_pg_server_url())
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"wzmon_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{tmpl_name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    dispose_engines()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repo (docs and the labelled sentiment data)."""
    return SHARED
