"""`wzmon status` for cron and monitoring, JSON log lines, and SQLite readers never blocking the poller."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from sqlalchemy import select, text

from crawler.types import Page, RawResponse
from matrix.cli.root import main
from matrix.storage.db import open_db, session_scope
from matrix.polling.ingest import Ingestor
from matrix.logging_setup import JsonFormatter
from matrix.storage.models import CrawlerHealth, PollCursor, Post
from matrix.polling.leases import PollerRegistry

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def status(db_url: str, *extra: str):  # noqa: ANN201
    return CliRunner().invoke(main, ["--db", db_url, "status", "--now", NOW.isoformat(), *extra])


def _poll(engine, key: str, at: datetime, error: str = "") -> None:  # noqa: ANN001
    with session_scope(engine) as s:
        s.merge(PollCursor(source_key=key, kind=key.split(":")[0], target=key.split(":")[1], cursor={},
                           last_polled_at=at, items_total=3, requests_total=1, errors_total=0,
                           consecutive_errors=1 if error else 0, activity_rate=0.0, last_error=error))


def test_status_exit_codes_follow_the_poller_state(db_url):
    engine = open_db(db_url)
    res = status(db_url)
    assert res.exit_code == 1 and "STALLED" in res.output and "no poll has succeeded" in res.output
    _poll(engine, "timeline:1", NOW - timedelta(minutes=3))
    _poll(engine, "timeline:2", NOW - timedelta(minutes=1), error="transport: timed out")  # one failing source
    PollerRegistry(engine, "p1", clock=lambda: NOW - timedelta(minutes=1)).start()
    res = status(db_url)
    assert res.exit_code == 0, res.output
    assert "OK" in res.output and "poller p1" in res.output and "1 failing" in res.output
    assert status(db_url, "--stale-minutes", "2").exit_code == 1
    with session_scope(engine) as s:
        s.add(CrawlerHealth(at=NOW - timedelta(minutes=2), source_key="mentions:x", state="blocked", http_status=432,
                            message="refused", cooldown_until=NOW + timedelta(minutes=5)))
    res = status(db_url)
    assert res.exit_code == 2 and "BLOCKED" in res.output and "432" in res.output
    with session_scope(engine) as s:
        s.add(CrawlerHealth(at=NOW - timedelta(minutes=1), source_key="", state="ok", message="polling again"))
    assert status(db_url).exit_code == 0  # recovered
    with session_scope(engine) as s:
        s.add(CrawlerHealth(at=NOW - timedelta(seconds=30), source_key="timeline:1", state="login_required",
                            message="captcha"))
    res = status(db_url, "--format", "json")
    assert res.exit_code == 3
    report = json.loads(res.output)
    assert report["status"] == "login_required" and "cookie" in report["reason"]
    assert report["pollers"][0]["poller_id"] == "p1" and report["pollers"][0]["alive"] is True


def test_a_route_closed_for_an_hour_is_exit_6_until_it_answers_again(db_url):
    engine = open_db(db_url)
    _poll(engine, "timeline:1", NOW - timedelta(minutes=1))
    with session_scope(engine) as s:  # what crawler.poller records when m.weibo.cn refuses and weibo.com/ajax answers
        s.add(CrawlerHealth(at=NOW - timedelta(minutes=30), source_key="route-mobile", state="route_closed",
                            http_status=432, message="m.weibo.cn is refusing (432 or a login wall)"))
    assert status(db_url).exit_code == 0  # half an hour: not yet
    with session_scope(engine) as s:
        s.query(CrawlerHealth).filter_by(source_key="route-mobile").update({"at": NOW - timedelta(minutes=61)})
    res = status(db_url, "--format", "json")
    report = json.loads(res.output)
    assert res.exit_code == 6 and report["status"] == "route_closed" and "route mobile closed" in report["reason"]
    assert [r["route"] for r in report["closed_routes"]] == ["mobile"]
    with session_scope(engine) as s:
        s.add(CrawlerHealth(at=NOW - timedelta(minutes=5), source_key="route-mobile", state="ok", message="answers"))
    assert status(db_url).exit_code == 0


def test_status_without_a_database_exits_4(tmp_path):
    res = CliRunner().invoke(main, ["--db", f"sqlite:///{tmp_path / 'none.db'}", "status"])
    assert res.exit_code == 4 and "wzmon init" in res.output


def test_json_log_lines_carry_the_extra_fields():
    rec = logging.LogRecord("wzmon.matrix.leases", logging.WARNING, __file__, 1, "took over %s", ("timeline:1",), None)
    rec.poller, rec.source_key = "p2", "timeline:1"
    line = json.loads(JsonFormatter().format(rec))
    assert line["msg"] == "took over timeline:1" and line["level"] == "warning"
    assert (line["poller"], line["source_key"], line["logger"]) == ("p2", "timeline:1", "wzmon.matrix.leases")
    assert line["ts"].endswith("+00:00")


def test_a_reader_holding_a_snapshot_never_blocks_the_poller(db_url, policy, scorer):
    """The board reads in long transactions; on SQLite (WAL) and PostgreSQL the poller's commits go through."""
    engine = open_db(db_url)
    ingestor = Ingestor(engine, policy, scorer)
    from crawler.types import Post as WPost

    def page(i: int) -> Page:
        at = NOW + timedelta(minutes=i)
        item = WPost.from_payload({"id": str(5_000_000_000_000_000 + i), "mid": str(5_000_000_000_000_000 + i),
                                   "bid": f"B{i}", "created_at": at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
                                   "text": f"第{i}条 @某单位", "user": {"id": 9, "screen_name": "市民"}}, at)
        return Page(items=[item], raw=RawResponse("http://x", 200, "application/json", at, b"{}"), cursor={"n": i},
                    done=True)

    ingestor.store_page("timeline:9", page(0))
    reader = engine.connect()
    try:
        if reader.dialect.name == "postgresql":
            reader.execution_options(isolation_level="REPEATABLE READ")  # one snapshot, like SQLite's read txn
        if reader.dialect.name == "sqlite":
            reader.exec_driver_sql("BEGIN")  # a real read transaction: holds its WAL snapshot
        seen = reader.execute(text("SELECT count(*) FROM posts")).scalar()
        for i in range(1, 6):
            ingestor.store_page("timeline:9", page(i))  # would wait (then fail) if the reader blocked it
        assert reader.execute(text("SELECT count(*) FROM posts")).scalar() == seen  # the reader's snapshot
    finally:
        reader.rollback() if reader.dialect.name != "sqlite" else reader.exec_driver_sql("ROLLBACK")
        reader.close()
    with session_scope(engine) as s:
        assert len(s.scalars(select(Post.id)).all()) == seen + 5
        assert s.get(PollCursor, "timeline:9").cursor == {"n": 5}
