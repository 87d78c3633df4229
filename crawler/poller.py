"""The poller: which source to read next, within one site-wide budget, and what to do when refused.

A pass ranks the sources (`PriorityScheduler`: square-root allocation by each source's estimated
arrival rate and the hours of day its kind of source gets items, plus the nearest open-case deadline;
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
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator, Protocol

import schedule

from crawler.budget import Backoff, RequestBudget
from crawler.constants import SHANGHAI
from crawler.exceptions import BlockedError, LoginRequiredError, WeiboError
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

    def exposure(self, kind: str, since: datetime, now: datetime) -> float:
        """Hours of average activity between `since` and `now`: the integral of the intensity."""
        hours = max(0.0, (now - since).total_seconds() / 3600.0)
        if hours == 0.0 or self.table(kind) is None:
            return hours
        base = self._monday(since)
        return max(0.0, self._integrals(kind, (now - base).total_seconds() / 3600.0)[0]
                   - self._integrals(kind, (since - base).total_seconds() / 3600.0)[0])

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


class PriorityScheduler:
    """Square-root allocation: poll each source about as often as the square root of its arrival rate.

    Why the square root: if source i gets new items as a Poisson stream of rate l_i and is polled every
    I_i hours, an item waits I_i/2 on average, so the items' total wait per hour is sum(l_i * I_i / 2).
    A budget of B polls an hour means sum(1/I_i) = B; minimising the wait under it (Lagrange) gives
    l_i * I_i**2 = const, i.e. poll frequency proportional to sqrt(l_i). Polling in proportion to l_i
    (what "hot first, by rate x time waited" does) gives the same mean wait as plain round-robin; uniform
    polling wastes visits on quiet sources. This is the fixed-budget refresh-allocation problem of Cho &
    Garcia-Molina ("Effective page refresh policies for web crawlers", ACM TODS 2003; "Synchronizing a
    database to improve freshness", SIGMOD 2000), who also show proportional refresh doing worse than
    uniform; their freshness metric has a different optimum, the square root is the optimum for the
    expected delay per item, which is what a monitor of response times cares about.

    The index: score = (rate + urgency) x hours since the last poll, squared. Picking the largest score
    at each step polls a source once its accumulated expected wait l_i * t**2 / 2 reaches the level all
    sources share, which is exactly the interval above. Posting is not uniform in time, so "hours
    squared" is really twice the wait run up per unit rate, 2 x integral of intensity(s) x (now - s) over
    the time since the last poll, with the intensity by hour of day and workday/rest day learned per
    source kind from the items read (`PostingProfile`, fed by the poller through `observe`; flat, i.e.
    hours squared, until items are seen): overnight an office's timeline runs up little, in the morning
    the citizens' mentions run up fast. The rate is the posterior mean of a Gamma-Poisson
    model: the source's decayed item count (the store's `activity_rate` x the decay's mean life) over
    that mean life, plus a Gamma(alpha, beta) prior. The decay is slow (`RATE_HALF_LIFE_HOURS`, four
    days): the tail of the latency is made of the quiet sources' posts, and a quiet source's two or
    three items of the week are all the evidence that it is not silent. The prior is fitted to the
    sources being ranked (empirical Bayes, method of moments on their counts), so it follows the
    population: when a few
    sources hold most of the traffic the prior is weak and the estimates stay apart; when the sources
    look alike it pulls them together. With fewer than `min_fit_sources` polled sources (or
    `empirical=False`) the fixed prior `prior_items` items over `prior_hours` is used. Either way a
    quiet or new source keeps a positive rate (at least `min_prior_items` of prior weight) and is still
    visited, just less often than a busy one (about sqrt(rate ratio) times less). Urgency adds, for a
    source that can settle an open case, deadline_weight / hours left within `horizon_hours` (overdue:
    the top weight). Never-polled sources come first; sources polled less than `min_interval` ago, or
    cooling down after errors, wait.
    """

    name = "priority"

    def __init__(self, prior_items: float = 0.5, prior_hours: float = 24.0, deadline_weight: float = 2.0,
                 horizon_hours: float = 24.0, min_interval: timedelta = timedelta(seconds=60),
                 half_life_hours: float = RATE_HALF_LIFE_HOURS, empirical: bool = True,
                 min_fit_sources: int = 20, min_prior_items: float = 0.1,
                 profile: PostingProfile | None = None) -> None:
        if prior_items <= 0 or prior_hours <= 0 or min_prior_items <= 0:
            raise ValueError("the rate prior needs prior_items, prior_hours and min_prior_items > 0, got "
                             f"{prior_items}, {prior_hours} and {min_prior_items}")
        self.prior_items = prior_items
        self.prior_hours = prior_hours
        self.deadline_weight = deadline_weight
        self.horizon_hours = horizon_hours
        self.min_interval = min_interval
        self.mean_life_hours = half_life_hours / math.log(2)  # the decayed count's window (exposure)
        self.empirical = empirical
        self.min_fit_sources = min_fit_sources
        self.min_prior_items = min_prior_items
        self.prior = (prior_items, prior_hours)  # (alpha items, beta hours) last used, for reports
        self.profile = profile if profile is not None else PostingProfile()

    def observe(self, kind: str, times: list[datetime]) -> None:
        """The poller reports the creation times of the items it read; they shape the posting profile."""
        self.profile.observe(kind, times)

    def fit_prior(self, sources: list[SourceState]) -> tuple[float, float]:
        """Gamma(alpha, beta) prior of the sources' rates by the method of moments: with counts n_i over
        exposure T, E[n] = T*alpha/beta and Var[n] = E[n] + T**2*alpha/beta**2 (Poisson + Gamma spread)."""
        counts = [max(0.0, s.activity_rate) * self.mean_life_hours for s in sources if s.last_polled_at is not None]
        if not self.empirical or len(counts) < self.min_fit_sources:
            return self.prior_items, self.prior_hours
        mean = statistics.fmean(counts)
        if mean <= 0:
            return self.prior_items, self.prior_hours
        excess = statistics.pvariance(counts, mean) - mean  # spread beyond Poisson noise
        alpha = mean * mean / excess if excess > 0 else math.inf
        alpha = min(max(alpha, self.min_prior_items), 50.0)  # 50: sources alike, pool them strongly
        return alpha, alpha * self.mean_life_hours / mean

    def rate(self, s: SourceState, prior: tuple[float, float] | None = None) -> float:
        """Posterior mean items/hour: (alpha + decayed count) / (beta + decay window)."""
        alpha, beta = prior or (self.prior_items, self.prior_hours)
        count = max(0.0, s.activity_rate) * self.mean_life_hours
        return (alpha + count) / (beta + self.mean_life_hours)

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
        return (self.rate(s, prior) + self.urgency(s, now)) * self.profile.waiting(s.kind, s.last_polled_at, now)

    def order(self, sources: list[SourceState], now: datetime) -> list[SourceState]:
        self.prior = prior = self.fit_prior(sources)
        ready = [s for s in sources
                 if (s.cooldown_until is None or s.cooldown_until <= now)
                 and (s.last_polled_at is None or now - s.last_polled_at >= self.min_interval)]
        return sorted(ready, key=lambda s: (-self.score(s, now, prior), s.key))


@dataclass
class PollReport:
    started_at: datetime
    polled: list[str] = field(default_factory=list)
    pages: int = 0
    requests: int = 0
    new_items: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    stopped: str | None = None  # "blocked" | "login_required" | None


SITE_WIDE = (BlockedError, LoginRequiredError)


class Poller:
    """Reads the store's sources through `client` within `budget`; see the module docstring."""

    def __init__(self, client, store: PollStore, budget: RequestBudget | None = None, *,
                 scheduler: Scheduler | None = None, backoff: Backoff | None = None,
                 now: Callable[[], datetime] | None = None, requests_per_pass: int | None = None,
                 max_pages_per_source: int = 5) -> None:
        self.client = client
        self.store = store
        self.budget = budget or client.budget
        self.scheduler = scheduler or PriorityScheduler()
        self.backoff = backoff or Backoff()
        self._now = now or (lambda: datetime.now(timezone.utc))
        self.requests_per_pass = requests_per_pass
        self.max_pages_per_source = max_pages_per_source
        self._source_backoff: dict[str, Backoff] = {}
        self._site_state = "ok"
        self.passes = 0

    # ---------------------------------------------------------------- one source

    def pages_for(self, source: SourceState) -> Iterator[Page]:
        kind, target, cursor = source.kind, source.target, source.cursor or None
        if kind == "timeline":
            return self.client.timeline(target, cursor)
        if kind == "mentions":
            return self.client.search_mentions(target, cursor)
        if kind == "comments":
            return self.client.comments(target, cursor)
        if kind == "reposts":
            return self.client.reposts(target, cursor)
        raise ValueError(f"source {source.key}: unknown kind {kind!r}")

    def poll_source(self, source: SourceState, report: PollReport | None = None) -> int:
        """Read one source page by page, committing each; returns new items. Refusals propagate."""
        report = report or PollReport(self._now())
        new = 0
        pages = self.pages_for(source)
        observe = getattr(self.scheduler, "observe", None)
        try:
            for n, page in enumerate(pages, start=1):
                added = self.store.commit(source.key, page, page.cursor)
                new += added
                if observe is not None:
                    observe(source.kind, [i.created_at for i in page.items if getattr(i, "created_at", None)])
                report.pages += 1
                if page.done or n >= self.max_pages_per_source:
                    break
        finally:
            pages.close()
        return new

    # ---------------------------------------------------------------- a pass

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
            before = self.client.requests
            try:
                report.new_items += self.poll_source(source, report)
                report.polled.append(source.key)
                self._source_ok(source.key)
            except SITE_WIDE as exc:
                report.errors[source.key] = str(exc)
                report.stopped = exc.state
                self._site_refusal(source.key, exc)
                break
            except WeiboError as exc:
                report.errors[source.key] = str(exc)
                self._source_failure(source.key, exc)
            except Exception as exc:  # noqa: BLE001 - one source's bug must not stop the others
                log.exception("polling %s failed", source.key)
                report.errors[source.key] = f"{exc.__class__.__name__}: {exc}"
                self._source_failure(source.key, exc)
            finally:
                report.requests += self.client.requests - before
        self.passes += 1
        if report.stopped is None and report.polled and self._site_state != "ok":
            self._site_state = "ok"
            self.backoff.success()
            self.store.record_health(HealthEvent("ok", "", None, "polling again after a refusal", None, self._now()))
        log.info("pass %d: %d sources, %d requests, %d new items, %d errors%s", self.passes, len(report.polled),
                 report.requests, report.new_items, len(report.errors),
                 f", stopped: {report.stopped}" if report.stopped else "")
        return report

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
