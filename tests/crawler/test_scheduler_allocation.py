"""PriorityScheduler's allocation: poll frequency ~ a power of the rate, quiet sources still visited, rates
estimated from every post the pages show, priors fitted per source kind."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crawler.poller import PriorityScheduler, RoundRobinScheduler
from crawler.store import SourceState

START = datetime(2024, 6, 14, tzinfo=timezone.utc)


def simulate(scheduler, rates: dict[str, float], minutes: int) -> dict[str, int]:
    """One poll a minute to the scheduler's first pick; the rates (items/hour) are held fixed."""
    sources = {k: SourceState(k, "mentions", k.split(":", 1)[1], activity_rate=r) for k, r in rates.items()}
    polls = dict.fromkeys(rates, 0)
    for minute in range(minutes):
        now = START + timedelta(minutes=minute)
        pick = scheduler.order(list(sources.values()), now)[0]
        sources[pick.key].last_polled_at = now
        polls[pick.key] += 1
    return polls


def test_poll_frequency_follows_the_square_root_of_the_rate() -> None:
    rates = {"mentions:hot": 16.0, "mentions:warm": 4.0, **{f"mentions:q{i}": 1.0 for i in range(6)}}
    sched = PriorityScheduler(prior_items=1e-9, prior_hours=1e-9, empirical=False, min_interval=timedelta(0))
    polls = simulate(sched, rates, 24 * 60)
    quiet = sum(polls[f"mentions:q{i}"] for i in range(6)) / 6
    assert quiet > 0
    assert abs(polls["mentions:hot"] / quiet - 4.0) < 0.4  # sqrt(16/1)
    assert abs(polls["mentions:warm"] / quiet - 2.0) < 0.2  # sqrt(4/1)
    rr = simulate(RoundRobinScheduler(), rates, 24 * 60)
    assert max(rr.values()) - min(rr.values()) <= 1


def test_fitted_prior_follows_the_population() -> None:
    sched = PriorityScheduler()
    polled = START - timedelta(hours=1)
    alike = [SourceState(f"mentions:a{i}", "mentions", f"a{i}", last_polled_at=polled, activity_rate=0.5)
             for i in range(40)]
    skewed = [SourceState(f"mentions:s{i}", "mentions", f"s{i}", last_polled_at=polled,
                          activity_rate=4.0 if i < 4 else 0.0) for i in range(40)]
    a_alike, _ = sched.fit_prior(alike)
    a_skewed, b_skewed = sched.fit_prior(skewed)
    assert a_alike > 10 * a_skewed  # alike sources: pooled hard; a few hot ones: estimates kept apart
    quiet, hot = (sched.rate(s, (a_skewed, b_skewed)) for s in (skewed[-1], skewed[0]))
    assert 0 < quiet < hot  # a source with nothing seen keeps a positive rate
    few = alike[:5]
    assert sched.fit_prior(few) == (sched.prior_items, sched.prior_hours)  # too few to fit: fixed prior


def test_cooling_down_sources_wait() -> None:
    now = START
    cooling = SourceState("timeline:1", "timeline", "1", cooldown_until=now + timedelta(minutes=5))
    ready = SourceState("timeline:2", "timeline", "2", last_polled_at=now - timedelta(hours=1))
    assert [s.key for s in PriorityScheduler().order([cooling, ready], now)] == ["timeline:2"]


def test_a_quiet_source_is_remembered_for_days() -> None:
    """Two items this week keep a quiet source well apart from a silent one (the latency tail is theirs)."""
    from crawler.store import decayed_rate

    now = START
    week = [now - timedelta(days=3), now - timedelta(days=5)]
    fresh = decayed_rate(0.0, None, now, [now - timedelta(minutes=5)])
    assert decayed_rate(0.0, None, now, [week[0]]) > 0.5 * fresh  # a 3-day-old item still weighs over half
    polled = now - timedelta(hours=1)
    quiet = SourceState("mentions:q", "mentions", "q", last_polled_at=polled,
                        activity_rate=decayed_rate(0.0, None, now, week))
    silent = SourceState("mentions:s", "mentions", "s", last_polled_at=polled)
    busy = [SourceState(f"mentions:b{i}", "mentions", f"b{i}", last_polled_at=polled,
                        activity_rate=decayed_rate(0.0, None, now, [now - timedelta(hours=h) for h in range(0, 72, 3)]))
            for i in range(4)]
    population = [quiet, silent, *busy, *(SourceState(f"mentions:z{i}", "mentions", f"z{i}", last_polled_at=polled)
                                          for i in range(20))]
    sched = PriorityScheduler()
    prior = sched.fit_prior(population)
    assert sched.rate(quiet, prior) > 4 * sched.rate(silent, prior)
    assert sched.rate(busy[0], prior) > 4 * sched.rate(quiet, prior)


def test_waiting_follows_the_posting_hours() -> None:
    """A timeline whose office posts in working hours has gained little overnight: rank by the wait run up."""
    from crawler.constants import SHANGHAI as CST
    from crawler.poller import PostingProfile

    workdays = [datetime(2024, 6, d, h, m, tzinfo=CST) for d in (10, 11, 12, 13) for h in range(9, 17) for m in (5, 35)]
    sched = PriorityScheduler(min_interval=timedelta(0))
    flat = PostingProfile()
    now = datetime(2024, 6, 14, 10, 0, tzinfo=CST)  # Friday 10:00
    evening = datetime(2024, 6, 13, 17, 30, tzinfo=CST)  # read yesterday after office hours
    assert abs(flat.waiting("timeline", evening, now) - 16.5 ** 2) < 1e-6  # nothing learned: hours squared
    sched.observe("timeline", workdays)
    workday = sched.profile.table("timeline")[0]
    assert workday[3] < 0.2 < 1.5 < workday[10]  # 3:00 quiet, 10:00 busy (the hours average 1)
    quiet = SourceState("timeline:1", "timeline", "1", last_polled_at=evening, activity_rate=0.1)
    busy = SourceState("timeline:2", "timeline", "2", last_polled_at=datetime(2024, 6, 14, 9, 0, tzinfo=CST),
                       activity_rate=2.0)
    # by hours the source unread since last evening is far behind (16.5 h vs 1 h); by the wait its items
    # ran up (few arrived overnight), the busy one, unread through this office hour, comes first
    assert [s.key for s in sched.order([quiet, busy], now)] == ["timeline:2", "timeline:1"]
    assert [s.key for s in PriorityScheduler(min_interval=timedelta(0)).order([quiet, busy], now)][0] == "timeline:1"


def test_poll_frequency_follows_the_rate_exponent() -> None:
    """rate_exponent q: frequency ~ rate ** (q/2); q = 2/3 is the cube-root rule (least mean squared wait)."""
    rates = {"mentions:hot": 27.0, "mentions:warm": 8.0, **{f"mentions:q{i}": 1.0 for i in range(24)}}
    sched = PriorityScheduler(prior_items=1e-9, prior_hours=1e-9, empirical=False, min_interval=timedelta(0),
                              rate_exponent=2 / 3)
    polls = simulate(sched, rates, 24 * 60)
    quiet = sum(polls[f"mentions:q{i}"] for i in range(24)) / 24
    assert abs(polls["mentions:hot"] / quiet - 3.0) < 0.3  # 27 ** (1/3)
    assert abs(polls["mentions:warm"] / quiet - 2.0) < 0.2  # 8 ** (1/3)
    uniform = simulate(PriorityScheduler(empirical=False, min_interval=timedelta(0), rate_exponent=0.0),
                       rates, 24 * 60)
    assert max(uniform.values()) - min(uniform.values()) <= 1


def page(hours_ago: list[float], now: datetime, tag: str) -> list[tuple[str, datetime]]:
    return [(f"{tag}{i}", now - timedelta(hours=h)) for i, h in enumerate(hours_ago)]


def test_a_page_of_old_posts_tells_a_quiet_source_from_a_silent_one() -> None:
    """The store counts only items new to it (none, for posts older than the cursor); the page shows them."""
    now = START
    polled = now - timedelta(hours=1)
    keys = ["mentions:quiet", "mentions:silent", *(f"mentions:b{i}" for i in range(4)),
            *(f"mentions:z{i}" for i in range(20))]
    sources = [SourceState(k, "mentions", k.split(":")[1], last_polled_at=polled) for k in keys]
    blind = PriorityScheduler()
    sched = PriorityScheduler()
    sched.observe_page("mentions:quiet", page([30, 80, 120], polled, "q"), True, polled)  # 3 posts in 5 days
    for k in keys[1:]:
        if k.startswith("mentions:b"):  # a full page of 10 posts over the last 9 hours: more pages exist
            sched.observe_page(k, page([h + 0.5 for h in range(10)], polled, k), False, polled)
        else:
            sched.observe_page(k, [], True, polled)  # nothing at all
    prior = sched.fit_priors(sources)["mentions"]
    rates = {s.key: sched.rate(s, prior) for s in sources}
    assert rates["mentions:quiet"] > 4 * rates["mentions:silent"] > 0
    assert rates["mentions:b0"] > 4 * rates["mentions:quiet"]
    assert 0.5 < rates["mentions:b0"] < 1.5  # ~10 posts over the 9.5 hours the page covers
    blind_prior = blind.fit_prior(sources)
    assert blind.rate(sources[0], blind_prior) == blind.rate(sources[1], blind_prior)  # without pages: alike


def test_coverage_grows_and_is_forgotten_past_the_memory() -> None:
    sched = PriorityScheduler(memory_hours=48.0)
    now = START
    sched.observe_page("timeline:1", page([2, 5], now, "a"), False, now)
    ev = sched._evidence["timeline:1"]
    assert ev.covered_from == now - timedelta(hours=5) and ev.seen_until == now
    later = now + timedelta(hours=1)
    sched.observe_page("timeline:1", page([0.5, 3], later, "b"), False, later)  # a newer page, not as deep
    assert ev.covered_from == now - timedelta(hours=5) and len(ev.times) == 4 and ev.seen_until == later
    much_later = now + timedelta(hours=47)
    sched.observe_page("timeline:1", [], True, much_later)
    assert ev.covered_from == much_later - timedelta(hours=48)
    assert list(ev.times) == ["b0"]  # the others are past the 48 h memory


def test_priors_are_fitted_per_source_kind() -> None:
    """Offices that never post should not drag the citizens' mentions down, nor the reverse."""
    now = START
    sched = PriorityScheduler()
    sources = []
    for i in range(25):
        t = SourceState(f"timeline:{i}", "timeline", str(i), last_polled_at=now)
        m = SourceState(f"mentions:m{i}", "mentions", f"m{i}", last_polled_at=now)
        sched.observe_page(t.key, page([100.0] if i < 3 else [], now, t.key), True, now)
        sched.observe_page(m.key, page([h * (3 + i % 5) + 1 for h in range(6)], now, m.key), True, now)
        sources += [t, m]
    priors = sched.fit_priors(sources)
    (a_t, b_t), (a_m, b_m) = priors["timeline"], priors["mentions"]
    assert a_m / b_m > 10 * (a_t / b_t)  # prior means apart
    silent_t, silent_m = sources[2 * 24], sources[2 * 24 + 1]
    assert sched.rate(silent_t, priors["timeline"]) < sched.rate(silent_m, priors["mentions"])
    few = sched.fit_priors(sources[:10])  # 5 of each kind: too few, both use the fixed prior
    assert few["timeline"] == few["mentions"] == (sched.prior_items, sched.prior_hours)


def test_the_poller_reports_every_post_a_page_shows(fake_weibo) -> None:
    """Over HTTP: posts older than the cursor (not new to the store) still reach the scheduler, pinned ones do not."""
    from crawler.budget import RequestBudget, SimulatedClock
    from crawler.client import WeiboClient
    from crawler.poller import Poller
    from crawler.store import MemoryStore

    sc = fake_weibo.scenario
    mark = sc.end - timedelta(hours=12)
    clock = SimulatedClock(on_advance=lambda s: fake_weibo.clock.advance(timedelta(seconds=s)))
    budget = RequestBudget.simulated(600, 5, clock=clock)
    client = WeiboClient(fake_weibo.base_url, fake_weibo.base_url, budget=budget, timeout=5)
    store = MemoryStore()
    for a in sc.accounts:
        store.add_source("timeline", a.uid, cursor={"last_created_at": mark.isoformat()})
        store.add_source("mentions", a.screen_name, cursor={"last_created_at": mark.isoformat()})
    sched = PriorityScheduler(min_interval=timedelta(0))
    poller = Poller(client, store, budget, scheduler=sched, now=fake_weibo.clock.now, requests_per_pass=200)
    poller.poll_once()
    pinned = {s.id for s in sc.pinned.values()}
    older = 0
    for s in store.sources():
        ev = sched._evidence[s.key]
        stored = {i.id for i in store.items_of(s.key)}
        assert stored <= set(ev.times) and not pinned & set(ev.times)
        older += sum(1 for t in ev.times.values() if t < mark - timedelta(minutes=10))
        assert ev.covered_from is not None and ev.covered_from <= ev.seen_until
    assert older > 0  # the pages reached back past the cursor, and those posts were counted
    assert not any(i.created_at < mark - timedelta(minutes=10) for i in store.items.values())
