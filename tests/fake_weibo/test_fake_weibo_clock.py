"""Simulated time: what is visible, the Date header, relative dates, deletions, the control endpoint."""
from __future__ import annotations

import email.utils
from datetime import datetime, timedelta

import httpx
import pytest

from crawler.fake_weibo import SimClock


def _timeline_ids(c, uid):
    body = c.get("/api/container/getIndex", params={"containerid": f"107603{uid}"}).json()
    return [card["mblog"]["id"] for card in body["data"]["cards"] if card["card_type"] == 9]


def test_date_header_carries_sim_time(fake_weibo):
    with httpx.Client(base_url=fake_weibo.base_url) as c:
        r = c.get("/api/config")
    assert email.utils.parsedate_to_datetime(r.headers["date"]) == fake_weibo.scenario.end


def test_posts_appear_when_the_clock_reaches_them(fake_weibo):
    sc = fake_weibo.scenario
    row = next(r for r in sc.truth if r["intent"] == "own" and r["in_window"] and not r["deleted_at"])
    created = datetime.fromisoformat(row["created_at"])
    fake_weibo.clock.set(created - timedelta(seconds=1))
    with httpx.Client(base_url=fake_weibo.base_url) as c:
        assert row["post_id"] not in _timeline_ids(c, row["author_uid"])
        assert c.get("/statuses/show", params={"id": row["post_id"]}).json()["ok"] == 0
        c.post("/__sim/clock", json={"advance_minutes": 1})
        assert row["post_id"] in _timeline_ids(c, row["author_uid"])


def test_responses_only_after_their_time(fake_weibo):
    sc = fake_weibo.scenario
    row = next(r for r in sc.truth if r["response_via"] == "comment" and r["responded_at"] and not r["deleted_at"]
               and datetime.fromisoformat(r["responded_at"]) <= sc.end)
    responded = datetime.fromisoformat(row["responded_at"])
    with httpx.Client(base_url=fake_weibo.base_url) as c:
        c.post("/__sim/clock", json={"set": (responded - timedelta(minutes=1)).isoformat()})
        names = [x["user"]["screen_name"] for x in
                 c.get("/comments/hotflow", params={"id": row["post_id"], "mid": row["post_id"]}).json()["data"]["data"]]
        assert row["responded_by"] not in names
        c.post("/__sim/clock", json={"set": responded.isoformat()})
        fake_weibo.page_comments = 100
        names = [x["user"]["screen_name"] for x in
                 c.get("/comments/hotflow", params={"id": row["post_id"], "mid": row["post_id"]}).json()["data"]["data"]]
        assert row["responded_by"] in names


def test_relative_dates_follow_the_clock(fake_weibo_factory):
    fw = fake_weibo_factory(comment_dates="relative", page_comments=100)
    sc = fw.scenario
    cm = next(c for c in sc.comments.values() if c.reply_to_id is None and sc.statuses[c.post_id].deleted_at is None)
    with httpx.Client(base_url=fw.base_url) as c:
        def shown():
            data = c.get("/comments/hotflow", params={"id": cm.post_id, "mid": cm.post_id}).json()["data"]["data"]
            return next(x["created_at"] for x in data if x["id"] == cm.id)
        fw.clock.set(cm.created_at + timedelta(minutes=3, seconds=5))
        assert shown() == "3分钟前"
        fw.clock.set(cm.created_at + timedelta(days=1))
        assert shown() == cm.created_at.strftime("昨天 %H:%M")


def test_deleted_post_appears_then_disappears(fake_weibo):
    sc = fake_weibo.scenario
    row = next(r for r in sc.truth if r["deleted_at"] and r["intent"] == "own")
    created, deleted = datetime.fromisoformat(row["created_at"]), datetime.fromisoformat(row["deleted_at"])
    with httpx.Client(base_url=fake_weibo.base_url) as c:
        fake_weibo.clock.set(created)
        assert row["post_id"] in _timeline_ids(c, row["author_uid"])
        fake_weibo.clock.set(deleted)
        assert row["post_id"] not in _timeline_ids(c, row["author_uid"])
        # a cursor pointing at the vanished post still pages on
        body = c.get("/api/container/getIndex", params={"containerid": f"107603{row['author_uid']}",
                                                         "since_id": row["post_id"]}).json()
        assert body["ok"] == 1
        assert all(int(x["mblog"]["id"]) < int(row["post_id"]) for x in body["data"]["cards"] if x["card_type"] == 9)


def test_clock_control_endpoint(fake_weibo):
    with httpx.Client(base_url=fake_weibo.base_url) as c:
        at = "2024-06-13T10:00:00+08:00"
        assert c.post("/__sim/clock", json={"set": at}).json()["now"] == at
        assert c.post("/__sim/clock", json={"advance_minutes": 90}).json()["now"] == "2024-06-13T11:30:00+08:00"
        assert c.post("/__sim/clock", json={"set": "not a date"}).status_code == 400
        assert c.get("/__sim/clock").json()["manual"] is True


def test_running_clock_moves_at_speed():
    start = datetime.fromisoformat("2024-06-14T08:00:00+08:00")
    clock = SimClock(start, speed=1440)
    first = clock.now()
    second = clock.now()
    assert start <= first <= second
    with pytest.raises(ValueError, match="timezone-aware"):
        SimClock(datetime(2024, 1, 1))
    manual = SimClock.fixed(start)
    assert manual.advance(minutes=5) == start + timedelta(minutes=5) == manual.now()
