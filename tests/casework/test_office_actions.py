"""Office actions: each writes its audit event and moves the case; impossible ones say why.

Dates: week of Monday 2025-11-17 (no holidays). The default policy: 咨询 is answered within 1 working
day and closed within 3 (close of business, 17:30, on the N-th working day after receipt); extension
requests must come before 17:00 on the deadline day, at most 10 working days in all.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casework_helpers import bj, count_working_minutes
from matrix.casework import actions
from matrix.casework.actions import ActionError
from matrix.storage.models import Case, CaseEvent

OPENED = bj(2025, 11, 17, 10, 0)  # Monday 10:00
CLOSURE_DUE = bj(2025, 11, 20, 17, 30)  # 咨询: close of business on the 3rd working day after Monday


def check_audit(event: CaseEvent, type_: str, actor: str, reason: str, at, case: Case, policy) -> None:
    assert event.id is not None
    assert (event.type, event.actor, event.reason) == (type_, actor, reason)
    assert event.at == at
    assert event.policy_version == policy.version
    assert event.calendar_minutes == int((at - case.opened_at).total_seconds() // 60)
    assert event.working_minutes == count_working_minutes(case.opened_at, at)


def test_close_writes_audit_event_and_closing_twice_is_refused(world):
    p = world.policy
    with world.session() as s:
        case = world.open_case(s, OPENED)
        at = bj(2025, 11, 17, 15, 0)
        ev = actions.close(s, case, actor="王科员", reason="电话回访确认已修复", policy=p, now=at)
        check_audit(ev, "closed", "王科员", "电话回访确认已修复", at, case, p)
        # Monday 10:00–12:00 and 13:30–15:00 are working time: 120 + 90 minutes
        assert ev.working_minutes == 210 and ev.calendar_minutes == 300
        assert case.status == "closed" and case.closed_at == at and not case.overdue
        with pytest.raises(ActionError, match="already closed"):
            actions.close(s, case, actor="王科员", reason="again", policy=p, now=at)
    with world.session() as s:  # stored, and a later evaluation keeps it closed
        stored = s.get(Case, case.id)
        assert stored.status == "closed"
        assert [e.type for e in world.events(s, stored, "closed")] == ["closed"]


def test_actor_and_reason_are_required_and_nothing_is_written_without_them(world):
    p = world.policy
    with world.session() as s:
        case = world.open_case(s, OPENED)
        before = s.scalar(select(func.count(CaseEvent.id)))
        for actor, reason, words in [("", "x", "actor"), ("王", "  ", "reason"), ("system", "x", "reserved")]:
            with pytest.raises(ActionError, match=words):
                actions.close(s, case, actor=actor, reason=reason, policy=p, now=bj(2025, 11, 17, 11))
        assert s.scalar(select(func.count(CaseEvent.id))) == before
        assert case.status == "open"
        with pytest.raises(ActionError, match="cannot be dated earlier"):
            actions.close(s, case, actor="王", reason="x", policy=p, now=bj(2025, 11, 17, 9))
        with pytest.raises(ActionError, match="no case 999"):
            actions.close(s, 999, actor="王", reason="x", policy=p)


def test_reassign_moves_case_and_restarts_first_response_clock(world):
    p = world.policy
    with world.session() as s:
        case = world.open_case(s, OPENED)
        assert case.first_response_due == bj(2025, 11, 18, 17, 30)
        at = bj(2025, 11, 18, 9, 0)
        ev = actions.reassign(s, case, "2002", actor="赵主任", reason="属教育系统职责", policy=p, now=at)
        check_audit(ev, "reassigned", "赵主任", "属教育系统职责", at, case, p)
        assert ev.detail["from"] == "2001" and ev.detail["to"] == "2002" and ev.account_uid == "2002"
        assert case.account_uid == "2002" and case.status == "open"
        # received Tuesday before close of business: due close of business Wednesday
        assert case.first_response_due == bj(2025, 11, 19, 17, 30)
        with pytest.raises(ActionError, match="already with"):
            actions.reassign(s, case, "银川教育", actor="赵", reason="x", policy=p, now=at)
        with pytest.raises(ActionError, match="no account"):
            actions.reassign(s, case, "银川水务", actor="赵", reason="x", policy=p, now=at)
        # by screen name, back to the coordinator: waits to be routed again
        actions.reassign(s, case, "问政银川", actor="赵", reason="需协调", policy=p, now=bj(2025, 11, 18, 10))
        assert case.status == "awaiting_forward" and case.account_uid == "1000"


def test_merge_folds_duplicate_and_merged_cases_cannot_be_acted_on(world):
    p = world.policy
    with world.session() as s:
        first = world.open_case(s, OPENED)
        dup = world.open_case(s, bj(2025, 11, 17, 11, 0), citizen="9002", name="市民乙")
        with pytest.raises(ActionError, match="into itself"):
            actions.merge(s, dup, dup, actor="赵", reason="x", policy=p, now=bj(2025, 11, 17, 12))
        at = bj(2025, 11, 17, 14, 0)
        ev = actions.merge(s, dup, first, actor="赵主任", reason="同一路灯", policy=p, now=at)
        check_audit(ev, "merged", "赵主任", "同一路灯", at, dup, p)
        assert ev.detail["into"] == first.id
        assert dup.status == "merged" and dup.merged_into == first.id and not dup.overdue
        note = world.events(s, first, "note")
        assert len(note) == 1 and note[0].detail["merged_from"] == dup.id and note[0].actor == "赵主任"
        for act in (actions.close, actions.mark_invalid, actions.reopen, actions.send_back_for_rework):
            with pytest.raises(ActionError, match=f"merged into case {first.id}"):
                act(s, dup, actor="赵", reason="x", policy=p, now=at)
        with pytest.raises(ActionError, match="merged into case"):
            actions.reassign(s, dup, "2002", actor="赵", reason="x", policy=p, now=at)
        third = world.open_case(s, bj(2025, 11, 17, 15, 0), citizen="9003", name="市民丙")
        with pytest.raises(ActionError, match=f"merge into case {first.id}"):
            actions.merge(s, third, dup, actor="赵", reason="x", policy=p, now=bj(2025, 11, 17, 16))
    with world.session() as s:  # the engine, re-deriving from events, agrees
        assert s.get(Case, dup.id).status == "merged"


def test_invalid_then_reopen(world):
    p = world.policy
    with world.session() as s:
        case = world.open_case(s, OPENED)
        at = bj(2025, 11, 19, 9, 0)  # first response overdue by now
        ev = actions.mark_invalid(s, case, actor="赵主任", reason="广告信息", policy=p, now=at)
        check_audit(ev, "invalid", "赵主任", "广告信息", at, case, p)
        assert case.status == "invalid" and not case.overdue and case.overdue_level == ""
        with pytest.raises(ActionError, match="无效诉求"):
            actions.mark_invalid(s, case, actor="赵", reason="x", policy=p, now=at)
        with pytest.raises(ActionError, match="only closed or"):
            actions.reopen(s, world.open_case(s, OPENED, citizen="9009"), actor="赵", reason="x", policy=p, now=at)
        at2 = bj(2025, 11, 19, 10, 0)
        ev = actions.reopen(s, case, actor="赵主任", reason="误判，确为诉求", policy=p, now=at2)
        check_audit(ev, "reopened", "赵主任", "误判，确为诉求", at2, case, p)
        assert case.status == "open" and ev.detail["status_after"] == "open"
        assert case.overdue  # its first-response deadline (Tuesday 17:30) still stands


def test_reopen_answered_case_goes_back_to_responded(world):
    p = world.policy
    with world.session() as s:
        case = world.open_case(s, OPENED)
        world.reply(s, case, bj(2025, 11, 17, 16, 0))
        assert case.status == "responded"
        actions.close(s, case, actor="赵", reason="回访满意", policy=p, now=bj(2025, 11, 18, 9))
        actions.reopen(s, case, actor="赵", reason="市民反映未修好", policy=p, now=bj(2025, 11, 18, 10))
        assert case.status == "responded" and case.closed_at is None
        assert case.first_response_at == bj(2025, 11, 17, 16, 0)


@pytest.mark.parametrize("minute, allowed", [(59, True), (1, False)])
def test_extension_request_on_the_deadline_day_before_and_after_1700(world, minute, allowed):
    p = world.policy
    with world.session() as s:
        case = world.open_case(s, OPENED)
        world.reply(s, case, bj(2025, 11, 17, 16, 0))
        assert case.closure_due == CLOSURE_DUE
        at = bj(2025, 11, 20, 16 if allowed else 17, minute)  # 16:59 or 17:01 on the deadline day
        if not allowed:
            with pytest.raises(ActionError, match="too late.*17:00"):
                actions.request_extension(s, case, 2, actor="公安小李", reason="需现场勘查", policy=p, now=at)
            assert world.events(s, case, "extension_requested") == []
            with pytest.raises(ActionError, match="too late"):  # a direct grant after the cut-off too
                actions.grant_extension(s, case, 2, actor="赵主任", reason="x", policy=p, now=at)
            assert case.closure_due == CLOSURE_DUE and case.extension_working_days == 0
            return
        ev = actions.request_extension(s, case, 2, actor="公安小李", reason="需现场勘查", policy=p, now=at)
        check_audit(ev, "extension_requested", "公安小李", "需现场勘查", at, case, p)
        assert ev.detail["days"] == 2
        assert case.closure_due == CLOSURE_DUE  # asking changes nothing yet
        with pytest.raises(ActionError, match="already has an extension request"):
            actions.request_extension(s, case, 1, actor="公安小李", reason="x", policy=p, now=at)
        # the office decides after the cut-off: the request's own time is what counts
        at2 = bj(2025, 11, 20, 17, 20)
        ev = actions.grant_extension(s, case, actor="赵主任", reason="同意延期", policy=p, now=at2)
        check_audit(ev, "extension_granted", "赵主任", "同意延期", at2, case, p)
        assert ev.detail["days"] == 2 and ev.detail["request_event"] is not None
        # Thursday 17:30 moved on by two working days: Friday, then Monday 17:30
        assert case.closure_due == bj(2025, 11, 24, 17, 30) and case.extension_working_days == 2
        assert ev.detail["due_after"] == "2025-11-24T17:30:00+08:00"
        assert actions.pending_extension(s, case) is None


def test_extension_cap_and_refusal(world):
    p = world.policy
    cap = p.extension.cap_working_days
    with world.session() as s:
        case = world.open_case(s, OPENED, kind="投诉")  # closure: 15 working days
        at = bj(2025, 11, 18, 10, 0)
        with pytest.raises(ActionError, match=f"caps extensions at {cap}"):
            actions.request_extension(s, case, cap + 1, actor="小李", reason="复杂", policy=p, now=at)
        actions.grant_extension(s, case, cap - 2, actor="赵主任", reason="复杂案件", policy=p, now=at)
        assert case.extension_working_days == cap - 2
        with pytest.raises(ActionError, match="2 left"):
            actions.grant_extension(s, case, 3, actor="赵主任", reason="再延", policy=p, now=at)
        with pytest.raises(ActionError, match="no extension request waiting"):
            actions.refuse_extension(s, case, actor="赵主任", reason="x", policy=p, now=at)
        due = case.closure_due
        actions.request_extension(s, case, 2, actor="小李", reason="仍需协调", policy=p, now=at)
        at2 = bj(2025, 11, 18, 11, 0)
        ev = actions.refuse_extension(s, case, actor="赵主任", reason="理由不充分", policy=p, now=at2)
        check_audit(ev, "extension_refused", "赵主任", "理由不充分", at2, case, p)
        assert case.closure_due == due and case.extension_working_days == cap - 2
        with pytest.raises(ActionError, match="no extension request waiting"):
            actions.grant_extension(s, case, actor="赵主任", reason="x", policy=p, now=at2)


def test_send_back_for_rework_reopens_and_restarts_clocks(world):
    p = world.policy
    with world.session() as s:
        case = world.open_case(s, OPENED)
        with pytest.raises(ActionError, match="only an answered or closed case"):
            actions.send_back_for_rework(s, case, actor="赵", reason="x", policy=p, now=bj(2025, 11, 17, 11))
        world.reply(s, case, bj(2025, 11, 17, 16, 0), text="路灯已修复，此事已办结")
        assert case.status == "closed"
        at = bj(2025, 11, 19, 9, 0)  # Wednesday
        ev = actions.send_back_for_rework(s, case, actor="赵主任", reason="回访发现未修复", policy=p, now=at)
        check_audit(ev, "rework", "赵主任", "回访发现未修复", at, case, p)
        assert ev.detail["before"]["status"] == "closed"
        assert case.status == "open" and case.closed_at is None and case.first_response_at is None
        assert case.first_response_due == bj(2025, 11, 20, 17, 30)  # 1 working day from Wednesday
        assert case.closure_due == bj(2025, 11, 24, 17, 30)  # 3 working days from Wednesday
        assert not case.overdue
        # the earlier answer stays in the log
        assert [e.type for e in world.events(s, case, "first_response")] == ["first_response"]
        world.reply(s, case, bj(2025, 11, 20, 10, 0), text="已重新安排维修")
        assert case.status == "responded" and case.first_response_at == bj(2025, 11, 20, 10, 0)
