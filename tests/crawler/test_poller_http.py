"""The poller over real HTTP against the fake server, with MemoryStore: priorities, refusals, restarts,
and the budget counted on the server side."""
from __future__ import annotations

from datetime import timedelta

import pytest

from crawler.budget import RequestBudget, SimulatedClock
from crawler.client import WeiboClient
from crawler.poller import Poller, PriorityScheduler, RoundRobinScheduler
from crawler.store import HealthEvent, MemoryStore, SourceState


def sim_budget(server, per_minute=30, burst=3, jitter=0.2, log=None):
    """A budget whose sleeps move the fake server's clock; `log` gets (sim seconds, server request total)."""
    def advance(seconds: float) -> None:
        server.clock.advance(timedelta(seconds=seconds))

    clock = SimulatedClock(on_advance=advance)
    return RequestBudget.simulated(per_minute, burst, jitter, clock=clock, seed=5), clock


def setup(server, per_minute=30, **kw):
    budget, clock = sim_budget(server, per_minute)
    client = WeiboClient(server.base_url, server.base_url, budget=budget, timeout=5)
    store = MemoryStore()
    sc = server.scenario
    for m in sc.accounts:
        store.add_source("timeline", m.uid, cursor={"last_created_at": sc.start.isoformat()})
        store.add_source("mentions", m.screen_name, cursor={"last_created_at": sc.start.isoformat()})
    poller = Poller(client, store, budget, now=server.clock.now, **kw)
    return poller, store, client, clock


def expected_ids(server) -> set[str]:
    sc, now = server.scenario, server.clock.now()
    ids = set()
    for m in sc.accounts:
        ids |= {s.id for s in sc.timelines.get(m.uid, ()) if s.visible(now) and s.created_at >= sc.start}
        ids |= {s.id for s in sc.mentions.get(m.screen_name, ()) if s.visible(now) and not s.pinned
                and s.created_at >= sc.start}
    return ids


def run_until_quiet(poller, passes=40):
    for _ in range(passes):
        report = poller.poll_once()
        if not report.new_items and not report.errors and report.polled:
            polled_all = all(s.last_polled_at is not None for s in poller.store.sources())
            if polled_all:
                return report
    return report


def test_poller_collects_everything_once(fake_weibo) -> None:
    fake_weibo.clock.set(fake_weibo.scenario.window_start)
    poller, store, client, _ = setup(fake_weibo)
    run_until_quiet(poller)
    fake_weibo.clock.set(fake_weibo.scenario.end)
    run_until_quiet(poller)
    assert expected_ids(fake_weibo) <= set(store.items)
    assert store.duplicates == 0
    assert not [h for h in store.health if h.state != "ok"]


def test_killed_mid_batch_then_restarted_loses_and_doubles_nothing(fake_weibo_factory) -> None:
    server = fake_weibo_factory(page_timeline=2, page_search=2)
    poller, store, client, _ = setup(server)

    class Killed(BaseException):
        pass

    real_commit = store.commit
    calls = {"n": 0}

    def dying_commit(key, page, cursor):
        calls["n"] += 1
        if calls["n"] == 7:
            raise Killed()  # the process dies inside the batch, before this page is stored
        return real_commit(key, page, cursor)

    store.commit = dying_commit
    with pytest.raises(Killed):
        poller.poll_once(max_requests=100)
    committed_before = set(store.items)
    assert committed_before and store.commits == 6
    store.commit = real_commit
    # a new process: fresh client and poller, the same store (= the database) and its cursors
    budget, _ = sim_budget(server)
    client2 = WeiboClient(server.base_url, server.base_url, budget=budget, timeout=5)
    poller2 = Poller(client2, store, budget, now=server.clock.now)
    run_until_quiet(poller2)
    assert expected_ids(server) <= set(store.items)
    assert committed_before <= set(store.items)
    assert store.duplicates == 0


def test_budget_never_exceeded_counted_by_the_server(fake_weibo) -> None:
    server = fake_weibo
    server.clock.set(server.scenario.window_start)
    per_minute, burst = 20, 3
    samples: list[tuple[float, int]] = []
    clock = SimulatedClock(on_advance=lambda s: (server.clock.advance(timedelta(seconds=s)),
                                                 samples.append((clock.time(), server.stats["total"]))))
    budget = RequestBudget.simulated(per_minute, burst, 0.3, clock=clock, seed=1)
    client = WeiboClient(server.base_url, server.base_url, budget=budget, timeout=5)
    store = MemoryStore()
    for m in server.scenario.accounts:
        store.add_source("timeline", m.uid)
        store.add_source("mentions", m.screen_name)
    poller = Poller(client, store, budget, now=server.clock.now, scheduler=RoundRobinScheduler())
    server.reset_stats()
    for _ in range(12):
        poller.poll_once()
    total = server.stats["total"]
    assert total == client.requests and total > 3 * per_minute
    # in every 60 simulated seconds the server saw at most rate + burst requests (+1 for the sample edge)
    for i, (t0, n0) in enumerate(samples):
        later = [n for t, n in samples[i:] if t <= t0 + 60]
        assert max(later) - n0 <= per_minute + burst + 1
    assert total <= per_minute * clock.time() / 60 + burst + 1


def test_priority_polls_hot_and_urgent_sources_first() -> None:
    from datetime import datetime, timezone

    now = datetime(2024, 6, 14, 10, tzinfo=timezone.utc)
    hour = timedelta(hours=1)
    hot = SourceState("mentions:hot", "mentions", "hot", last_polled_at=now - hour / 4, activity_rate=8.0)
    quiet = SourceState("mentions:quiet", "mentions", "quiet", last_polled_at=now - 2 * hour, activity_rate=0.0)
    urgent = SourceState("comments:1", "comments", "1", last_polled_at=now - hour / 4, due_at=now + hour / 2)
    fresh = SourceState("timeline:new", "timeline", "new")
    just = SourceState("timeline:just", "timeline", "just", last_polled_at=now - timedelta(seconds=10),
                       activity_rate=100.0)
    order = [s.key for s in PriorityScheduler().order([quiet, hot, urgent, fresh, just], now)]
    assert order[0] == "timeline:new" and order.index("mentions:hot") < order.index("mentions:quiet")
    assert order.index("comments:1") < order.index("mentions:quiet")
    assert "timeline:just" not in order  # polled seconds ago: waits for min_interval
    # starvation guard: the quiet source wins once it has waited long enough
    quiet.last_polled_at = now - 48 * hour
    assert PriorityScheduler().order([quiet, hot], now)[0].key == "mentions:quiet"
    rr = RoundRobinScheduler().order([hot, quiet, urgent], now)
    assert rr[0].key == "mentions:quiet"


def test_login_wall_records_health_keeps_data_and_slows_down(fake_weibo) -> None:
    server = fake_weibo
    poller, store, client, clock = setup(server)
    poller.poll_once()
    kept = set(store.items)
    assert kept
    server.faults.add("captcha")  # every request from now on
    clock.sleep(120)
    before = server.stats["total"]
    report = poller.poll_once()
    # one try per route, no hammering: m.weibo.cn, then weibo.com/ajax (a timeline) or s.weibo.com (mentions; its
    # login wall with no cookie of ours closes that door only, so the next source's weibo.com/ajax is asked too)
    assert report.stopped == "login_required" and server.stats["total"] - before <= 3
    event = store.latest_health("login_required")
    assert event is not None and "cookie" in event.message and event.cooldown_until is not None
    t1 = clock.time()
    poller.poll_once()
    first_pause = clock.time() - t1
    assert first_pause >= 900 * 0.9  # waited out a long cool-down before the next try
    t2 = clock.time()
    poller.poll_once()
    second_pause = clock.time() - t2
    # and it grows: the second cool-down is 2 x 900 s within the back-off's jitter of +/-10 %, so at least
    # 1,620 s, and longer than the first (at most 990 s with its request slot)
    assert second_pause >= 1800 * 0.9 and second_pause > first_pause
    assert set(store.items) == kept
    server.faults.clear()
    clock.sleep(120)
    report = poller.poll_once()
    assert not report.stopped and report.polled and store.latest_health().state == "ok"


def test_blocks_cool_down_longer_each_time(fake_weibo) -> None:
    server = fake_weibo
    poller, store, client, clock = setup(server)
    server.faults.add("432", count=6)  # every route of a pass's first source refused (two each), three passes
    pauses = []
    for _ in range(4):
        clock.sleep(120)
        t = clock.time()
        report = poller.poll_once()
        pauses.append(clock.time() - t)
    blocked = [h for h in store.health if h.state == "blocked"]
    assert len(blocked) == 3 and all(h.http_status == 432 for h in blocked)
    waits = [h.detail["cooldown_seconds"] for h in blocked]
    assert waits[0] >= 60 and waits[1] > waits[0] and waits[2] > waits[1]
    assert not report.stopped and report.polled


def test_one_broken_source_does_not_stop_the_others(fake_weibo) -> None:
    server = fake_weibo
    poller, store, client, clock = setup(server, per_minute=200, scheduler=PriorityScheduler(min_interval=timedelta(0)))
    bad = server.scenario.members[1]
    server.faults.add("html", path=f"containerid=107603{bad.uid}")
    server.faults.add("disconnect", path=f"q%3D%40{__import__('urllib.parse').parse.quote(bad.screen_name)}")
    report = poller.poll_once(max_requests=500)
    assert set(report.errors) == {f"timeline:{bad.uid}", f"mentions:{bad.screen_name}"}
    assert len(report.polled) == len(store.sources()) - 2
    states = {h.source_key: h for h in store.health}
    assert states[f"timeline:{bad.uid}"].state == "malformed"
    assert states[f"mentions:{bad.screen_name}"].state == "transport"
    assert all(h.cooldown_until is not None for h in states.values())
    # while cooling down the broken source is skipped, the rest is polled
    clock.sleep(10)
    report2 = poller.poll_once(max_requests=500)
    assert f"timeline:{bad.uid}" not in report2.polled and f"timeline:{bad.uid}" not in report2.errors
    assert len(report2.polled) >= len(store.sources()) - 2


def test_health_event_defaults() -> None:
    ev = HealthEvent("ok")
    assert ev.at.tzinfo is not None and ev.source_key == ""


def test_run_schedules_passes_until_stopped(fake_weibo) -> None:
    poller, store, client, _ = setup(fake_weibo, per_minute=600)
    poller.run(interval_seconds=1, max_passes=2)
    assert poller.passes == 2 and store.commits > 0
