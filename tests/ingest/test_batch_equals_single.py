"""Archive import in batches gives what storing one page at a time gives: the same cases, events (with their
working minutes) and alerts, field by field, on SQLite and PostgreSQL.

The one-at-a-time path is how the poller stores (a page per transaction); the batch path is how `wzmon import`
stores thousands of items per transaction (`Ingestor.store_pages`). Both read the same files: an archive written
from the demo's scenario (seed 7, as `wzmon demo` plays it, over four days) and a generated four-week archive
in which replies and comments arrive before the posts they answer (files are read in name order: hotflow first).
"""
from __future__ import annotations

import re
import shutil
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from crawler.fake_weibo.scenario import Scenario
from matrix.storage.db import open_db, session_scope
from matrix.polling.importing import collect_files, import_files
from matrix.polling.ingest import Ingestor
from matrix.storage.models import Alert, Case, CaseEvent, Post
from matrix.rules.policy import load_policy
from matrix.casework.roster import import_roster, read_roster
from tests.bench.archive import write_archive

END = datetime(2024, 6, 14, 17, 0, tzinfo=timezone(timedelta(hours=8)))
JUDGED = END + timedelta(days=3)  # the tick after import: a fixed moment, so both runs judge at the same time
SKIP_CASE = {"id", "merged_into", "updated_at"}  # updated_at: when the row was written (machine time)
SKIP_EVENT = {"id", "case_id", "recorded_at"}


def _another_db(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> str:
    """A second fresh database on the same backend as DB_URL (dropped at the end of the test)."""
    if db_url.startswith("sqlite"):
        path = tmp_path / "second.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    server = make_url(db_url)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"wzmon_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{request.getfixturevalue("_pg_template")}"'))

    def drop() -> None:
        from matrix.storage.db import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    request.addfinalizer(drop)
    return server.set(database=name).render_as_string(hide_password=False)


def _load(url: str, roster: Path, files: list[Path], batch_items: int) -> dict:
    engine = open_db(url)
    with session_scope(engine) as s:
        import_roster(s, read_roster(roster), source="test", actor="test")
    policy = load_policy()
    ingestor = Ingestor(engine, policy)
    summary = import_files(engine, policy, files, ingestor=ingestor, batch_items=batch_items, now=JUDGED)
    assert not summary.failed, summary.failed[:3]
    return _snapshot(engine) | {"summary": (summary.items, summary.new, len(summary.cases_touched))}


def _snapshot(engine) -> dict:
    """Cases keyed by their post, events and alerts as multisets, case ids replaced by the case's post id."""
    with session_scope(engine) as s:
        post_of = dict(s.execute(select(Case.id, Case.post_id)).all())
        cases = {}
        for c in s.scalars(select(Case)):
            row = {k: getattr(c, k) for k in Case.__table__.columns.keys() if k not in SKIP_CASE}
            row["merged_into"] = post_of.get(c.merged_into)
            cases[c.post_id] = row
        all_events = list(s.scalars(select(CaseEvent)))
        events = sorted((post_of[e.case_id], *((k, repr(getattr(e, k))) for k in CaseEvent.__table__.columns.keys()
                                               if k not in SKIP_EVENT)) for e in all_events)
        types = {e.type for e in all_events}

        def unid(value: str, case_id: int | None) -> str:
            if case_id is None:
                return value
            p = post_of[case_id]
            return re.sub(rf"(case[:=]|#){case_id}(?!\d)", rf"\g<1>{{{p}}}", value)

        alerts = sorted(
            (post_of.get(a.case_id), unid(a.dedupe_key, a.case_id), a.account_uid, a.level, a.channel, a.address,
             unid(a.subject, a.case_id), unid(a.body, a.case_id), a.status, a.contact_key, repr(a.created_at))
            for a in s.scalars(select(Alert)))
        posts = s.execute(select(Post.id, Post.sentiment_label, Post.post_kind, Post.created_at)).all()
    return {"cases": cases, "events": events, "types": types, "alerts": alerts, "posts": sorted(map(tuple, posts))}


def _compare(single: dict, batch: dict) -> None:
    assert single["summary"][1:] == batch["summary"][1:]
    assert single["posts"] == batch["posts"]
    assert single["cases"].keys() == batch["cases"].keys()
    for post_id, row in single["cases"].items():
        other = batch["cases"][post_id]
        diff = {k: (v, other[k]) for k, v in row.items() if other[k] != v}
        assert not diff, f"case of post {post_id} differs (single, batch): {diff}"
    assert len(single["events"]) == len(batch["events"])
    assert single["events"] == batch["events"]
    assert single["alerts"] == batch["alerts"]


@pytest.mark.parametrize("archive", ["demo-scenario", "generated"])
def test_batch_import_equals_one_page_at_a_time(archive: str, db_url: str, tmp_path: Path,
                                                request: pytest.FixtureRequest) -> None:
    if archive == "demo-scenario":
        sc = Scenario(seed=7, accounts=20, days=4, end=END, history_days=2)
        arch = write_archive(tmp_path / "demo", scenario=sc)
    else:
        arch = write_archive(tmp_path / "gen", items=3000, seed=3)
    files, missing = collect_files([str(arch.folder)])
    assert not missing and len(files) == arch.files
    single = _load(db_url, arch.roster, files, batch_items=1)
    batch = _load(_another_db(request, db_url, tmp_path), arch.roster, files, batch_items=2000)
    # the archive is real work: cases opened, answered late and on time, level events and their alerts
    assert len(single["cases"]) > 50
    assert {"opened", "forwarded", "first_response", "overdue"} <= single["types"]
    assert single["alerts"]
    _compare(single, batch)


def test_a_file_the_database_refuses_costs_only_itself(db_url: str, tmp_path: Path) -> None:
    """PostgreSQL enforces the id column's width (32): a post whose id is longer is refused by the database;
    the batch it came in is then stored file by file, the refused file named, its neighbours kept."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite does not enforce column widths, so it refuses nothing here")
    arch = write_archive(tmp_path / "gen", items=400, seed=5)
    files, _ = collect_files([str(arch.folder)])
    bad = next(f for f in files if f.name.startswith("timeline_"))
    body = bad.read_text(encoding="utf-8")
    first = re.search(r'"id": "(\d+)"', body).group(1)
    bad.write_text(body.replace(f'"id": "{first}"', f'"id": "{first * 3}"', 1), encoding="utf-8")
    engine = open_db(db_url)
    with session_scope(engine) as s:
        import_roster(s, read_roster(arch.roster), source="test", actor="test")
    summary = import_files(engine, load_policy(), files, now=JUDGED)
    assert [p for p, _ in summary.failed] == [str(bad.resolve())]
    assert "the database refused it" in summary.failed[0][1]
    with session_scope(engine) as s:
        stored = set(s.scalars(select(Post.id)))
    assert first * 3 not in stored
    others = {m for f in files if f != bad for m in re.findall(r'"mid": "(\d+)"', f.read_text(encoding="utf-8"))}
    assert others and others <= stored
