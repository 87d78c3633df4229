"""A small, fully known data set for the board's tests, written through matrix.storage.models.

Accounts: coordinator C (问政银川), members A (银川公安) and B (银川教育). Each member has cases in every
state; one of B's posts carries hostile markup. All times are relative to NOW (a fixed instant).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine

from matrix.storage.db import session_scope
from matrix.storage.models import Account, Alert, AlertAttempt, Case, CaseEvent, CrawlerHealth, PollCursor, Post

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
# the test users' passwords (imported by name from here, not from conftest: another tests/ folder has a conftest too)
PASSWORDS = {"office": "office-pass-1", "police": "police-pass-1", "edu": "edu-pass-1"}
NOW = datetime(2025, 6, 18, 6, 0, tzinfo=timezone.utc)  # 14:00 in Yinchuan, a Wednesday
COORD, A, B = "5000000001", "5000000002", "5000000003"
EVIL_TEXT = "<script>alert('x')</script> 请看 [点我](http://evil.example/phish) **加粗** 投诉噪音"
A_SECRET = "公安独有的投诉内容：夜间施工扰民"
B_SECRET = "教育独有的投诉内容：学校收费不明"


@dataclass
class Seeded:
    a_cases: list[int] = field(default_factory=list)
    b_cases: list[int] = field(default_factory=list)
    a_overdue: list[int] = field(default_factory=list)
    b_overdue: list[int] = field(default_factory=list)
    evil_case: int = 0
    a_secret_case: int = 0
    b_secret_case: int = 0


def _h(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def seed(engine: Engine) -> Seeded:
    out = Seeded()
    with session_scope(engine) as s:
        s.add_all([
            Account(uid=COORD, screen_name="问政银川", name="银川市问政办", department="问政办", role="coordinator",
                    category="coordinator"),
            Account(uid=A, screen_name="银川公安", name="银川市公安局", department="公安", category="police"),
            Account(uid=B, screen_name="银川教育", name="银川市教育局", department="教育", category="education"),
        ])
        s.flush()
        specs = [
            # (account, text, kind, status, overdue, level, opened hours ago, responded, sentiment, citizen)
            (A, A_SECRET, "投诉", "open", True, "overdue", 60, None, "negative", "市民甲"),
            (A, "路灯坏了请修理", "求助", "open", True, "催办", 120, None, "neutral", "市民乙"),
            (A, "咨询户口迁移", "咨询", "responded", False, "", 30, 2, "neutral", "市民丙"),
            (A, "谢谢民警", "表扬", "closed", False, "", 50, 1, "positive", "市民丁"),
            (B, B_SECRET, "投诉", "open", True, "overdue", 70, None, "negative", "家长甲"),
            (B, EVIL_TEXT, "投诉", "open", False, "warning", 20, None, "negative", "<b>家长乙</b>"),
            (B, "开学时间？", "咨询", "responded", False, "", 10, 3, "neutral", "家长丙"),
            (COORD, "不知道找谁：小区停车", "求助", "awaiting_forward", True, "overdue", 26, None, "negative", "市民戊"),
        ]
        for i, (acct, text, kind, status, overdue, level, ago, resp, senti, citizen) in enumerate(specs, 1):
            pid = f"49000000000{i:02d}"
            opened = _h(ago)
            s.add(Post(id=pid, mid=pid, item_type="post", user_id=f"77{i:08d}", screen_name=citizen, text=text,
                       created_at=opened, mentions=[], topics=[], sentiment_label=senti,
                       sentiment_score=-0.8 if senti == "negative" else 0.2, post_kind=kind))
            s.flush()
            c = Case(post_id=pid, citizen_uid=f"77{i:08d}", citizen_name=citizen, addressed_uids=[acct],
                     account_uid=acct, kind=kind, status=status, opened_at=opened,
                     forwarded_at=opened + timedelta(hours=1) if acct != COORD else None,
                     forward_due=opened + timedelta(hours=4),
                     first_response_due=opened + timedelta(hours=24),
                     first_response_at=opened + timedelta(hours=resp) if resp else None,
                     first_response_working_minutes=resp * 60 if resp else None,
                     closed_at=opened + timedelta(hours=5) if status == "closed" else None,
                     overdue=overdue, overdue_level=level,
                     overdue_since=opened + timedelta(hours=24) if overdue else None,
                     sentiment_label=senti, policy_version="default-1", evaluated_at=NOW)
            s.add(c)
            s.flush()
            s.add(CaseEvent(case_id=c.id, at=opened, type="opened", actor="system", account_uid=acct,
                            post_id=pid, calendar_minutes=0, working_minutes=0, policy_version="default-1"))
            if acct != COORD:
                fwd = f"48000000000{i:02d}"
                s.add(Post(id=fwd, mid=fwd, item_type="repost", user_id=COORD, screen_name="问政银川",
                           text=f"转 @{'银川公安' if acct == A else '银川教育'} 办理", created_at=opened + timedelta(hours=1),
                           reposted_id=pid, mentions=[], topics=[]))
                s.add(CaseEvent(case_id=c.id, at=opened + timedelta(hours=1), type="forwarded", actor="system",
                                account_uid=acct, post_id=fwd, calendar_minutes=60, working_minutes=60,
                                policy_version="default-1"))
            if resp:
                rid = f"47000000000{i:02d}"
                s.add(Post(id=rid, item_type="comment", user_id=acct, screen_name="acct", parent_id=pid,
                           text="您好，已收到，正在办理。", created_at=opened + timedelta(hours=resp), mentions=[], topics=[]))
                s.add(CaseEvent(case_id=c.id, at=opened + timedelta(hours=resp), type="first_response",
                                actor="system", account_uid=acct, post_id=rid, calendar_minutes=resp * 60,
                                working_minutes=resp * 60, policy_version="default-1"))
            if overdue:
                s.add(CaseEvent(case_id=c.id, at=opened + timedelta(hours=24), type="overdue", actor="system",
                                account_uid=acct, calendar_minutes=1440, working_minutes=480, policy_version="default-1"))
                s.add(Alert(dedupe_key=f"overdue:{c.id}", case_id=c.id, account_uid=acct, level="overdue",
                            channel="email", address=f"duty-{acct}@example.cn", subject=f"案件 {c.id} 超期",
                            body="", status="sent", attempts=1, created_at=opened + timedelta(hours=24),
                            sent_at=opened + timedelta(hours=24, minutes=1)))
            # a negative citizen follow-up comment under the case post
            if senti == "negative":
                s.add(Post(id=f"46000000000{i:02d}", item_type="comment", user_id=f"77{i:08d}", screen_name=citizen,
                           parent_id=pid, text=f"还没人管？{text[:10]}", created_at=opened + timedelta(hours=10),
                           mentions=[], topics=[], sentiment_label="negative", sentiment_score=-0.9))
            if acct == A:
                out.a_cases.append(c.id)
                if overdue:
                    out.a_overdue.append(c.id)
            elif acct == B:
                out.b_cases.append(c.id)
                if overdue:
                    out.b_overdue.append(c.id)
            if text == EVIL_TEXT:
                out.evil_case = c.id
            if text == A_SECRET:
                out.a_secret_case = c.id
            if text == B_SECRET:
                out.b_secret_case = c.id
        s.flush()
        a1 = s.query(Alert).order_by(Alert.id).first()
        s.add(AlertAttempt(alert_id=a1.id, at=NOW - timedelta(hours=3), ok=True, duration_ms=120))
        for key, kind, target in [(f"timeline:{A}", "timeline", A), (f"timeline:{B}", "timeline", B),
                                  ("mentions:问政银川", "mentions", "问政银川")]:
            s.add(PollCursor(source_key=key, kind=kind, target=target, cursor={"since_id": "1"},
                             last_polled_at=NOW - timedelta(minutes=5), items_total=10, requests_total=20))
        s.add(CrawlerHealth(at=NOW - timedelta(hours=2), source_key=f"timeline:{A}", state="ok", message="ok"))
    return out


def block_crawler(engine: Engine) -> None:
    """A standing block: the banner must show."""
    with session_scope(engine) as s:
        s.add(CrawlerHealth(at=NOW - timedelta(minutes=10), source_key=f"timeline:{B}", state="blocked",
                            http_status=432, message="HTTP 432 <b>refused</b>",
                            cooldown_until=NOW + timedelta(days=3650)))
