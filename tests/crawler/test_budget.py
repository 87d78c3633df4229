"""The shared request budget and the growing cool-down, in simulated time."""
from __future__ import annotations

import logging
import threading

import pytest

from crawler.budget import Backoff, RequestBudget, SimulatedClock


def grants_in_windows(stamps: list[float], window: float = 60.0) -> int:
    """Most grants inside any window of `window` seconds."""
    best, j = 0, 0
    for i, t in enumerate(stamps):
        while stamps[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


@pytest.mark.parametrize("per_minute,burst,jitter", [(12, 1, 0.0), (30, 5, 0.5), (100, 10, 1.0)])
def test_no_window_ever_holds_more_than_rate_plus_burst(per_minute, burst, jitter) -> None:
    clock = SimulatedClock()
    budget = RequestBudget.simulated(per_minute, burst, jitter, clock=clock, seed=3)
    stamps = []
    for _ in range(500):
        budget.acquire()
        stamps.append(clock.time())
    assert grants_in_windows(stamps) <= per_minute + burst
    minutes = clock.time() / 60
    assert 500 <= per_minute * minutes + burst + 1  # no faster than the rate over the long run
    if jitter == 0:
        assert 500 >= per_minute * minutes  # and no slower either when there is no jitter


def test_threads_share_one_bucket() -> None:
    clock = SimulatedClock()
    budget = RequestBudget.simulated(60, 2, 0.0, clock=clock)
    stamps: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(50):
            budget.acquire()
            with lock:
                stamps.append(clock.time())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert budget.granted == 200
    assert grants_in_windows(sorted(stamps)) <= 62


def test_pause_holds_every_request_and_logs_why(caplog) -> None:
    caplog.set_level(logging.INFO, logger="wzmon.crawler.budget")
    clock = SimulatedClock()
    budget = RequestBudget.simulated(60, 5, clock=clock)
    budget.acquire()
    budget.pause(300, "blocked at timeline:1")
    assert not budget.try_acquire()
    budget.acquire()
    assert clock.time() >= 300
    assert "cooling down" in caplog.text and "blocked at timeline:1" in caplog.text


def test_backoff_grows_caps_and_resets() -> None:
    b = Backoff(jitter=0.0)
    delays = [b.failure("blocked") for _ in range(10)]
    assert delays[:4] == [120, 240, 480, 960]
    assert max(delays) == 4 * 3600 and delays == sorted(delays)
    assert b.failure("blocked", retry_after=99999) == 99999  # a server's Retry-After wins when longer
    b.success()
    assert b.failure("blocked") == 120
    assert b.failure("login_required") >= 900  # a login wall slows down much more than a block


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="per_minute"):
        RequestBudget(0)
    with pytest.raises(ValueError, match="burst"):
        RequestBudget(10, burst=0)
