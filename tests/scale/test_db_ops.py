"""`wzmon db upgrade` keeps every row; `wzmon db copy` moves a pilot into another database, verified."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from alembic import command
from click.testing import CliRunner
from sqlalchemy import MetaData, func, insert, select, text

from matrix.cli.root import main
from matrix.storage.db import alembic_config, current_revision, dispose_engines, head_revision, open_db, session_scope
from matrix.storage.dbcopy import tables
from matrix.storage.models import Case, CaseEvent, Post

T0 = datetime(2025, 11, 20, 2, 0, tzinfo=timezone.utc)


def _old_rows(conn) -> dict[str, list[dict]]:  # noqa: ANN001
    """Rows for the tables as they were at revision 0001."""
    return {
        "accounts": [{"uid": "100", "screen_name": "银川公安", "name": "公安局", "department": "公安", "category": "police",
                      "role": "member", "contacts": json.dumps([]), "created_at": T0, "updated_at": T0}],
        "raw_responses": [{"id": 1, "source_key": "timeline:100", "url": "u", "status": 200, "content_type": "json",
                           "fetched_at": T0, "encoding": "gzip", "body": b"\x1f\x8b"}],
        "posts": [{"id": str(4_000_000_000_000_000 + i), "item_type": "post", "screen_name": "市民", "text": f"投诉 {i} @银川公安",
                   "created_at": T0, "fetched_at": T0, "mentions": json.dumps(["银川公安"]), "topics": json.dumps([]),
                   "is_long_text": False, "client": "", "region": "", "source_url": "", "raw_id": 1} for i in range(5)],
        "cases": [{"id": 1, "post_id": "4000000000000000", "citizen_name": "市民", "addressed_uids": json.dumps(["100"]),
                   "account_uid": "100", "kind": "投诉", "status": "open", "opened_at": T0, "extension_working_days": 0,
                   "overdue": False, "overdue_level": "", "overdue_deadline": "", "policy_version": "v", "updated_at": T0}],
        "case_events": [{"id": 1, "case_id": 1, "at": T0, "recorded_at": T0, "type": "opened", "actor": "system",
                         "reason": "", "detail": json.dumps({}), "policy_version": "v"}],
        "alerts": [{"id": 1, "dedupe_key": "k1", "case_id": 1, "level": "overdue", "channel": "email",
                    "address": "a@example.org", "subject": "s", "body": "b", "status": "pending", "attempts": 0,
                    "created_at": T0, "last_error": ""}],
    }


def test_upgrade_from_the_first_revision_keeps_every_row(db_url):
    engine = open_db(db_url)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert current_revision(engine) == "0001"
    meta = MetaData()
    meta.reflect(engine)
    rows = _old_rows(None)
    with engine.begin() as conn:
        for name, data in rows.items():
            conn.execute(insert(meta.tables[name]), data)
    dispose_engines()
    res = CliRunner().invoke(main, ["--db", db_url, "db", "upgrade"])
    assert res.exit_code == 0, res.output
    assert f"0001 -> {head_revision()}" in res.output
    engine = open_db(db_url)  # checks the schema is current
    with session_scope(engine) as s:
        assert sorted(s.scalars(select(Post.id))) == sorted(r["id"] for r in rows["posts"])
        case = s.get(Case, 1)
        assert (case.post_id, case.status, case.account_uid, case.opened_at) == ("4000000000000000", "open", "100", T0)
        assert s.get(CaseEvent, 1).type == "opened"
        for name, data in rows.items():
            assert s.scalar(text(f"SELECT count(*) FROM {name}")) == len(data), name
        alert = s.execute(text("SELECT dedupe_key, contact_key, claimed_by FROM alerts")).one()
        assert tuple(alert) == ("k1", "", "")  # new columns got their defaults


def _pilot(tmp_path, policy, scorer):  # noqa: ANN001
    """A small SQLite pilot holding every kind of row the poller writes (fake server, real pipeline)."""
    from tests.scale import scaleutil as su

    url = f"sqlite:///{tmp_path / 'pilot.db'}"
    engine = open_db(url, create=True)
    sc = su.scenario(seed=3, days=1)
    server = su.serve(sc)
    su.load_roster(engine, sc, tmp_path)
    pollers = su.ThreadPollers(url, server, 1, policy, scorer).start()
    try:
        for t in su.steps(sc, hours=12):
            server.clock.set(t)
            su.wait_caught_up(engine, t, timeout=90, alive=pollers.check)
    finally:
        pollers.close()
        server.stop()
    return url, engine


def _dump(engine) -> dict[str, list[tuple]]:  # noqa: ANN001
    out = {}
    with engine.connect() as conn:
        for t in tables():
            order = list(t.primary_key.columns)
            out[t.name] = [tuple(json.dumps(v, sort_keys=True, default=str) if isinstance(v, (dict, list)) else v
                                 for v in row) for row in conn.execute(select(t).order_by(*order))]
    return out


def test_copy_moves_every_row_and_refuses_a_non_empty_target(db_url, tmp_path, policy, scorer):
    src_url, src = _pilot(tmp_path, policy, scorer)
    before = _dump(src)
    assert before["posts"] and before["cases"] and before["case_events"] and before["raw_responses"]
    res = CliRunner().invoke(main, ["db", "copy", "--from", src_url, "--to", db_url, "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "row counts verified" in res.output
    dst = open_db(db_url)
    assert _dump(dst) == before
    # ids keep counting after the copied ones (sequences reset on PostgreSQL)
    with session_scope(dst) as s:
        case_id = s.scalar(select(func.min(Case.id)))
        s.add(CaseEvent(case_id=case_id, at=T0, type="note", actor="test", reason="after the copy", detail={}))
    # a second copy into the now non-empty target is refused, then done with --force
    res = CliRunner().invoke(main, ["db", "copy", "--from", src_url, "--to", db_url, "--no-progress"])
    assert res.exit_code != 0 and "not empty" in res.output and "--force" in res.output
    res = CliRunner().invoke(main, ["db", "copy", "--from", src_url, "--to", db_url, "--force", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert _dump(dst) == before


def test_the_migrated_schema_is_the_models_schema(db_url):
    """`wzmon init` builds the schema by the migrations; what it builds must be what the models declare (an
    index dropped in a migration but still declared on a model, or the reverse, shows here), on both backends."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from matrix.storage.models import Base
    from matrix.storage.rollup import DIRTY

    declared = MetaData()
    for table in [*Base.metadata.tables.values(), DIRTY]:  # the rollup's marker table is declared on its own
        table.to_metadata(declared)
    engine = open_db(db_url)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), declared)
    structural = [d for d in diff if isinstance(d, tuple) and d[0] in (
        "add_table", "remove_table", "add_index", "remove_index", "add_column", "remove_column")]
    assert structural == [], structural
    inspected = {ix["name"] for ix in __import__("sqlalchemy").inspect(engine).get_indexes("posts")}
    assert {"ix_posts_dash_created", "ix_posts_user_kind_created"} <= inspected
    assert not {"ix_posts_created_at", "ix_posts_user_id"} & inspected
