"""The database side of the poller: which sources exist and how urgent they are, and atomic commits.

Sources come from the roster (each account's timeline and its @mentions) and from open cases (their
comments and reposts, where responses and forwardings appear). Urgency hints — recent activity and
the nearest deadline a source can settle — let the crawler's scheduler poll what matters first.

Several pollers side by side (`wzmon run --poller-id NAME` on one or many machines): `LeasedPoller`
claims each source's lease before reading it (`matrix.polling.leases`), re-reads its cursor under the lease,
and every page commit checks the lease in the same transaction; all pollers take their requests from
one bucket in the database (`matrix.polling.sharedbudget`). The SLA clock runs in whichever poller holds the
`task:sla-clock` lease. A poller that dies holds its sources only until its leases expire.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import Engine, func, select

from crawler.budget import DEFAULT_POLICIES, Backoff, BackoffPolicy
from crawler.poller import Poller, PollReport
from crawler.routes import PROBE_AFTER, PROBE_MAX, RouteBook
from crawler.store import HealthEvent, SourceState
from matrix.polling.ingest import Ingestor
from matrix.polling.leases import (
    DEFAULT_TTL,
    SLA_CLOCK_TASK,
    Lease,
    LeaseLost,
    LeaseManager,
    PollerRegistry,
    default_poller_id,
)
from matrix.storage.db import session_scope
from matrix.storage.models import Account, Case, PollCursor
from matrix.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)
OPEN = ("awaiting_forward", "open", "responded")
LINK_CHECK_TASK = "task:link-check"  # the poller holding this lease checks the links in members' posts


def _nearest(*values: datetime | None) -> datetime | None:
    vals = [as_utc(v) for v in values if v is not None]
    return min(vals) if vals else None


class DbPollStore:
    """`crawler.store.PollStore` on the wzmon database (see `matrix.polling.ingest` for what a commit does)."""

    def __init__(self, ingestor: Ingestor, now: Callable[[], datetime] | None = None):
        self.ingestor = ingestor
        self.engine: Engine = ingestor.engine
        self._now = now or utcnow
        self.cases_touched: set[int] = set()  # over this store's life, for `wzmon poll --once`

    def sources(self) -> list[SourceState]:
        with session_scope(self.engine) as s:
            cursors = {c.source_key: c for c in s.scalars(select(PollCursor))}
            today = self._now().date()
            accounts = [a for a in s.scalars(select(Account)) if
                        (a.active_from is None or a.active_from <= today) and (a.active_to is None or a.active_to >= today)]
            due_by_account = dict(s.execute(
                select(Case.account_uid, func.min(func.coalesce(Case.first_response_due, Case.forward_due,
                                                                Case.next_reply_due, Case.closure_due)))
                .where(Case.status.in_(OPEN)).group_by(Case.account_uid)
            ).all())
            cases = s.execute(
                select(Case.post_id, Case.forward_due, Case.first_response_due, Case.next_reply_due, Case.closure_due,
                       Case.status).where(Case.status.in_(OPEN), Case.origin != "comment")
            ).all()
            member_posts = self._member_posts(s, accounts)
            out: list[SourceState] = []

            def add(kind: str, target: str, due: datetime | None, uid: str = "") -> None:
                key = f"{kind}:{target}"
                c = cursors.get(key)
                out.append(SourceState(
                    key=key, kind=kind, target=target, cursor=dict(c.cursor or {}) if c else {},
                    last_new_at=as_utc(c.last_new_at) if c else None,
                    last_polled_at=as_utc(c.last_polled_at) if c else None, due_at=as_utc(due),
                    activity_rate=float(c.activity_rate or 0.0) if c else 0.0,
                    cooldown_until=as_utc(c.cooldown_until) if c else None,
                    errors=int(c.consecutive_errors or 0) if c else 0, uid=uid,
                ))

            for a in accounts:
                due = due_by_account.get(a.uid)
                add("mentions", a.screen_name, due, a.uid)
                add("timeline", a.uid, due)
            for post_id, fwd, first, nxt, closure, status in cases:
                due = _nearest(fwd if status == "awaiting_forward" else None, first if status == "open" else None,
                               nxt, closure)
                add("comments", post_id, due)
                add("reposts", post_id, due)
            # the comments under members' recent own posts, where citizens' requests open comment cases
            # (matrix.casework.inspection); ranked by the scheduler like every other source, by their own learned rates
            seen = {x.key for x in out}
            for post_id, due in member_posts:
                if f"comments:{post_id}" not in seen:
                    add("comments", post_id, due)
            return out

    def _member_posts(self, s: Any, accounts: list[Account]) -> list[tuple[str, datetime | None]]:
        """(post id, nearest due of its open comment cases) for the members' own posts younger than the
        policy's `[inspection] comment_window`, while comment cases are switched on."""
        from matrix.storage.models import Post

        rules = getattr(getattr(self.ingestor, "policy", None), "inspection", None)
        if rules is None or not rules.comment_cases:
            return []
        members = [a.uid for a in accounts if a.role != "coordinator"]
        if not members:
            return []
        window = rules.comment_window
        since = as_utc(self._now()) - timedelta(minutes=window.minutes or window.amount * 1440)
        posts = [r[0] for r in s.execute(
            select(Post.id).where(Post.user_id.in_(members), Post.item_type.in_(("post", "repost")),
                                  Post.created_at >= since).order_by(Post.created_at.desc())
        )]
        parent = Post.__table__.alias("parent_comment")
        due = dict(s.execute(
            select(parent.c.parent_id, func.min(func.coalesce(Case.first_response_due, Case.next_reply_due,
                                                              Case.closure_due)))
            .join(parent, parent.c.id == Case.post_id)
            .where(Case.origin == "comment", Case.status.in_(OPEN), parent.c.parent_id.in_(posts))
            .group_by(parent.c.parent_id)
        ).all()) if posts else {}
        return [(pid, due.get(pid)) for pid in posts]

    def commit(self, source_key: str, page: Any, next_cursor: dict | None) -> int:
        now = as_utc(page.raw.fetched_at) if page.raw is not None else self._now()
        res = self.ingestor.store_page(source_key, page, next_cursor, now=now)
        self.cases_touched.update(res.cases_touched)
        return res.new_items

    def links_due(self, now: datetime, limit: int = 50) -> list[str]:
        """Links in members' own posts due for a check (never checked, or not within the policy's
        `[inspection] link_check_interval`, a day by default), oldest check first."""
        from matrix.casework.inspection import links_due

        with session_scope(self.engine) as s:
            return links_due(s, self.ingestor.policy, as_utc(now), min(limit, 50))

    def commit_link(self, result: Any) -> None:
        """Keep what checking one link found (crawler.linkcheck.LinkResult)."""
        from matrix.casework.inspection import store_link_result

        with session_scope(self.engine) as s:
            store_link_result(s, result.url, ok=result.ok, status=result.status, final_url=result.final_url,
                              error=result.error, at=result.checked_at)

    def record_health(self, event: HealthEvent) -> None:
        self.ingestor.record_health(event.state, event.source_key, event.message, event.http_status,
                                    event.cooldown_until, event.detail, event.at)


def build_poller(engine: Engine, policy: Any, client_kwargs: dict, *, now: Callable[[], datetime] | None = None,
                 scorer: Any | None = None, **poller_kwargs: Any):  # noqa: ANN201 - TickingPoller
    """A crawler Poller over the database, that also runs the SLA clock after every pass."""
    from crawler.client import WeiboClient
    from crawler.linkcheck import LinkChecker
    from crawler.poller import Poller

    client = WeiboClient(**client_kwargs)
    ingestor = Ingestor(engine, policy, scorer)
    store = DbPollStore(ingestor, now=now)
    poller_kwargs.setdefault("link_checker", LinkChecker(client.budget, timeout=client.timeout))
    poller = Poller(client, store, client.budget, now=now, **poller_kwargs)
    seed_routes(engine, poller, (now or utcnow)())
    return TickingPoller(poller, ingestor, now or utcnow)


def seed_routes(engine: Engine, poller: Poller, now: datetime) -> None:
    """Hand the poller the closed-route episodes stored by earlier runs (matrix.storage.route_health.open_closures): the
    crawler knows no database, and without them each `poll --once` would open (and alert) a new episode. The
    cookies stored as out of use are taken out of use again (matrix.storage.cookie_state)."""
    from matrix.storage.cookie_state import restore_cookie_states
    from matrix.storage.route_health import open_closures

    with session_scope(engine) as s:
        poller.routes.restore(open_closures(s, now))
    restore_cookie_states(engine, getattr(poller.client, "credentials", None))


class TickingPoller:
    """Poll passes followed by the SLA clock, so levels rise as time passes even when nothing new arrives."""

    def __init__(self, poller: Any, ingestor: Ingestor, now: Callable[[], datetime]):
        self.poller, self.ingestor, self._now = poller, ingestor, now

    def poll_once(self, max_requests: int | None = None) -> Any:
        report = self.poller.poll_once(max_requests)
        self._record_cookies()
        self.ingestor.tick(self._now())
        return report

    def _record_cookies(self) -> None:
        """Each cookie's state and requests, kept for `wzmon cookies` and the next run (matrix.storage.cookie_state)."""
        from matrix.storage.cookie_state import record_cookie_states

        record_cookie_states(self.ingestor.engine, getattr(self.poller.client, "credentials", None), self._now())

    def tick(self) -> int:
        return self.ingestor.tick(self._now())

    def run(self, interval_seconds: float = 60.0, tick_minutes: float = 5.0, stop: threading.Event | None = None) -> None:
        import schedule

        stop = stop or threading.Event()
        jobs = schedule.Scheduler()
        jobs.every(max(1, int(tick_minutes * 60))).seconds.do(self._safe_tick)
        t = threading.Thread(target=self._tick_loop, args=(jobs, stop), daemon=True, name="sla-clock")
        t.start()
        self.poller.run(interval_seconds, stop=stop)

    def _safe_tick(self) -> None:
        try:
            self._record_cookies()  # `run`: the cookies' states are stored with each clock tick
            self.tick()
        except Exception:  # noqa: BLE001 - the clock must keep running
            log.exception("SLA clock tick failed")

    @staticmethod
    def _tick_loop(jobs: Any, stop: threading.Event) -> None:
        while not stop.is_set():
            jobs.run_pending()
            stop.wait(1.0)


class LeasedPollStore(DbPollStore):
    """DbPollStore whose commits are fenced by the poller's lease on the source (see `matrix.polling.leases`)."""

    def __init__(self, ingestor: Ingestor, leases: LeaseManager, now: Callable[[], datetime] | None = None):
        super().__init__(ingestor, now=now)
        self.leases = leases
        self._held: dict[str, Lease] = {}
        self._ensured: set[str] = set()

    def sources(self) -> list[SourceState]:
        out = super().sources()
        new = [s.key for s in out if s.key not in self._ensured]
        if new:
            self.leases.ensure(new)
            self._ensured.update(new)
        return out

    def links_due(self, now: datetime, limit: int = 50) -> list[str]:
        """As DbPollStore's, for the one poller holding the `task:link-check` lease (kept while it renews it)."""
        if self.leases.claim(LINK_CHECK_TASK) is None:
            return []
        return super().links_due(now, limit)

    def hold(self, lease: Lease) -> None:
        self._held[lease.source_key] = lease

    def drop(self, source_key: str) -> None:
        self._held.pop(source_key, None)

    def current(self, source: SourceState) -> SourceState | None:
        """SOURCE as stored now (cursor, last poll, cool-down); None if another poller polled it since
        SOURCE was read (its snapshot is stale: nothing to do)."""
        t = PollCursor.__table__
        with self.engine.connect() as conn:
            c = conn.execute(select(t.c.cursor, t.c.last_polled_at, t.c.last_new_at, t.c.cooldown_until,
                                    t.c.activity_rate, t.c.consecutive_errors).where(t.c.source_key == source.key)).first()
        if c is None:
            return source if source.last_polled_at is None else None
        last = as_utc(c.last_polled_at)
        if last != source.last_polled_at:
            return None
        cooldown = as_utc(c.cooldown_until)
        if cooldown is not None and cooldown > self._now():
            return None
        return SourceState(key=source.key, kind=source.kind, target=source.target, cursor=dict(c.cursor or {}),
                           last_new_at=as_utc(c.last_new_at), last_polled_at=last, due_at=source.due_at,
                           activity_rate=float(c.activity_rate or 0.0), cooldown_until=cooldown,
                           errors=int(c.consecutive_errors or 0))

    def commit(self, source_key: str, page: Any, next_cursor: dict | None) -> int:
        lease = self._held.get(source_key)
        guard = (lambda session: self.leases.fence(session, lease)) if lease is not None else None
        now = as_utc(page.raw.fetched_at) if page.raw is not None else self._now()
        res = self.ingestor.store_page(source_key, page, next_cursor, now=now, guard=guard)
        self.cases_touched.update(res.cases_touched)
        return res.new_items


def scaled_policies(scale: float) -> dict[str, BackoffPolicy]:
    """The crawler's cool-down policies times SCALE (1 = as shipped; benches use small values)."""
    return {k: BackoffPolicy(p.base * scale, p.factor, p.cap * scale) for k, p in DEFAULT_POLICIES.items()}


class LeasedPoller(Poller):
    """A crawler `Poller` that polls a source only while it holds the source's lease.

    Sources another poller holds, or polled since this pass's snapshot, are skipped (and left out of
    the pass report). A page whose lease was lost in the meantime is not stored (`LeaseLost`).
    """

    def __init__(self, client: Any, store: LeasedPollStore, budget: Any = None, *, registry: PollerRegistry | None = None,
                 backoff_scale: float = 1.0, **kwargs: Any) -> None:
        if backoff_scale != 1.0 and "backoff" not in kwargs:
            kwargs["backoff"] = Backoff(scaled_policies(backoff_scale))
        if backoff_scale != 1.0 and "routes" not in kwargs:  # a closed route's probe is a cool-down too
            kwargs["routes"] = RouteBook(PROBE_AFTER * backoff_scale, PROBE_MAX * backoff_scale)
        super().__init__(client, store, budget, **kwargs)
        self.store: LeasedPollStore = store
        self.leases = store.leases
        self.registry = registry
        self.backoff_scale = backoff_scale
        self.skipped: list[str] = []
        self.lost: list[str] = []
        self.takeovers = 0

    @property
    def poller_id(self) -> str:
        return self.leases.owner

    def poll_source(self, source: SourceState, report: PollReport | None = None) -> int:
        lease = self.leases.claim(source.key)
        if lease is None:
            self.skipped.append(source.key)
            return 0
        try:
            fresh = self.store.current(source)
            if fresh is None:
                self.skipped.append(source.key)
                return 0
            if lease.takeover:
                self.takeovers += 1
            self.store.hold(lease)
            try:
                return super().poll_source(fresh, report)
            except LeaseLost as exc:
                log.warning("%s", exc, extra={"poller": self.poller_id, "source_key": source.key})
                self.lost.append(source.key)
                return 0
        finally:
            self.store.drop(source.key)
            self.leases.release(lease)

    def _source_failure(self, key: str, exc: Exception) -> None:
        """As the crawler's, with cool-downs scaled like the site-wide ones (see `backoff_scale`)."""
        if self.backoff_scale == 1.0:
            return super()._source_failure(key, exc)
        state = getattr(exc, "state", "error")
        backoff = self._source_backoff.setdefault(key, Backoff(scaled_policies(self.backoff_scale), jitter=0.0))
        delay = backoff.failure(state if state in backoff.policies else "transport", where=key)
        now = self._now()
        self.store.record_health(HealthEvent(state, key, getattr(exc, "status", None), str(exc)[:2000],
                                             now + timedelta(seconds=delay), now, {"cooldown_seconds": round(delay, 1)}))

    def poll_once(self, max_requests: int | None = None) -> PollReport:
        self.skipped, self.lost = [], []
        error = ""
        try:
            report = super().poll_once(max_requests)
        except Exception as exc:  # noqa: BLE001 - recorded in the heartbeat, then raised as before
            error = f"{exc.__class__.__name__}: {exc}"
            if self.registry is not None:
                self.registry.beat(error=error)
            raise
        gone = set(self.skipped) | set(self.lost)
        report.polled = [k for k in report.polled if k not in gone]
        if self.registry is not None:
            self.registry.beat(report.requests, report.new_items,
                               "; ".join(f"{k}: {v}" for k, v in list(report.errors.items())[:3]))
        log.info("poller %s: %d polled, %d skipped (held by others), %d requests, %d new", self.poller_id,
                 len(report.polled), len(self.skipped), report.requests, report.new_items,
                 extra={"poller": self.poller_id, "requests": report.requests, "new_items": report.new_items})
        return report


class LeasedTickingPoller(TickingPoller):
    """TickingPoller for several pollers: only the holder of the `task:sla-clock` lease runs the clock."""

    def __init__(self, poller: LeasedPoller, ingestor: Ingestor, now: Callable[[], datetime]):
        super().__init__(poller, ingestor, now)
        self.leases = poller.leases

    @property
    def poller_id(self) -> str:
        return self.leases.owner

    def poll_once(self, max_requests: int | None = None) -> Any:
        report = self.poller.poll_once(max_requests)
        self._record_cookies()
        self.tick()
        return report

    def tick(self) -> int:
        # the lease is kept (not released): its holder keeps the clock until it stops renewing it
        if self.leases.claim(SLA_CLOCK_TASK) is None:
            return 0
        return self.ingestor.tick(self._now())

    def shutdown(self) -> None:
        """Give back every lease (other pollers take over at once) and mark this poller stopped."""
        released = self.leases.release_all()
        if self.poller.registry is not None:
            self.poller.registry.stop()
        log.info("poller %s stopped, %d lease(s) released", self.poller_id, released, extra={"poller": self.poller_id})


def build_leased_poller(engine: Engine, policy: Any, client_kwargs: dict, *, poller_id: str | None = None,
                        lease_seconds: float = DEFAULT_TTL, shared_budget: bool = True, site: str = "weibo",
                        backoff_scale: float = 1.0, now: Callable[[], datetime] | None = None,
                        lease_clock: Callable[[], datetime] | None = None, scorer: Any | None = None,
                        **poller_kwargs: Any) -> LeasedTickingPoller:
    """A poller that shares the work with every other leased poller on the same database.

    SHARED_BUDGET replaces the client's in-process budget with the site's `DbRequestBudget` (same
    per_minute / burst / jitter: the latest poller to start sets the site's rate).
    """
    from crawler.client import WeiboClient
    from matrix.polling.sharedbudget import DbRequestBudget

    client_kwargs = dict(client_kwargs)
    budget = client_kwargs.get("budget")
    if shared_budget and not isinstance(budget, DbRequestBudget):
        client_kwargs["budget"] = DbRequestBudget(
            engine, per_minute=getattr(budget, "per_minute", None), burst=getattr(budget, "burst", None),
            jitter=getattr(budget, "jitter", 0.0), site=site)
    client = WeiboClient(**client_kwargs)
    ingestor = Ingestor(engine, policy, scorer)
    leases = LeaseManager(engine, poller_id or default_poller_id(), lease_seconds, clock=lease_clock)
    store = LeasedPollStore(ingestor, leases, now=now)
    registry = PollerRegistry(engine, leases.owner)
    registry.start()
    from crawler.linkcheck import LinkChecker

    poller_kwargs.setdefault("link_checker", LinkChecker(client.budget, timeout=client.timeout))
    poller = LeasedPoller(client, store, client.budget, registry=registry, backoff_scale=backoff_scale, now=now,
                          **poller_kwargs)
    seed_routes(engine, poller, (now or utcnow)())
    return LeasedTickingPoller(poller, ingestor, now or utcnow)


def run_forever(engine: Engine, policy: Any, client_kwargs: dict, tick_minutes: float = 5.0,
                interval_seconds: float = 60.0, *, poller_id: str | None = None, lease_seconds: float = DEFAULT_TTL,
                leased: bool = True, backoff_scale: float | None = None) -> None:
    """`wzmon run`: poll on a schedule until interrupted (SIGINT/SIGTERM release this poller's leases).

    With LEASED (the default) any number of `wzmon run` processes, on one machine or many, share the
    sources and one request budget through the database. Environment: WZMON_HTTP_TIMEOUT (seconds),
    WZMON_BACKOFF_SCALE (multiplies every cool-down; for soaks and benches only), WZMON_MIN_INTERVAL
    (seconds before a source may be read again, default 60).
    """
    from matrix.logging_setup import apply_log_format

    apply_log_format()
    client_kwargs = dict(client_kwargs)
    if os.environ.get("WZMON_HTTP_TIMEOUT"):
        client_kwargs.setdefault("timeout", float(os.environ["WZMON_HTTP_TIMEOUT"]))
    if backoff_scale is None:
        backoff_scale = float(os.environ.get("WZMON_BACKOFF_SCALE", "1") or 1)
    if not leased:
        poller = build_poller(engine, policy, client_kwargs)
        log.warning("wzmon poller running: every %.0f s, SLA clock every %.1f min (Ctrl-C to stop)", interval_seconds,
                    tick_minutes)
        poller.run(interval_seconds, tick_minutes)
        return
    extra: dict = {}
    if os.environ.get("WZMON_MIN_INTERVAL"):  # seconds before a source may be read again (default 60)
        from crawler.poller import PriorityScheduler

        extra["scheduler"] = PriorityScheduler(min_interval=timedelta(seconds=float(os.environ["WZMON_MIN_INTERVAL"])))
    poller = build_leased_poller(engine, policy, client_kwargs, poller_id=poller_id, lease_seconds=lease_seconds,
                                 backoff_scale=backoff_scale, **extra)
    stop = threading.Event()

    def on_term(signum: int, _frame: Any) -> None:
        log.warning("poller %s: signal %d, stopping after the current page", poller.poller_id, signum,
                    extra={"poller": poller.poller_id})
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_term)
    log.warning("wzmon poller %s running: every %.0f s, leases of %.0f s, shared budget %s, SLA clock every %.1f min",
                poller.poller_id, interval_seconds, lease_seconds, poller.poller.budget, tick_minutes,
                extra={"poller": poller.poller_id})
    try:
        poller.run(interval_seconds, tick_minutes, stop=stop)
    finally:
        poller.shutdown()
