"""Parse warnings in crawler health: a timeline answer with one unreadable post (the fake Weibo's `bad_item` fault,
over real HTTP) costs that post only; `wzmon poll --once` says so, the count per source and the warning (source,
item id, field) are kept in crawler health, shown by `wzmon status`, and a second poll of the same broken page does
not count it again. SQLite and PostgreSQL.

The broken post's id is read from the fake server's own answer (fetched before the fault is set), not from wzmon.
"""
from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from crawler.fake_weibo.clock import SimClock
from crawler.fake_weibo.faults import BAD_TIME
from crawler.fake_weibo.scenario import Scenario
from crawler.fake_weibo.server import serve_in_thread
from matrix.cli.root import main
from matrix.storage.db import open_db, session_scope
from matrix.storage.models import CrawlerHealth, Post, RawResponse
from matrix.reading.queries import crawler_status, parse_warning_log

CST = timezone(timedelta(hours=8))
END = datetime(2026, 11, 20, 18, 0, tzinfo=CST)
EARLIER = END - timedelta(hours=6)  # the timeline is due again by END


@pytest.fixture
def world(db_url, tmp_path):
    scenario = Scenario(seed=7, accounts=3, days=2, history_days=1, end=END)
    clock = SimClock.fixed(END)
    server = serve_in_thread(scenario, clock=clock)
    try:
        roster = tmp_path / "roster.csv"
        roster.write_text(scenario.roster_csv(), encoding="utf-8")
        assert CliRunner().invoke(main, ["--db", db_url, "accounts", "import", str(roster)]).exit_code == 0
        yield scenario, server, clock
    finally:
        server.stop()


def _first_page(base: str, uid: str) -> list[dict]:
    url = f"{base}/api/container/getIndex?type=uid&value={uid}&containerid=107603{uid}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        cards = json.loads(resp.read())["data"]["cards"]
    return [c["mblog"] for c in cards if isinstance(c.get("mblog"), dict)]


def _poll(db_url: str, base: str, now: datetime = END) -> str:
    out = CliRunner().invoke(main, ["--db", db_url, "poll", "--once", "--base-url", base, "--rpm", "6000"],
                             env={"WZMON_NOW": now.isoformat()})
    assert out.exit_code == 0, out.output
    return out.output


def test_one_unreadable_post_is_a_counted_warning_and_costs_only_itself(world, db_url):
    scenario, server, _ = world
    uid = scenario.members[0].uid
    listed = _first_page(server.base_url, uid)
    assert len(listed) >= 3
    broken, kept = listed[0]["id"], [m["id"] for m in listed[1:]]
    server.faults.add("bad_item", path=f"containerid=107603{uid}(&|$)", count=1)

    said = _poll(db_url, server.base_url)
    assert f"unreadable items: 1 on 1 source(s), e.g. timeline:{uid}: 1" in said

    engine = open_db(db_url)
    with session_scope(engine) as s:
        stored = set(s.scalars(select(Post.id).where(Post.id.in_([broken, *kept]))))
        assert stored == set(kept)  # the neighbours are in, the broken post is not
        rows = s.scalars(select(CrawlerHealth).where(CrawlerHealth.state == "parse_warning")).all()
        assert [r.source_key for r in rows] == [f"timeline:{uid}"]
        warning = rows[0].detail["warnings"][0]
        assert broken in warning and "created_at" in warning and BAD_TIME in warning
        raw = s.get(RawResponse, rows[0].detail["raw_response_id"])  # the answer it was found in is kept
        assert raw is not None and raw.source_key == f"timeline:{uid}"
        status = crawler_status(s)
        counts = dict(zip(status["source_key"], status["parse_warnings"]))
        assert counts[f"timeline:{uid}"] == 1 and sum(counts.values()) == 1
        # the source's own health is still what the poll said, not the warning
        assert status.set_index("source_key").loc[f"timeline:{uid}", "health_state"] != "parse_warning"
        log = parse_warning_log(s)
        assert list(log["source_key"]) == [f"timeline:{uid}"] and broken in log["warning"].iloc[0]

    out = CliRunner().invoke(main, ["--db", db_url, "status", "--now", END.isoformat(), "--format", "json"])
    report = json.loads(out.output)
    assert report["parse_warnings"]["total"] == 1 and report["parse_warnings"]["sources"] == 1
    assert broken in report["parse_warnings"]["latest"][0]["warning"]
    text = CliRunner().invoke(main, ["--db", db_url, "status", "--now", END.isoformat()]).output
    assert "unreadable    1 item(s) on 1 source(s)" in text and f"timeline:{uid}: " in text and broken in text


def test_the_same_broken_post_on_the_next_poll_is_not_counted_again(world, db_url):
    scenario, server, clock = world
    uid = scenario.members[0].uid
    broken = _first_page(server.base_url, uid)[0]["id"]
    clock.set(EARLIER)
    assert _first_page(server.base_url, uid)[0]["id"] == broken  # the same post heads the page six hours apart
    server.faults.add("bad_item", path=f"containerid=107603{uid}(&|$)", count=2)
    assert "unreadable items: 1 on 1 source(s)" in _poll(db_url, server.base_url, EARLIER)
    clock.set(END)
    assert "unreadable items: 1 on 1 source(s)" in _poll(db_url, server.base_url)  # seen again by this pass...
    with session_scope(open_db(db_url)) as s:
        rows = s.scalars(select(CrawlerHealth).where(CrawlerHealth.state == "parse_warning")).all()
        assert len(rows) == 1 and rows[0].detail["new"] == 1 and broken in rows[0].message  # ...counted once
        status = crawler_status(s)
        assert dict(zip(status["source_key"], status["parse_warnings"]))[f"timeline:{uid}"] == 1


def test_a_clean_poll_counts_nothing(world, db_url):
    _, server, _ = world
    said = _poll(db_url, server.base_url)
    assert "unreadable" not in said
    with session_scope(open_db(db_url)) as s:
        assert int(crawler_status(s)["parse_warnings"].sum()) == 0 and parse_warning_log(s).empty
