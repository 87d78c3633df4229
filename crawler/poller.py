"""The poller: which source to read next, within one site-wide budget, and what to do when refused.

A pass ranks the sources (`PriorityScheduler`: poll frequency ~ the square root of each source's arrival
rate, estimated from every post the pages show, weighed by the hours of day its kind of source
gets items, plus the nearest open-case deadline;
`RoundRobinScheduler` is the plain baseline), then reads them in that order until the pass's share
of the budget is spent. Each page is committed with its cursor before the next request, so killing
the process between pages loses nothing and doubles nothing.
Refusals: login/captcha or a block pause the whole budget for a cool-down that grows with each
repeat (recorded as crawler health); a malformed page or a transport error only benches that source.
"""
from __future__ import annotations

import logging
import math
import statistics
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator, Protocol

import schedule

from crawler.clock import now_utc
from crawler.budget import Backoff, RequestBudget
from crawler.constants import SHANGHAI
from crawler.exceptions import (
    BlockedError,
    EmptyError,
    LoginRequiredError,
    MalformedError,
    NoRouteError,
    WeiboError,
)
from crawler.routes import FEED, SEARCH, WHAT_TO_DO, Closure, RouteBook, cursor_for
from crawler.store import RATE_HALF_LIFE_HOURS, HealthEvent, PollStore, SourceState
from crawler.types import Page

log = logging.getLogger("wzmon.crawler.poller")


class Scheduler(Protocol):
    name: str

    def order(self, sources: list[SourceState], now: datetime) -> list[SourceState]: ...


class RoundRobinScheduler:
    """Baseline: least recently polled first, nothing else considered."""

    name = "round-robin"

    def order(self, sources: list[SourceState], now: datetime) -> list[SourceState]:
        epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
        return sorted(sources, key=lambda s: (s.last_polled_at or epoch, s.key))


class PostingProfile:
    """When a kind of source gets its items: relative intensity by hour of day (Asia/Shanghai), apart
    for workdays (Mon-Fri) and rest days, learned from the `created_at` of the items collected.

    Posting is far from uniform in time: citizens write in waking hours, offices post in working hours
    on workdays. The expected number of items a source got since its last poll is therefore its rate
    times the *exposure* of the interval, the integral of the intensity over it (hours of average
    activity), not the hours elapsed: a timeline read at 17:30 has barely accumulated anything by 8:30
    the next morning, while an hour of a weekday afternoon counts for more than one. What the scheduler
    ranks by is the wait those items have run up (`waiting`): each waits in real time from its arrival,
    so an item of the night counts as long as it has waited, but few items arrive then. Each day type's
    profile averages 1 over its 24 hours, so a flat profile makes exposure = elapsed hours; it starts
    flat (`prior_per_hour` pseudo-items in every hour, all day types pooled) and the rest-day profile
    borrows from the pooled one (`shrink` pseudo-items) until rest days have been seen. Counts are
    scaled down past `memory_items` so the profile follows slow changes.
    """

    def __init__(self, prior_per_hour: float = 2.0, shrink: float = 24.0, memory_items: float = 5000.0,
                 floor: float = 0.05) -> None:
        self.prior_per_hour = prior_per_hour
        self.shrink = shrink
        self.memory_items = memory_items
        self.floor = floor
        self._counts: dict[str, list[list[float]]] = {}  # kind -> [workday hours, rest-day hours]
        self._tables: dict[str, list[list[float]]] = {}
        self._weeks: dict[str, tuple] = {}  # kind -> a week's hourly intensities and their integrals

    @staticmethod
    def _slot(at: datetime) -> tuple[int, int]:
        local = at.astimezone(SHANGHAI) if at.tzinfo else at.replace(tzinfo=timezone.utc).astimezone(SHANGHAI)
        return (0 if local.weekday() < 5 else 1), local.hour

    def observe(self, kind: str, times: list[datetime]) -> None:
        if not times:
            return
        counts = self._counts.setdefault(kind, [[0.0] * 24, [0.0] * 24])
        for at in times:
            day, hour = self._slot(at)
            counts[day][hour] += 1.0
        total = sum(map(sum, counts))
        if total > self.memory_items:
            scale = self.memory_items / total
            for row in counts:
                row[:] = [c * scale for c in row]
        self._tables.pop(kind, None)
        self._weeks.pop(kind, None)

    def table(self, kind: str) -> list[list[float]] | None:
        """[workday, rest day] x 24 hourly intensities (each row averaging 1); None while nothing is known."""
        if kind not in self._counts:
            return None
        table = self._tables.get(kind)
        if table is None:
            counts = self._counts[kind]
            pooled = [counts[0][h] + counts[1][h] + self.prior_per_hour for h in range(24)]
            total = sum(pooled)
            pooled = [24.0 * c / total for c in pooled]
            table = []
            for row in counts:
                n = sum(row)
                raw = [max(self.floor, 24.0 * (row[h] + self.shrink * pooled[h] / 24.0) / (n + self.shrink))
                       for h in range(24)]
                mean = sum(raw) / 24.0
                table.append([r / mean for r in raw])
            self._tables[kind] = table
        return table

    def waiting(self, kind: str, since: datetime, now: datetime) -> float:
        """Twice the expected hours waited so far, per unit of rate, by the items that arrived since `since`:
        2 x integral over s in [since, now] of intensity(s) x (now - s). Flat profile: hours squared."""
        hours = max(0.0, (now - since).total_seconds() / 3600.0)
        if hours == 0.0 or self.table(kind) is None:
            return hours * hours
        base = self._monday(since)
        t0 = (since - base).total_seconds() / 3600.0
        c0, g0 = self._integrals(kind, t0)
        _, g1 = self._integrals(kind, t0 + hours)
        return max(0.0, 2.0 * (g1 - g0 - c0 * hours))  # integral of (C(u) - C(since)) du, C the exposure

    @staticmethod
    def _monday(at: datetime) -> datetime:
        local = at.astimezone(SHANGHAI)
        return (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)

    def _integrals(self, kind: str, hours: float) -> tuple[float, float]:
        """(C, G) at `hours` after a Monday 0:00 local: C the exposure so far, G the integral of C."""
        week = self._weeks.get(kind)
        if week is None:
            table = self.table(kind)
            rates = [table[0 if h // 24 < 5 else 1][h % 24] for h in range(168)]
            c, g = [0.0], [0.0]
            for v in rates:
                g.append(g[-1] + c[-1] + v / 2.0)
                c.append(c[-1] + v)
            week = self._weeks[kind] = (rates, c, g)
        rates, c, g = week
        weeks, rest = divmod(hours, 168.0)
        k = int(weeks)
        h = min(int(rest), 167)
        f = rest - h
        cw, gw = c[168], g[168]
        c_at = k * cw + c[h] + rates[h] * f
        g_at = 168.0 * cw * k * (k - 1) / 2.0 + k * gw + k * cw * rest + g[h] + c[h] * f + rates[h] * f * f / 2.0
        return c_at, g_at


@dataclass
class Evidence:
    """What the pages read show of one source: creation times of the posts seen (by id), and the moment
    since which every post of the source is known to have been seen (`covered_from`).

    A page lists the source's newest posts down to some older one, old and new alike, and the walks that
    follow are contiguous with it (the cursor), so the span covered is known, not just the items new to
    the store: a quiet source's first page often reaches back days or weeks, many times the evidence the
    new items since the poller started give. A page that ends the source's history covers it all, as far
    back as the site shows anyone's (see `PriorityScheduler.observe_page`).
    """

    times: dict[str, datetime] = field(default_factory=dict)
    covered_from: datetime | None = None
    seen_until: datetime | None = None  # when the source was last read: the coverage's end
    opener: str | None = None  # the post whose time opens the coverage (not an arrival within it)
    summary: tuple[float, float] | None = None  # (items, hours) as of `seen_until`, until the next page


class PriorityScheduler:
    """Poll each source about as often as a power of its estimated arrival rate (the square root by default).

    Why a power: if source i gets new items as a Poisson stream of rate l_i and
    is polled every I_i hours, an item waits I_i/2 on average, so the items' total wait per hour is
    sum(l_i * I_i / 2). A budget of B polls an hour means sum(1/I_i) = B; minimising the wait under it
    (Lagrange) gives l_i * I_i**2 = const, i.e. poll frequency proportional to sqrt(l_i). Polling in
    proportion to l_i gives the same mean wait as plain round-robin; uniform polling wastes visits on
    quiet sources. (Cho & Garcia-Molina, "Effective page refresh policies for web crawlers", ACM TODS
    2003, study this fixed-budget refresh allocation.) Minimising the mean *squared* wait instead, which
    weighs the long waits a p90 is made of, gives l_i * I_i**3 = const, frequency ~ l_i ** (1/3); in
    general frequency ~ l_i ** (q/2) for `rate_exponent` q (1: square root, the default; 2/3: cube root;
    0: uniform). On the crawler bench's scenario the cube root did not lower the p90 and raised the
    median and the mean, so the default stays the square root.

    The index: score = (rate + urgency) ** q x hours since the last poll, squared. Picking the largest
    score at each step polls a source once l_i**q * t**2 reaches the level all sources share, which is
    the interval above. Posting is not uniform in time, so "hours squared" is really twice the wait run
    up per unit rate, 2 x integral of intensity(s) x (now - s) over the time since the last poll, with
    the intensity by hour of day and workday/rest day learned per source kind from the items read
    (`PostingProfile`, fed through `observe`; flat, i.e. hours squared, until items are seen).

    The rate is the posterior mean of a Gamma-Poisson model: (alpha + n) / (beta + T), n the items seen
    over the span T the poller knows the source completely (`Evidence`, fed by `observe_page` with every
    post on every page read, old ones included, so a quiet source's first page already tells its last
    weeks), both decayed with `half_life_hours` so the estimate follows slow changes. Without evidence
    (a source read by another poller) the store's decayed `activity_rate` stands in, over the decay's
    mean life. The prior is fitted per source kind (timelines and mentions differ: many offices never
    post, citizens name them anyway) to the sources being ranked (empirical Bayes, method of moments),
    so it follows the population: when a few sources hold most of the traffic the prior is weak and the
    estimates stay apart; when the sources look alike it pulls them together. A kind with fewer than
    `min_fit_sources` polled sources borrows the fit over all kinds; with fewer than that overall (or
    `empirical=False`) the fixed prior `prior_items` items over `prior_hours` is used. A quiet or new
    source keeps a positive rate (at least `min_prior_items` of prior weight) and is still visited, just
    less often than a busy one. Urgency adds, for a source that can settle an open case,
    deadline_weight / hours left within `horizon_hours` (overdue: the top weight). Never-polled sources
    come first; sources polled less than `min_interval` ago, or cooling down after errors, wait.
    """

    name = "priority"

    def __init__(self, prior_items: float = 0.5, prior_hours: float = 24.0, deadline_weight: float = 2.0,
                 horizon_hours: float = 24.0, min_interval: timedelta = timedelta(seconds=60),
                 half_life_hours: float = RATE_HALF_LIFE_HOURS, empirical: bool = True,
                 min_fit_sources: int = 20, min_prior_items: float = 0.1,
                 profile: PostingProfile | None = None, rate_exponent: float = 1.0,
                 memory_hours: float = 14 * 24.0, memory_items: int = 200) -> None:
        if prior_items <= 0 or prior_hours <= 0 or min_prior_items <= 0:
            raise ValueError("the rate prior needs prior_items, prior_hours and min_prior_items > 0, got "
                             f"{prior_items}, {prior_hours} and {min_prior_items}")
        if not 0 <= rate_exponent <= 2:
            raise ValueError(f"rate_exponent is the q in frequency ~ rate ** (q/2), 0..2, got {rate_exponent}")
        self.prior_items = prior_items
        self.prior_hours = prior_hours
        self.deadline_weight = deadline_weight
        self.horizon_hours = horizon_hours
        self.min_interval = min_interval
        self.mean_life_hours = half_life_hours / math.log(2)  # the decayed count's window (exposure)
        self.empirical = empirical
        self.min_fit_sources = min_fit_sources
        self.min_prior_items = min_prior_items
        self.rate_exponent = rate_exponent
        self.memory = timedelta(hours=memory_hours)
        self.memory_items = memory_items
        self.prior = (prior_items, prior_hours)  # (alpha items, beta hours) over all kinds, last used, for reports
        self.priors: dict[str, tuple[float, float]] = {}  # the same by source kind
        self.profile = profile if profile is not None else PostingProfile()
        self._evidence: dict[str, Evidence] = {}
        self._oldest_seen: datetime | None = None  # how far back the site's histories reach

    def observe(self, kind: str, times: list[datetime]) -> None:
        """The poller reports the creation times of the new items it read; they shape the posting profile."""
        self.profile.observe(kind, times)

    def observe_page(self, key: str, posts: list[tuple[str, datetime]], exhausted: bool, at: datetime) -> None:
        """Every (id, created_at) on a page of `key` read at `at`, and whether the page ends its history.

        The page covers from its oldest post to `at`; if it ends the source's history, from as far back as
        any source's history reaches (the oldest post seen anywhere), at most `memory` ago. Walks are
        contiguous, so coverage only grows. Kept within `memory` and `memory_items` posts."""
        ev = self._evidence.setdefault(key, Evidence())
        ev.times.update(posts)
        floor = at - self.memory
        oldest = min(posts, key=lambda p: p[1]) if posts else None
        if oldest is not None:
            self._oldest_seen = min(self._oldest_seen or oldest[1], oldest[1])
        if exhausted:  # the whole history, as far back as the site shows any source's (a young site: less)
            start, opener = max(floor, min(oldest[1] if oldest else at, self._oldest_seen or floor)), None
        elif oldest is not None:  # the oldest post opens the span: n posts, n - 1 arrivals within it
            start, opener = oldest[1], oldest[0]
        else:
            start, opener = at, None
        if ev.covered_from is None or start < ev.covered_from or (start == ev.covered_from and opener is None):
            ev.covered_from, ev.opener = start, opener
        kept = sorted(((i, t) for i, t in ev.times.items() if t >= floor), key=lambda it: it[1], reverse=True)
        if len(kept) > self.memory_items:
            kept = kept[: self.memory_items]
            floor = max(floor, kept[-1][1])
        ev.times = dict(kept)
        if ev.covered_from < floor:
            ev.covered_from, ev.opener = floor, None
        ev.seen_until = max(ev.seen_until or at, at)
        ev.summary = None

    def evidence(self, s: SourceState) -> tuple[float, float]:
        """(items, hours) the rate rests on, both decayed by age as of the last read (see the class doc)."""
        ev = self._evidence.get(s.key)
        tau = self.mean_life_hours
        if ev is None or ev.covered_from is None or ev.seen_until is None:
            return max(0.0, s.activity_rate) * tau, tau
        if ev.summary is None:
            items = sum(math.exp(-max(0.0, (ev.seen_until - t).total_seconds()) / 3600.0 / tau)
                        for i, t in ev.times.items() if t >= ev.covered_from and i != ev.opener)
            span = max(0.0, (ev.seen_until - ev.covered_from).total_seconds() / 3600.0)
            ev.summary = items, tau * (1.0 - math.exp(-span / tau))
        return ev.summary

    def fit_prior(self, sources: list[SourceState]) -> tuple[float, float]:
        """Gamma(alpha, beta) prior of the sources' rates by the method of moments: with n_i items over
        T_i hours and r_i = n_i/T_i, E[r] = alpha/beta = m and E[(r - m)**2] = m/T_i + alpha/beta**2
        (Poisson noise + the spread of the rates themselves)."""
        pairs = [self.evidence(s) for s in sources if s.last_polled_at is not None]
        pairs = [(n, t) for n, t in pairs if t > 0]
        if not self.empirical or len(pairs) < self.min_fit_sources:
            return self.prior_items, self.prior_hours
        mean = sum(n for n, _ in pairs) / sum(t for _, t in pairs)
        if mean <= 0:
            return self.prior_items, self.prior_hours
        spread = statistics.fmean((n / t - mean) ** 2 - mean / t for n, t in pairs)
        alpha = mean * mean / spread if spread > 0 else math.inf
        alpha = min(max(alpha, self.min_prior_items), 50.0)  # 50: sources alike, pool them strongly
        return alpha, alpha / mean

    def fit_priors(self, sources: list[SourceState]) -> dict[str, tuple[float, float]]:
        """The prior for each source kind; a kind with too few polled sources borrows the fit over all."""
        self.prior = pooled = self.fit_prior(sources)
        out = {}
        for kind in {s.kind for s in sources}:
            group = [s for s in sources if s.kind == kind]
            enough = sum(1 for s in group if s.last_polled_at is not None) >= self.min_fit_sources
            out[kind] = self.fit_prior(group) if enough else pooled
        return out

    def rate(self, s: SourceState, prior: tuple[float, float] | None = None) -> float:
        """Posterior mean items/hour: (alpha + items) / (beta + hours)."""
        alpha, beta = prior or (self.prior_items, self.prior_hours)
        items, hours = self.evidence(s)
        return (alpha + items) / (beta + hours)

    def urgency(self, s: SourceState, now: datetime) -> float:
        if s.due_at is None:
            return 0.0
        hours_left = (s.due_at - now).total_seconds() / 3600.0
        if hours_left > self.horizon_hours:
            return 0.0
        return self.deadline_weight / max(hours_left, 0.5)  # overdue: still watched, at the top weight

    def score(self, s: SourceState, now: datetime, prior: tuple[float, float] | None = None) -> float:
        if s.last_polled_at is None:
            return math.inf
        weight = (self.rate(s, prior) + self.urgency(s, now)) ** self.rate_exponent
        return weight * self.profile.waiting(s.kind, s.last_polled_at, now)

    def order(self, sources: list[SourceState], now: datetime) -> list[SourceState]:
        self.priors = priors = self.fit_priors(sources)
        ready = [s for s in sources
                 if (s.cooldown_until is None or s.cooldown_until <= now)
                 and (s.last_polled_at is None or now - s.last_polled_at >= self.min_interval)]
        return sorted(ready, key=lambda s: (-self.score(s, now, priors[s.kind]), s.key))


@dataclass
class PollReport:
    started_at: datetime
    polled: list[str] = field(default_factory=list)
    pages: int = 0
    requests: int = 0
    new_items: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    causes: dict[str, str] = field(default_factory=dict)  # source -> cause of its error (see error_cause)
    stopped: str | None = None  # "blocked" | "login_required" | None
    routes: dict[str, str] = field(default_factory=dict)  # source key -> route that read it (crawler.routes)
    links_checked: int = 0  # links in members' posts checked in this pass (crawler.linkcheck)
    parse_warnings: dict[str, int] = field(default_factory=dict)  # source -> items its pages had that were unreadable
    waiting: list[str] = field(default_factory=list)  # sources with every route closed and none due a probe


SITE_WIDE = (BlockedError, LoginRequiredError)
_DNS = ("name or service not known", "temporary failure in name resolution", "nodename nor servname",
        "getaddrinfo", "no address associated", "name resolution")


def error_cause(exc: Exception) -> str:
    """What kind of trouble an error is, in words an operator acts on: blocked, login wanted, no route, DNS,
    refused, timeout, network, malformed, empty."""
    if isinstance(exc, BlockedError):
        return "blocked"
    if isinstance(exc, LoginRequiredError):
        return "login wanted"
    if isinstance(exc, NoRouteError):
        return "no route"
    if isinstance(exc, MalformedError):
        return "malformed"
    if isinstance(exc, EmptyError):
        return "empty"
    text = str(exc).lower()
    if any(k in text for k in _DNS):
        return "DNS"
    if "refused" in text:
        return "refused"
    if "timed out" in text or "timeout" in text:
        return "timeout"
    return "network"


class Poller:
    """Reads the store's sources through `client` within `budget`; see the module docstring."""

    def __init__(self, client, store: PollStore, budget: RequestBudget | None = None, *,
                 scheduler: Scheduler | None = None, backoff: Backoff | None = None,
                 now: Callable[[], datetime] | None = None, requests_per_pass: int | None = None,
                 max_pages_per_source: int = 5, link_checker=None,  # noqa: ANN001 - LinkChecker
                 routes: RouteBook | None = None) -> None:
        self.client = client
        self.routes = routes or RouteBook()
        self._pc = None
        self.link_checker = link_checker
        self.store = store
        self.budget = budget or client.budget
        self.scheduler = scheduler or PriorityScheduler()
        self.backoff = backoff or Backoff()
        self._now = now or now_utc
        self.requests_per_pass = requests_per_pass
        self.max_pages_per_source = max_pages_per_source
        self._source_backoff: dict[str, Backoff] = {}
        self._site_state = "ok"
        self.passes = 0

    # ---------------------------------------------------------------- one source

    def pages_for(self, source: SourceState, route: str = "mobile", cursor: dict | None = None) -> Iterator[Page]:
        """The page walk of `source` through `route` (crawler.routes), from `cursor` (default: the stored one)."""
        kind, target = source.kind, source.target
        cursor = cursor_for(source.cursor or None if cursor is None else cursor, route)
        if route == "pc":
            reader = self._pc_route()
        else:
            reader = self.client
        if kind == "timeline" and route in ("mobile", "pc"):
            return reader.timeline(target, cursor)
        if kind == "mentions" and route == "mobile":
            return self.client.search_mentions(target, cursor)
        if kind == "mentions" and route == FEED:
            return self._pc_route().mention_feed(source.uid, cursor)
        if kind == "mentions" and route == "search":
            return self.client.search_html(f"@{target.lstrip('@')}", cursor)
        if kind == "comments" and route in ("mobile", "pc"):
            return reader.comments(target, cursor)
        if kind == "reposts" and route in ("mobile", "pc"):
            return reader.reposts(target, cursor)
        raise ValueError(f"source {source.key}: unknown kind {kind!r} or route {route!r}")

    def _pc_route(self):  # noqa: ANN202 - crawler.pc_api.PcRoute
        if self._pc is None:
            from crawler.pc_api import PcRoute

            self._pc = PcRoute(self.client)
        return self._pc

    def _feed_open(self, source: SourceState) -> bool:
        """A member's own mention feed is a route only while the office's cookie for that member is in use."""
        creds = getattr(self.client, "credentials", None)
        return bool(source.uid) and creds is not None and creds.member_cookie(source.uid) is not None

    def open_routes(self, source: SourceState, now: datetime) -> list[str]:
        """The routes `source` may be read through now: open ones, or closed ones due a probe (crawler.routes)."""
        return [r for r in self.routes.candidates(source.kind, now) if r != FEED or self._feed_open(source)]

    def poll_source(self, source: SourceState, report: PollReport | None = None) -> int:
        """Read one source page by page, committing each; returns new items. When a route refuses, the same
        source is read through the next open route (crawler.routes); a refusal of every route propagates. A refusal
        that speaks of our cookies (s.weibo.com's login wall, a member's own feed) is not the site's: if it is all
        that stood in the way, the refusing doors close and the source waits (`NoRouteError`), the others go on."""
        report = report or PollReport(self._now())
        progress = {"new": 0, "cursor": source.cursor or None}
        refused: list[tuple[str, WeiboError]] = []
        ours: WeiboError | None = None  # a refusal that speaks of our cookies, not of the site (see below)
        for route in self.open_routes(source, self._now()):
            try:
                self._read(source, route, progress, report)
            except SITE_WIDE as exc:
                if route == FEED:  # one member's cookie, not a door: the pool took it out of use
                    log.warning("the own mention feed of %s refused (%s); its cookie is out of use", source.key, exc)
                    ours = exc
                    continue
                if route == SEARCH and isinstance(exc, LoginRequiredError):
                    # s.weibo.com always wants a login: its wall speaks of our cookie (none in use, or the one sent
                    # is now out of use), not of the site; that door closes (probed later) and the others go on
                    self._route_refused(route, exc, source.key)
                    ours = exc
                    continue
                refused.append((route, exc))
                continue
            for closed, exc in refused:  # a door closed while another is open: read through that one
                self._route_refused(closed, exc, source.key)
            ended = self.routes.worked(route)
            if ended is not None:
                self._route_reopened(ended)
            report.routes[source.key] = route
            return progress["new"]
        if refused and ours is None:  # every route refused: the site is refusing us, not one door
            for route, exc in refused:
                if route in self.routes.closed:  # a failed probe: wait longer before the next
                    self.routes.refused(route, error_cause(exc), str(exc)[:500], self._now())
            raise refused[-1][1]
        if ours is not None:  # no door open to us for this source: it waits, the others are read on
            for closed, exc in refused:  # a door that did refuse is closed as a door, not as the site
                self._route_refused(closed, exc, source.key)
            raise NoRouteError(f"{source.key}: no route open to us ({ours})", url=ours.url, status=ours.status,
                               raw=ours.raw)
        return progress["new"]

    def _read(self, source: SourceState, route: str, progress: dict, report: PollReport) -> None:
        pages = self.pages_for(source, route, progress["cursor"])
        observe = getattr(self.scheduler, "observe", None)
        observe_page = getattr(self.scheduler, "observe_page", None)
        try:
            for n, page in enumerate(pages, start=1):
                cursor = {**page.cursor, "route": route} if page.cursor is not None else None
                progress["new"] += self.store.commit(source.key, page, cursor)
                if cursor is not None:
                    progress["cursor"] = cursor
                if page.warnings:
                    report.parse_warnings[source.key] = report.parse_warnings.get(source.key, 0) + len(page.warnings)
                if observe is not None:
                    observe(source.kind, [i.created_at for i in page.items if getattr(i, "created_at", None)])
                if observe_page is not None and page.shown is not None:
                    observe_page(source.key, page.shown, page.exhausted, page.raw.fetched_at)
                report.pages += 1
                if page.done or n >= self.max_pages_per_source:
                    break
        finally:
            pages.close()

    def _route_refused(self, route: str, exc: WeiboError, key: str) -> None:
        now = self._now()
        closure = self.routes.refused(route, error_cause(exc), str(exc)[:500], now)
        if closure.streak == 1:  # one health event per episode; key without ':' so the store makes no source of it
            log.warning("route %s refused at %s (%s); reading through the next route", route, key, closure.cause)
            self.store.record_health(HealthEvent(
                "route_closed", f"route-{route}", exc.status, f"{WHAT_TO_DO[route]} ({exc})"[:2000],
                closure.probe_at, now, {"route": route, "cause": closure.cause, "since": closure.since.isoformat()}))

    def _route_reopened(self, closure: Closure) -> None:
        now = self._now()
        self.store.record_health(HealthEvent(
            "ok", f"route-{closure.route}", None, f"route {closure.route} answers again", None, now,
            {"route": closure.route, "closed_since": closure.since.isoformat(), "probes": closure.streak}))

    # ---------------------------------------------------------------- a pass

    UNREACHABLE_AFTER = 3  # sources failing to connect, with none reached, before a pass gives up

    def _unreachable(self, report: PollReport) -> bool:
        """Nothing reached and the first few sources all failed to connect: the site (or the network) is down, and
        spending the rest of the pass's budget on it tells nothing more."""
        return (not report.polled and len(report.errors) >= self.UNREACHABLE_AFTER
                and all(c in ("DNS", "refused", "timeout", "network") for c in report.causes.values()))

    def poll_once(self, max_requests: int | None = None) -> PollReport:
        """One pass over the sources in priority order, until this pass's requests are spent."""
        now = self._now()
        report = PollReport(now)
        limit = max_requests or self.requests_per_pass or max(1, int(self.budget.per_minute))
        sources = [s for s in self.store.sources() if s.cooldown_until is None or s.cooldown_until <= now]
        start_requests = self.client.requests
        for source in self.scheduler.order(sources, now):
            if self.client.requests - start_requests >= limit:
                break
            if not self.open_routes(source, now):  # its doors are closed (one health event each): no request,
                report.waiting.append(source.key)  # no failure of its own, read as soon as a door opens
                continue
            before = self.client.requests
            try:
                report.new_items += self.poll_source(source, report)
                report.polled.append(source.key)
                self._source_ok(source.key)
            except SITE_WIDE as exc:
                report.errors[source.key] = str(exc)
                report.causes[source.key] = error_cause(exc)
                report.stopped = exc.state
                self._site_refusal(source.key, exc)
                break
            except WeiboError as exc:
                report.errors[source.key] = str(exc)
                report.causes[source.key] = error_cause(exc)
                self._source_failure(source.key, exc)
                if self._unreachable(report):
                    log.warning("stopping this pass: the first %d sources all failed to connect (%s); the site "
                                "cannot be reached", len(report.errors), report.causes[source.key])
                    break
            except Exception as exc:  # noqa: BLE001 - one source's bug must not stop the others
                log.exception("polling %s failed", source.key)
                report.errors[source.key] = f"{exc.__class__.__name__}: {exc}"
                report.causes[source.key] = "bug"
                self._source_failure(source.key, exc)
            finally:
                report.requests += self.client.requests - before
        if report.stopped is None and not self._unreachable(report):
            self._check_links(report, limit - report.requests)
        self.passes += 1
        if report.stopped is None and report.polled and self._site_state != "ok":
            self._site_state = "ok"
            self.backoff.success()
            self.store.record_health(HealthEvent("ok", "", None, "polling again after a refusal", None, self._now()))
        log.info("pass %d: %d sources, %d requests, %d new items, %d errors%s", self.passes, len(report.polled),
                 report.requests, report.new_items, len(report.errors),
                 f", stopped: {report.stopped}" if report.stopped else "")
        return report

    def _check_links(self, report: PollReport, left: int) -> None:
        """Spend what the pass has left of its requests on the links the store says are due (the store decides
        how often a link is checked; each check is one HEAD and at most one GET, each within the budget)."""
        due = getattr(self.store, "links_due", None)
        if self.link_checker is None or due is None or left <= 0:
            return
        for url in due(self._now(), left):
            if left <= 0:
                break
            try:
                result = self.link_checker.check(url)
            except Exception:  # noqa: BLE001 - one link's trouble must not stop the pass
                log.exception("checking link %s failed", url)
                continue
            self.store.commit_link(replace(result, checked_at=self._now()))  # the poller's clock, like its pages
            report.links_checked += 1
            report.requests += result.requests
            left -= result.requests

    def _site_refusal(self, key: str, exc: WeiboError) -> None:
        retry_after = getattr(exc, "retry_after", None)
        delay = self.backoff.failure(exc.state, retry_after, where=key)
        now = self._now()
        until = now + timedelta(seconds=delay)
        why = ("Weibo wants a login or captcha: renew the cookie; polling slowed down"
               if isinstance(exc, LoginRequiredError) else "Weibo is refusing requests; cooling down")
        self.store.record_health(HealthEvent(exc.state, key, exc.status, f"{why} ({exc})", until, now,
                                             {"cooldown_seconds": round(delay), "streak": self.backoff.current(exc.state)}))
        self.budget.pause(delay, f"{exc.state} at {key}")
        self._site_state = exc.state

    def _source_failure(self, key: str, exc: Exception) -> None:
        state = getattr(exc, "state", "error")
        backoff = self._source_backoff.setdefault(key, Backoff(jitter=0.0))
        delay = backoff.failure(state if state in backoff.policies else "transport", where=key)
        now = self._now()
        self.store.record_health(HealthEvent(state, key, getattr(exc, "status", None), str(exc)[:2000],
                                             now + timedelta(seconds=delay), now,
                                             {"cooldown_seconds": round(delay)}))

    def _source_ok(self, key: str) -> None:
        backoff = self._source_backoff.pop(key, None)
        if backoff is not None:
            self.store.record_health(HealthEvent("ok", key, None, "source readable again", None, self._now()))

    # ---------------------------------------------------------------- forever

    def run(self, interval_seconds: float = 60.0, *, stop: threading.Event | None = None,
            max_passes: int | None = None) -> None:
        """Poll every `interval_seconds` with `schedule` until `stop` is set (or `max_passes` ran)."""
        stop = stop or threading.Event()
        jobs = schedule.Scheduler()

        def one_pass() -> None:
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - keep the service alive; the next pass retries
                log.exception("poll pass failed")
            if max_passes is not None and self.passes >= max_passes:
                stop.set()

        jobs.every(max(1, int(interval_seconds))).seconds.do(one_pass)
        one_pass()
        while not stop.is_set():
            jobs.run_pending()
            idle = jobs.idle_seconds
            stop.wait(min(max(idle or 0.0, 0.05), 5.0))
        jobs.clear()
