"""PriorityScheduler's allocation: poll frequency ~ sqrt(rate), quiet sources still visited, prior fitted."""
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


def test_exposure_follows_the_posting_hours() -> None:
    """A timeline whose office posts in working hours has gained little overnight: rank by exposure, not hours."""
    from crawler.constants import SHANGHAI as CST
    from crawler.poller import PostingProfile

    workdays = [datetime(2024, 6, d, h, m, tzinfo=CST) for d in (10, 11, 12, 13) for h in range(9, 17) for m in (5, 35)]
    sched = PriorityScheduler(min_interval=timedelta(0))
    flat = PostingProfile()
    now = datetime(2024, 6, 14, 10, 0, tzinfo=CST)  # Friday 10:00
    evening = datetime(2024, 6, 13, 17, 30, tzinfo=CST)  # read yesterday after office hours
    assert abs(flat.exposure("timeline", evening, now) - 16.5) < 1e-9  # nothing learned: exposure = hours
    sched.observe("timeline", workdays)
    night = sched.profile.exposure("timeline", evening, datetime(2024, 6, 14, 8, 30, tzinfo=CST))
    morning = sched.profile.exposure("timeline", datetime(2024, 6, 14, 9, 0, tzinfo=CST), now)
    assert night < 0.7 * morning  # 15 hours of night count for less than one office hour
    quiet = SourceState("timeline:1", "timeline", "1", last_polled_at=evening, activity_rate=0.1)
    busy = SourceState("timeline:2", "timeline", "2", last_polled_at=datetime(2024, 6, 14, 9, 0, tzinfo=CST),
                       activity_rate=2.0)
    # by hours the source unread since last evening is far behind (16.5 h vs 1 h); by the wait its items
    # ran up (few arrived overnight), the busy one, unread through this office hour, comes first
    assert [s.key for s in sched.order([quiet, busy], now)] == ["timeline:2", "timeline:1"]
    assert [s.key for s in PriorityScheduler(min_interval=timedelta(0)).order([quiet, busy], now)][0] == "timeline:1"
