"""Office actions on cases (reassign, merge, 无效诉求, extensions, close, reopen, 发回重办).

Each action checks that it makes sense for the case as it stands (else `ActionError`, a sentence
the officer can act on), changes the case, writes one CaseEvent that is also the audit log (who,
when, why: actor and reason are required), and re-evaluates the case through the case engine
(`matrix.casework.cases.evaluate`) so due dates, overdue flags and levels follow at once, in the caller's
transaction. The engine derives a case's facts by replaying its thread and these office events
(`detail` keys as in docs/ARCHITECTURE.md), so the event is the record and the case follows from it.
`now` is when the action happens (default: the current time); an action is never dated before
the case opened.

Extensions move the closure deadline (办结时限), as in 12345 practice: a request must reach the
office before the policy's cut-off on the deadline day (`Policy.extension_allowed`: before 17:00
by default), and a case's extensions add up to at most `Policy.extension.cap_working_days`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matrix.storage.models import Account, Case, CaseEvent
from matrix.timeutil import as_utc, iso_local, utcnow

ACTIVE = ("awaiting_forward", "open", "responded")
STATUS_WORDS = {
    "awaiting_forward": "waiting at the coordinator to be forwarded",
    "open": "open (awaiting a first response)",
    "responded": "answered but not closed",
    "closed": "closed",
    "invalid": "marked 无效诉求 (not a request)",
    "merged": "merged",
}


class ActionError(Exception):
    """An office action that cannot be done on this case as it stands; the message says why."""


# ----------------------------------------------------------------------------- helpers


def get_case(session: Session, case: Case | int | str) -> Case:
    """The Case for an id (or the Case itself); ActionError when there is none."""
    if isinstance(case, Case):
        return case
    try:
        case_id = int(case)
    except (TypeError, ValueError):
        raise ActionError(f"case id must be a number, got {case!r}") from None
    found = session.get(Case, case_id)
    if found is None:
        raise ActionError(f"there is no case {case_id}")
    return found


def _require(actor: str, reason: str) -> tuple[str, str]:
    actor, reason = (actor or "").strip(), (reason or "").strip()
    if not actor:
        raise ActionError("say who is acting (actor): every office action is recorded with its author")
    if actor.lower() == "system":
        raise ActionError("actor 'system' is reserved for the case engine's own events; give the officer's name")
    if not reason:
        raise ActionError("give a reason: every office action is recorded with why it was taken")
    return actor, reason


def _now(case: Case, now: datetime | None) -> datetime:
    at = as_utc(now) if now is not None else utcnow()
    if at < case.opened_at:
        raise ActionError(
            f"case {case.id} opened at {iso_local(case.opened_at)}; an action cannot be dated earlier "
            f"({iso_local(at)})"
        )
    return at


def _not_merged(case: Case) -> None:
    if case.status == "merged":
        raise ActionError(f"case {case.id} was merged into case {case.merged_into}; act on case {case.merged_into}")


def _must_be(case: Case, allowed: tuple[str, ...], action: str, hint: str = "") -> None:
    _not_merged(case)
    if case.status not in allowed:
        msg = f"cannot {action} case {case.id}: it is {STATUS_WORDS.get(case.status, case.status)}"
        raise ActionError(msg + (f"; {hint}" if hint else ""))


def _event(
    session: Session,
    case: Case,
    type_: str,
    *,
    actor: str,
    reason: str,
    at: datetime,
    policy: Any,
    account_uid: str | None = None,
    detail: dict[str, Any] | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.id,
        at=at,
        recorded_at=utcnow(),
        type=type_,
        actor=actor,
        reason=reason,
        account_uid=account_uid if account_uid is not None else case.account_uid,
        detail=detail or {},
        calendar_minutes=policy.calendar_minutes(case.opened_at, at),
        working_minutes=policy.working_minutes(case.opened_at, at),
        policy_version=str(policy.version),
    )
    session.add(event)
    return event


def _reevaluate(session: Session, policy: Any, now: datetime, *cases: Case) -> None:
    from matrix.casework.cases import evaluate

    session.flush()
    evaluate(session, policy, now, case_ids=[c.id for c in cases])


def _clear_overdue(case: Case) -> None:
    case.overdue = False
    case.overdue_level = ""
    case.overdue_since = None


def _last_extension_event(session: Session, case: Case) -> CaseEvent | None:
    return session.scalars(
        select(CaseEvent)
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.type.in_(("extension_requested", "extension_granted", "extension_refused")),
        )
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc())
        .limit(1)
    ).first()


def pending_extension(session: Session, case: Case | int) -> CaseEvent | None:
    """The extension request still waiting for a decision, if any."""
    c = get_case(session, case)
    last = _last_extension_event(session, c)
    return last if last is not None and last.type == "extension_requested" else None


def extendable_deadline(case: Case) -> tuple[str, datetime]:
    """(which, due) of the deadline an extension moves: the closure deadline of an open or answered case."""
    _not_merged(case)
    if case.status == "awaiting_forward":
        raise ActionError(f"case {case.id} is still at the coordinator: forward it to a member before extending")
    if case.status not in ("open", "responded"):
        raise ActionError(f"cannot extend case {case.id}: it is {STATUS_WORDS.get(case.status, case.status)}")
    if case.closure_due is None:
        raise ActionError(f"case {case.id} has no closure deadline under the policy, so there is nothing to extend")
    return "closure", case.closure_due


def _check_days(policy: Any, case: Case, days: int) -> None:
    if not isinstance(days, int) or days < 1:
        raise ActionError(f"an extension is a whole number of working days (1 or more), got {days!r}")
    cap = int(policy.extension.cap_working_days)
    total = case.extension_working_days + days
    if total > cap:
        already = case.extension_working_days
        raise ActionError(
            f"cannot extend case {case.id} by {days} working days: it already has {already}, and the policy "
            f"caps extensions at {cap} working days in all ({max(cap - already, 0)} left)"
        )


def _check_cutoff(policy: Any, case: Case, due: datetime, requested_at: datetime) -> None:
    if not policy.extension_allowed(due, requested_at):
        cutoff = getattr(policy.extension, "cutoff", None)
        cutoff = cutoff.strftime("%H:%M") if hasattr(cutoff, "strftime") else (cutoff or "the cut-off")
        raise ActionError(
            f"too late to extend case {case.id}: the request came at {iso_local(requested_at)}, and the policy "
            f"requires it before {cutoff} on the day of the deadline ({iso_local(due)})"
        )


# ----------------------------------------------------------------------------- actions


def reassign(
    session: Session,
    case: Case | int,
    to_account: str,
    *,
    actor: str,
    reason: str,
    policy: Any,
    now: datetime | None = None,
) -> CaseEvent:
    """Give the case to another account (a misrouted case, or routing a case that sits at the coordinator).

    The new owner's first-response clock starts at the reassignment (the engine's rule); reassigning
    to the coordinator puts an unanswered case back to be routed.
    """
    actor, reason = _require(actor, reason)
    c = get_case(session, case)
    _must_be(c, ACTIVE, "reassign", "reopen it first")
    at = _now(c, now)
    target = session.get(Account, str(to_account))
    if target is None:
        target = session.scalars(select(Account).where(Account.screen_name == str(to_account).lstrip("@"))).first()
    if target is None:
        raise ActionError(f"there is no account {to_account!r} in the roster (give a uid or a screen name)")
    if target.uid == c.account_uid:
        raise ActionError(f"case {c.id} is already with {target.screen_name or target.uid}")
    before = {"account_uid": c.account_uid, "status": c.status, "forwarded_at": iso_local(c.forwarded_at)}
    c.account_uid = target.uid
    if target.role == "coordinator":
        if c.first_response_at is None:
            c.status = "awaiting_forward"
    else:
        c.forwarded_at = c.forwarded_at or at
        if c.first_response_at is None:
            c.status = "open"
    event = _event(
        session, c, "reassigned", actor=actor, reason=reason, at=at, policy=policy, account_uid=target.uid,
        detail={"from": before["account_uid"], "to": target.uid, "to_screen_name": target.screen_name,
                "before": before},
    )
    _reevaluate(session, policy, at, c)
    return event


def merge(
    session: Session,
    duplicate: Case | int,
    into: Case | int,
    *,
    actor: str,
    reason: str,
    policy: Any,
    now: datetime | None = None,
) -> CaseEvent:
    """Fold a duplicate into the case that goes on; the duplicate stops counting anywhere."""
    actor, reason = _require(actor, reason)
    dup, target = get_case(session, duplicate), get_case(session, into)
    if dup.id == target.id:
        raise ActionError(f"cannot merge case {dup.id} into itself")
    _not_merged(dup)
    if dup.status == "invalid":
        raise ActionError(f"case {dup.id} is marked 无效诉求; reopen it before merging")
    if target.status == "merged":
        raise ActionError(
            f"case {target.id} was itself merged into case {target.merged_into}; merge into case {target.merged_into}"
        )
    if target.status == "invalid":
        raise ActionError(f"case {target.id} is marked 无效诉求: merge into a real case")
    at = _now(dup, now)
    before_status = dup.status
    dup.status = "merged"
    dup.merged_into = target.id
    _clear_overdue(dup)
    event = _event(
        session, dup, "merged", actor=actor, reason=reason, at=at, policy=policy,
        detail={"into": target.id, "status_before": before_status},
    )
    _event(
        session, target, "note", actor=actor, reason=reason, at=max(at, target.opened_at), policy=policy,
        detail={"merged_from": dup.id},
    )
    _reevaluate(session, policy, at, dup, target)
    return event


def mark_invalid(
    session: Session,
    case: Case | int,
    *,
    actor: str,
    reason: str,
    policy: Any,
    now: datetime | None = None,
) -> CaseEvent:
    """无效诉求: not a real request (advert, spam, test); it leaves every count and clock."""
    actor, reason = _require(actor, reason)
    c = get_case(session, case)
    _must_be(c, ACTIVE, "mark invalid", "reopen it first" if c.status == "closed" else "")
    at = _now(c, now)
    before = c.status
    c.status = "invalid"
    _clear_overdue(c)
    event = _event(session, c, "invalid", actor=actor, reason=reason, at=at, policy=policy,
                   detail={"status_before": before})
    _reevaluate(session, policy, at, c)
    return event


def request_extension(
    session: Session,
    case: Case | int,
    days: int,
    *,
    actor: str,
    reason: str,
    policy: Any,
    now: datetime | None = None,
) -> CaseEvent:
    """Record a member's request for more working days; it must arrive before the policy's cut-off."""
    actor, reason = _require(actor, reason)
    c = get_case(session, case)
    which, due = extendable_deadline(c)
    at = _now(c, now)
    if pending_extension(session, c) is not None:
        raise ActionError(f"case {c.id} already has an extension request waiting: grant or refuse it first")
    _check_days(policy, c, days)
    _check_cutoff(policy, c, due, at)
    event = _event(
        session, c, "extension_requested", actor=actor, reason=reason, at=at, policy=policy,
        detail={"days": days, "deadline": which, "due": iso_local(due)},
    )
    _reevaluate(session, policy, at, c)
    return event


def grant_extension(
    session: Session,
    case: Case | int,
    days: int | None = None,
    *,
    actor: str,
    reason: str,
    policy: Any,
    now: datetime | None = None,
) -> CaseEvent:
    """Grant working days: the waiting request's (or `days`), or a direct grant by the office.

    The cut-off applies to when the extension was asked for: the waiting request's time, or now for
    a direct grant. The total of all extensions stays within the policy's cap. The event's detail
    keeps the closure deadline before and after.
    """
    actor, reason = _require(actor, reason)
    c = get_case(session, case)
    which, due = extendable_deadline(c)
    at = _now(c, now)
    pending = pending_extension(session, c)
    requested_at = pending.at if pending is not None else at
    if days is None:
        if pending is None:
            raise ActionError(f"case {c.id} has no extension request waiting: say how many working days to grant")
        days = int(pending.detail.get("days", 0))
    _check_days(policy, c, days)
    _check_cutoff(policy, c, due, requested_at)
    c.extension_working_days += days
    event = _event(
        session, c, "extension_granted", actor=actor, reason=reason, at=at, policy=policy,
        detail={
            "days": days,
            "total_days": c.extension_working_days,
            "deadline": which,
            "due_before": iso_local(due),
            "requested_at": iso_local(requested_at),
            "request_event": pending.id if pending is not None else None,
        },
    )
    _reevaluate(session, policy, at, c)
    event.detail = {**event.detail, "due_after": iso_local(c.closure_due)}
    return event


def refuse_extension(
    session: Session,
    case: Case | int,
    *,
    actor: str,
    reason: str,
    policy: Any,
    now: datetime | None = None,
) -> CaseEvent:
    """Refuse the waiting extension request; the deadline stands."""
    actor, reason = _require(actor, reason)
    c = get_case(session, case)
    _not_merged(c)
    pending = pending_extension(session, c)
    if pending is None:
        raise ActionError(f"case {c.id} has no extension request waiting to refuse")
    at = _now(c, now)
    event = _event(
        session, c, "extension_refused", actor=actor, reason=reason, at=at, policy=policy,
        detail={"days": pending.detail.get("days"), "request_event": pending.id},
    )
    _reevaluate(session, policy, at, c)
    return event


def close(
    session: Session,
    case: Case | int,
    *,
    actor: str,
    reason: str,
    policy: Any,
    now: datetime | None = None,
) -> CaseEvent:
    """Confirm closure (办结) by the office."""
    actor, reason = _require(actor, reason)
    c = get_case(session, case)
    if c.status == "closed":
        raise ActionError(f"case {c.id} is already closed (since {iso_local(c.closed_at)})")
    _must_be(c, ACTIVE, "close")
    at = _now(c, now)
    before = c.status
    c.status = "closed"
    c.closed_at = at
    event = _event(session, c, "closed", actor=actor, reason=reason, at=at, policy=policy,
                   detail={"status_before": before, "by": "office"})
    _reevaluate(session, policy, at, c)
    return event


def reopen(
    session: Session,
    case: Case | int,
    *,
    actor: str,
    reason: str,
    policy: Any,
    now: datetime | None = None,
) -> CaseEvent:
    """Undo a closure or a 无效诉求 ruling: the case owes what it owed before (answered cases go back
    to `responded`, others to `open`, or to the coordinator if never forwarded); deadlines stand."""
    actor, reason = _require(actor, reason)
    c = get_case(session, case)
    _must_be(c, ("closed", "invalid"), "reopen", "only closed or 无效诉求 cases can be reopened")
    at = _now(c, now)
    before = c.status
    c.closed_at = None
    c.status = "responded" if c.first_response_at is not None else "open"
    event = _event(session, c, "reopened", actor=actor, reason=reason, at=at, policy=policy,
                   detail={"status_before": before})
    _reevaluate(session, policy, at, c)
    event.detail = {**event.detail, "status_after": c.status}
    return event


def send_back_for_rework(
    session: Session,
    case: Case | int,
    *,
    actor: str,
    reason: str,
    policy: Any,
    now: datetime | None = None,
) -> CaseEvent:
    """发回重办: the answer is not accepted; the case goes back to open and the member owes a new answer.

    Its first-response and closure clocks restart at the rework (the engine's rule; extensions
    already granted still apply); the earlier response stays in the event log but no longer counts
    as the case's first response.
    """
    actor, reason = _require(actor, reason)
    c = get_case(session, case)
    _must_be(c, ("responded", "closed"), "send back for rework", "only an answered or closed case can be sent back")
    at = _now(c, now)
    before = {
        "status": c.status,
        "first_response_at": iso_local(c.first_response_at),
        "first_response_id": c.first_response_id,
        "closed_at": iso_local(c.closed_at),
        "forwarded_at": iso_local(c.forwarded_at),
        "extension_working_days": c.extension_working_days,
    }
    c.status = "open"
    c.closed_at = None
    c.first_response_at = None
    c.first_response_id = None
    c.first_response_working_minutes = None
    c.first_response_calendar_minutes = None
    event = _event(session, c, "rework", actor=actor, reason=reason, at=at, policy=policy,
                   detail={"before": before})
    _reevaluate(session, policy, at, c)
    return event


ACTIONS = {
    "reassign": reassign,
    "merge": merge,
    "invalid": mark_invalid,
    "request_extension": request_extension,
    "grant_extension": grant_extension,
    "refuse_extension": refuse_extension,
    "close": close,
    "reopen": reopen,
    "rework": send_back_for_rework,
}
