"""Other crawlers' output files (tests/crawler/peer_files, README there) read as records and imported with their cases.
Expectations read from the files by hand; the formats from the writers' code (dataabc/weibo-crawler,
NanmiCoder/MediaCrawler)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from crawler.importer import parse_file
from matrix.storage.db import dispose_engines, open_db, session_scope
from matrix.storage.models import Case, Post, RawResponse

PEERS = Path(__file__).parent / "peer_files"
SH = timezone(timedelta(hours=8))


def test_dataabc_csv_and_json_give_the_same_posts():
    csv_file = parse_file(PEERS / "dataabc" / "银川公安" / "1234567890.csv")
    json_file = parse_file(PEERS / "dataabc" / "银川公安" / "1234567890.json")
    assert (csv_file.kind, json_file.kind) == ("dataabc_csv", "dataabc_json")
    for parsed in (csv_file, json_file):
        notice, reply = parsed.items
        assert (notice.id, notice.user_id, notice.screen_name) == ("4900000000000101", "1234567890", "银川公安")
        assert notice.created_at == datetime(2026, 11, 20, 9, 0, tzinfo=SH)
        assert notice.reposted_id is None and notice.attitudes_count == 12
        assert reply.id == "4900000000000102" and reply.reposted_id == "4900000000000201"
        assert reply.mentions[0] == "市民老王" and "已办结" in reply.text
        assert reply.retweeted.user_id == "5000000001" and reply.retweeted.mentions == ["银川公安"]
        assert reply.retweeted.created_at == datetime(2026, 11, 20, 8, 10, tzinfo=SH)
        assert all(p.raw["origin"] == "dataabc/weibo-crawler" for p in parsed.items)


def test_mediacrawler_contents_and_comments():
    contents = parse_file(PEERS / "mediacrawler" / "search_contents_2026-11-20.json")
    assert contents.kind == "mediacrawler_contents_json"
    first, second = contents.items
    assert (first.id, first.user_id, first.screen_name) == ("4900000000000301", "5000000002", "金凤小李")
    assert first.created_at == datetime(2026, 11, 20, 9, 0, tzinfo=SH)  # create_time 1795136400
    assert first.mentions == ["银川公安", "银川交警"] and first.source_url.endswith("/4900000000000301")
    assert second.user_id == "c0ffee5eedbeef01"  # newer MediaCrawler: creator_hash instead of user_id
    table = parse_file(PEERS / "mediacrawler" / "search_contents_2026-11-20.csv")
    assert [p.id for p in table.items] == ["4900000000000303"]  # the row with a broken time is named, not kept
    assert len(table.warnings) == 1 and "row 2" in table.warnings[0] and "不是时间" in table.warnings[0]
    comments = parse_file(PEERS / "mediacrawler" / "search_comments_2026-11-20.csv")
    assert comments.kind == "mediacrawler_comments_csv"
    assert [(c.id, c.post_id, c.user_id) for c in comments.items] == [
        ("4900000000000401", "4900000000000301", "5000000003"), ("4900000000000402", "4900000000000301", "1234567890")]


def test_peer_files_import_with_their_cases(db_url, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("uid,screen_name,name,department,category,role,contacts,active_from,active_to\n"
                      "1231897701,问政银川,问政银川,网信办,综合,coordinator,,,\n"
                      "1234567890,银川公安,银川市公安局,公安,政法,member,,,\n"
                      "1234567891,银川交警,银川市交警支队,公安,政法,member,,,\n", encoding="utf-8")
    env = {**os.environ, "WZMON_NOW": "2026-11-20T18:00"}

    def wzmon(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "matrix.cli.root", "--db", db_url, *args], capture_output=True,
                              text=True, env=env, timeout=300)

    assert wzmon("accounts", "import", str(roster)).returncode == 0
    out = wzmon("import", str(PEERS), "--format", "json")
    summary = json.loads(out.stdout)
    assert summary["failed"] == [] and len(summary["warnings"]) == 1
    with session_scope(open_db(db_url)) as s:
        cases = {c.post_id: c for c in s.scalars(select(Case))}
        posts = {p.id: p for p in s.scalars(select(Post))}
        raw_urls = {p.id: s.get(RawResponse, p.raw_id).url for p in posts.values() if p.raw_id}
    dispose_engines()
    # the citizens' posts that name 银川公安 each opened a case; the 3 official posts and the comments did not
    assert {"4900000000000201", "4900000000000301", "4900000000000302", "4900000000000303"} <= set(cases)
    assert "4900000000000101" not in cases
    # 银川公安 answered 老王's post with a repost of its own words, saying 已办结: responded and closed
    assert cases["4900000000000201"].first_response_at is not None and cases["4900000000000201"].status == "closed"
    # 小李 named two members (银川公安, 银川交警): the coordinator must route it first
    assert cases["4900000000000301"].status == "awaiting_forward"
    assert cases["4900000000000302"].status == "open" and cases["4900000000000302"].account_uid == "1234567890"
    assert raw_urls["4900000000000301"].endswith("search_contents_2026-11-20.json")  # where each item came from
    again = json.loads(wzmon("import", str(PEERS), "--format", "json").stdout)
    assert again["new"] == 0
