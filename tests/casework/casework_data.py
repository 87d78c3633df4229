"""A hand-built week of cases (ISO week 2025-W47) for the rankings and report tests, with the
tests' own reading of lateness.

Cases are inserted straight through matrix.storage.models with their due dates written out, so the figures
depend only on the definitions in matrix/reading/rankings.py, not on the case engine. Lateness is counted
against the default working hours by `count_working_minutes`, independently of matrix.rules.workcal.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casework_helpers import bj, count_working_minutes
from matrix.storage.models import Case, Post

START, END = bj(2025, 11, 17), bj(2025, 11, 24)  # ISO week 2025-W47
NOW = bj(2025, 11, 26, 10, 0)
MINUTES_PER_DAY = 450  # 08:30–12:00 and 13:30–17:30


@dataclass
class Spec:
    account: str
    opened: datetime
    status: str
    frd: datetime | None = None  # first_response_due
    fra: datetime | None = None  # first_response_at
    wm: int | None = None  # first_response_working_minutes
    cd: datetime | None = None  # closure_due
    closed: datetime | None = None
    fwd_due: datetime | None = None
    sentiment: str = "neutral"


SPECS = [
    # @银川公安 (2001)
    Spec("2001", bj(2025, 11, 17, 10), "closed", bj(2025, 11, 18, 17, 30), bj(2025, 11, 17, 15), 210,
         bj(2025, 11, 20, 17, 30), bj(2025, 11, 19, 10), sentiment="negative"),
    Spec("2001", bj(2025, 11, 17, 11), "closed", bj(2025, 11, 18, 17, 30), bj(2025, 11, 19, 10, 30), 1020,
         bj(2025, 11, 20, 17, 30), bj(2025, 11, 20, 16)),  # answered late, closed on time
    Spec("2001", bj(2025, 11, 18, 9), "open", bj(2025, 11, 19, 17, 30), None, None,
         bj(2025, 11, 21, 17, 30)),  # never answered: late on both, counts its larger lateness
    Spec("2001", bj(2025, 11, 19, 9), "responded", bj(2025, 11, 20, 17, 30), bj(2025, 11, 20, 9), 450,
         bj(2025, 11, 24, 17, 30), sentiment="negative"),  # closure still open past its deadline
    Spec("2001", bj(2025, 11, 16, 20), "open", bj(2025, 11, 17, 17, 30)),  # before the period
    Spec("2001", bj(2025, 11, 18, 10), "invalid", bj(2025, 11, 19, 17, 30)),  # 无效诉求: left out
    Spec("2001", bj(2025, 11, 18, 11), "merged", bj(2025, 11, 19, 17, 30)),  # duplicate: left out
    # @银川教育 (2002)
    Spec("2002", bj(2025, 11, 17, 9), "closed", bj(2025, 11, 18, 17, 30), bj(2025, 11, 17, 9, 30), 30,
         bj(2025, 11, 19, 17, 30), bj(2025, 11, 20, 9, 30)),  # closed an hour of working time late
    Spec("2002", bj(2025, 11, 21, 10), "responded", bj(2025, 11, 24, 17, 30), bj(2025, 11, 21, 11), 60,
         None, sentiment="negative"),  # no closure deadline
    Spec("2002", bj(2025, 11, 23, 23), "open", bj(2025, 11, 25, 17, 30)),  # Sunday night: still in the week
    Spec("2002", bj(2025, 11, 24, 0), "open", bj(2025, 11, 25, 17, 30)),  # next week
    # @银川住建 (2003): no deadlines at all
    Spec("2003", bj(2025, 11, 20, 10), "open"),
    # the coordinator: a post still waiting to be forwarded
    Spec("1000", bj(2025, 11, 21, 15), "awaiting_forward", fwd_due=bj(2025, 11, 24, 10)),
]


def insert(world) -> dict[int, Spec]:
    by_id = {}
    with world.session() as s:
        for i, sp in enumerate(SPECS):
            pid = f"48{i:014d}"
            s.add(Post(id=pid, item_type="post", user_id="9000", screen_name="市民", text="@x",
                       created_at=sp.opened, mentions=[]))
            s.flush()
            case = Case(post_id=pid, account_uid=sp.account, kind="咨询", status=sp.status, opened_at=sp.opened,
                        first_response_due=sp.frd, first_response_at=sp.fra, first_response_working_minutes=sp.wm,
                        closure_due=sp.cd, closed_at=sp.closed, forward_due=sp.fwd_due,
                        sentiment_label=sp.sentiment, merged_into=None)
            s.add(case)
            s.flush()
            by_id[case.id] = sp
    return by_id


def lateness_days(sp: Spec, now: datetime) -> float:
    """Largest lateness over the deadlines the case was bound by, in working days (see rankings docs)."""
    options = [0]
    if sp.status == "awaiting_forward" and sp.fwd_due and now > sp.fwd_due:
        options.append(count_working_minutes(sp.fwd_due, now))
    if sp.frd:
        met = sp.fra or sp.closed or now
        if met > sp.frd:
            options.append(count_working_minutes(sp.frd, met))
    if sp.cd:
        met = sp.closed or now
        if met > sp.cd:
            options.append(count_working_minutes(sp.cd, met))
    return max(options) / MINUTES_PER_DAY


def is_late(sp: Spec, now: datetime) -> bool:
    return any([
        sp.status == "awaiting_forward" and sp.fwd_due is not None and now > sp.fwd_due,
        sp.frd is not None and (sp.fra or sp.closed or now) > sp.frd,
        sp.cd is not None and (sp.closed or now) > sp.cd,
    ])
