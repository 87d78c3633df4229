"""Where the poller keeps what it learns: the `PollStore` protocol and `MemoryStore`.

The poller never touches a database: it asks the store which sources exist and how urgent they
are, and hands each page to `commit`, which must store the items AND the next cursor together
(one transaction), so a crash between pages loses nothing and doubles nothing.
`matrix.polling.pollstore.DbPollStore` is the database implementation; `MemoryStore` is a real in-memory one.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, runtime_checkable

from crawler.clock import now_utc
from crawler.types import Page, RawResponse

SOURCE_KINDS = ("timeline", "mentions", "comments", "reposts")


def source_key(kind: str, target: str) -> str:
    """`timeline:<uid>`, `mentions:<screen_name>`, `comments:<mid>`, `reposts:<mid>`."""
    if kind not in SOURCE_KINDS:
        raise ValueError(f"unknown source kind {kind!r}; expected one of {', '.join(SOURCE_KINDS)}")
    return f"{kind}:{target}"


def split_key(key: str) -> tuple[str, str]:
    kind, _, target = key.partition(":")
    if kind not in SOURCE_KINDS or not target:
        raise ValueError(f"bad source key {key!r}; expected <kind>:<target> with kind in {', '.join(SOURCE_KINDS)}")
    return kind, target


@dataclass
class SourceState:
    """One thing to poll, with the hints the scheduler ranks it by.

    activity_rate: new items per hour lately (decayed); due_at: the nearest open-case deadline this
    source can settle (None if none); cooldown_until: do not poll before (after its own errors).
    """

    key: str
    kind: str
    target: str
    cursor: dict = field(default_factory=dict)
    last_new_at: datetime | None = None
    last_polled_at: datetime | None = None
    due_at: datetime | None = None
    activity_rate: float = 0.0
    cooldown_until: datetime | None = None
    errors: int = 0
    uid: str = ""  # the member account a mentions source is about (its own mention feed, crawler.routes)


@dataclass
class HealthEvent:
    """What happened on a poll: ok | blocked | login_required | empty | malformed | transport."""

    state: str
    source_key: str = ""
    http_status: int | None = None
    message: str = ""
    cooldown_until: datetime | None = None
    at: datetime = field(default_factory=now_utc)
    detail: dict = field(default_factory=dict)


@runtime_checkable
class PollStore(Protocol):
    def sources(self) -> list[SourceState]:
        """Every source to poll, with its cursor and priority hints."""

    def commit(self, source_key: str, page: Page, next_cursor: dict | None) -> int:
        """Store the page's items and raw response and set the cursor, atomically; returns items new to
        the store. Called for every page, also empty ones (that is how `last_polled_at` moves)."""

    def record_health(self, event: HealthEvent) -> None:
        """Keep a health event (shown on the board); a source's own failure also counts as a poll."""


# Four days. Most of a 问政 matrix's sources are quiet (a few items a week), and their few items are
# the whole evidence the scheduler has for them: with a one-day half-life an item three days old
# weighs an eighth, so a source that posted twice this week looks like one that never posts and is
# starved (the tail of detection latency is made of exactly those sources' posts). Member accounts'
# activity moves over weeks, not hours, so a longer memory costs little.
RATE_HALF_LIFE_HOURS = 96.0


def decayed_rate(rate: float, since: datetime | None, now: datetime, created: list[datetime]) -> float:
    """Items/hour, exponentially decayed (half-life `RATE_HALF_LIFE_HOURS`) by each item's creation time,
    so a first walk through a source's history already yields an estimate and recent activity counts
    most. For a steady stream of l items/hour it tends to l; until the source has been watched for a
    few half-lives it undercounts (by the unwatched share of the decay window), alike for all sources."""
    tau = RATE_HALF_LIFE_HOURS / math.log(2)
    if since is not None:
        hours = max(0.0, (now - since).total_seconds() / 3600.0)
        rate *= math.exp(-hours / tau)
    for at in created:
        age = max(0.0, (now - at).total_seconds() / 3600.0)
        rate += math.exp(-age / tau) / tau
    return rate


class MemoryStore:
    """PollStore in memory, with the same all-or-nothing commit a database transaction gives."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._sources: dict[str, SourceState] = {}
        self._rate_at: dict[str, datetime] = {}
        self.items: dict[str, Any] = {}  # id -> Post/Comment, first seen wins
        self.item_source: dict[str, str] = {}
        self.ingested_at: dict[str, datetime] = {}  # id -> fetch time of the page that brought it
        self.raws: list[tuple[str, RawResponse]] = []
        self.health: list[HealthEvent] = []
        self.commits = 0
        self.delivered: set[tuple[str, str]] = set()  # (source key, item id) pairs handed over
        self.duplicates = 0  # items a source handed over again (re-delivery = a paging bug)

    # ---------------------------------------------------------------- sources

    def add_source(self, kind: str, target: str, *, cursor: dict | None = None, due_at: datetime | None = None,
                   activity_rate: float = 0.0, uid: str = "") -> SourceState:
        key = source_key(kind, target)
        with self._lock:
            state = self._sources.get(key)
            if state is None:
                state = SourceState(key, kind, target, dict(cursor or {}), activity_rate=activity_rate, uid=uid)
                self._sources[key] = state
            if due_at is not None:
                state.due_at = due_at
            return state

    def set_due(self, key: str, due_at: datetime | None) -> None:
        with self._lock:
            self._sources[key].due_at = due_at

    def remove_source(self, key: str) -> None:
        with self._lock:
            self._sources.pop(key, None)

    def sources(self) -> list[SourceState]:
        with self._lock:
            return [SourceState(**vars(s)) for s in self._sources.values()]  # copies: callers cannot mutate

    def source(self, key: str) -> SourceState:
        with self._lock:
            return SourceState(**vars(self._sources[key]))

    # ---------------------------------------------------------------- writes

    def commit(self, source_key: str, page: Page, next_cursor: dict | None) -> int:
        with self._lock:
            state = self._sources.get(source_key)
            if state is None:
                raise KeyError(f"unknown source {source_key!r}; add it with add_source() first")
            now = page.raw.fetched_at
            new = [item for item in page.items if item.id not in self.items]
            pairs = {(source_key, item.id) for item in page.items}
            self.duplicates += len(pairs & self.delivered) + (len(page.items) - len(pairs))
            # build everything first, then publish: a failure above leaves the store untouched
            items = {item.id: item for item in new}
            for item in new:
                self.item_source[item.id] = source_key
                self.ingested_at[item.id] = now
            self.items.update(items)
            self.delivered |= pairs
            self.raws.append((source_key, page.raw))
            self.raws.extend((source_key, r) for r in page.extras)
            if next_cursor is not None:
                state.cursor = dict(next_cursor)
            state.activity_rate = decayed_rate(state.activity_rate, self._rate_at.get(source_key), now,
                                               [item.created_at for item in new])
            self._rate_at[source_key] = now
            state.last_polled_at = now
            if new:
                state.last_new_at = now
            state.errors = 0
            state.cooldown_until = None
            self.commits += 1
            return len(new)

    def record_health(self, event: HealthEvent) -> None:
        with self._lock:
            self.health.append(event)
            state = self._sources.get(event.source_key)
            if state is not None and event.state != "ok":
                state.last_polled_at = event.at
                state.errors += 1
                state.cooldown_until = event.cooldown_until

    # ---------------------------------------------------------------- reads for tests and the bench

    def items_of(self, key: str) -> list[Any]:
        with self._lock:
            return [self.items[i] for i, k in self.item_source.items() if k == key]

    def latest_health(self, state: str | None = None) -> HealthEvent | None:
        with self._lock:
            for ev in reversed(self.health):
                if state is None or ev.state == state:
                    return ev
            return None


def utc(dt: datetime | None) -> datetime | None:
    return dt.astimezone(timezone.utc) if dt is not None else None


def hours_between(a: datetime | None, b: datetime) -> float | None:
    return None if a is None else (b - a) / timedelta(hours=1)
