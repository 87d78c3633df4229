"""Inspecting member accounts the way the national 政务新媒体 check does (国办秘函〔2019〕19号).

《政府网站与政务新媒体检查指标》 fails an account outright (单项否决) when it has "监测时间点前2周内无信息更新";
"互动回应差" and wrong links cost points. wzmon sees all three in data it already collects:

* **Silence.** The time since a member's last own post or repost (its timeline), against the policy's
  `[inspection] silence_warning` / `silence_breach` (default 10 and 14 calendar days, per account category if
  the office sets them). `watch_silence` queues one alert per level and *episode* (an episode is the silence
  after one particular last post: the member's next post ends it), to the member and to the office.
* **Comment cases** are opened by the case engine (`matrix.casework.cases`, origin 'comment'); this module counts them.
* **Links** in members' own posts are recorded here as posts arrive (`record_links`), handed to the crawler
  when due (at most once per `link_check_interval`), and their results kept in `link_checks`.

`inspect_month` gathers one row per member for a month: days since its last post, whether it breached the
silence rule in the month, comment cases answered on time, dead links; `render_markdown` / `render_csv` write
the 通报-style report of `wzmon report inspect`, and the board's 账号巡检 page reads the same functions.
"""
from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from matrix.links import page_url
from matrix.storage.models import Account, Case, LinkCheck, PollCursor, Post
from matrix.timeutil import SHANGHAI, as_utc, iso_local, local

log = logging.getLogger(__name__)

OWN_ITEM_TYPES = ("post", "repost")  # what counts as an update (信息更新) on the account's own timeline
LEVEL_WORDS = {"": "正常", "warning": "即将超时", "breach": "超过2周未更新", "no_posts": "未见任何更新", "unknown": "尚未采集"}
Scope = Sequence[str] | None
_URL_RE = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")


class InspectionError(ValueError):
    """A month or option the inspection cannot use; the message says what to write instead."""


# ------------------------------------------------------------------------------------------------ helpers

def _members(session: Session, account_uids: Scope, on: date | None = None) -> list[Account]:
    q = select(Account).where(Account.role != "coordinator").order_by(Account.screen_name, Account.uid)
    if account_uids is not None:
        q = q.where(Account.uid.in_(list(account_uids)) if account_uids else literal(False))
    out = []
    for a in session.scalars(q):
        if on is not None and ((a.active_from and a.active_from > on) or (a.active_to and a.active_to < on)):
            continue
        out.append(a)
    return out


def _limit_point(policy: Any, start: datetime, limit: Any) -> datetime | None:
    """When LIMIT runs out after START (calendar or working time); None when the calendar cannot say."""
    try:
        return as_utc(policy.deadline(start, limit))
    except Exception as exc:  # noqa: BLE001 - a year the working calendar does not know: no judgement
        log.warning("cannot count a silence limit from %s: %s", start, exc)
        return None


def zh_limit(text: str) -> str:
    """'14 calendar days' → '14个自然日', '10 working days' → '10个工作日' (as the 通报 writes them)."""
    from matrix.rules.policy import Limit

    try:
        lim = Limit.parse(text)
    except ValueError:
        return text
    unit = {"days": "日", "hours": "小时", "minutes": "分钟"}[lim.unit]
    basis = {"calendar": "自然", "working": "工作"}[lim.basis]
    return f"{lim.amount}个{basis}{unit}" if lim.unit == "days" else f"{lim.amount}{basis}{unit}"


def _days(delta: timedelta) -> float:
    return round(delta.total_seconds() / 86400.0, 1)


def _timeline_polled(session: Session, uids: Iterable[str]) -> dict[str, datetime | None]:
    keys = {f"timeline:{u}": u for u in uids}
    if not keys:
        return {}
    rows = session.execute(select(PollCursor.source_key, PollCursor.last_polled_at)
                           .where(PollCursor.source_key.in_(list(keys))))
    return {keys[k]: as_utc(at) for k, at in rows}


# ------------------------------------------------------------------------------------------------ silence

@dataclass
class Silence:
    """One member account's silence at a moment: since when, how long, and which level it has reached."""

    account_uid: str
    screen_name: str
    name: str
    department: str
    category: str
    last_post_at: datetime | None
    last_post_id: str | None
    last_post_text: str
    days_silent: float | None
    warning_at: datetime | None
    breach_at: datetime | None
    level: str  # "" | warning | breach | no_posts | unknown
    warning_limit: str
    breach_limit: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def last_own_posts(session: Session, uids: Sequence[str], before: datetime) -> dict[str, tuple[datetime, str, str]]:
    """Each account's latest own post or repost created before BEFORE: uid -> (created_at, post id, text)."""
    if not uids:
        return {}
    latest = (select(Post.user_id, func.max(Post.created_at).label("at"))
              .where(Post.user_id.in_(list(uids)), Post.item_type.in_(OWN_ITEM_TYPES), Post.created_at < as_utc(before))
              .group_by(Post.user_id).subquery())
    rows = session.execute(
        select(Post.user_id, Post.created_at, Post.id, Post.text)
        .join(latest, (Post.user_id == latest.c.user_id) & (Post.created_at == latest.c.at))
        .where(Post.item_type.in_(OWN_ITEM_TYPES))
        .order_by(Post.id)
    )
    out: dict[str, tuple[datetime, str, str]] = {}
    for uid, at, pid, text in rows:
        out[uid] = (as_utc(at), pid, text or "")
    return out


def coverage_start(session: Session, uids: Sequence[str]) -> dict[str, datetime]:
    """Since when each account's own posts are known without gaps: its oldest post that is not pinned.

    A timeline lists a pinned post first and then the newest posts; the first read of an account therefore
    vouches for the time from the oldest of those to now, not for the weeks between a pinned post and them.
    The poller's walks are contiguous from there on. An account seen only with pinned posts: its oldest one."""
    if not uids:
        return {}
    rows = session.execute(
        select(Post.user_id, Post.is_pinned, func.min(Post.created_at))
        .where(Post.user_id.in_(list(uids)), Post.item_type.in_(OWN_ITEM_TYPES))
        .group_by(Post.user_id, Post.is_pinned)
    )
    regular: dict[str, datetime] = {}
    pinned: dict[str, datetime] = {}
    for uid, is_pinned, at in rows:
        (pinned if is_pinned else regular)[uid] = as_utc(at)
    return {**pinned, **regular}


def silence_now(session: Session, policy: Any, now: datetime, account_uids: Scope = None) -> list[Silence]:
    """Every member account's silence at NOW, longest first (accounts never seen posting, then the rest)."""
    now = as_utc(now)
    members = _members(session, account_uids, local(now).date())
    uids = [a.uid for a in members]
    last = last_own_posts(session, uids, now + timedelta(microseconds=1))
    polled = _timeline_polled(session, uids)
    rules = policy.inspection
    out = []
    for a in members:
        warn_limit, breach_limit = rules.silence_limits(a.category)
        at, pid, text = last.get(a.uid, (None, None, ""))
        warning_at = breach_at = None
        if at is not None:
            warning_at, breach_at = _limit_point(policy, at, warn_limit), _limit_point(policy, at, breach_limit)
            level = ("breach" if breach_at is not None and now > breach_at
                     else "warning" if warning_at is not None and now > warning_at else "")
        else:
            level = "no_posts" if polled.get(a.uid) is not None else "unknown"
        out.append(Silence(a.uid, a.screen_name, a.name or "", a.department or "", a.category or "", at, pid,
                           text, _days(now - at) if at is not None else None, warning_at, breach_at, level,
                           str(warn_limit), str(breach_limit)))
    rank = {"no_posts": 0, "breach": 1, "warning": 2, "": 3, "unknown": 4}
    out.sort(key=lambda s: (rank[s.level], -(s.days_silent or 0.0), s.screen_name))
    return out


def watch_silence(session: Session, policy: Any, now: datetime, config: Any = None) -> int:
    """Queue the silence alerts due at NOW: one per member, level and episode, to the member's contacts and the
    office's. Returns how many were queued (0 when every one exists already). Runs in the caller's transaction."""
    from matrix.alerts.contacts import contact_key
    from matrix.alerts.outbox import (
        _as_contact,
        _config_for_enqueue,
        _row,
        insert_alerts,
    )

    cfg = config or _config_for_enqueue()
    rows: list[dict[str, Any]] = []
    contacts = {a.uid: list(a.contacts or []) for a in _members(session, None)}
    for s in silence_now(session, policy, now):
        if s.level not in ("warning", "breach"):
            continue
        episode = s.last_post_id or "none"
        level = f"silence_{s.level}"
        subject, body = silence_message(s, policy, now, cfg.board_url)
        for contact in contacts.get(s.account_uid, []):
            key = contact_key(_as_contact(contact))
            rows.append(_row(f"silence:{s.account_uid}:{episode}:{s.level}:{key}", None, s.account_uid, level,
                             contact, key, subject, body, as_utc(now)))
        if not contacts.get(s.account_uid):
            rows.append(_row(f"silence:{s.account_uid}:{episode}:{s.level}:nocontact", None, s.account_uid, level,
                             {"channel": "none", "address": ""}, "", subject, body, as_utc(now), status="dead",
                             error=f"account @{s.screen_name} has no contacts in the roster: nobody was told"))
        o_subject = subject + "（抄送督办）"
        for contact in cfg.office_contacts:
            key = contact_key(contact)
            rows.append(_row(f"silence:{s.account_uid}:{episode}:{s.level}:office:{key}", None, None, level, contact,
                             key, o_subject, body, as_utc(now)))
    return insert_alerts(session, rows)


def silence_message(s: Silence, policy: Any, now: datetime, board_url: str | None) -> tuple[str, str]:
    """(subject, text) of a silence alert: how long, the rule, the last post, the board's 账号巡检 page."""
    days = s.days_silent if s.days_silent is not None else 0
    if s.level == "breach":
        tag, state = "单项否决风险", f"已 {days:g} 天未更新，超过{zh_limit(s.breach_limit)}"
    else:
        tag, state = "更新预警", f"已 {days:g} 天未更新"
    subject = f"【{tag}】@{s.screen_name} {state}"
    lines = [subject,
             f"依据：{policy.inspection.rule}（本办规则：{zh_limit(s.warning_limit)}未更新预警，{zh_limit(s.breach_limit)}未更新视为2周内无信息更新）",
             f"最近一次发布：{local(s.last_post_at):%Y-%m-%d %H:%M}" if s.last_post_at else "最近一次发布：未见"]
    if s.breach_at is not None and s.level == "warning":
        lines.append(f"如在 {local(s.breach_at):%Y-%m-%d %H:%M} 前仍未发布，将被认定为2周内无信息更新")
    if s.last_post_text:
        lines.append(f"最近内容：{' '.join(s.last_post_text.split())[:60]}")
    lines.append(f"账号巡检：{page_url(board_url, 'inspection')}")
    return subject, "\n".join(lines)


@dataclass
class MonthSilence:
    """An account's silence over a period: at its end, and the worst of it within."""

    last_post_at: datetime | None
    days_since_last_post: float | None
    longest_silence_days: float | None
    breached: bool
    breached_since: datetime | None  # when the breach within the period began (the first one)
    warned: bool


def silence_in_period(session: Session, policy: Any, start: datetime, end: datetime,
                      account_uids: Scope = None) -> dict[str, MonthSilence]:
    """For each member: days since its last own post at END, and whether it was silent past its breach (and
    warning) limit at any instant of [START, END). END should not lie in the future (pass min(end, now))."""
    start, end = as_utc(start), as_utc(end)
    members = _members(session, account_uids)
    uids = [a.uid for a in members]
    coverage = coverage_start(session, uids)
    before = last_own_posts(session, uids, start)
    times: dict[str, list[datetime]] = {u: [] for u in uids}
    if uids:
        for uid, at in session.execute(
            select(Post.user_id, Post.created_at)
            .where(Post.user_id.in_(uids), Post.item_type.in_(OWN_ITEM_TYPES), Post.created_at >= start,
                   Post.created_at < end)
            .order_by(Post.created_at)
        ):
            times[uid].append(as_utc(at))
    polled = _timeline_polled(session, uids)
    rules = policy.inspection
    out: dict[str, MonthSilence] = {}
    for a in members:
        warn_limit, breach_limit = rules.silence_limits(a.category)
        known = coverage.get(a.uid)
        posts = ([before[a.uid][0]] if a.uid in before else []) + times[a.uid]
        posts = [p for p in posts if known is None or p >= known]  # before what was seen whole, nothing is known
        if not posts and known is not None and known >= end:
            out[a.uid] = MonthSilence(None, None, None, False, None, False)  # first seen only after the period
            continue
        if not posts:
            seen = polled.get(a.uid)
            no_posts = seen is not None and seen < end
            out[a.uid] = MonthSilence(None, None, None, no_posts, start if no_posts else None, no_posts)
            continue
        breached, warned, since, longest = False, False, None, 0.0
        for i, at in enumerate(posts):
            gap_end = posts[i + 1] if i + 1 < len(posts) else end
            lo = max(at, start)
            if gap_end <= start:
                continue
            longest = max(longest, _days(gap_end - at))
            b = _limit_point(policy, at, breach_limit)
            w = _limit_point(policy, at, warn_limit)
            if b is not None and b < gap_end and not breached:
                breached, since = True, max(b, lo)
            if w is not None and w < gap_end:
                warned = True
        out[a.uid] = MonthSilence(posts[-1], _days(end - posts[-1]), longest, breached, since, warned)
    return out


# ------------------------------------------------------------------------------------------------ links

def links_in(text: str) -> list[str]:
    """The http(s) links written in a post's text, in order, without repeats (t.cn short links and others)."""
    out: list[str] = []
    for m in _URL_RE.finditer(text or ""):
        url = m.group(0).rstrip(".,;:!?)]'\"，。；：！？）")
        if url not in out:
            out.append(url)
    return out


def record_links(session: Session, posts: Sequence[Post], member_uids: set[str]) -> int:
    """Note every link in the members' own posts among POSTS (first post that showed it wins); how many new."""
    new = 0
    for p in posts:
        if p.item_type not in OWN_ITEM_TYPES or p.user_id not in member_uids:
            continue
        own = (p.text or "").split("//@", 1)[0]  # a repost's own words, not the chain it quotes
        for url in links_in(own):
            if len(url) > 1024 or session.get(LinkCheck, url) is not None:
                continue
            session.add(LinkCheck(url=url, post_id=p.id, account_uid=p.user_id, first_seen_at=as_utc(p.created_at),
                                  checks=0, final_url="", error=""))
            new += 1
    session.flush()
    return new


def links_due(session: Session, policy: Any, now: datetime, limit: int = 50) -> list[str]:
    """Links never checked, then those checked longest ago, no sooner than `link_check_interval` after the last."""
    interval = policy.inspection.link_check_interval
    cutoff = as_utc(now) - timedelta(minutes=interval.minutes or interval.amount * 1440)
    rows = session.execute(
        select(LinkCheck.url).where((LinkCheck.checked_at.is_(None)) | (LinkCheck.checked_at <= cutoff))
        .order_by(LinkCheck.checked_at.is_not(None), LinkCheck.checked_at, LinkCheck.url).limit(limit)
    )
    return [r[0] for r in rows]


def store_link_result(session: Session, url: str, *, ok: bool, status: int | None, final_url: str, error: str,
                      at: datetime) -> None:
    """Keep what a check of URL found; `dead_since` holds the first failed check of the current dead spell."""
    row = session.get(LinkCheck, url)
    if row is None:
        return
    row.checked_at = as_utc(at)
    row.checks = (row.checks or 0) + 1
    row.ok = bool(ok)
    row.http_status = status
    row.final_url = (final_url or "")[:4000]
    row.error = (error or "")[:2000]
    row.dead_since = None if ok else (row.dead_since or as_utc(at))


def dead_links(session: Session, account_uids: Scope = None, start: datetime | None = None,
               end: datetime | None = None) -> list[dict[str, Any]]:
    """Links found dead at their last check, with the post and account that carry them (found dead before END
    and still dead, or dead since START when given)."""
    q = (select(LinkCheck, Account.screen_name, Post.text, Post.created_at, Post.source_url)
         .join(Account, Account.uid == LinkCheck.account_uid, isouter=True)
         .join(Post, Post.id == LinkCheck.post_id, isouter=True)
         .where(LinkCheck.ok.is_(False)))
    if account_uids is not None:
        q = q.where(LinkCheck.account_uid.in_(list(account_uids)) if account_uids else literal(False))
    if end is not None:
        q = q.where(LinkCheck.dead_since < as_utc(end))
    out = []
    for lc, screen_name, text, created, source_url in session.execute(q.order_by(LinkCheck.account_uid, LinkCheck.url)):
        out.append({"account_uid": lc.account_uid, "screen_name": screen_name or lc.account_uid, "url": lc.url,
                    "http_status": lc.http_status, "error": lc.error, "checked_at": as_utc(lc.checked_at),
                    "dead_since": as_utc(lc.dead_since), "checks": lc.checks, "post_id": lc.post_id,
                    "post_text": text or "", "post_created_at": as_utc(created), "post_url": source_url or ""})
    return out


def link_summary(session: Session, account_uids: Scope = None) -> dict[str, int]:
    """How many links are known, checked, and dead (for the board)."""
    q = select(func.count(), func.count(LinkCheck.checked_at), func.sum(case((LinkCheck.ok.is_(False), 1), else_=0)))
    if account_uids is not None:
        q = q.where(LinkCheck.account_uid.in_(list(account_uids)) if account_uids else literal(False))
    n, checked, dead = session.execute(q).one()
    return {"links": int(n or 0), "checked": int(checked or 0), "dead": int(dead or 0)}


# ------------------------------------------------------------------------------------------------ comment cases

@dataclass
class CommentCounts:
    cases: int = 0
    responded: int = 0
    on_time: int = 0
    late: int = 0  # answered after the deadline, or unanswered past it now


def comment_case_counts(session: Session, start: datetime, end: datetime, now: datetime,
                        account_uids: Scope = None) -> dict[str, CommentCounts]:
    """Per account: comment cases opened in [START, END) (invalid and merged ones left out), how many were
    answered, answered on time (by their first-response deadline), and late (answered late, or unanswered
    with the deadline passed at NOW)."""
    q = (select(Case.account_uid, Case.first_response_at, Case.first_response_due)
         .where(Case.origin == "comment", Case.opened_at >= as_utc(start), Case.opened_at < as_utc(end),
                Case.status.not_in(("invalid", "merged")), Case.account_uid.is_not(None)))
    if account_uids is not None:
        q = q.where(Case.account_uid.in_(list(account_uids)) if account_uids else literal(False))
    out: dict[str, CommentCounts] = {}
    now = as_utc(now)
    for uid, answered, due in session.execute(q):
        c = out.setdefault(uid, CommentCounts())
        c.cases += 1
        answered, due = as_utc(answered), as_utc(due)
        if answered is not None:
            c.responded += 1
            if due is None or answered <= due:
                c.on_time += 1
            else:
                c.late += 1
        elif due is not None and now > due:
            c.late += 1
    return out


# ------------------------------------------------------------------------------------------------ the month

@dataclass
class InspectionRow:
    """One member account in the monthly inspection (the CSV's columns, in order)."""

    account_uid: str
    screen_name: str
    name: str
    department: str
    category: str
    last_post_at: str
    days_since_last_post: float | None
    longest_silence_days: float | None
    silence_breach: bool
    silence_warning: bool
    comment_cases: int
    comment_responded: int
    comment_on_time: int
    comment_late: int
    comment_on_time_rate: float | None
    dead_links: int
    verdict: str  # 单项否决 | 关注 | 正常 | 未采集


CSV_FIELDS = [f.name for f in fields(InspectionRow)]


@dataclass
class InspectionReport:
    month: str  # 2026-11
    start: datetime
    end: datetime
    as_of: datetime  # min(end, now): where the month's silence stops counting
    policy_version: str
    rule: str
    warning_limit: str
    breach_limit: str
    rows: list[InspectionRow]
    links: list[dict[str, Any]] = field(default_factory=list)


def month_period(text: str) -> tuple[datetime, datetime]:
    """'2026-11' → [2026-11-01 00:00, 2026-12-01 00:00) Beijing time."""
    m = _MONTH_RE.match((text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InspectionError(f"month {text!r} is not a month; write it like 2026-11")
    y, mo = int(m.group(1)), int(m.group(2))
    start = datetime(y, mo, 1, tzinfo=SHANGHAI)
    end = datetime(y + (mo == 12), 1 if mo == 12 else mo + 1, 1, tzinfo=SHANGHAI)
    return as_utc(start), as_utc(end)


def inspect_month(session: Session, policy: Any, month: str, now: datetime, account_uids: Scope = None) -> InspectionReport:
    """Every member account's inspection for MONTH as of NOW (a month not over yet counts up to NOW)."""
    start, end = month_period(month)
    now = as_utc(now)
    if now <= start:
        raise InspectionError(f"month {month} has not begun yet (now is {local(now):%Y-%m-%d %H:%M})")
    as_of = min(end, now)
    members = _members(session, account_uids)
    silence = silence_in_period(session, policy, start, as_of, account_uids)
    comments = comment_case_counts(session, start, end, now, account_uids)
    links = dead_links(session, account_uids, end=as_of)
    dead_by = {}
    for d in links:
        dead_by[d["account_uid"]] = dead_by.get(d["account_uid"], 0) + 1
    rows = []
    for a in members:
        s = silence[a.uid]
        c = comments.get(a.uid, CommentCounts())
        if s.last_post_at is None and not s.breached:
            verdict = "未采集"
        elif s.breached:
            verdict = "单项否决"
        elif s.warned or c.late or dead_by.get(a.uid):
            verdict = "关注"
        else:
            verdict = "正常"
        rows.append(InspectionRow(
            account_uid=a.uid, screen_name=a.screen_name, name=a.name or "", department=a.department or "",
            category=a.category or "", last_post_at=iso_local(s.last_post_at),
            days_since_last_post=s.days_since_last_post, longest_silence_days=s.longest_silence_days,
            silence_breach=s.breached, silence_warning=s.warned, comment_cases=c.cases,
            comment_responded=c.responded, comment_on_time=c.on_time, comment_late=c.late,
            comment_on_time_rate=round(c.on_time / c.cases, 4) if c.cases else None,
            dead_links=dead_by.get(a.uid, 0), verdict=verdict))
    order = {"单项否决": 0, "关注": 1, "正常": 2, "未采集": 3}
    rows.sort(key=lambda r: (order[r.verdict], -(r.days_since_last_post or 0.0), r.screen_name))
    rules = policy.inspection
    return InspectionReport(month=f"{local(start):%Y-%m}", start=start, end=end, as_of=as_of,
                            policy_version=str(getattr(policy, "version", "")), rule=rules.rule,
                            warning_limit=str(rules.silence_warning), breach_limit=str(rules.silence_breach),
                            rows=rows, links=links)


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:g}"


def render_markdown(rep: InspectionReport, *, board: str | None = None,
                    title: str = "问政银川微博矩阵成员账号巡检通报") -> str:
    """The 通报-style Markdown: accounts failing the silence rule (单项否决) named first, then every account."""
    y, m = rep.month.split("-")
    vetoed = [r for r in rep.rows if r.verdict == "单项否决"]
    lines = [
        f"# {title}（{y}年{int(m)}月）",
        "",
        f"巡检期间：{local(rep.start):%Y-%m-%d %H:%M} 至 {local(rep.as_of):%Y-%m-%d %H:%M}（北京时间）  ",
        f"依据：{rep.rule}  ",
        f"本办规则：连续{zh_limit(rep.warning_limit)}未更新预警，{zh_limit(rep.breach_limit)}未更新视为“2周内无信息更新”"
        f"（规则版本 {rep.policy_version}）",
        "",
        "## 单项否决",
        "",
    ]
    if vetoed:
        for r in vetoed:
            why = (f"截至巡检时已 {_num(r.days_since_last_post)} 天未更新" if r.days_since_last_post is not None
                   else "未见任何更新")
            longest = f"，期内最长 {_num(r.longest_silence_days)} 天未更新" if r.longest_silence_days else ""
            lines.append(f"- @{r.screen_name}（{r.department or r.name or '—'}）：{why}{longest}。")
    else:
        lines.append("本月无账号触发单项否决。")
    lines += [
        "",
        "## 成员账号巡检情况",
        "",
        "| 结论 | 账号 | 单位 | 最近发布 | 距今天数 | 期内最长未更新（天） | 超过2周未更新 | 评论诉求 | 按时回应 | 超时 | 失效链接 |",
        "|---|---|---|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in rep.rows:
        last = r.last_post_at[:16].replace("T", " ") if r.last_post_at else "未见"
        lines.append(
            f"| {r.verdict} | @{r.screen_name} | {r.department or '—'} | {last} | {_num(r.days_since_last_post)} | "
            f"{_num(r.longest_silence_days)} | {'是' if r.silence_breach else '否'} | {r.comment_cases} | "
            f"{r.comment_on_time} | {r.comment_late} | {r.dead_links} |")
    if not rep.rows:
        lines.append("| — | 无成员账号 | | | | | | | | | |")
    lines += ["", "## 失效链接", ""]
    if rep.links:
        lines += ["| 账号 | 链接 | 所在博文 | 检查结果 | 最近检查 |", "|---|---|---|---|---|"]
        for d in rep.links:
            result = f"HTTP {d['http_status']}" if d["http_status"] else (d["error"] or "无法访问")
            text = " ".join(d["post_text"].split())[:40].replace("|", "｜")
            checked = f"{local(d['checked_at']):%Y-%m-%d %H:%M}" if d["checked_at"] else "—"
            lines.append(f"| @{d['screen_name']} | {d['url']} | {text} | {result} | {checked} |")
    else:
        lines.append("本月未发现失效链接。")
    lines += [
        "",
        f"账号巡检：{page_url(board, 'inspection')}",
        "",
        "---",
        "口径：信息更新指成员账号本人发布或转发的微博；距今天数截至巡检时点（本月未结束时为当前时间）。评论诉求指网民在成员账号"
        "本人微博下的评论中提出的投诉、咨询、求助、建议，按时回应指在首次回应时限内回复；失效链接指成员账号博文中经 HEAD/GET"
        "检查无法打开的链接。",
        "",
    ]
    return "\n".join(lines)


def render_csv(rep: InspectionReport) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for r in rep.rows:
        row = asdict(r)
        row = {k: ("" if v is None else ("是" if v is True else "否" if v is False else v)) for k, v in row.items()}
        w.writerow(row)
    return buf.getvalue()


def write_report(rep: InspectionReport, out_dir: Path) -> list[Path]:
    """inspection-<month>.md and inspection-<month>.csv (UTF-8; the CSV with a BOM for Excel)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / f"inspection-{rep.month}.md"
    md.write_text(render_markdown(rep), encoding="utf-8")
    cs = out_dir / f"inspection-{rep.month}.csv"
    cs.write_text("\ufeff" + render_csv(rep), encoding="utf-8")
    return [md, cs]


__all__ = [
    "InspectionError", "InspectionReport", "InspectionRow", "Silence", "MonthSilence", "CommentCounts",
    "silence_now", "watch_silence", "silence_in_period", "coverage_start", "links_in", "record_links", "links_due",
    "store_link_result", "dead_links", "link_summary", "comment_case_counts", "month_period", "inspect_month",
    "render_markdown", "render_csv", "write_report", "zh_limit",
]
