"""The archive import's bulk writer binds values itself on SQLite (`matrix.storage.bulkwrite`); what it stores must
be what SQLAlchemy's own binding stores, for the values a crawl produces (aware times in Asia/Shanghai or other
offsets, naive UTC, microseconds, JSON lists, booleans, NULLs)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from matrix.storage.bulkwrite import bulk_executemany
from matrix.storage.db import open_db, session_scope
from matrix.storage.models import Post

SH = ZoneInfo("Asia/Shanghai")
TIMES = [
    datetime(2027, 1, 1, 0, 0, 5, tzinfo=SH),  # 2026-12-31 16:00:05 UTC: the year changes with the zone
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
    datetime(2027, 2, 6, 8, 30, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2026, 10, 1, 12, 0),  # naive: taken as UTC, as the models do
]


def _row(i: int, at: datetime) -> dict:
    return dict(id=f"49{i:014d}", item_type="comment" if i % 2 else "post", mid=None, bid=None,
                user_id=None if i == 3 else f"71000000{i:02d}", screen_name=f"市民{i}", text=f"投诉 {i} @银川公安",
                created_at=at, fetched_at=at + timedelta(minutes=1), parent_id=None, reply_to_id=None,
                reposted_id=None, mentions=["银川公安"] if i else [], topics=[], is_long_text=bool(i % 2), client="",
                region="宁夏" if i else "", reposts_count=None, comments_count=i, attitudes_count=0,
                source_url="", sentiment_label="negative", sentiment_score=-0.5, sentiment_confidence=0.9,
                post_kind="投诉", raw_id=None, is_pinned=False)


def test_bulk_rows_read_back_as_the_orm_writes_them(tmp_path):
    engine = open_db(f"sqlite:///{tmp_path / 'bind.sqlite'}", create=True)
    bulk = [_row(i, at) for i, at in enumerate(TIMES)]
    orm = [{**r, "id": "48" + r["id"][2:]} for r in bulk]
    with session_scope(engine) as s:
        bulk_executemany(s, Post.__table__.insert(), bulk)
        s.execute(Post.__table__.insert(), orm)  # SQLAlchemy's own executemany, its own bind processors
    with engine.connect() as c:
        stored = {r[0]: r[1:] for r in c.execute(text(
            "SELECT id, created_at, fetched_at, mentions, is_long_text, user_id, comments_count FROM posts"))}
        objects = {p.id: p for p in c.execute(select(Post.__table__))}
    for b, o in zip(bulk, orm):
        assert stored[b["id"]] == stored[o["id"]]  # the same text in the file, byte for byte
        assert objects[b["id"]].created_at == objects[o["id"]].created_at
    # and the text is UTC: 2027-01-01 00:00:05 in Shanghai is 2026-12-31 16:00:05
    assert stored["4900000000000000"][0] == "2026-12-31 16:00:05.000000"
    assert stored["4900000000000002"][0] == "2027-02-06 13:30:00.000000"
