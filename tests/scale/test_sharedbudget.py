"""One request budget per site in the database: every poller takes from the same bucket, a refusal
seen by one pauses all, and the server never receives more than the bucket allows (counted there)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from crawler.client import WeiboClient
from crawler.poller import PriorityScheduler
from matrix.storage.db import open_db
from matrix.polling.leases import LeaseManager
from matrix.polling.pollstore import LeasedPoller, LeasedPollStore
from matrix.polling.ingest import Ingestor
from matrix.polling.sharedbudget import DbRequestBudget

from . import scaleutil as su


class FrozenClock:
    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_two_pollers_share_one_bucket(db_url):
    engine = open_db(db_url)
    clock = FrozenClock()
    a = DbRequestBudget(engine, per_minute=4, burst=5, clock=clock)
    b = DbRequestBudget(engine, clock=clock)  # joins the site's bucket as stored
    assert (b.per_minute, b.burst) == (4, 5)
    taken = sum(1 for _ in range(10) for m in (a, b) if m.try_acquire())
    assert taken == 5  # the burst, once, across both
    clock.t += 30  # 4/min: two more tokens
    assert sum(1 for _ in range(5) for m in (b, a) if m.try_acquire()) == 2
    assert a.state()["granted_total"] == 7


def test_a_pause_stops_every_poller_of_the_site(db_url):
    engine = open_db(db_url)
    clock = FrozenClock()
    a = DbRequestBudget(engine, per_minute=60, burst=3, clock=clock)
    b = DbRequestBudget(engine, clock=clock)
    a.pause(120, "blocked at timeline:1")
    assert b.paused_until == pytest.approx(clock.t + 120)
    assert not b.try_acquire() and not a.try_acquire()
    slept: list[float] = []
    c = DbRequestBudget(engine, clock=clock, sleep=lambda s: (slept.append(s), setattr(clock, "t", clock.t + s)))
    c.acquire("x")
    assert sum(slept) >= 120 - 1e-6  # waited out the pause another poller set


def test_rate_is_set_by_the_latest_poller_to_start(db_url):
    engine = open_db(db_url)
    DbRequestBudget(engine, per_minute=30, burst=3)
    DbRequestBudget(engine, per_minute=12, burst=2)
    assert DbRequestBudget(engine).state()["per_minute"] == 12


class Exhausted(BaseException):
    """Raised by a budget that would have to wait: ends a poller's run (not an ordinary error)."""


def test_three_pollers_never_exceed_the_shared_budget_counted_at_the_server(db_url, fake_weibo_factory, policy, scorer,
                                                                           tmp_path):
    """Time stands still for the bucket, so exactly `burst` requests may reach Weibo, however many pollers ask."""
    server = fake_weibo_factory(clock_at=None)
    engine = open_db(db_url)
    su.load_roster(engine, server.scenario, tmp_path)
    clock = FrozenClock()
    burst = 9

    def sleep(seconds: float) -> None:
        if seconds > 0.01:  # a real wait for a token (not a lost compare-and-swap race)
            raise Exhausted()

    DbRequestBudget(engine, per_minute=6, burst=burst, clock=clock)
    server.reset_stats()
    ingestor = Ingestor(engine, policy, scorer)
    pollers = []
    for i in range(3):
        budget = DbRequestBudget(engine, clock=clock, sleep=sleep)
        client = WeiboClient(server.base_url, server.base_url, budget=budget, timeout=5)
        store = LeasedPollStore(ingestor, LeaseManager(engine, f"p{i}", ttl=60))
        pollers.append(LeasedPoller(client, store, budget, now=server.clock.now,
                                    scheduler=PriorityScheduler(min_interval=timedelta(0))))
    ended: list[str] = []
    barrier = threading.Barrier(3)

    def run(p: LeasedPoller) -> None:
        barrier.wait()
        try:
            for _ in range(20):
                p.poll_once(max_requests=1000)
        except Exhausted:
            ended.append(p.poller_id)

    threads = [threading.Thread(target=run, args=(p,)) for p in pollers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(ended) == ["p0", "p1", "p2"]  # each poller ran until the bucket was empty
    assert server.stats["total"] == burst
    assert DbRequestBudget(engine, clock=clock).state()["granted_total"] == burst
    assert sum(p.budget.granted for p in pollers) == burst
