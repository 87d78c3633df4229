"""An import's batches keep the board's daily rollups exact. On SQLite a batch of hundreds of posts or cases is
written with the row trigger that marks changed days set aside and the days marked once instead
(`matrix.storage.rollup.trigger_set_aside`): every day the import wrote must still be marked before the clock's
refresh, the refreshed rollup must equal one rebuilt from the tables, and the triggers must be back afterwards."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, func, select

from matrix.casework.roster import import_roster, read_roster
from matrix.polling.importing import collect_files, import_files
from matrix.polling.ingest import Ingestor
from matrix.rules.policy import load_policy
from matrix.storage import rollup
from matrix.storage.db import open_db, session_scope
from matrix.storage.models import Case, Post, RollupCaseDay, RollupPostDay
from matrix.timeutil import as_utc
from tests.bench.archive import write_archive


class Marked(Ingestor):
    """An Ingestor that reads the marked days just before the clock's tick folds them into the rollup."""

    marked: set

    def tick(self, now=None):  # noqa: ANN001, ANN201
        with self.engine.connect() as conn:
            self.marked = {rollup._as_date(d) for d in conn.execute(select(rollup.DIRTY.c.day)).scalars()}
        return super().tick(now)


def _rollups(engine) -> tuple[list, list]:  # noqa: ANN001
    with engine.connect() as conn:
        return (sorted(tuple(r) for r in conn.execute(select(RollupCaseDay.__table__))),
                sorted(tuple(r) for r in conn.execute(select(RollupPostDay.__table__))))


def test_an_import_marks_every_day_it_wrote_and_keeps_the_rollup_exact(db_url, tmp_path) -> None:
    arch = write_archive(tmp_path / "archive", items=3000, seed=3)
    engine = open_db(db_url)
    policy = load_policy()
    with session_scope(engine) as s:
        import_roster(s, read_roster(arch.roster), source="test", actor="test")
    ddl: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_a: ddl.append(sql) if "TRIGGER" in sql.upper() else None)
    ingestor = Marked(engine, policy)
    files, _ = collect_files([str(arch.folder)])
    summary = import_files(engine, policy, files, ingestor=ingestor, batch_items=2000,
                           now=arch.scenario.end + timedelta(days=1))
    assert summary.new > 2000 and not summary.failed
    if db_url.startswith("sqlite"):  # the batches took the bulk path: each trigger set aside and put back
        for name in ("rollup_posts_ins", "rollup_cases_ins", "rollup_cases_upd"):
            assert any(f"DROP TRIGGER {name}" in sql for sql in ddl), name
            assert any(f"CREATE TRIGGER IF NOT EXISTS {name}" in sql for sql in ddl), name
    else:
        assert not ddl  # PostgreSQL's triggers stay where they are
    with session_scope(engine) as s:
        local = {(as_utc(t) + timedelta(hours=8)).date() for t in s.scalars(select(Post.created_at))}
        local |= {(as_utc(t) + timedelta(hours=8)).date() for t in s.scalars(select(Case.opened_at))}
    assert len(local) > 20 and local <= ingestor.marked  # every day written was marked for the refresh
    with engine.begin() as conn:
        assert rollup.installed(conn)
        rollup.refresh(conn, calendar=policy.calendar)  # anything the tick left for later
    refreshed = _rollups(engine)
    with session_scope(engine) as s:
        stored = s.scalar(select(func.count()).select_from(Post))
    assert stored == summary.new and sum(n for _, n in refreshed[1]) == stored  # every item counted on its day
    with engine.begin() as conn:
        rollup.rebuild(conn, calendar=policy.calendar)
    assert _rollups(engine) == refreshed  # the incremental rollup is the one counted from the tables
