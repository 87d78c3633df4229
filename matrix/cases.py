"""The case engine: which posts need an answer, who owes it, by when, and whether they made it.

A case's facts are derived, not accumulated: `refresh_case` replays the items of its thread (comments,
reposts, the member's posts naming the citizen) together with the office's events, in time order. So
items that arrive out of order (a reply crawled before the forwarding that preceded it) or office
actions taken later give the same answer as if everything had been seen live.
The clock (`evaluate`/`recompute`) then turns those facts into due dates and levels under a policy.
Breaches are never back-dated: a level event is stamped when it is observed, with the due in its detail.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

from sqlalchemy import String, or_, select, type_coerce
from sqlalchemy.orm import Session

from matrix import rollup
from matrix.models import Account, Case, CaseEvent, PolicyVersion, Post
from matrix.timeutil import as_utc
from matrix.workcal import _US_PER_DAY, CalendarError

log = logging.getLogger(__name__)
SYSTEM = "system"
FINAL_STATUSES = frozenset({"closed", "invalid", "merged"})
OFFICE_EVENT_TYPES = frozenset(
    {"reassigned", "merged", "invalid", "extension_granted", "extension_refused", "extension_requested",
     "closed", "reopened", "rework", "note"}
)
FACT_TYPES = frozenset({"opened", "forwarded", "first_response", "reply", "citizen_followup", "closed"})
BREACH_LEVELS = ("overdue",)


# --------------------------------------------------------------------------------------------- roster
@dataclass(frozen=True)
class RosterEntry:
    uid: str
    screen_name: str
    role: str
    category: str


@dataclass
class Roster:
    """The accounts the engine needs to tell citizens, members and the coordinator apart."""

    by_uid: dict[str, RosterEntry] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> "Roster":
        roster = cls()
        for uid, name, role, category in session.execute(
            select(Account.uid, Account.screen_name, Account.role, Account.category)
        ):
            entry = RosterEntry(uid, name, role or "member", category or "")
            roster.by_uid[uid] = entry
            if name:
                roster.by_name[name] = uid
        return roster

    @property
    def coordinator_uid(self) -> str | None:
        return next((e.uid for e in self.by_uid.values() if e.role == "coordinator"), None)

    def is_coordinator(self, uid: str | None) -> bool:
        return uid is not None and uid in self.by_uid and self.by_uid[uid].role == "coordinator"

    def is_member(self, uid: str | None) -> bool:
        return uid is not None and uid in self.by_uid and self.by_uid[uid].role != "coordinator"

    def members_named(self, names: Iterable[str]) -> list[str]:
        """Member uids among the screen names, in order, without repeats."""
        out: list[str] = []
        for name in names:
            uid = self.by_name.get(name)
            if uid and self.is_member(uid) and uid not in out:
                out.append(uid)
        return out

    def category(self, uid: str | None) -> str:
        return self.by_uid[uid].category if uid in self.by_uid else ""


# --------------------------------------------------------------------------------------------- opening
def opens_case(item: Post, roster: Roster, policy: Any) -> bool:
    """A citizen's post or repost that names a matrix account and is a request under the policy."""
    if item.item_type not in ("post", "repost") or item.user_id in roster.by_uid:
        return False
    if not any(name in roster.by_name for name in (item.mentions or [])):
        return False
    if (item.post_kind or "其他") in policy.open_kinds:
        return True
    # a thank-you must read as one: a post the kind model took for thanks whose tone is not positive is
    # opened anyway (a missed complaint costs more than a spare case the office can mark 无效诉求)
    return item.sentiment_label not in (None, "positive")


def comment_case_parent(session: Session, item: Post, roster: Roster, policy: Any) -> Post | None:
    """The member's own post under which ITEM, a citizen's comment, asks, requests or complains, or None.

    A request in the comments under a member's own post is owed an answer by that member just as a post naming
    it is (policy `[inspection] comment_cases`, on by default): a citizen's top-level comment (not a reply, which
    follows up on an existing exchange) whose kind asks, requests or complains (`comment_kinds`, by default 投诉
    咨询 求助 建议: the chat and thanks under a post are not requests) and opens cases under the policy."""
    inspection = getattr(policy, "inspection", None)
    if item.item_type != "comment" or not item.parent_id or item.reply_to_id or item.user_id in roster.by_uid:
        return None
    if inspection is None or not inspection.comment_cases:
        return None
    kind = item.post_kind or "其他"
    if kind not in inspection.comment_kinds or kind not in policy.open_kinds:
        return None
    parent = session.get(Post, item.parent_id)
    if parent is None or parent.item_type not in ("post", "repost") or not roster.is_member(parent.user_id):
        return None
    return parent


def initial_assignment(item: Post, roster: Roster) -> tuple[str | None, str, list[str]]:
    """(account, status, addressed uids): one member named → that member; else the coordinator routes."""
    addressed = [roster.by_name[n] for n in (item.mentions or []) if n in roster.by_name]
    addressed = list(dict.fromkeys(addressed))
    members = roster.members_named(item.mentions or [])
    if len(members) == 1:
        return members[0], "open", addressed
    return roster.coordinator_uid, "awaiting_forward", addressed


def _event(case: Case, type_: str, at: datetime, policy: Any, **kw: Any) -> CaseEvent:
    opened = as_utc(case.opened_at)
    at = as_utc(at)
    cal = wm = None
    if opened is not None and at is not None and at >= opened:
        cal = policy.calendar_minutes(opened, at)
        wm = policy.working_minutes(opened, at)
    return CaseEvent(
        case_id=case.id, at=at, type=type_, actor=kw.pop("actor", SYSTEM), calendar_minutes=cal,
        working_minutes=wm, policy_version=policy.version, **kw,
    )


def process_items(session: Session, items: Sequence[Post], policy: Any, now: datetime) -> set[int]:
    """Open cases for new requests among ITEMS and refresh every case whose thread they joined.

    Returns the ids of the cases touched. Runs inside the caller's transaction.
    """
    roster = Roster.load(session)
    touched: set[int] = set()
    ordered = sorted(items, key=lambda i: (as_utc(i.created_at), i.id))
    ensure_policy_version(session, policy)
    for item in ordered:
        if opens_case(item, roster, policy):
            case_id = _open_case(session, item, roster, policy)
            if case_id is not None:
                touched.add(case_id)
            continue
        parent = comment_case_parent(session, item, roster, policy)
        if parent is not None:
            touched.add(_open_comment_case(session, item, parent, policy))
            continue
        touched.update(_cases_for_item(session, item, roster))
    if touched:
        evaluate(session, policy, now, case_ids=sorted(touched), roster=roster)
    return touched


def _open_case(session: Session, item: Post, roster: Roster, policy: Any) -> int | None:
    existing = session.scalar(select(Case.id).where(Case.post_id == item.id))
    if existing is not None:
        return existing
    account, status, addressed = initial_assignment(item, roster)
    kind = item.post_kind or "其他"
    if kind not in policy.open_kinds:  # opened although tagged 表扬 (see opens_case): judge it as general
        kind = "其他"
    case = Case(
        post_id=item.id, citizen_uid=item.user_id, citizen_name=item.screen_name or "",
        addressed_uids=addressed, account_uid=account, kind=kind, status=status,
        opened_at=item.created_at, sentiment_label=item.sentiment_label, policy_version=policy.version,
    )
    session.add(case)
    session.flush()
    session.add(_event(case, "opened", item.created_at, policy, post_id=item.id, account_uid=account,
                       detail={"addressed": addressed, "status": status}))
    return case.id


def _open_comment_case(session: Session, item: Post, parent: Post, policy: Any) -> int:
    """A case for a citizen's request in the comments under PARENT, a member's own post: that member owes it."""
    existing = session.scalar(select(Case.id).where(Case.post_id == item.id))
    if existing is not None:
        return existing
    kind = item.post_kind or "其他"
    if kind not in policy.open_kinds:
        kind = "其他"
    case = Case(
        post_id=item.id, citizen_uid=item.user_id, citizen_name=item.screen_name or "",
        addressed_uids=[parent.user_id], account_uid=parent.user_id, kind=kind, status="open",
        opened_at=item.created_at, sentiment_label=item.sentiment_label, policy_version=policy.version,
        origin="comment",
    )
    session.add(case)
    session.flush()
    session.add(_event(case, "opened", item.created_at, policy, post_id=item.id, account_uid=parent.user_id,
                       detail={"addressed": [parent.user_id], "status": "open", "origin": "comment",
                               "under": parent.id}))
    return case.id


def _cases_for_item(session: Session, item: Post, roster: Roster) -> set[int]:
    """Cases whose thread ITEM belongs to: under the case post, a repost of it, or a member post naming the citizen."""
    keys = [k for k in (item.parent_id, item.reposted_id) if k]
    found: set[int] = set()
    if keys:
        found.update(session.scalars(select(Case.id).where(Case.post_id.in_(keys))))
    if item.item_type == "comment" and item.parent_id:
        # comment cases: a reply to the citizen's comment, a member's comment naming the citizen under the same
        # post, or the citizen's own reply there (a follow-up)
        if item.reply_to_id:
            found.update(session.scalars(select(Case.id).where(Case.post_id == item.reply_to_id)))
        under = select(Post.id).where(Post.parent_id == item.parent_id, Post.item_type == "comment")
        conds = [Case.citizen_name.in_(list(item.mentions or []))] if roster.is_member(item.user_id) or \
            roster.is_coordinator(item.user_id) else []
        if item.reply_to_id and item.user_id not in roster.by_uid:
            conds.append(Case.citizen_uid == item.user_id)
        for cond in conds:
            found.update(session.scalars(
                select(Case.id).where(Case.origin == "comment", Case.post_id.in_(under), cond,
                                      Case.opened_at <= item.created_at)))
    if item.item_type == "post" and roster.is_member(item.user_id) and item.mentions:
        rows = session.scalars(
            select(Case.id)
            .where(Case.account_uid == item.user_id, Case.citizen_name.in_(list(item.mentions)),
                   Case.opened_at <= item.created_at, Case.status.not_in(FINAL_STATUSES))
            .order_by(Case.opened_at.desc())
            .limit(1)
        )
        found.update(rows)
    return found


# --------------------------------------------------------------------------------------------- facts
@dataclass
class Facts:
    """What the thread and the office's actions say happened, independent of any deadline."""

    account_uid: str | None
    status: str
    forwarded_at: datetime | None = None
    clock_start: datetime | None = None  # start of the member's first-response clock
    closure_start: datetime | None = None
    first_response_at: datetime | None = None
    first_response_id: str | None = None
    last_response_at: datetime | None = None
    last_citizen_at: datetime | None = None
    closed_at: datetime | None = None
    extension_days: int = 0
    merged_into: int | None = None
    invalid: bool = False
    facts: list[tuple[str, datetime, str | None, str | None, dict]] = field(default_factory=list)


def _is_response(item: Post) -> bool:
    """A comment, a repost with words of its own, or a post: reposts that only say 转发微博 do not count."""
    if item.item_type != "repost":
        return True
    own = (item.text or "").split("//@", 1)[0].strip()
    return bool(own) and own not in ("转发微博", "Repost", "轉發微博")


def _thread_items(session: Session, case: Case, account_uids: set[str]) -> list[Post]:
    if getattr(case, "origin", "mention") == "comment":
        return _comment_thread_items(session, case, account_uids)
    conds = [Post.parent_id == case.post_id, Post.reposted_id == case.post_id]
    if case.citizen_name and account_uids:
        conds.append(
            (Post.item_type == "post") & Post.user_id.in_(account_uids) & (Post.created_at >= case.opened_at)
            & Post.text.contains("@" + case.citizen_name)
        )
    return list(session.scalars(select(Post).where(or_(*conds)).order_by(Post.created_at, Post.id)))


def _comment_thread_items(session: Session, case: Case, account_uids: set[str]) -> list[Post]:
    """The exchange around a comment case: replies to the citizen's comment (reply_id), the matrix accounts'
    comments under the same post naming the citizen, and the citizen's own later replies there (follow-ups)."""
    parent_id = session.scalar(select(Post.parent_id).where(Post.id == case.post_id))
    conds = [(Post.reply_to_id == case.post_id) & (Post.item_type == "comment")]
    if parent_id:
        same = (Post.parent_id == parent_id) & (Post.item_type == "comment") & (Post.created_at >= case.opened_at) \
            & (Post.id != case.post_id)
        if case.citizen_name and account_uids:
            conds.append(same & Post.user_id.in_(account_uids) & Post.text.contains("@" + case.citizen_name))
        if case.citizen_uid:
            conds.append(same & (Post.user_id == case.citizen_uid) & Post.reply_to_id.is_not(None))
    return list(session.scalars(select(Post).where(or_(*conds)).order_by(Post.created_at, Post.id)))


def derive_facts(case: Case, post: Post | None, items: Sequence[Post], office: Sequence[CaseEvent],
                 roster: Roster, policy: Any) -> Facts:
    """Replay the thread and the office's events in time order."""
    if getattr(case, "origin", "mention") == "comment":  # the member under whose post the citizen asked
        initial_account, initial_status = (list(case.addressed_uids or []) or [case.account_uid])[0], "open"
    else:
        initial_account, initial_status, _ = (
            initial_assignment(post, roster) if post is not None else (case.account_uid, case.status, [])
        )
    f = Facts(account_uid=initial_account, status=initial_status)
    opened = as_utc(case.opened_at)
    f.clock_start = opened if initial_status == "open" else None
    f.closure_start = opened
    closing = tuple(policy.closing_phrases)
    timeline: list[tuple[datetime, int, Any]] = [(as_utc(i.created_at), 0, i) for i in items]
    timeline += [(as_utc(e.at), 1, e) for e in office]
    timeline.sort(key=lambda t: (t[0], t[1]))
    for at, _, entry in timeline:
        if f.merged_into is not None and not (isinstance(entry, CaseEvent) and entry.type == "reopened"):
            continue
        if isinstance(entry, CaseEvent):
            _apply_office(f, entry, at, roster)
            continue
        item: Post = entry
        author = item.user_id
        if author == case.citizen_uid:
            if item.item_type == "comment" and f.first_response_at is not None and (
                f.last_response_at is None or at >= f.last_response_at
            ):
                f.last_citizen_at = at
                f.facts.append(("citizen_followup", at, item.id, author, {}))
            continue
        if roster.is_coordinator(author):
            named = [u for u in roster.members_named(item.mentions or []) if u != case.citizen_uid]
            if named and item.user_id != named[0]:
                if named[0] != f.account_uid or f.forwarded_at is None:
                    f.account_uid = named[0]
                    f.forwarded_at = at
                    f.clock_start = at
                    if f.status in ("awaiting_forward", "open"):
                        f.status = "open"
                    f.facts.append(("forwarded", at, item.id, named[0], {"by": author}))
                continue
        if author is None or author != f.account_uid or not _is_response(item):
            continue
        if f.closed_at is not None and f.status == "closed":
            continue
        kind = "first_response" if f.first_response_at is None else "reply"
        if f.first_response_at is None:
            f.first_response_at, f.first_response_id = at, item.id
            if f.status in ("open", "awaiting_forward"):
                f.status = "responded"
        f.last_response_at = at
        f.facts.append((kind, at, item.id, author, {}))
        if f.last_citizen_at is not None and f.last_citizen_at <= at:
            f.last_citizen_at = None
        if closing and any(p in (item.text or "") for p in closing):
            f.closed_at = at
            f.status = "closed"
            f.facts.append(("closed", at, item.id, author, {"by": "reply"}))
    if f.invalid:
        f.status = "invalid"
    if f.merged_into is not None:
        f.status = "merged"
    return f


def _apply_office(f: Facts, e: CaseEvent, at: datetime, roster: Roster) -> None:
    d = e.detail or {}
    t = e.type
    if t == "reassigned" and d.get("to"):
        f.account_uid = str(d["to"])
        if not roster.is_coordinator(f.account_uid):
            f.forwarded_at = f.forwarded_at or at
            f.clock_start = at
            if f.first_response_at is None and f.status in ("awaiting_forward", "open"):
                f.status = "open"
        else:
            f.status = "awaiting_forward" if f.first_response_at is None else f.status
    elif t == "merged":
        f.merged_into = int(d["into"]) if d.get("into") is not None else None
    elif t == "invalid":
        f.invalid = True
    elif t == "extension_granted":
        f.extension_days += int(d.get("days", 0))
    elif t == "closed":
        f.closed_at = at
        f.status = "closed"
    elif t == "reopened":
        f.closed_at = None
        f.invalid = False
        f.merged_into = None
        f.status = "responded" if f.first_response_at is not None else (
            "open" if not roster.is_coordinator(f.account_uid) else "awaiting_forward")
    elif t == "rework":
        f.closed_at = None
        f.first_response_at = None
        f.first_response_id = None
        f.last_response_at = None
        f.clock_start = at
        f.closure_start = at
        f.status = "open" if not roster.is_coordinator(f.account_uid) else "awaiting_forward"


def refresh_case(session: Session, case: Case, policy: Any, roster: Roster) -> None:
    """Re-derive CASE's facts and record any new fact events (append-only; keyed by type and post)."""
    post = session.get(Post, case.post_id)
    items = _thread_items(session, case, set(roster.by_uid) - {case.citizen_uid or ""})
    office = list(session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.type.in_(OFFICE_EVENT_TYPES),
                                CaseEvent.actor != SYSTEM).order_by(CaseEvent.at, CaseEvent.id)
    ))
    f = derive_facts(case, post, items, office, roster, policy)
    case.account_uid = f.account_uid
    case.status = f.status
    case.forwarded_at = f.forwarded_at
    case.first_response_at = f.first_response_at
    case.first_response_id = f.first_response_id
    case.last_response_at = f.last_response_at
    case.last_citizen_at = f.last_citizen_at
    case.closed_at = f.closed_at
    case.extension_working_days = f.extension_days
    case.merged_into = f.merged_into
    if post is not None and post.sentiment_label:
        case.sentiment_label = post.sentiment_label
    if f.first_response_at is not None and f.clock_start is not None:
        case.first_response_calendar_minutes = policy.calendar_minutes(f.clock_start, f.first_response_at)
        case.first_response_working_minutes = policy.working_minutes(f.clock_start, f.first_response_at)
    else:
        case.first_response_calendar_minutes = case.first_response_working_minutes = None
    seen = {
        (t, p) for t, p in session.execute(
            select(CaseEvent.type, CaseEvent.post_id).where(CaseEvent.case_id == case.id,
                                                            CaseEvent.type.in_(FACT_TYPES))
        )
    }
    for type_, at, post_id, account, detail in f.facts:
        if (type_, post_id) in seen:
            continue
        seen.add((type_, post_id))
        session.add(_event(case, type_, at, policy, post_id=post_id, account_uid=account, detail=detail))
    case.response_clock_at = f.clock_start
    case.closure_clock_at = f.closure_start


# --------------------------------------------------------------------------------------------- the clock
@dataclass
class ClockResult:
    forward_due: datetime | None
    first_response_due: datetime | None
    next_reply_due: datetime | None
    closure_due: datetime | None
    level: str
    deadline: str
    due: datetime | None
    overdue_since: datetime | None
    provisional: tuple[str, ...] = ()  # deadlines counted across a provisional calendar day
    pending: dict[str, str] = field(default_factory=dict)  # 时限待定: deadline -> why it cannot be counted


class Levels(list):
    """Level names from lowest to highest, with a constant-time rank (unknown names rank 0)."""

    def __init__(self, names: Sequence[str]):
        super().__init__(names)
        self._rank = {name: i for i, name in enumerate(names)}

    def rank(self, level: str) -> int:
        return self._rank.get(level, 0)


def level_order(policy: Any) -> Levels:
    escalations = [getattr(x, "name", x) for x in getattr(policy, "escalation_levels", [])]
    return Levels(["", "warning", "overdue", *[e for e in escalations if e not in ("", "warning", "overdue")]])


def clock(policy: Any, roster_category: str, kind: str, status: str, opened_at: datetime,
          forwarded_at: datetime | None, clock_start: datetime | None, closure_start: datetime | None,
          first_response_at: datetime | None, last_response_at: datetime | None,
          last_citizen_at: datetime | None, extension_days: int, now: datetime,
          order: Levels) -> ClockResult:
    """Due dates and the current level of one case (datetimes in and out); see `clock_lus`."""
    cal = policy.calendar

    def x(t: datetime | None) -> int | None:
        return None if t is None else cal.lus(t)

    def t(v: int | None) -> datetime | None:
        return None if v is None else cal.from_lus(v)

    r = clock_lus(policy, policy.limits(kind, roster_category), status, x(opened_at), x(forwarded_at),
                  x(clock_start), x(closure_start), x(last_response_at), x(last_citizen_at), extension_days,
                  x(now), order)
    return ClockResult(t(r[0]), t(r[1]), t(r[2]), t(r[3]), r[4], r[5], t(r[6]), t(r[7]), r[8], r[9])


def clock_lus(policy: Any, limits: Any, status: str, xo: int, xf: int | None, xcs: int | None, xcl: int | None,
              xlr: int | None, xlc: int | None, ext: int, xn: int, order: Levels) -> tuple:
    """The clock of one case on local microseconds (`WorkingCalendar.lus`): pure and fast, for bulk sweeps.

    Returns (forward_due, first_response_due, next_reply_due, closure_due, level, deadline, due, since,
    provisional, pending): `provisional` names the deadlines counted across a provisional calendar day
    (a year whose notice is not known yet), `pending` maps each deadline that could not be counted at all
    (时限待定) to the reason. Each clock is counted on its own, so one never blocks another.
    Which deadlines count depends on the status: the coordinator's forwarding while it holds the case,
    the member's first response while none is given, the next reply after a citizen's follow-up, and
    closure until the case is closed. The level is the highest reached among them.
    """
    cal = policy.calendar
    pending: dict[str, str] = {}
    provisional: list[str] = []

    def counted(name: str, start: int, limit: Any, ext: int = 0) -> int | None:
        """One clock on its own: a calendar it cannot be counted on leaves it 时限待定 with the reason."""
        try:
            x = policy.deadline_lus(start, limit, ext)
        except CalendarError as exc:
            pending[name] = str(exc)
            return None
        if cal.provisional_lus(start, x):
            provisional.append(name)
        return x

    fwd = first = nxt = clo = None
    if limits.forward is not None and (status == "awaiting_forward" or xf is not None):
        fwd = counted("forward", xo, limits.forward)
    if limits.first_response is not None and xcs is not None:
        first = counted("first_response", xcs, limits.first_response)
    if limits.closure is not None:
        clo = counted("closure", xcl if xcl is not None else xo, limits.closure, ext)
    if limits.next_reply is not None and xlc is not None and (xlr is None or xlr < xlc):
        nxt = counted("next_reply", xlc, limits.next_reply)
    active = []
    if status == "awaiting_forward" and fwd is not None:
        active.append(("forward", fwd, xo, limits.forward.basis))
    if status == "open" and first is not None:
        active.append(("first_response", first, xcs if xcs is not None else xo, limits.first_response.basis))
    if status in ("open", "responded", "awaiting_forward") and clo is not None:
        active.append(("closure", clo, xcl if xcl is not None else xo, limits.closure.basis))
    if status == "responded" and nxt is not None:
        active.append(("next_reply", nxt, xlc, limits.next_reply.basis))
    best, best_rank, which, due, since = "", 0, "", None, None
    for name, xd, xs, basis in active:
        try:
            lvl = policy.level_lus(xd, xn, xs, basis)
        except CalendarError as exc:  # the deadline is known, a warning or escalation point is not
            pending.setdefault(name, str(exc))
            lvl = "overdue" if xd <= xn else ""
        rank = order.rank(lvl)
        if xd <= xn and (since is None or xd < since):
            since = xd
        if rank > best_rank or (rank == best_rank and rank > 0 and due is not None and xd < due):
            best, best_rank, which, due = lvl, rank, name, xd
    return fwd, first, nxt, clo, best, which, due, since, tuple(provisional), pending


def _safe_clock(*args: Any) -> ClockResult | None:
    """The clock, or None when the working calendar does not know a year a deadline falls in.

    The case keeps its last judgement and the error is logged (once per message): the office must add
    that year's holidays and 调休 days to the policy file; nothing else stops.
    """
    try:
        return clock(*args)
    except Exception as exc:  # noqa: BLE001 - only CalendarError is swallowed (see _calendar_problem)
        _calendar_problem(exc)
        return None


def _pending_json(pending: dict[str, str]) -> str | None:
    """The stored form of the 时限待定 deadlines (NULL when every deadline could be counted)."""
    return json.dumps(pending, ensure_ascii=False, sort_keys=True) if pending else None


def _calendar_problem(exc: Exception) -> None:
    from matrix.workcal import CalendarError

    if not isinstance(exc, CalendarError):
        raise exc
    msg = str(exc)
    if msg not in _calendar_warned:
        _calendar_warned.add(msg)
        log.error("cannot judge some cases: %s", msg)


_calendar_warned: set[str] = set()


def _apply_clock(session: Session, case: Case, res: ClockResult, policy: Any, now: datetime,
                 order: Levels) -> None:
    """Store due dates and level; write level events when a case moves up (observed now, never back-dated)."""
    case.forward_due = res.forward_due
    case.first_response_due = res.first_response_due
    case.next_reply_due = res.next_reply_due
    case.closure_due = res.closure_due
    case.provisional_dues = ",".join(res.provisional)
    case.pending_dues = _pending_json(res.pending)
    if res.pending:
        _calendar_problem(CalendarError(next(iter(res.pending.values()))))
    old = case.overdue_level or ""
    case.overdue = order.rank(res.level) >= order.rank("overdue")
    case.overdue_since = res.overdue_since if case.overdue else None
    case.policy_version = policy.version
    case.evaluated_at = now
    case.overdue_level = res.level
    case.overdue_deadline = res.deadline
    _level_events(session, case, old, res, policy, now, order)


def _level_events(session: Session, case: Case, old: str, res: ClockResult, policy: Any, now: datetime,
                  order: Levels) -> None:
    """Events (and their alerts, same transaction) for a level reached now; a jump past `overdue` records it too."""
    old_rank, new_rank, overdue_rank = order.rank(old), order.rank(res.level), order.rank("overdue")
    if new_rank <= old_rank:
        return
    from matrix.alerts.outbox import enqueue_for_event

    detail = {"level": res.level, "deadline": res.deadline,
              "due": res.due.isoformat() if res.due else None, "previous": old}
    types = []
    if old_rank < overdue_rank < new_rank:
        types.append(("overdue", {**detail, "level": "overdue"}))
    types.append(({"warning": "warning", "overdue": "overdue"}.get(res.level, "escalated"), detail))
    for type_, det in types:
        ev = _event(case, type_, now, policy, account_uid=case.account_uid, detail=det)
        session.add(ev)
        session.flush()
        enqueue_for_event(session, case, ev)


def evaluate(session: Session, policy: Any, now: datetime, case_ids: Sequence[int] | None = None,
             roster: Roster | None = None) -> int:
    """Refresh facts (for CASE_IDS) and run the clock; all non-final cases when CASE_IDS is None.

    Returns how many cases were evaluated. Runs in the caller's transaction.
    """
    now = as_utc(now)
    roster = roster or Roster.load(session)
    ensure_policy_version(session, policy)
    order = level_order(policy)
    q = select(Case)
    if case_ids is not None:
        q = q.where(Case.id.in_(list(case_ids)))
    else:
        q = q.where(Case.status.not_in(FINAL_STATUSES))
    n = 0
    for case in session.scalars(q).all():
        refresh_case(session, case, policy, roster)
        res = _safe_clock(policy, roster.category(case.account_uid), case.kind, case.status, case.opened_at,
                    case.forwarded_at, case.response_clock_at, case.closure_clock_at,
                    case.first_response_at, case.last_response_at, case.last_citizen_at,
                    case.extension_working_days, now, order)
        if res is not None:
            _apply_clock(session, case, res, policy, now, order)
        n += 1
    session.flush()
    return n


@dataclass
class RecomputeResult:
    cases: int
    changed: int
    seconds: float
    policy_version: str


_SWEEP_COLUMNS = ("id", "kind", "status", "account_uid", "opened_at", "forwarded_at", "response_clock_at",
                  "closure_clock_at", "last_response_at", "last_citizen_at", "extension_working_days",
                  "forward_due", "first_response_due", "next_reply_due", "closure_due", "overdue_level",
                  "policy_version", "provisional_dues", "pending_dues")
_EPOCH_DAY = date(1970, 1, 1)
_DUE_COLUMNS = ("forward_due", "first_response_due", "next_reply_due", "closure_due")
_DB_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how UTCDateTime values are stored (SQLite text; PostgreSQL casts it)


def sweep(session: Session, policy: Any, now: datetime, *, record: bool = False,
          reason: str | None = None) -> RecomputeResult:
    """Run the clock over every non-final case on plain rows with bulk writes (facts are not re-derived).

    Level rises get their events and alerts. With RECORD (an explicit recomputation after a policy change),
    every case whose due dates change also gets a `recomputed` event holding before and after (REASON
    names why, e.g. an imported calendar notice; by default the policy versions).
    Works on integer local microseconds end to end, so 100,000 open cases take seconds, not minutes.
    """
    t0 = time.perf_counter()
    now = as_utc(now)
    ensure_policy_version(session, policy)
    roster = Roster.load(session)
    order = level_order(policy)
    overdue_rank = order.rank("overdue")
    cal = policy.calendar
    off = cal.lus(datetime(1970, 1, 1, tzinfo=timezone.utc))  # local minus UTC, in µs
    epoch = datetime(1970, 1, 1)
    xn = cal.lus(now)
    now_db = now.replace(tzinfo=None).strftime(_DB_TIME)

    parsed: dict[Any, int] = {}
    shown: dict[int, str] = {}
    isos: dict[int, str] = {}

    def xs(v: Any) -> int | None:  # stored value -> local µs (due dates repeat: cache)
        if v is None:
            return None
        x = parsed.get(v)
        if x is None:
            x = parsed[v] = cal.lus(datetime.fromisoformat(v) if isinstance(v, str) else v)
        return x

    def db(x: int | None) -> str | None:  # local µs -> stored text
        if x is None:
            return None
        v = shown.get(x)
        if v is None:
            v = shown[x] = (epoch + timedelta(microseconds=x - off)).strftime(_DB_TIME)
        return v

    def iso(x: int | None) -> str:  # local µs -> JSON string of its ISO time (or null)
        if x is None:
            return "null"
        v = isos.get(x)
        if v is None:
            v = isos[x] = f'"{cal.from_lus(x).isoformat()}"'
        return v

    judged: dict[tuple, str] = {}

    def dues_json(xs_: Sequence[int | None], level: str, prov: str, pending: str | None) -> str:
        """{"forward_due": ..., ..., "level": ..., "provisional": ..., "pending": ...}: written directly and
        cached, since most cases share their due dates (close of business) and 100,000 json.dumps calls
        cost seconds."""
        key = (*xs_, level, prov, pending)
        v = judged.get(key)
        if v is None:
            body = ", ".join(f'"{c}": {iso(x)}' for c, x in zip(_DUE_COLUMNS, xs_))
            v = judged[key] = (f'{{{body}, "level": {json.dumps(level, ensure_ascii=False)}, '
                               f'"provisional": {json.dumps(prov)}, "pending": {pending or "null"}}}')
        return v

    table = Case.__table__
    cols = [type_coerce(table.c[c], String) if c.endswith(("_at", "_due")) else table.c[c] for c in _SWEEP_COLUMNS]
    rows = session.execute(select(*cols).where(table.c.status.not_in(FINAL_STATUSES))).all()
    limits_cache: dict[tuple[str, str], Any] = {}
    updates: list[dict] = []
    events: list[dict] = []
    opened_days: set[int] = set()  # local days (since 1970-01-01) of the updated cases, for the rollup
    rising: list[tuple[int, str, ClockResult]] = []
    for (cid, kind, status, account, o, f, cs, cl, lr, lc, ext, *old, old_level, version, old_prov,
         old_pending) in rows:
        key = (kind, roster.category(account))
        limits = limits_cache.get(key)
        if limits is None:
            limits = limits_cache[key] = policy.limits(*key)
        try:
            r = clock_lus(policy, limits, status, xs(o), xs(f), xs(cs), xs(cl), xs(lr), xs(lc), ext or 0, xn, order)
        except Exception as exc:  # noqa: BLE001 - CalendarError: keep this case's last judgement
            _calendar_problem(exc)
            continue
        old_x = [xs(v) for v in old]
        old_level = old_level or ""
        new_rank = order.rank(r[4])
        if new_rank > order.rank(old_level):
            rising.append((cid, old_level, ClockResult(*(cal.from_lus(v) if v is not None else None for v in r[:4]),
                                                       r[4], r[5], cal.from_lus(r[6]) if r[6] is not None else None,
                                                       cal.from_lus(r[7]) if r[7] is not None else None)))
        prov, pending = ",".join(r[8]), _pending_json(r[9])
        if r[9]:
            _calendar_problem(CalendarError(next(iter(r[9].values()))))
        dues_changed = list(r[:4]) != old_x or prov != (old_prov or "") or pending != old_pending
        if not dues_changed and r[4] == old_level and version == policy.version:
            continue
        overdue = new_rank >= overdue_rank
        updates.append((db(r[0]), db(r[1]), db(r[2]), db(r[3]), r[4], overdue, r[5], db(r[7]) if overdue else None,
                        policy.version, now_db, prov, pending, cid))
        opened_days.add(xs(o) // _US_PER_DAY)
        if record and (dues_changed or version != policy.version):
            before = dues_json(old_x, old_level, old_prov or "", old_pending)
            after = dues_json(r[:4], r[4], prov, pending)
            events.append((cid, now_db, now_db, "recomputed", SYSTEM, None, account,
                           reason or f"policy {version or '-'} -> {policy.version}",
                           f'{{"before": {before}, "after": {after}}}', policy.version))
    days = [_EPOCH_DAY + timedelta(days=d) for d in opened_days]
    with rollup.bulk_case_update(session.connection(), days, len(updates)):
        _executemany(session, "UPDATE cases SET forward_due = ?, first_response_due = ?, next_reply_due = ?, "
                     "closure_due = ?, overdue_level = ?, overdue = ?, overdue_deadline = ?, overdue_since = ?, "
                     "policy_version = ?, evaluated_at = ?, provisional_dues = ?, pending_dues = ? WHERE id = ?",
                     updates)
    _executemany(session, "INSERT INTO case_events (case_id, at, recorded_at, type, actor, post_id, account_uid, "
                 "reason, detail, policy_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", events)
    if rising:
        session.expire_all()  # the bulk UPDATE bypassed the identity map
        for case_id, old_level, res in rising:
            case = session.get(Case, case_id)
            _level_events(session, case, old_level, res, policy, now, order)
    session.flush()
    return RecomputeResult(len(rows), len(updates), time.perf_counter() - t0, policy.version)


def _executemany(session: Session, sql: str, rows: list[tuple]) -> None:
    """Many rows through the driver itself, inside the session's transaction (SQLAlchemy's per-row
    parameter handling costs more than the database does at this volume). SQL is written with `?`."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


def recompute(session: Session, policy: Any, now: datetime, reason: str | None = None) -> RecomputeResult:
    """Explicitly re-judge every non-final case under POLICY, recording a `recomputed` event per change."""
    return sweep(session, policy, now, record=True, reason=reason)


def ensure_policy_version(session: Session, policy: Any) -> None:
    """Keep the policy text each case was judged by (once per version)."""
    cache = session.info.setdefault("policy_versions", set())
    if policy.version in cache:
        return
    existing = session.get(PolicyVersion, policy.version)
    if existing is None:
        session.add(PolicyVersion(version=policy.version, sha256=policy.sha256, body=policy.text,
                                  source=str(getattr(policy, "path", "") or "")))
        session.flush()
    elif existing.sha256 != policy.sha256:
        raise ValueError(
            f"policy version {policy.version!r} is already recorded with different content; "
            "give the changed policy file a new `version`"
        )
    cache.add(policy.version)
