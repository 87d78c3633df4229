"""Poll jobs leased through the database: one holder at a time, expiry hands a dead poller's work on,
and a poller that lost its lease can never write for that source again."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from crawler.types import Page, RawResponse
from matrix.storage.db import open_db, session_scope
from matrix.polling.ingest import Ingestor
from matrix.polling.leases import LeaseLost, LeaseManager, active_leases
from matrix.storage.models import PollCursor, PollLease
from matrix.polling.pollstore import LeasedPollStore


class Clock:
    def __init__(self) -> None:
        self.t = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


def test_one_holder_at_a_time(db_url):
    engine = open_db(db_url)
    a, b = LeaseManager(engine, "a", ttl=60), LeaseManager(engine, "b", ttl=60)
    lease = a.claim("timeline:1")
    assert lease is not None and not lease.takeover
    assert b.claim("timeline:1") is None
    assert b.claim("timeline:2") is not None  # other sources stay free
    assert a.claim("timeline:1") is not None  # the holder may renew by claiming again
    assert {r["source_key"]: r["owner"] for r in active_leases(engine)} == {"timeline:1": "a", "timeline:2": "b"}
    a.release(a.claim("timeline:1"))
    again = b.claim("timeline:1")
    assert again is not None and not again.takeover  # released, not taken over


def test_concurrent_claims_each_source_goes_to_exactly_one_poller(db_url):
    engine = open_db(db_url)
    keys = [f"mentions:m{i}" for i in range(25)]
    LeaseManager(engine, "setup").ensure(keys[:10])  # some rows exist already, some are created by the claim
    managers = [LeaseManager(engine, f"p{i}", ttl=60) for i in range(6)]
    won: dict[str, list[str]] = {k: [] for k in keys}
    barrier = threading.Barrier(len(managers))
    errors: list[BaseException] = []

    def work(m: LeaseManager) -> None:
        try:
            barrier.wait()
            for k in keys:
                if m.claim(k) is not None:
                    won[k].append(m.owner)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(m,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert all(len(v) == 1 for v in won.values()), won
    with session_scope(engine) as s:
        owners = dict(s.execute(select(PollLease.source_key, PollLease.owner)).all())
    assert {k: owners[k] for k in keys} == {k: v[0] for k, v in won.items()}


def test_expired_lease_is_taken_over_and_the_old_holder_is_fenced_off(db_url):
    engine = open_db(db_url)
    clock = Clock()
    dead, alive = LeaseManager(engine, "dead", ttl=60, clock=clock), LeaseManager(engine, "alive", ttl=60, clock=clock)
    old = dead.claim("comments:42")
    clock.advance(59)
    assert alive.claim("comments:42") is None  # not expired yet
    clock.advance(2)
    new = alive.claim("comments:42")
    assert new is not None and new.takeover
    assert not dead.renew(old)
    with pytest.raises(LeaseLost):
        with session_scope(engine) as s:
            dead.fence(s, old)
    assert alive.renew(new)
    with session_scope(engine) as s:
        row = s.get(PollLease, "comments:42")
        assert (row.owner, row.takeovers, row.last_owner, row.claims) == ("alive", 1, "dead", 2)


def _page(cursor: dict) -> Page:
    raw = RawResponse(url="http://127.0.0.1/x", status=200, content_type="application/json",
                      fetched_at=datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc), body=b'{"ok":1}')
    return Page(items=[], raw=raw, cursor=cursor, done=True)


def test_a_page_committed_after_losing_the_lease_is_not_stored(db_url, policy, scorer):
    engine = open_db(db_url)
    clock = Clock()
    ingestor = Ingestor(engine, policy, scorer)
    slow = LeasedPollStore(ingestor, LeaseManager(engine, "slow", ttl=30, clock=clock))
    fast = LeasedPollStore(ingestor, LeaseManager(engine, "fast", ttl=30, clock=clock))
    key = "timeline:777"
    lease = slow.leases.claim(key)
    slow.hold(lease)
    slow.commit(key, _page({"since_id": 10}), {"since_id": 10})  # stored; the commit renewed the lease
    clock.advance(25)
    assert fast.leases.claim(key) is None  # renewed at the commit: still the slow poller's
    clock.advance(10)  # the slow poller stalls past its lease; another takes the source and moves on
    taken = fast.leases.claim(key)
    assert taken is not None and taken.takeover
    fast.hold(taken)
    fast.commit(key, _page({"since_id": 5}), {"since_id": 5})
    with pytest.raises(LeaseLost):
        slow.commit(key, _page({"since_id": 9}), {"since_id": 9})  # would move the cursor back
    with session_scope(engine) as s:
        assert s.get(PollCursor, key).cursor == {"since_id": 5}
