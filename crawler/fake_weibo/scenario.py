"""A seeded, deterministic 问政 matrix: accounts, citizen threads, responses, and the truth about them.

`Scenario(seed=1, accounts=20, days=7, ...)` builds everything up front (statuses, comments, reposts)
with their creation times; the server only filters by the simulated clock. `Scenario.truth` says, for
every citizen thread (and every member's own post), what the crawler and case engine should conclude:
who was addressed, whether and when the coordinator forwarded it, when a member first answered,
when it was closed, and the citizen's follow-ups.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from . import names as N
from .clock import CST
from .ids import IdMaker, mid_to_bid
from .workhours import DAY_END, DAY_START, add_workdays, is_workday, next_working_moment

DEFAULT_END = datetime(2024, 6, 14, 17, 0, tzinfo=CST)
INTENTS = ("fast", "late", "never", "thanks", "multi", "via")
_INTENT_WEIGHTS = (34, 18, 14, 10, 12, 12)
_MENTION_RE = re.compile(r"@([\w\u4e00-\u9fff\-]+)")
CLOSING_WORDS = ("已办结", "已处理", "已解决")
# citizens' requests in the comments under a member's own post: (the kind a reader gives it, the text)
COMMENT_REQUESTS = (
    ("咨询", "请问{topic}这种情况应该找哪个部门？"),
    ("咨询", "想咨询一下，{place}{topic}，有什么办法吗？"),
    ("投诉", "{place}{topic}，反映多次了没人管，到底有没有人管？"),
    ("求助", "求助！{place}{topic}，家里有老人，麻烦尽快帮忙"),
)


@dataclass
class Account:
    """A Weibo user in the scenario; `role` is coordinator, member or citizen."""

    uid: str
    screen_name: str
    name: str
    department: str
    category: str
    role: str
    followers_count: int
    activity: float = 1.0
    description: str = ""

    def as_dict(self) -> dict:
        return {"uid": self.uid, "screen_name": self.screen_name, "name": self.name,
                "department": self.department, "category": self.category, "role": self.role,
                "followers_count": self.followers_count, "activity": round(self.activity, 3)}


@dataclass
class Status:
    """A post or repost (`repost_of` = the post it reposts, `retweeted_id` = the chain's original)."""

    id: str
    created_at: datetime
    author_uid: str
    text: str  # plain text with @name, #topic#, [emoticon] tokens; rendered to Weibo HTML on output
    source: str
    kind: str  # citizen | own | forward | response | pinned | digest | chain
    retweeted_id: str | None = None
    repost_of: str | None = None
    pinned: bool = False
    deleted_at: datetime | None = None
    attitudes: int | str = 0
    region: str = "宁夏"

    @property
    def bid(self) -> str:
        return mid_to_bid(self.id)

    def visible(self, now: datetime) -> bool:
        return self.created_at <= now and (self.deleted_at is None or now < self.deleted_at)


@dataclass
class Comment:
    """A comment under `post_id`; replies have `reply_to_id` and sit under their `root_id`."""

    id: str
    post_id: str
    created_at: datetime
    author_uid: str
    text: str
    root_id: str
    reply_to_id: str | None = None
    like_count: int = 0
    region: str = "宁夏"

    def visible(self, now: datetime) -> bool:
        return self.created_at <= now


@dataclass
class _Thread:
    status: Status
    truth: dict
    target: Account | None = None
    addressed: list[Account] = field(default_factory=list)


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


class Scenario:
    """Build with keyword parameters; every output is a pure function of them (seed included).

    Parameters: seed, accounts (members, default 20), days (window length, default 7), end (aware
    datetime the window ends at; default 2024-06-14 17:00 +08:00), history_days (older traffic before
    the window, default 7), citizens (default 40), threads_per_account_day (default 0.6, scaled by each
    member's heavy-tailed activity), own_per_account_day (member announcements, default 0.4),
    long_share, chain_share; activity_alpha (shape of the Pareto distribution each member's activity is
    drawn from, default 1.3: smaller = heavier tail, more of the traffic on a few accounts) and
    activity_cap (largest activity, default 40); own_share (share of members, the most active first,
    that post announcements of their own, default 1.0 = every member; the others post none).
    """

    def __init__(self, seed: int = 1, accounts: int = 20, days: float = 7, end: datetime | None = None,
                 history_days: float = 7, citizens: int = 40, threads_per_account_day: float = 0.6,
                 own_per_account_day: float = 0.4, long_share: float = 0.2, chain_share: float = 0.08,
                 activity_alpha: float = 1.3, activity_cap: float = 40.0, own_share: float = 1.0,
                 silent_members: int = 0, silent_days: float = 16.0, comment_requests: float = 0.0) -> None:
        if accounts < 1:
            raise ValueError(f"a scenario needs at least one member account, got accounts={accounts}")
        if days <= 0:
            raise ValueError(f"days must be positive, got {days}")
        end = end or DEFAULT_END
        if end.tzinfo is None:
            raise ValueError(f"end must be timezone-aware, got {end.isoformat()}")
        if activity_alpha <= 0 or activity_cap < 1:
            raise ValueError(f"activity_alpha must be > 0 and activity_cap >= 1, got {activity_alpha} and {activity_cap}")
        if not 0 <= own_share <= 1:
            raise ValueError(f"own_share is a share of the members (0..1), got {own_share}")
        self.params = {"seed": seed, "accounts": accounts, "days": days, "end": end.isoformat(),
                       "history_days": history_days, "citizens": citizens,
                       "threads_per_account_day": threads_per_account_day,
                       "own_per_account_day": own_per_account_day, "long_share": long_share,
                       "chain_share": chain_share}
        # the tail parameters join params only when set, so default scenarios describe themselves as before
        for key, value, default in (("activity_alpha", activity_alpha, 1.3), ("activity_cap", activity_cap, 40.0),
                                    ("own_share", own_share, 1.0), ("silent_members", silent_members, 0),
                                    ("silent_days", silent_days, 16.0), ("comment_requests", comment_requests, 0.0)):
            if value != default:
                self.params[key] = value
        self._activity = (activity_alpha, activity_cap)
        self._own_share = own_share
        self.seed = seed
        self.end = end.astimezone(CST).replace(microsecond=0)
        self.window_start = self.end - timedelta(days=days)
        self.start = self.window_start - timedelta(days=history_days)
        self.rng = random.Random(seed)
        self._ids = IdMaker()
        self.statuses: dict[str, Status] = {}
        self.comments: dict[str, Comment] = {}
        self.truth: list[dict] = []
        self._make_accounts(accounts, citizens)
        self._make_traffic(threads_per_account_day, own_per_account_day, long_share, chain_share)
        self.silent: list[dict] = []  # members that fell silent: uid, screen_name, last_post_id, last_post_at
        self.comment_truth: list[dict] = []  # citizens' requests in the comments under members' own posts
        if silent_members or comment_requests:
            self._inspection_traffic(silent_members, silent_days, comment_requests)
        self._index()

    # ---------------------------------------------------------------- accounts
    def _uid(self, used: set[str]) -> str:
        while True:
            uid = str(self.rng.randint(1_000_000_000, 7_999_999_999))
            if uid not in used:
                used.add(uid)
                return uid

    def _make_accounts(self, n_members: int, n_citizens: int) -> None:
        used: set[str] = set()
        sn, name, dept, cat = N.COORDINATOR
        self.coordinator = Account(self._uid(used), sn, name, dept, cat, "coordinator", 1_630_000, 1.0,
                                   "银川市委网信办官方账号，受理网友诉求并督促督办")
        pool = list(N.CITY_MEMBERS)
        for bureau, bcat in N.DISTRICT_BUREAUS:
            for district in N.DISTRICTS:
                pool.append((f"{district}{bureau}", f"{district}{bureau}", f"{district}{bureau}", bcat))
        for district, streets in N.STREETS.items():
            for street in streets:
                pool.append((f"{district}{street}", f"{district}{street}办事处", f"{district}{street}办事处", "区县"))
        seen = {sn}
        members: list[Account] = []
        for i in range(n_members):
            if i < len(pool):
                m_sn, m_name, m_dept, m_cat = pool[i]
            else:
                m_sn = m_name = m_dept = f"银川政务服务{i + 1}"
                m_cat = "综合"
            while m_sn in seen:
                m_sn += "发布"
            seen.add(m_sn)
            activity = min(self.rng.paretovariate(self._activity[0]), self._activity[1])
            followers = int(self.rng.lognormvariate(10.5, 1.2))
            members.append(Account(self._uid(used), m_sn, m_name, m_dept, m_cat, "member", followers, activity,
                                   f"{m_dept}官方微博"))
        self.members = members
        citizens: list[Account] = []
        for i in range(max(n_citizens, 4)):
            c_sn = N.CITIZEN_NAMES[i] if i < len(N.CITIZEN_NAMES) else f"用户{self.rng.randint(10**9, 10**10 - 1)}"
            while c_sn in seen:
                c_sn += "_"
            seen.add(c_sn)
            citizens.append(Account(self._uid(used), c_sn, c_sn, "", "", "citizen",
                                    int(self.rng.lognormvariate(4.5, 1.0)), 1.0))
        self.citizens = citizens
        self.accounts: list[Account] = [self.coordinator, *members]
        self.users: dict[str, Account] = {a.uid: a for a in [*self.accounts, *citizens]}
        self.by_name: dict[str, Account] = {a.screen_name: a for a in self.users.values()}

    def roster_rows(self) -> list[dict]:
        """Coordinator and members as roster rows: uid,screen_name,name,department,category,role,contacts."""
        return [{"uid": a.uid, "screen_name": a.screen_name, "name": a.name, "department": a.department,
                 "category": a.category, "role": a.role, "contacts": f"email:ops-{a.uid}@example.gov.cn"}
                for a in self.accounts]

    def roster_csv(self) -> str:
        import csv
        import io

        buf = io.StringIO()
        cols = ["uid", "screen_name", "name", "department", "category", "role", "contacts"]
        w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(self.roster_rows())
        return buf.getvalue()

    # ---------------------------------------------------------------- helpers
    def _status(self, at: datetime, author: Account, text: str, kind: str, **kw) -> Status:
        at = at.replace(microsecond=0)
        st = Status(self._ids.make(at), at, author.uid, text, self.rng.choice(N.CLIENTS), kind, **kw)
        st.attitudes = self.rng.choice([0, 0, 1, 2, 3, 5, 8, 13, 40])
        self.statuses[st.id] = st
        return st

    def _comment(self, at: datetime, post: Status, author: Account, text: str,
                 reply_to: Comment | None = None) -> Comment:
        at = at.replace(microsecond=0)
        cid = self._ids.make(at)
        root = reply_to.root_id if reply_to else cid
        c = Comment(cid, post.id, at, author.uid, text, root, reply_to.id if reply_to else None,
                    self.rng.choice([0, 0, 0, 1, 2, 5]))
        self.comments[cid] = c
        return c

    def _random_time(self, lo: datetime, hi: datetime) -> datetime:
        """A time in [lo, hi) leaning on waking hours (citizens post 7:00-24:00 mostly)."""
        for _ in range(20):
            t = lo + timedelta(seconds=self.rng.uniform(0, (hi - lo).total_seconds()))
            if 7 <= t.hour or self.rng.random() < 0.15:
                break
        return t.replace(microsecond=0)

    def _working_time_on(self, day, after: datetime | None = None) -> datetime:
        lo = datetime.combine(day, time(9, 30), tzinfo=CST)
        hi = datetime.combine(day, time(17, 0), tzinfo=CST)
        if after and after > lo:
            lo = min(after, hi)
        return (lo + timedelta(seconds=self.rng.uniform(0, max((hi - lo).total_seconds(), 60)))).replace(microsecond=0)

    def _fast(self, after: datetime) -> datetime:
        return (next_working_moment(after) + timedelta(minutes=self.rng.uniform(10, 60))).replace(microsecond=0)

    def _late(self, after: datetime) -> datetime:
        return self._working_time_on(add_workdays(after, self.rng.randint(2, 4)))

    def _own_time(self, lo: datetime, hi: datetime) -> datetime:
        t = self._random_time(lo, hi)
        if is_workday(t.date()) and self.rng.random() < 0.8:
            t = t.replace(hour=self.rng.randint(DAY_START.hour, DAY_END.hour - 1), minute=self.rng.randint(0, 59))
        return t

    # ---------------------------------------------------------------- traffic
    def _make_traffic(self, rate: float, own_rate: float, long_share: float, chain_share: float) -> None:
        rng = self.rng
        total_days = (self.end - self.start).total_seconds() / 86400
        mean_act = sum(m.activity for m in self.members) / len(self.members)
        weights = [m.activity / mean_act for m in self.members]
        n_threads = max(8, round(rate * len(self.members) * total_days))
        times = sorted(self._random_time(self.start, self.end) for _ in range(n_threads))
        in_window = [i for i, t in enumerate(times) if t >= self.window_start]
        intents = [rng.choices(INTENTS, _INTENT_WEIGHTS)[0] for _ in times]
        # every intent shows up inside the window at least once (late ones early enough to turn late)
        must = list(INTENTS)
        early = [i for i in in_window if times[i] <= self.end - timedelta(days=min(3, (self.end - self.window_start).days or 1))]
        for i, intent in zip(rng.sample(early or in_window, min(len(must), len(early or in_window))), must):
            intents[i] = intent
        threads: list[_Thread] = []
        for t, intent in zip(times, intents):
            if intent == "multi" and len(self.members) < 2:
                intent = "fast"
            target = rng.choices(self.members, weights)[0]
            threads.append(self._thread(t, intent, target, long_share, chain_share))
        self._own_posts(own_rate, weights)
        self._pinned_posts()
        self._digests()
        self._deletions(threads)
        self.truth = sorted((th.truth for th in threads), key=lambda r: r["post_id"])
        self.truth += sorted(self._own_truth, key=lambda r: r["post_id"])

    def _thread(self, at: datetime, intent: str, target: Account, long_share: float, chain_share: float) -> _Thread:
        rng = self.rng
        author = rng.choice(self.citizens)
        topic = rng.choice(N.TOPICS_BY_CATEGORY.get(target.category, N.TOPICS_BY_CATEGORY["综合"]))
        place = rng.choice(N.PLACES)
        addressed = [target]
        if intent == "multi":
            others = [m for m in self.members if m is not target]
            addressed += rng.sample(others, min(len(others), rng.choice([1, 1, 2])))
        if intent == "via":
            mention_str = f"@{self.coordinator.screen_name}"
        else:
            mention_str = " ".join(f"@{a.screen_name}" for a in addressed)
        kind, forms = {
            "thanks": ("表扬", N.THANKS_FORMS),
        }.get(intent, rng.choices([("投诉", N.COMPLAINT_FORMS), ("咨询", N.QUESTION_FORMS), ("求助", N.REQUEST_FORMS),
                                    ("建议", N.SUGGESTION_FORMS)], [5, 3, 2, 1])[0])
        text = rng.choice(forms).format(m=mention_str, topic=topic, place=place)
        if rng.random() < 0.3:
            text += " " + rng.choice(N.HASHTAGS)
        if intent != "thanks" and rng.random() < long_share:
            text += " " + rng.choice(N.LONG_TAILS)
        retweeted = repost_of = None
        if rng.random() < chain_share:
            # origin post by one citizen, reposted by a second, reposted again (with mention) by the author
            a1, a2 = rng.sample([c for c in self.citizens if c is not author], 2)
            origin_at = (at - timedelta(hours=rng.uniform(2, 20))).replace(microsecond=0)
            origin = self._status(origin_at, a1, f"{place}{topic}，有没有人管管[怒]", "chain")
            mid_text = rng.choice(["太对了", "同样的问题", "转发扩散"])
            hop = self._status(origin_at + (at - origin_at) / 2, a2, mid_text, "chain",
                               retweeted_id=origin.id, repost_of=origin.id)
            text = f"{mention_str} 我家也是这样 //@{a2.screen_name}:{mid_text}"
            retweeted, repost_of = origin.id, hop.id
        st = self._status(at, author, text, "citizen", retweeted_id=retweeted, repost_of=repost_of)
        row = {
            "post_id": st.id, "bid": st.bid, "created_at": _iso(st.created_at), "author_uid": author.uid,
            "author": author.screen_name, "kind": kind, "intent": intent,
            "addressed": [self.coordinator.screen_name] if intent == "via" else [a.screen_name for a in addressed],
            "target": target.screen_name, "forwarded_to": None, "forwarded_at": None, "forward_via": None,
            "member_outcome": None, "responded_at": None, "responded_by": None, "response_via": None,
            "closed_at": None, "followups": [], "deleted_at": None,
            "is_long_text": len(text) > 140, "is_repost": retweeted is not None,
            "in_window": at >= self.window_start, "events": [],
        }
        th = _Thread(st, row, target, addressed)
        self._noise(st)
        if intent in ("fast", "late"):
            first = self._fast(at) if intent == "fast" else self._late(at)
            self._respond(th, first)
        elif intent in ("multi", "via"):
            fwd_at = (next_working_moment(at) + timedelta(minutes=rng.uniform(30, 240))).replace(microsecond=0)
            fwd_text = rng.choice(N.FORWARD_TEXTS).format(m=f"@{target.screen_name}")
            if rng.random() < 0.5:
                c = self._comment(fwd_at, st, self.coordinator, fwd_text)
                via, fid = "comment", c.id
            else:
                r = self._status(fwd_at, self.coordinator, fwd_text + f" //@{author.screen_name}:" + text[:60],
                                 "forward", retweeted_id=retweeted or st.id, repost_of=st.id)
                via, fid = "repost", r.id
            row.update(forwarded_to=target.screen_name, forwarded_at=_iso(fwd_at), forward_via=via)
            row["events"].append({"id": fid, "type": "forward", "via": via, "by": self.coordinator.screen_name,
                                  "created_at": _iso(fwd_at)})
            outcome = rng.choices(["fast", "late", "never"], [60, 25, 15])[0]
            row["member_outcome"] = outcome
            if outcome != "never":
                self._respond(th, self._fast(fwd_at) if outcome == "fast" else self._late(fwd_at))
        return th

    def _noise(self, st: Status) -> None:
        rng = self.rng
        if rng.random() < 0.4:
            for _ in range(rng.randint(1, 8)):
                who = rng.choice(self.citizens)
                if who.uid == st.author_uid:
                    continue
                self._comment(st.created_at + timedelta(seconds=int(rng.uniform(180, 3600 * 72))), st, who,
                              rng.choice(N.NOISE_COMMENTS))

    def _respond(self, th: _Thread, first_at: datetime) -> None:
        rng = self.rng
        row, st, member = th.truth, th.status, th.target
        assert member is not None
        author = self.users[st.author_uid]
        closes_now = rng.random() < 0.3
        reply = rng.choice(N.CLOSING_REPLIES if closes_now else N.FAST_REPLIES)
        if rng.random() < 0.15:
            r = self._status(first_at, member, f"回复@{author.screen_name}:{reply}", "response",
                             retweeted_id=st.retweeted_id or st.id, repost_of=st.id)
            via, first_id, first_comment = "repost", r.id, None
        else:
            first_comment = self._comment(first_at, st, member, reply)
            via, first_id = "comment", first_comment.id
        row.update(responded_at=_iso(first_at), responded_by=member.screen_name, response_via=via)
        row["events"].append({"id": first_id, "type": "response", "via": via, "by": member.screen_name,
                              "created_at": _iso(first_at), "closing": closes_now})
        if closes_now:
            row["closed_at"] = _iso(first_at)
        last = first_at
        if first_comment is not None and rng.random() < 0.35:
            fu_at = (first_at + timedelta(hours=rng.uniform(1, 20))).replace(microsecond=0)
            fu = self._comment(fu_at, st, author, rng.choice(N.FOLLOWUPS), reply_to=first_comment)
            fu_row = {"id": fu.id, "created_at": _iso(fu_at), "answered_at": None}
            row["followups"].append(fu_row)
            if rng.random() < 0.6:
                ans_at = self._fast(fu_at + timedelta(minutes=5))
                ans = self._comment(ans_at, st, member, rng.choice(N.MEMBER_SECOND_REPLIES), reply_to=fu)
                fu_row["answered_at"] = _iso(ans_at)
                row["events"].append({"id": ans.id, "type": "reply", "via": "comment", "by": member.screen_name,
                                      "created_at": _iso(ans_at), "closing": False})
                last = ans_at
        if not closes_now and rng.random() < 0.5:
            close_at = self._working_time_on(add_workdays(last, rng.randint(1, 3)))
            c = self._comment(close_at, st, member, rng.choice(N.CLOSING_REPLIES))
            row["closed_at"] = _iso(close_at)
            row["events"].append({"id": c.id, "type": "close", "via": "comment", "by": member.screen_name,
                                  "created_at": _iso(close_at), "closing": True})

    def _own_posts(self, own_rate: float, weights: list[float]) -> None:
        rng = self.rng
        total_days = (self.end - self.start).total_seconds() / 86400
        self._own_truth: list[dict] = []
        posting = set(range(len(self.members)))
        if self._own_share < 1:
            by_activity = sorted(range(len(self.members)), key=lambda i: -self.members[i].activity)
            posting = set(by_activity[: round(self._own_share * len(self.members))])
        for i, (m, w) in enumerate(zip(self.members, weights)):
            if i not in posting:
                continue
            n = 1 + round(own_rate * w * total_days * rng.uniform(0.6, 1.4))
            for _ in range(n):
                text = rng.choice(N.ANNOUNCEMENTS).format(place=rng.choice(N.PLACES))
                if rng.random() < 0.5:
                    text = f"#{m.screen_name}# " + text
                st = self._status(self._own_time(self.start, self.end), m, text, "own")
                self._own_truth.append(self._own_row(st, m))

    def _own_row(self, st: Status, m: Account) -> dict:
        return {"post_id": st.id, "bid": st.bid, "created_at": _iso(st.created_at), "author_uid": m.uid,
                "author": m.screen_name, "kind": "公告", "intent": "own",
                "addressed": [x for x in _MENTION_RE.findall(st.text)], "target": m.screen_name,
                "forwarded_to": None, "forwarded_at": None, "forward_via": None, "member_outcome": None,
                "responded_at": None, "responded_by": None, "response_via": None, "closed_at": None,
                "followups": [], "deleted_at": None, "is_long_text": len(st.text) > 140, "is_repost": False,
                "in_window": st.created_at >= self.window_start, "events": [], "pinned": st.pinned}

    def _pinned_posts(self) -> None:
        rng = self.rng
        holders = [self.coordinator] + [m for i, m in enumerate(self.members) if i % 4 == 0]
        for a in holders:
            at = (self.start - timedelta(days=rng.uniform(30, 120))).replace(microsecond=0)
            text = f"【置顶】{a.screen_name}网上问政受理范围和办理时限说明，请网友@{self.coordinator.screen_name} 或直接在微博中提及本账号反映问题。"
            st = self._status(at, a, text, "pinned", pinned=True)
            st.attitudes = "100万+" if a is self.coordinator else rng.randint(20, 900)
            self._own_truth.append(self._own_row(st, a))

    def _digests(self) -> None:
        day = self.start.date()
        while day <= self.end.date():
            at = datetime.combine(day, time(18, 0), tzinfo=CST)
            if self.start <= at <= self.end:
                st = self._status(at, self.coordinator, self.rng.choice(N.DIGEST).format(n=self.rng.randint(5, 40)),
                                  "digest")
                self._own_truth.append(self._own_row(st, self.coordinator))
            day += timedelta(days=1)

    def _deletions(self, threads: list[_Thread]) -> None:
        """One member post and one unanswered citizen post in the window appear, then vanish."""
        rng = self.rng
        top = max(self.members, key=lambda m: m.activity)
        own = [r for r in self._own_truth if r["author_uid"] == top.uid and r["in_window"] and not r.get("pinned")]
        if own:
            row = own[len(own) // 2]
            st = self.statuses[row["post_id"]]
            st.deleted_at = st.created_at + timedelta(minutes=int(rng.uniform(120, 360)))
            row["deleted_at"] = _iso(st.deleted_at)
        never = [th for th in threads if th.truth["intent"] == "never" and th.truth["in_window"]]
        if len(never) >= 2:
            th = never[0]
            th.status.deleted_at = th.status.created_at + timedelta(minutes=int(rng.uniform(60, 180)))
            th.truth["deleted_at"] = _iso(th.status.deleted_at)

    # ---------------------------------------------------------------- inspection (国办秘函〔2019〕19号)
    def _inspection_traffic(self, silent_members: int, silent_days: float, comment_requests: float) -> None:
        """Members that fall silent, and citizens' requests in the comments under members' own posts.

        Drawn from a generator of their own, after everything else, so a scenario without them is the same
        scenario as before. A silent member is one of the quietest that answered nobody by repost in its last
        `silent_days`: its own posts after that point are taken away and one is put at exactly `silent_days`
        before the end. Each own post of the other members in the window gets a citizen's question or
        complaint in its comments with probability `comment_requests`; the member answers it quickly (a reply
        to the comment), late (2-4 working days on, a comment naming the citizen), or never.
        """
        rng = random.Random(f"wzmon-inspection-{self.seed}")
        cutoff = (self.end - timedelta(days=silent_days)).replace(microsecond=0)
        top = max(self.members, key=lambda m: m.activity)
        reposting = {st.author_uid for st in self.statuses.values() if st.kind == "response" and st.created_at > cutoff}
        quiet = sorted((m for m in self.members if m is not top and m.uid not in reposting),
                       key=lambda m: (m.activity, m.uid))
        for m in quiet[:max(0, silent_members)]:
            gone = {sid for sid, st in self.statuses.items()
                    if st.author_uid == m.uid and st.kind == "own" and st.created_at > cutoff}
            for sid in gone:
                del self.statuses[sid]
            self._own_truth = [r for r in self._own_truth if r["post_id"] not in gone]
            self.truth = [r for r in self.truth if r["post_id"] not in gone]
            text = rng.choice(N.ANNOUNCEMENTS).format(place=rng.choice(N.PLACES))
            st = Status(self._ids.make(cutoff), cutoff, m.uid, text, rng.choice(N.CLIENTS), "own")
            self.statuses[st.id] = st
            row = self._own_row(st, m)
            self._own_truth.append(row)
            self.truth.append(row)
            self.silent.append({"uid": m.uid, "screen_name": m.screen_name, "last_post_id": st.id,
                                "last_post_at": _iso(cutoff), "silent_days": silent_days})
        silent = {x["uid"] for x in self.silent}
        if comment_requests <= 0:
            return
        posts = sorted((st for st in self.statuses.values() if st.kind == "own" and st.author_uid not in silent
                        and st.created_at >= self.window_start and st.deleted_at is None
                        and st.author_uid in {m.uid for m in self.members}), key=lambda st: int(st.id))
        for st in posts:
            if rng.random() >= comment_requests:
                continue
            member = self.users[st.author_uid]
            citizen = rng.choice(self.citizens)
            at = (st.created_at + timedelta(minutes=rng.uniform(20, 600))).replace(microsecond=0)
            topic = rng.choice(N.TOPICS_BY_CATEGORY.get(member.category, N.TOPICS_BY_CATEGORY["综合"]))
            kind, text = rng.choice(COMMENT_REQUESTS)
            ask = Comment(self._ids.make(at), st.id, at, citizen.uid, text.format(topic=topic, place=rng.choice(N.PLACES)),
                          "", None, 0)
            ask.root_id = ask.id
            self.comments[ask.id] = ask
            intent = rng.choices(("fast", "late", "never"), (55, 25, 20))[0]
            row = {"comment_id": ask.id, "post_id": st.id, "member": member.screen_name, "member_uid": member.uid,
                   "author": citizen.screen_name, "author_uid": citizen.uid, "created_at": _iso(at), "kind": kind,
                   "intent": intent, "responded_at": None, "response_id": None, "response_via": None}
            if intent != "never":
                reply = rng.choice(N.FAST_REPLIES)
                if intent == "fast":
                    rat = (next_working_moment(at) + timedelta(minutes=rng.uniform(10, 90))).replace(microsecond=0)
                    ans = Comment(self._ids.make(rat), st.id, rat, member.uid, reply, ask.id, ask.id, 0)
                    via = "reply"
                else:
                    rat = self._working_time_on(add_workdays(at, rng.randint(2, 4)))
                    ans = Comment(self._ids.make(rat), st.id, rat, member.uid, f"@{citizen.screen_name} {reply}", "", None, 0)
                    ans.root_id = ans.id
                    via = "comment"
                self.comments[ans.id] = ans
                row.update(responded_at=_iso(rat), response_id=ans.id, response_via=via)
            self.comment_truth.append(row)

    # ---------------------------------------------------------------- indices
    def _index(self) -> None:
        self.ordered: list[Status] = sorted(self.statuses.values(), key=lambda s: int(s.id), reverse=True)
        self.timelines: dict[str, list[Status]] = {}
        self.pinned: dict[str, Status] = {}
        self.mentions: dict[str, list[Status]] = {}
        self.reposts: dict[str, list[Status]] = {}
        for st in self.ordered:
            if st.pinned:
                self.pinned[st.author_uid] = st
            else:
                self.timelines.setdefault(st.author_uid, []).append(st)
            for name in dict.fromkeys(_MENTION_RE.findall(st.text)):
                self.mentions.setdefault(name, []).append(st)
            targets = dict.fromkeys(x for x in (st.repost_of, st.retweeted_id) if x)
            for t in targets:
                self.reposts.setdefault(t, []).append(st)
        self.root_comments: dict[str, list[Comment]] = {}
        self.replies: dict[str, list[Comment]] = {}
        for c in sorted(self.comments.values(), key=lambda c: int(c.id)):
            if c.reply_to_id is None:
                self.root_comments.setdefault(c.post_id, []).append(c)
            else:
                self.replies.setdefault(c.root_id, []).append(c)
        self._by_post = {}
        for c in self.comments.values():
            self._by_post.setdefault(c.post_id, []).append(c)

    def comment_count(self, post_id: str, now: datetime) -> int:
        return sum(1 for c in self._by_post.get(post_id, ()) if c.visible(now))

    def repost_count(self, post_id: str, now: datetime) -> int:
        return sum(1 for s in self.reposts.get(post_id, ()) if s.visible(now))

    # ---------------------------------------------------------------- views
    def truth_at(self, now: datetime) -> list[dict]:
        """Truth as an observer at `now` would know it: later forwards/responses/closures/follow-ups blanked."""
        out = []
        for row in self.truth:
            if datetime.fromisoformat(row["created_at"]) > now:
                continue
            r = dict(row)
            for key in ("forwarded_at", "responded_at", "closed_at"):
                if r[key] and datetime.fromisoformat(r[key]) > now:
                    r[key] = None
                    if key == "forwarded_at":
                        r["forwarded_to"] = r["forward_via"] = None
                    if key == "responded_at":
                        r["responded_by"] = r["response_via"] = None
            r["followups"] = [dict(f, answered_at=f["answered_at"] if f["answered_at"] and
                                   datetime.fromisoformat(f["answered_at"]) <= now else None)
                              for f in row["followups"] if datetime.fromisoformat(f["created_at"]) <= now]
            r["events"] = [e for e in row["events"] if datetime.fromisoformat(e["created_at"]) <= now]
            out.append(r)
        return out

    def account(self, name_or_uid: str) -> Account:
        """An account by screen name or uid; KeyError names what was not found."""
        acc = self.by_name.get(name_or_uid) or self.users.get(name_or_uid)
        if acc is None:
            raise KeyError(f"no account {name_or_uid!r} in this scenario")
        return acc

    def summary(self) -> dict:
        counts: dict[str, int] = {}
        for r in self.truth:
            counts[r["intent"]] = counts.get(r["intent"], 0) + 1
        return {"params": self.params, "accounts": len(self.accounts), "citizens": len(self.citizens),
                "statuses": len(self.statuses), "comments": len(self.comments), "intents": counts,
                "start": self.start.isoformat(), "window_start": self.window_start.isoformat(),
                "end": self.end.isoformat()}
