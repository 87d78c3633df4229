"""A small matrix in the test database: coordinator, two members, citizens, awkward texts, cases and events."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine

from matrix.storage.db import open_db, session_scope
from matrix.storage.models import Account, Case, CaseEvent, PolicyVersion, Post

T0 = datetime(2024, 3, 4, 1, 2, 3, tzinfo=timezone.utc)  # 09:02:03 in Beijing
KEY = b"test-project-key-0123456789"

COORD = "1000000000000001"
POLICE = "1000000000000002"
EDU = "1000000000000003"
CITIZEN_A = "7000000000000001"
CITIZEN_B = "7000000000000002"

HYPERLINK = '=HYPERLINK("http://x","y")'
AT_TEXT = "@问政银川 @银川公安 小区路灯坏了三天\n晚上很危险，请尽快处理 @邻居老王 也反映过"
REPLY_TEXT = "回复@小红爱吃瓜:已转交辖区派出所，请保持电话畅通。"


@dataclass
class Seeded:
    engine: Engine
    url: str
    case_ids: list[int]


def seed(engine: Engine) -> list[int]:
    with session_scope(engine) as s:
        s.add_all(
            [
                Account(uid=COORD, screen_name="问政银川", name="银川市委网信办", department="网信", category="协调", role="coordinator",
                        contacts=[{"channel": "email", "address": "office@example.cn"}], active_from=date(2011, 7, 14),
                        created_at=T0 - timedelta(days=30)),
                Account(uid=POLICE, screen_name="银川公安", name="银川市公安局", department="公安", category="执法", role="member",
                        created_at=T0 - timedelta(days=30)),
                Account(uid=EDU, screen_name="银川教育", name="银川市教育局", department="教育", category="民生", role="member",
                        created_at=T0 - timedelta(days=30)),
                PolicyVersion(version="2024.03", sha256="a" * 64, body="[limits]\n", loaded_at=T0 - timedelta(days=1)),
            ]
        )
        posts = [
            Post(id="5012345678901234", mid="5012345678901234", bid="O1a2b3c4", user_id=CITIZEN_A, screen_name="张三",
                 text=HYPERLINK, created_at=T0, fetched_at=T0 + timedelta(minutes=5), post_kind="其他",
                 sentiment_label="neutral", sentiment_score=0.01, sentiment_confidence=0.4,
                 source_url=f"https://weibo.com/{CITIZEN_A}/O1a2b3c4"),
            Post(id="5012345678901235", mid="5012345678901235", user_id=CITIZEN_B, screen_name="小红爱吃瓜", text=AT_TEXT,
                 created_at=T0 + timedelta(hours=1), fetched_at=T0 + timedelta(hours=1, minutes=3),
                 mentions=["问政银川", "银川公安", "邻居老王"], topics=["路灯"], post_kind="投诉", sentiment_label="negative",
                 sentiment_score=-0.75, sentiment_confidence=0.9, reposts_count=2, comments_count=1, attitudes_count=5,
                 region="宁夏", client="iPhone客户端", source_url=f"https://weibo.com/{CITIZEN_B}/O1a2b3c5"),
            Post(id="5012345678901236", item_type="comment", parent_id="5012345678901235", user_id=POLICE,
                 screen_name="银川公安", text=REPLY_TEXT, created_at=T0 + timedelta(hours=3),
                 fetched_at=T0 + timedelta(hours=3, minutes=1), mentions=["小红爱吃瓜"], post_kind="其他",
                 sentiment_label="neutral", source_url="https://m.weibo.cn/detail/5012345678901236"),
            Post(id="5012345678901237", mid="5012345678901237", user_id=COORD, screen_name="问政银川",
                 text="-本周通报：\r\n+3 个单位超期", created_at=T0 + timedelta(days=2), fetched_at=T0 + timedelta(days=2, minutes=2),
                 is_long_text=True, post_kind="其他", sentiment_label="neutral"),
            Post(id="5012345678901238", mid="5012345678901238", user_id=CITIZEN_A, screen_name="张三",
                 text="孩子上学的校车什么时候恢复？@银川教育", created_at=T0 + timedelta(days=10),
                 fetched_at=T0 + timedelta(days=10, minutes=9), mentions=["银川教育"], post_kind="咨询",
                 sentiment_label="neutral", sentiment_score=0.0),
        ]
        s.add_all(posts)
        s.flush()
        c1 = Case(post_id="5012345678901235", citizen_uid=CITIZEN_B, citizen_name="小红爱吃瓜", addressed_uids=[POLICE],
                  account_uid=POLICE, kind="投诉", status="responded", opened_at=T0 + timedelta(hours=1),
                  first_response_at=T0 + timedelta(hours=3), first_response_id="5012345678901236",
                  first_response_due=T0 + timedelta(days=1), first_response_working_minutes=120,
                  first_response_calendar_minutes=120, sentiment_label="negative", policy_version="2024.03")
        c2 = Case(post_id="5012345678901238", citizen_uid=CITIZEN_A, citizen_name="张三", addressed_uids=[EDU],
                  account_uid=EDU, kind="咨询", status="open", opened_at=T0 + timedelta(days=10),
                  first_response_due=T0 + timedelta(days=11), overdue=True, overdue_level="overdue",
                  overdue_since=T0 + timedelta(days=11), sentiment_label="neutral", policy_version="2024.03")
        s.add_all([c1, c2])
        s.flush()
        s.add_all(
            [
                CaseEvent(case_id=c1.id, at=c1.opened_at, recorded_at=c1.opened_at, type="opened", actor=CITIZEN_B,
                          post_id="5012345678901235", account_uid=POLICE, detail={"citizen_name": "小红爱吃瓜"},
                          calendar_minutes=0, working_minutes=0, policy_version="2024.03"),
                CaseEvent(case_id=c1.id, at=T0 + timedelta(hours=3), recorded_at=T0 + timedelta(hours=3), type="first_response",
                          actor="银川公安", post_id="5012345678901236", account_uid=POLICE, calendar_minutes=120,
                          working_minutes=120, policy_version="2024.03"),
                CaseEvent(case_id=c2.id, at=c2.opened_at, recorded_at=c2.opened_at, type="opened", actor=CITIZEN_A,
                          post_id="5012345678901238", account_uid=EDU, reason="=1+1 @张三 提问", policy_version="2024.03"),
                CaseEvent(case_id=c2.id, at=T0 + timedelta(days=11), recorded_at=T0 + timedelta(days=11), type="overdue",
                          actor="system", account_uid=EDU, calendar_minutes=1440, working_minutes=480, policy_version="2024.03"),
            ]
        )
        return [c1.id, c2.id]


@pytest.fixture
def seeded(db_url: str) -> Seeded:
    engine = open_db(db_url)
    ids = seed(engine)
    return Seeded(engine, db_url, ids)
