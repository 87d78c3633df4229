"""Helpers for the casework tests: a small matrix (coordinator + three members), Beijing-time
instants, a working-minutes oracle, and opening/answering cases.

Cases open through the real case engine (`matrix.casework.cases.process_items`) from posts stored with
matrix.storage.models, so office actions are tested against the engine that replays them.
"""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from matrix.casework.cases import process_items
from matrix.storage.db import session_scope
from matrix.storage.models import Account, Case, CaseEvent, Post
from matrix.timeutil import SHANGHAI

ROSTER = [
    # uid, screen_name, name, department, category, role
    ("1000", "问政银川", "问政银川", "市委网信办", "", "coordinator"),
    ("2001", "银川公安", "银川市公安局", "公安", "公安", "member"),
    ("2002", "银川教育", "银川市教育局", "教育", "教育", "member"),
    ("2003", "银川住建", "银川市住建局", "住建", "住建", "member"),
]
WORK_BLOCKS = ((8 * 60 + 30, 12 * 60), (13 * 60 + 30, 17 * 60 + 30))  # the default policy's hours


def bj(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A Beijing-time instant."""
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def count_working_minutes(a: datetime, b: datetime) -> int:
    """Working minutes in [a, b): the test's own oracle, independent of matrix.rules.workcal.

    Walks the days, and on each working day (chinese_calendar) adds the overlap of [a, b) with each
    block of working hours, in whole minutes (the instants used in tests fall on whole minutes).
    """
    if b <= a:
        return 0
    a, b = a.astimezone(SHANGHAI), b.astimezone(SHANGHAI)
    total = 0
    day = a.date()
    while day <= b.date():
        if chinese_calendar.is_workday(day):
            midnight = datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI)
            for s, e in WORK_BLOCKS:
                lo = max(a, midnight + timedelta(minutes=s))
                hi = min(b, midnight + timedelta(minutes=e))
                if hi > lo:
                    total += int((hi - lo).total_seconds() // 60)
        day += timedelta(days=1)
    return total


class World:
    """The database plus the helpers tests use to make posts and cases."""

    def __init__(self, engine: Any, policy: Any):
        self.engine = engine
        self.policy = policy
        self._ids = itertools.count(1)
        with session_scope(engine) as s:
            for uid, screen, name, dept, cat, role in ROSTER:
                s.add(Account(uid=uid, screen_name=screen, name=name, department=dept, category=cat, role=role))

    def session(self):  # noqa: ANN201
        return session_scope(self.engine)

    def _pid(self) -> str:
        return f"5{next(self._ids):015d}"

    def open_case(self, s: Session, at: datetime, mentions: tuple[str, ...] = ("银川公安",), kind: str = "咨询",
                  citizen: str = "9001", name: str = "市民甲", sentiment: str | None = "neutral") -> Case:
        post = Post(id=self._pid(), item_type="post", user_id=citizen, screen_name=name,
                    text=" ".join(f"@{m}" for m in mentions) + " 小区门口路灯坏了一周，请尽快修理",
                    created_at=at, mentions=list(mentions), post_kind=kind, sentiment_label=sentiment)
        s.add(post)
        s.flush()
        process_items(s, [post], self.policy, at)
        case = s.scalars(select(Case).where(Case.post_id == post.id)).one()
        return case

    def reply(self, s: Session, case: Case, at: datetime, text: str = "您好，已转相关部门核实", uid: str = "2001") -> Post:
        screen = next(r[1] for r in ROSTER if r[0] == uid)
        item = Post(id=self._pid(), item_type="comment", user_id=uid, screen_name=screen, text=text,
                    created_at=at, parent_id=case.post_id, mentions=[])
        s.add(item)
        s.flush()
        process_items(s, [item], self.policy, at)
        return item

    @staticmethod
    def events(s: Session, case: Case, type_: str | None = None) -> list[CaseEvent]:
        q = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)
        if type_:
            q = q.where(CaseEvent.type == type_)
        return list(s.scalars(q))
