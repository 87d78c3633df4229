"""A local Weibo-shaped server for tests and the demo (see `server` for the paging conventions it serves).

Public API: `Scenario`, `SimClock`, `serve_in_thread`, `FakeWeibo`, `FakeWeiboError`, `Faults`, `FaultError`.
"""
from __future__ import annotations

from .clock import CST, SimClock
from .faults import KINDS as FAULT_KINDS
from .faults import FaultError, Faults
from .ids import bid_to_mid, mid_to_bid
from .scenario import DEFAULT_END, Account, Comment, Scenario, Status
from .server import FakeWeibo, FakeWeiboError, serve_in_thread

__all__ = ["CST", "DEFAULT_END", "FAULT_KINDS", "Account", "Comment", "FakeWeibo", "FakeWeiboError", "FaultError",
           "Faults", "Scenario", "SimClock", "Status", "bid_to_mid", "mid_to_bid", "serve_in_thread"]
