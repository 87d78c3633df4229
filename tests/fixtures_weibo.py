"""Pytest plugin: a running fake Weibo server per test (loaded by tests/conftest.py).

- `fake_weibo`: small deterministic scenario (seed 7, 5 members, 2-day window, 1 day of history),
  manual clock standing at the scenario's end; `fake_weibo.clock.set(...)` / `.advance(minutes=...)`.
- `fake_weibo_factory(**params)`: build your own; scenario keywords go to `Scenario(...)`, plus
  `small=False` (start from `Scenario()` defaults instead of the small set),
  `clock_at` (aware datetime; default scenario end), `speed` (running clock instead of manual) and
  server options (`page_comments`, `comment_dates`, `search_html_needs_login`, `fault_seed`, ...).
  Every server started is stopped at teardown.
"""
from __future__ import annotations

import inspect
from datetime import datetime

import pytest

from crawler.fake_weibo import FakeWeibo, Scenario, SimClock, serve_in_thread

SMALL = {"seed": 7, "accounts": 5, "days": 2, "history_days": 1, "citizens": 12, "threads_per_account_day": 1.5,
         "own_per_account_day": 0.8}
_SCENARIO_KEYS = set(inspect.signature(Scenario).parameters)
_SCENARIOS: dict[tuple, Scenario] = {}


def _scenario(params: dict) -> Scenario:
    """Scenarios are deterministic and read-only for the server, so equal params share one build."""
    key = tuple(sorted((k, repr(v)) for k, v in params.items()))
    if key not in _SCENARIOS:
        _SCENARIOS[key] = Scenario(**params)
    return _SCENARIOS[key]


@pytest.fixture
def fake_weibo_factory():
    started: list[FakeWeibo] = []

    def make(clock_at: datetime | None = None, speed: float | None = None, small: bool = True,
             **params) -> FakeWeibo:
        scen = {k: v for k, v in params.items() if k in _SCENARIO_KEYS}
        opts = {k: v for k, v in params.items() if k not in _SCENARIO_KEYS}
        scenario = _scenario({**SMALL, **scen} if small else scen)
        at = clock_at or scenario.end
        clock = SimClock(at, speed) if speed else SimClock.fixed(at)
        server = serve_in_thread(scenario, port=0, clock=clock, **opts)
        started.append(server)
        return server

    yield make
    for s in started:
        s.stop()


@pytest.fixture
def fake_weibo(fake_weibo_factory) -> FakeWeibo:
    return fake_weibo_factory()
