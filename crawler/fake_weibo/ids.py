"""Weibo-like ids: 16-digit mids that grow with time; their base62 `bid` form is `crawler.ids`'s."""
from __future__ import annotations

from datetime import datetime

from crawler.ids import bid_to_mid, mid_to_bid  # noqa: F401 - re-exported for the fake server

_EPOCH = 1_262_275_200  # 2010-01-01 UTC: ids are 4e15 + seconds since then * 1000 + a per-second counter
_BASE = 4_000_000_000_000_000


class IdMaker:
    """Hands out unique 16-digit ids (as text) that increase with the creation time."""

    def __init__(self) -> None:
        self._used: dict[int, int] = {}

    def make(self, at: datetime) -> str:
        sec = int(at.timestamp()) - _EPOCH
        n = self._used.get(sec, 0)
        if n >= 999:
            raise ValueError(f"more than 999 ids in one second at {at.isoformat()}")
        self._used[sec] = n + 1
        # spread the per-second counter over the low digits (a bijection on 0..999) so ids look less regular
        return str(_BASE + sec * 1000 + (n * 37 + sec * 613) % 1000)
