"""A small matrix for the inspection tests, written through matrix.storage.models with every time stated here.

Coordinator C (问政银川); members: A 银川公安 (category 政法), B 银川教育 (教育), D 银川水务 (公用), E 银川文旅 (文旅,
never seen posting but its timeline was read), F 银川气象 (综合, timeline never read). Each member's own posts are
listed in OWN_POSTS; the expectations in the tests are worked out from these lists and the policy's limits.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine

from matrix.storage.db import session_scope
from matrix.storage.models import Account, PollCursor, Post

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=CST)  # a Thursday
C, A, B, D, E, F = "6000000001", "6000000002", "6000000003", "6000000004", "6000000005", "6000000006"
NAMES = {C: "问政银川", A: "银川公安", B: "银川教育", D: "银川水务", E: "银川文旅", F: "银川气象"}
CATEGORY = {C: "综合", A: "政法", B: "教育", D: "公用", E: "文旅", F: "综合"}
CONTACTS = {A: "ops-a@example.gov.cn", B: "ops-b@example.gov.cn", D: "ops-d@example.gov.cn"}
CITIZEN = "7100000001"

# (post id, author, item type, created at, text)
OWN_POSTS = [
    ("5100000000000001", A, "post", NOW - timedelta(days=40), "公安提示：谨防电信诈骗"),
    ("5100000000000002", A, "post", NOW - timedelta(days=3), "冬季行车安全提示"),
    ("5100000000000003", B, "post", NOW - timedelta(days=30), "寒假安排通知"),
    ("5100000000000004", B, "repost", NOW - timedelta(days=11), "转发：教育部最新通知"),
    # D: posted on 30 October and on 18 November (a 19-day gap reaching into November), then nothing for 15 days
    ("5100000000000005", D, "post", datetime(2026, 10, 30, 9, 0, tzinfo=CST), "停水通知：兴庆区部分小区"),
    ("5100000000000007", D, "post", NOW - timedelta(days=15), "供水管网检修完成，节约用水倡议 https://t.cn/A6xyz"),
]
# items that are not updates: D's comment and a citizen's post naming D
OTHER_ITEMS = [
    ("5100000000000101", D, "comment", NOW - timedelta(days=1), "已转相关部门", "5100000000000007"),
    ("5100000000000102", CITIZEN, "post", NOW - timedelta(days=2), "@银川水务 停水了", None),
]


def build(engine: Engine, *, timelines_read: bool = True) -> None:
    with session_scope(engine) as s:
        for uid, name in NAMES.items():
            contacts = [{"channel": "email", "address": CONTACTS[uid]}] if uid in CONTACTS else []
            s.add(Account(uid=uid, screen_name=name, name=name + "官方微博", department=name[2:], category=CATEGORY[uid],
                          role="coordinator" if uid == C else "member", contacts=contacts))
        for pid, uid, kind, at, text in OWN_POSTS:
            s.add(Post(id=pid, mid=pid, item_type=kind, user_id=uid, screen_name=NAMES[uid], text=text, created_at=at,
                       mentions=[], topics=[], source_url=f"https://weibo.com/{uid}/{pid}"))
        for pid, uid, kind, at, text, parent in OTHER_ITEMS:
            s.add(Post(id=pid, mid=pid, item_type=kind, user_id=uid, screen_name=NAMES.get(uid, "市民甲"), text=text,
                       created_at=at, parent_id=parent, mentions=[], topics=[]))
        if timelines_read:
            for uid in (A, B, D, E):
                s.add(PollCursor(source_key=f"timeline:{uid}", kind="timeline", target=uid, cursor={},
                                 last_polled_at=NOW - timedelta(hours=1)))
