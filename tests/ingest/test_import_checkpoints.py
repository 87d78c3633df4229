"""While `wzmon import` writes to SQLite, its connections let the write-ahead log grow to IMPORT_WAL_PAGES
before a checkpoint; they go back to SQLite's default (1000 pages) when the import is done. Other connections
keep the default the whole time."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from matrix.casework.roster import import_roster, read_roster
from matrix.polling import importing
from matrix.polling.importing import collect_files, import_files
from matrix.polling.ingest import Ingestor
from matrix.rules.policy import load_policy
from matrix.storage.db import open_db, session_scope
from tests.bench.archive import write_archive

class Watching(Ingestor):
    """An Ingestor that reads the WAL setting of the connection each batch is stored on."""

    seen: list[int]

    def store_pages(self, batch):  # noqa: ANN001, ANN201
        with self.engine.connect() as conn:
            self.seen.append(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar())
        return super().store_pages(batch)


def wal_pages(engine) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()


def test_import_checkpoints_less_often_and_leaves_the_default(db_url, tmp_path) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("a setting of SQLite's write-ahead log; PostgreSQL has none to change")
    arch = write_archive(tmp_path / "archive", items=3000, seed=3)
    engine = open_db(db_url)
    with session_scope(engine) as s:
        import_roster(s, read_roster(arch.roster), source="test", actor="test")
    assert wal_pages(engine) == 1000  # SQLite's default, before
    ingestor = Watching(engine, load_policy())
    ingestor.seen = []
    files, _ = collect_files([str(arch.folder)])
    summary = import_files(engine, load_policy(), files, ingestor=ingestor, batch_items=500,
                           now=arch.scenario.end + timedelta(days=1))
    assert summary.new > 0 and not summary.failed
    assert len(ingestor.seen) > 1 and set(ingestor.seen) == {importing.IMPORT_WAL_PAGES}
    assert wal_pages(engine) == 1000  # given back with the default
    with session_scope(engine) as s:  # and what was written is there
        assert s.execute(text("SELECT count(*) FROM posts")).scalar() == summary.new
