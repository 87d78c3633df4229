"""The case engine: which posts need an answer, who owes it, by when, and whether they made it.

A case's facts are derived, not accumulated: `refresh_case` replays the items of its thread (comments,
reposts, the member's posts naming the citizen) together with the office's events, in time order. So
items that arrive out of order (a reply crawled before the forwarding that preceded it) or office
actions taken later give the same answer as if everything had been seen live.
The clock (`evaluate`/`recompute`) then turns those facts into due dates and levels under a policy.
Breaches are never back-dated: a level event is stamped when it is observed, with the due in its detail.
"""
from __future__ import annotations

import functools
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, Iterable, Sequence

from sqlalchemy import String, bindparam, inspect, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from matrix.rules.workcal import _US_PER_DAY, CalendarError
from matrix.storage import rollup
from matrix.storage.bulkwrite import COPY_MIN, bulk_executemany, bulk_insert
from matrix.storage.db import chunks
from matrix.storage.models import Account, Case, CaseEvent, PolicyVersion, Post, utc_text
from matrix.timeutil import as_utc, utcnow

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


def initial_assignment(item: Post, roster: Roster) -> tuple[str | None, str, list[str]]:
    """(account, status, addressed uids): one member named → that member; else the coordinator routes."""
    addressed = [roster.by_name[n] for n in (item.mentions or []) if n in roster.by_name]
    addressed = list(dict.fromkeys(addressed))
    members = roster.members_named(item.mentions or [])
    if len(members) == 1:
        return members[0], "open", addressed
    return roster.coordinator_uid, "awaiting_forward", addressed


def _event(case: Case, type_: str, at: datetime, policy: Any, **kw: Any) -> CaseEvent:
    """An event of CASE as an ORM object (added by the caller), with its minutes since the case opened."""
    return CaseEvent(**_event_values(case, type_, at, policy, **kw))


def _event_values(case: Case, type_: str, at: datetime, policy: Any, **kw: Any) -> dict[str, Any]:
    opened = as_utc(case.opened_at)
    at = as_utc(at)
    cal = wm = None
    if opened is not None and at is not None and at >= opened:
        cal = policy.calendar_minutes(opened, at)
        wm = policy.working_minutes(opened, at)
    return dict(case_id=case.id, at=at, type=type_, actor=kw.pop("actor", SYSTEM), calendar_minutes=cal,
                working_minutes=wm, policy_version=policy.version, **kw)


@dataclass
class EventRow:
    """A system event written in bulk (`_write_events`), standing in for its row where alerts are composed."""

    case_id: int
    at: datetime
    type: str
    actor: str = SYSTEM
    post_id: str | None = None
    account_uid: str | None = None
    reason: str = ""
    detail: dict = field(default_factory=dict)
    calendar_minutes: int | None = None
    working_minutes: int | None = None
    policy_version: str = ""
    id: int | None = None


_EVENT_COLUMNS = ("case_id", "at", "type", "actor", "post_id", "account_uid", "reason", "detail", "calendar_minutes",
                  "working_minutes", "policy_version")


def _add_event(session: Session, case: Case, type_: str, at: datetime, policy: Any, **kw: Any) -> EventRow:
    """Queue a system event of CASE for the next `_write_events` (events are only appended, never read back
    in the same step, so thousands go to the database in one statement)."""
    ev = EventRow(**_event_values(case, type_, at, policy, **kw))
    session.info.setdefault("wzmon_events", []).append(ev)
    return ev


def _write_events(session: Session) -> None:
    """Insert the queued events (see `_add_event`) in one executemany, in the order they were queued."""
    queued = session.info.pop("wzmon_events", None)
    if not queued:
        return
    session.flush()  # their cases first
    recorded = utcnow()
    rows = [{**{c: getattr(e, c) for c in _EVENT_COLUMNS}, "recorded_at": recorded} for e in queued]
    if len(rows) >= COPY_MIN:
        bulk_insert(session, CaseEvent.__table__, rows)
    else:
        session.connection().execute(CaseEvent.__table__.insert(), rows)


def process_items(session: Session, items: Sequence[Post], policy: Any, now: datetime) -> set[int]:
    """Open cases for new requests among ITEMS and refresh every case whose thread they joined.

    Works set-wise (one query per kind of lookup, whatever the number of items) and replays the items in
    time order, so a page of one item and an archive batch of thousands give the same cases.
    Returns the ids of the cases touched. Runs inside the caller's transaction.
    """
    roster = Roster.load(session)
    ordered = sorted(items, key=lambda i: (as_utc(i.created_at), i.id))
    ensure_policy_version(session, policy)
    openers = [i for i in ordered if opens_case(i, roster, policy)]
    touched = set(_open_cases(session, openers, roster, policy).values())
    opener_ids = {i.id for i in openers}
    rest = [i for i in ordered if i.id not in opener_ids]
    parents = _comment_case_parents(session, rest, roster, policy)
    touched.update(_open_comment_cases(session, [i for i in rest if i.id in parents], parents, policy).values())
    touched.update(_cases_for_items(session, [i for i in rest if i.id not in parents], roster))
    if touched:
        evaluate(session, policy, now, case_ids=sorted(touched), roster=roster)
    return touched


def _open_cases(session: Session, items: Sequence[Post], roster: Roster, policy: Any) -> dict[str, int]:
    """Case ids of ITEMS (in time order), opening the cases that do not exist yet; {post id: case id}."""
    ids = list(dict.fromkeys(i.id for i in items))
    found: dict[str, int] = {}
    for chunk in chunks(ids):
        found.update((p, c) for p, c in session.execute(select(Case.post_id, Case.id).where(Case.post_id.in_(chunk))))
    specs: list[tuple[dict[str, Any], Post, dict]] = []
    for item in items:
        if item.id in found:
            continue
        account, status, addressed = initial_assignment(item, roster)
        kind = item.post_kind or "其他"
        if kind not in policy.open_kinds:  # opened although tagged 表扬 (see opens_case): judge it as general
            kind = "其他"
        specs.append((dict(
            post_id=item.id, citizen_uid=item.user_id, citizen_name=item.screen_name or "",
            addressed_uids=addressed, account_uid=account, kind=kind, status=status,
            opened_at=item.created_at, sentiment_label=item.sentiment_label, policy_version=policy.version,
        ), item, {"addressed": addressed, "status": status}))
        found[item.id] = -1
    found.update(_insert_cases(session, specs, policy))
    return found


def _insert_cases(session: Session, specs: Sequence[tuple[dict[str, Any], Post, dict]], policy: Any) -> dict[str, int]:
    """Insert the cases (ROW, opening POST, DETAIL of its `opened` event) in one statement (the session would send
    one INSERT per case to learn each id) and queue their `opened` events; {post id: case id}. Evaluation reads
    the cases afresh by id."""
    if not specs:
        return {}
    t = Case.__table__
    rows = [row for row, _, _ in specs]
    if len(rows) >= COPY_MIN and session.get_bind().dialect.name in ("postgresql", "sqlite"):
        # on SQLite after the batch's posts (the write lock is held), their days marked once
        with rollup.trigger_set_aside(session.connection(), "rollup_cases_ins",
                                      rollup.utc_days(r["opened_at"] for r in rows), len(rows)):
            ids = bulk_insert(session, t, rows, ids=True)
    else:
        ids = session.connection().execute(t.insert().returning(t.c.id, sort_by_parameter_order=True),
                                           rows).scalars().all()
    out = {}
    for case_id, (row, p, detail) in zip(ids, specs):
        _add_event(session, SimpleNamespace(id=case_id, **row), "opened", p.created_at, policy, post_id=p.id,
                   account_uid=row["account_uid"], detail=detail)
        out[p.id] = case_id
    _write_events(session)
    return out


def _comment_case_parents(session: Session, items: Sequence[Post], roster: Roster, policy: Any) -> dict[str, Any]:
    """{comment id: the member's own post under which it asks, requests or complains}, one query for ITEMS.

    A request in the comments under a member's own post is owed an answer by that member just as a post naming
    it is (policy `[inspection] comment_cases`, on by default): a citizen's top-level comment (not a reply, which
    follows up on an existing exchange) whose kind asks, requests or complains (`comment_kinds`, by default 投诉
    咨询 求助 建议: the chat and thanks under a post are not requests) and opens cases under the policy."""
    inspection = getattr(policy, "inspection", None)
    if inspection is None or not inspection.comment_cases:
        return {}
    cands = [i for i in items if i.item_type == "comment" and i.parent_id and not i.reply_to_id
             and i.user_id not in roster.by_uid and (i.post_kind or "其他") in inspection.comment_kinds
             and (i.post_kind or "其他") in policy.open_kinds]
    parents: dict[str, Any] = {}
    for chunk in chunks(sorted({i.parent_id for i in cands})):
        parents.update((p.id, p) for p in session.execute(
            select(Post.id, Post.item_type, Post.user_id).where(Post.id.in_(chunk))))
    out = {}
    for i in cands:
        parent = parents.get(i.parent_id)
        if parent is not None and parent.item_type in ("post", "repost") and roster.is_member(parent.user_id):
            out[i.id] = parent
    return out


def _open_comment_cases(session: Session, items: Sequence[Post], parents: dict[str, Any],
                        policy: Any) -> dict[str, int]:
    """Cases for citizens' requests in the comments under members' own posts (PARENTS): that member owes each."""
    found: dict[str, int] = {}
    for chunk in chunks(list(dict.fromkeys(i.id for i in items))):
        found.update((p, c) for p, c in session.execute(select(Case.post_id, Case.id).where(Case.post_id.in_(chunk))))
    specs: list[tuple[dict[str, Any], Post, dict]] = []
    for item in items:
        if item.id in found:
            continue
        parent = parents[item.id]
        kind = item.post_kind or "其他"
        if kind not in policy.open_kinds:
            kind = "其他"
        specs.append((dict(
            post_id=item.id, citizen_uid=item.user_id, citizen_name=item.screen_name or "",
            addressed_uids=[parent.user_id], account_uid=parent.user_id, kind=kind, status="open",
            opened_at=item.created_at, sentiment_label=item.sentiment_label, policy_version=policy.version,
            origin="comment",
        ), item, {"addressed": [parent.user_id], "status": "open", "origin": "comment", "under": parent.id}))
        found[item.id] = -1
    found.update(_insert_cases(session, specs, policy))
    return found


def _comment_cases_for_items(session: Session, items: Sequence[Post], roster: Roster) -> set[int]:
    """Comment cases ITEMS join: a reply to the citizen's comment, a matrix account's comment naming the citizen
    under the same post, or the citizen's own reply there (a follow-up); one query per kind of lookup."""
    comments = [i for i in items if i.item_type == "comment" and i.parent_id]
    found: set[int] = set()
    replies = sorted({i.reply_to_id for i in comments if i.reply_to_id})
    for chunk in chunks(replies):
        found.update(session.scalars(select(Case.id).where(Case.post_id.in_(chunk))))
    asking = [i for i in comments if ((roster.is_member(i.user_id) or roster.is_coordinator(i.user_id)) and i.mentions)
              or (i.reply_to_id and i.user_id not in roster.by_uid)]
    under: dict[str, list[tuple[int, str, str | None, datetime]]] = {}
    for chunk in chunks(sorted({i.parent_id for i in asking})):
        rows = session.execute(
            select(Post.parent_id, Case.id, Case.citizen_name, Case.citizen_uid, Case.opened_at)
            .join(Post, Post.id == Case.post_id)
            .where(Case.origin == "comment", Post.parent_id.in_(chunk), Post.item_type == "comment"))
        for parent_id, cid, name, uid, opened in rows:
            under.setdefault(parent_id, []).append((cid, name, uid, as_utc(opened)))
    for i in asking:
        at = as_utc(i.created_at)
        named = set(i.mentions or []) if roster.is_member(i.user_id) or roster.is_coordinator(i.user_id) else set()
        own = i.user_id if i.reply_to_id and i.user_id not in roster.by_uid else None
        for cid, name, uid, opened in under.get(i.parent_id, ()):
            if opened <= at and (name in named or (own is not None and uid == own)):
                found.add(cid)
    return found


def _cases_for_items(session: Session, items: Sequence[Post], roster: Roster) -> set[int]:
    """Cases whose thread ITEMS join: under the case post, a repost of it, or a member post naming the citizen
    (the latest open case of that member and citizen opened before the post)."""
    keys = {k for i in items for k in (i.parent_id, i.reposted_id) if k}
    found: set[int] = set()
    for chunk in chunks(sorted(keys)):
        found.update(session.scalars(select(Case.id).where(Case.post_id.in_(chunk))))
    found.update(_comment_cases_for_items(session, items, roster))
    naming = [i for i in items if i.item_type == "post" and roster.is_member(i.user_id) and i.mentions]
    if naming:
        pairs = {(i.user_id, n) for i in naming for n in i.mentions}
        candidates: dict[tuple[str, str], list[tuple[datetime, int]]] = {}
        for chunk in chunks(sorted({u for u, _ in pairs})):
            rows = session.execute(
                select(Case.account_uid, Case.citizen_name, Case.opened_at, Case.id)
                .where(Case.account_uid.in_(chunk), Case.citizen_name.in_(sorted({n for _, n in pairs})),
                       Case.status.not_in(FINAL_STATUSES))
            )
            for uid, name, opened, cid in rows:
                if (uid, name) in pairs:
                    candidates.setdefault((uid, name), []).append((as_utc(opened), cid))
        for item in naming:
            at = as_utc(item.created_at)
            best: tuple[datetime, int] | None = None
            for name in dict.fromkeys(item.mentions):
                for opened, cid in candidates.get((item.user_id, name), ()):
                    if opened <= at and (best is None or opened > best[0] or (opened == best[0] and cid > best[1])):
                        best = (opened, cid)
            if best is not None:
                found.add(best[1])
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


def _named_in(text: str, names: dict[str, Any], lengths: Sequence[int]) -> list[str]:
    """The NAMES that TEXT contains as "@name" (exact substrings, as `"@" + name in text`), found from each "@"
    by the lengths names have, not by trying every name."""
    out: list[str] = []
    at = text.find("@")
    while at >= 0:
        for n in lengths:
            cand = text[at + 1:at + 1 + n]
            if len(cand) == n and cand in names and cand not in out:
                out.append(cand)
        at = text.find("@", at + 1)
    return out


# what deriving a case's facts reads of a post: read as plain rows, not as session objects (a batch reads thousands)
_THREAD_COLUMNS = (Post.id, Post.item_type, Post.user_id, Post.screen_name, Post.text, Post.mentions, Post.created_at,
                   Post.parent_id, Post.reposted_id, Post.sentiment_label)


@dataclass
class Threads:
    """Everything `refresh_case` reads, for many cases at once: each case's post, its thread items in time
    order, the office's events and the fact events already recorded (one query per kind, in chunks)."""

    posts: dict[str, Post] = field(default_factory=dict)
    items: dict[int, list[Post]] = field(default_factory=dict)
    office: dict[int, list[CaseEvent]] = field(default_factory=dict)
    seen: dict[int, set[tuple[str, str | None]]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, cases: Sequence[Case], roster: Roster) -> "Threads":
        t = cls()
        if not cases:
            return t
        session.flush()
        run = session.connection().execute  # plain rows: Core, without the ORM's per-statement work
        by_post: dict[str, list[Case]] = {}
        for c in cases:
            by_post.setdefault(c.post_id, []).append(c)
            t.items[c.id] = []
            t.office[c.id] = []
            t.seen[c.id] = set()
        found: dict[int, dict[str, Post]] = {c.id: {} for c in cases}
        members = set(roster.by_uid)
        for c in cases:  # comment cases: their own exchange (fewer; read case by case)
            if getattr(c, "origin", "mention") == "comment":
                del by_post[c.post_id]
                found[c.id] = {i.id: i for i in _comment_thread_items(session, c, members - {c.citizen_uid or ""})}
        post_ids = sorted(by_post)
        for chunk in chunks(sorted({c.post_id for c in cases} - set(post_ids))):  # the comment cases' own posts
            t.posts.update((p.id, p) for p in run(select(*_THREAD_COLUMNS).where(Post.id.in_(chunk))))
        for chunk in chunks(post_ids):
            t.posts.update((p.id, p) for p in run(select(*_THREAD_COLUMNS).where(Post.id.in_(chunk))))
            rows = run(select(*_THREAD_COLUMNS)
                                   .where(or_(Post.parent_id.in_(chunk), Post.reposted_id.in_(chunk))))
            for item in rows:
                for key in {item.parent_id, item.reposted_id}:
                    for c in by_post.get(key, ()) if key else ():
                        found[c.id][item.id] = item
        # a member's post naming the citizen ("@name", exact): narrowed in SQL, decided here
        named = [c for c in cases if c.citizen_name and members - {c.citizen_uid or ""}
                 and getattr(c, "origin", "mention") != "comment"]
        by_name: dict[str, list[Case]] = {}
        for c in named:
            by_name.setdefault(c.citizen_name, []).append(c)
        if by_name and members:
            # members' posts are few beside the public's: read them plainly (no LIKE, which scans every post)
            since = min(as_utc(c.opened_at) for c in named)
            lengths = sorted({len(n) for n in by_name})
            matched: dict[str, list[Case]] = {}
            for pid, uid, created, text in run(
                    select(Post.id, Post.user_id, Post.created_at, Post.text)
                    .where(Post.item_type == "post", Post.user_id.in_(sorted(members)), Post.created_at >= since)):
                if not text or "@" not in text:
                    continue
                at = as_utc(created)
                for name in _named_in(text, by_name, lengths):
                        matched.setdefault(pid, []).extend(
                            c for c in by_name[name] if uid != c.citizen_uid and at >= as_utc(c.opened_at))
            ids = [pid for pid, cs in matched.items() if cs]
            for chunk in chunks(ids):
                for item in run(select(*_THREAD_COLUMNS).where(Post.id.in_(chunk))):
                    for c in matched[item.id]:
                        found[c.id][item.id] = item
        for cid, items in found.items():
            t.items[cid] = sorted(items.values(), key=lambda i: (as_utc(i.created_at), i.id))
        ids = [c.id for c in cases]
        for chunk in chunks(ids):
            for e in session.scalars(select(CaseEvent).where(
                    CaseEvent.case_id.in_(chunk), CaseEvent.type.in_(OFFICE_EVENT_TYPES), CaseEvent.actor != SYSTEM)
                    .order_by(CaseEvent.at, CaseEvent.id)):
                t.office[e.case_id].append(e)
            for cid, type_, post_id in run(select(CaseEvent.case_id, CaseEvent.type, CaseEvent.post_id)
                                                       .where(CaseEvent.case_id.in_(chunk),
                                                              CaseEvent.type.in_(FACT_TYPES))):
                t.seen[cid].add((type_, post_id))
        return t


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


def refresh_case(session: Session, case: Case, policy: Any, roster: Roster, threads: Threads | None = None) -> None:
    """Re-derive CASE's facts and record any new fact events (append-only; keyed by type and post).

    THREADS: what `Threads.load` read for a batch of cases (loaded for CASE alone when not given).
    """
    standalone = threads is None or case.id not in threads.items
    if standalone:
        threads = Threads.load(session, [case], roster)
    post = threads.posts.get(case.post_id)
    items = threads.items[case.id]
    office = threads.office[case.id]
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
    seen = threads.seen[case.id]
    for type_, at, post_id, account, detail in f.facts:
        if (type_, post_id) in seen:
            continue
        seen.add((type_, post_id))
        _add_event(session, case, type_, at, policy, post_id=post_id, account_uid=account, detail=detail)
    case.response_clock_at = f.clock_start
    case.closure_clock_at = f.closure_start
    if standalone:
        _write_events(session)


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
    from matrix.rules.workcal import CalendarError

    if not isinstance(exc, CalendarError):
        raise exc
    msg = str(exc)
    if msg not in _calendar_warned:
        _calendar_warned.add(msg)
        log.error("cannot judge some cases: %s", msg)


_calendar_warned: set[str] = set()


def _apply_clock(session: Session, case: Case, res: ClockResult, policy: Any, now: datetime,
                 order: Levels) -> list[tuple[Case, EventRow]]:
    """Store due dates and level; add level events when a case moves up (observed now, never back-dated) and
    return them (their alerts: `_enqueue`)."""
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
    return _level_events(session, case, old, res, policy, now, order)


def _level_events(session: Session, case: Case, old: str, res: ClockResult, policy: Any, now: datetime,
                  order: Levels) -> list[tuple[Case, EventRow]]:
    """Events for a level reached now (a jump past `overdue` records it too), added to the session; returns
    them for `_enqueue`, which writes their alerts in the same transaction."""
    old_rank, new_rank, overdue_rank = order.rank(old), order.rank(res.level), order.rank("overdue")
    if new_rank <= old_rank:
        return []
    detail = {"level": res.level, "deadline": res.deadline,
              "due": res.due.isoformat() if res.due else None, "previous": old}
    types = []
    if old_rank < overdue_rank < new_rank:
        types.append(("overdue", {**detail, "level": "overdue"}))
    types.append(({"warning": "warning", "overdue": "overdue"}.get(res.level, "escalated"), detail))
    return [(case, _add_event(session, case, type_, now, policy, account_uid=case.account_uid, detail=det))
            for type_, det in types]


WITHHOLD_ALERTS = "wzmon_withhold_alerts"  # session.info key: a list that counts the level events not alerted


def _enqueue(session: Session, raised: list[tuple[Case, EventRow]]) -> None:
    """Write the queued events, then the alerts of the level events RAISED (one batch; see
    `matrix.alerts.outbox.enqueue_for_events`). A session marked WITHHOLD_ALERTS (a historical import) records
    the events but queues no alert: the levels stay recorded, so no later tick raises them again."""
    _write_events(session)
    withheld = session.info.get(WITHHOLD_ALERTS)
    if raised and withheld is not None:
        withheld.append(len(raised))
        return
    if raised:
        from matrix.alerts.outbox import enqueue_for_events

        enqueue_for_events(session, raised)


def evaluate(session: Session, policy: Any, now: datetime, case_ids: Sequence[int] | None = None,
             roster: Roster | None = None) -> int:
    """Refresh facts (for CASE_IDS) and run the clock; all non-final cases when CASE_IDS is None.

    Returns how many cases were evaluated. Runs in the caller's transaction.
    """
    now = as_utc(now)
    roster = roster or Roster.load(session)
    ensure_policy_version(session, policy)
    order = level_order(policy)
    if case_ids is not None:
        cases = [c for chunk in chunks(sorted(set(case_ids)))
                 for c in session.scalars(select(Case).where(Case.id.in_(chunk)))]
    else:
        cases = list(session.scalars(select(Case).where(Case.status.not_in(FINAL_STATUSES))))
    n = 0
    for batch in chunks(cases, 2000):
        threads = Threads.load(session, batch, roster)
        raised: list[tuple[Case, EventRow]] = []
        for case in batch:
            raised += _evaluate_one(session, case, policy, roster, threads, now, order)
            n += 1
        _write_cases(session, batch)
        _enqueue(session, raised)
    session.flush()
    return n


_EVALUATED = ("account_uid", "status", "forwarded_at", "first_response_at", "first_response_id", "last_response_at",
              "last_citizen_at", "closed_at", "extension_working_days", "merged_into", "sentiment_label",
              "first_response_calendar_minutes", "first_response_working_minutes", "response_clock_at",
              "closure_clock_at", "forward_due", "first_response_due", "next_reply_due", "closure_due",
              "provisional_dues", "pending_dues", "overdue", "overdue_since", "policy_version", "evaluated_at",
              "overdue_level", "overdue_deadline")
# the evaluated columns some index of cases holds (models: Case and migrations)
_INDEXED = frozenset(k for k in _EVALUATED if any(k in ix.columns for ix in Case.__table__.indexes))
_COUNTED = frozenset(_EVALUATED) & frozenset(rollup.CASE_COLUMNS)  # the evaluated columns the rollup reads


def _write_cases(session: Session, cases: Sequence[Case]) -> None:
    """Write what evaluation changed on CASES in executemany UPDATEs (the ORM would send one statement per
    shape of change), then tell the session those values are stored, so its flush does not send them again.

    Two shapes: with the indexed columns, for the cases where one of them changed, and without them for the rest
    (most: a deadline or the evaluation time moved), since SQLite rewrites the index entries of every column set."""
    changed: list[tuple[Case, bool]] = []
    counted: list[Any] = []  # when the cases whose rollup figures moved were opened (the days their trigger marks)
    for c in cases:
        state = inspect(c)
        if not (state.persistent and state.modified):
            continue
        # the values the session holds as stored, for the attributes set since (cheaper than attribute history)
        before = state.committed_state
        touched = [k for k in _EVALUATED if k in before]
        moved = [k for k in touched if before[k] != state.dict.get(k)]
        if moved:
            changed.append((c, any(k in _INDEXED for k in moved)))
            if any(k in _COUNTED for k in moved):
                counted.append(c.opened_at)
        else:  # set to what they were: nothing to write, and nothing for the session to write either
            for k in touched:
                set_committed_value(c, k, state.dict.get(k))
    if not changed:
        return
    stamp = utcnow()
    rows: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    for c, indexed in changed:
        row = {k: getattr(c, k) for k in _EVALUATED}
        for k, v in row.items():
            set_committed_value(c, k, v)
        set_committed_value(c, "updated_at", stamp)
        if not indexed:
            row = {k: v for k, v in row.items() if k not in _INDEXED}
        rows[indexed].append({**row, "updated_at": stamp, "_id": c.id})
    with rollup.trigger_set_aside(session.connection(), "rollup_cases_upd", rollup.utc_days(counted), len(changed)):
        for indexed, some in rows.items():
            bulk_executemany(session, _update_evaluated(indexed), some)


@functools.cache
def _update_evaluated(indexed: bool) -> Any:
    t = Case.__table__
    keys = [k for k in _EVALUATED if indexed or k not in _INDEXED]
    return t.update().where(t.c.id == bindparam("_id")).values({k: bindparam(k) for k in (*keys, "updated_at")})


def _evaluate_one(session: Session, case: Case, policy: Any, roster: Roster, threads: Threads, now: datetime,
                  order: Levels) -> list[tuple[Case, EventRow]]:
    """Refresh CASE's facts from THREADS and run its clock; the level events raised."""
    refresh_case(session, case, policy, roster, threads)
    res = _safe_clock(policy, roster.category(case.account_uid), case.kind, case.status, case.opened_at,
                      case.forwarded_at, case.response_clock_at, case.closure_clock_at,
                      case.first_response_at, case.last_response_at, case.last_citizen_at,
                      case.extension_working_days, now, order)
    return _apply_clock(session, case, res, policy, now, order) if res is not None else []


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
    now_db = utc_text(now)

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
            v = shown[x] = utc_text(epoch + timedelta(microseconds=x - off))
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
    with rollup.trigger_set_aside(session.connection(), "rollup_cases_upd", days, len(updates)):
        _executemany(session, "UPDATE cases SET forward_due = ?, first_response_due = ?, next_reply_due = ?, "
                     "closure_due = ?, overdue_level = ?, overdue = ?, overdue_deadline = ?, overdue_since = ?, "
                     "policy_version = ?, evaluated_at = ?, provisional_dues = ?, pending_dues = ? WHERE id = ?",
                     updates)
    _executemany(session, "INSERT INTO case_events (case_id, at, recorded_at, type, actor, post_id, account_uid, "
                 "reason, detail, policy_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", events)
    if rising:
        session.expire_all()  # the bulk UPDATE bypassed the identity map
    for part in chunks(rising, 2000):  # a part at a time, so memory does not grow with the number of cases
        ids = [cid for cid, _, _ in part]
        held = {c.id: c for chunk in chunks(ids) for c in session.scalars(select(Case).where(Case.id.in_(chunk)))}
        raised: list[tuple[Case, EventRow]] = []
        for case_id, old_level, res in part:
            raised += _level_events(session, held[case_id], old_level, res, policy, now, order)
        _enqueue(session, raised)
        del held, raised
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
