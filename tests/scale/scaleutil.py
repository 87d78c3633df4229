"""Helpers shared by the scale tests and the scale benches: play a scenario through several pollers.

The fake server's clock is manual: the driver moves it in steps (every post of a step becomes visible
at once) and, after each step, waits until the pollers are *caught up*: every source the database
knows of has been read to its end at or after that step (cursor with no unfinished walk, last poll
at or after the step, no error since). That fixed point is the same whatever the number of pollers,
so "published" (what the server shows of the watched sources) and "stored" can be compared exactly.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select, text

from crawler.budget import RequestBudget
from crawler.cursors import RESUME_KEYS
from crawler.fake_weibo.clock import SimClock
from crawler.fake_weibo.scenario import Scenario
from crawler.fake_weibo.server import FakeWeibo, serve_in_thread
from crawler.poller import PriorityScheduler
from matrix.storage.db import open_db, session_scope
from matrix.storage.models import Case, CaseEvent, PollCursor, Post
from matrix.polling.pollstore import DbPollStore, build_leased_poller
from matrix.casework.roster import import_roster, read_roster
from matrix.timeutil import as_utc

REPO = Path(__file__).resolve().parents[2]
CST = timezone(timedelta(hours=8))
END = datetime(2025, 11, 21, 18, 0, tzinfo=CST)


def scenario(seed: int = 5, accounts: int = 5, days: float = 2, history_days: float = 0.5, **kw) -> Scenario:
    kw.setdefault("citizens", 20)
    kw.setdefault("threads_per_account_day", 1.5)
    kw.setdefault("own_per_account_day", 0.8)
    return Scenario(seed=seed, accounts=accounts, days=days, history_days=history_days, end=END, **kw)


def serve(sc: Scenario, **opts) -> FakeWeibo:
    """The scenario on 127.0.0.1 with a manual clock at its start."""
    opts.setdefault("comment_dates", "full")
    return serve_in_thread(sc, port=0, clock=SimClock.fixed(sc.start), **opts)


def load_roster(engine, sc: Scenario, tmp: Path) -> None:
    path = tmp / "roster.csv"
    path.write_text(sc.roster_csv(), encoding="utf-8")
    with session_scope(engine) as s:
        import_roster(s, read_roster(path), source="scale test", actor="test")
    watch_from_start(engine, sc)


def watch_from_start(engine, sc: Scenario) -> None:
    """Start every account's timeline and mention walks at the scenario's start (a first walk otherwise
    reads one page only: the monitor does not crawl old history), so everything published is due."""
    mark = sc.start.isoformat()
    with session_scope(engine) as s:
        for a in sc.accounts:
            for kind, target in (("timeline", a.uid), ("mentions", a.screen_name)):
                s.merge(PollCursor(source_key=f"{kind}:{target}", kind=kind, target=target,
                                   cursor={"last_created_at": mark}, items_total=0, requests_total=0,
                                   errors_total=0, consecutive_errors=0, activity_rate=0.0, last_error=""))


def steps(sc: Scenario, hours: float = 6.0) -> list[datetime]:
    out, t = [], sc.start
    while t < sc.end:
        t = min(t + timedelta(hours=hours), sc.end)
        out.append(t)
    return out


# ------------------------------------------------------------------------------------------- truth
def published(server: FakeWeibo) -> set[str]:
    """Posts the server shows at its current time on the watched sources: every member's timeline
    and every post mentioning a member (what the pollers are told to read)."""
    sc, now = server.scenario, server.clock.now()
    ids: set[str] = set()
    for m in sc.accounts:
        ids |= {s.id for s in sc.timelines.get(m.uid, ()) if s.visible(now) and s.created_at >= sc.start}
        ids |= {s.id for s in sc.mentions.get(m.screen_name, ()) if s.visible(now) and not s.pinned
                and s.created_at >= sc.start}
    return ids


@dataclass
class Tally:
    published: int
    stored: int
    lost: int
    duplicated: int
    items: int
    cases: int
    detail: dict = field(default_factory=dict)

    def line(self) -> str:
        return (f"posts published {self.published}, stored {self.stored}, lost {self.lost}, duplicated "
                f"{self.duplicated} (all items stored {self.items}, cases {self.cases})")


def tally(engine, server: FakeWeibo) -> Tally:
    """Published vs stored; duplicates counted every way one could sneak in (rows, cases, fact events)."""
    pub = published(server)
    with session_scope(engine) as s:
        rows = s.scalar(select(func.count()).select_from(Post))
        distinct = s.scalar(select(func.count(func.distinct(Post.id))))
        ids = set(s.scalars(select(Post.id)))
        cases = s.scalar(select(func.count()).select_from(Case))
        case_posts = s.scalar(select(func.count(func.distinct(Case.post_id))))
        dup_events = s.execute(
            select(CaseEvent.case_id, CaseEvent.type, CaseEvent.post_id, func.count())
            .where(CaseEvent.type.in_(["opened", "forwarded", "first_response", "reply", "citizen_followup", "closed"]))
            .group_by(CaseEvent.case_id, CaseEvent.type, CaseEvent.post_id).having(func.count() > 1)).all()
    detail = {"duplicate_rows": rows - distinct, "duplicate_cases": cases - case_posts,
              "duplicate_fact_events": len(dup_events)}
    stored = len(pub & ids)
    return Tally(len(pub), stored, len(pub - ids), sum(detail.values()), len(ids), cases, detail)


def caught_up(engine, t: datetime) -> tuple[bool, int]:
    """(every known source read to its end at or after T with no error since, sources left)."""
    store = DbPollStore(_EngineOnly(engine))
    keys = {s.key for s in store.sources()}
    with session_scope(engine) as s:
        rows = {c.source_key: c for c in s.scalars(select(PollCursor).where(PollCursor.source_key.in_(keys)))}
    t = as_utc(t)
    left = 0
    for key in keys:
        c = rows.get(key)
        if (c is None or c.last_polled_at is None or as_utc(c.last_polled_at) < t or c.last_error
                or any((c.cursor or {}).get(k) not in (None, "", 0) for k in RESUME_KEYS)):
            left += 1
    return left == 0, left


class _EngineOnly:
    def __init__(self, engine) -> None:  # noqa: ANN001
        self.engine = engine


def wait_caught_up(engine, t: datetime, timeout: float, *, alive: Callable[[], None] | None = None,
                   settle: float = 0.0, required: bool = True) -> bool:
    deadline = time.monotonic() + timeout
    left = -1
    while time.monotonic() < deadline:
        if alive is not None:
            alive()
        ok, left = caught_up(engine, t)
        if ok:
            if settle:
                time.sleep(settle)
                ok, left = caught_up(engine, t)
                if not ok:
                    continue
            return True
        time.sleep(0.1)
    if not required:
        return False
    raise TimeoutError(f"pollers did not catch up with {t.isoformat()} within {timeout:.0f}s ({left} sources left)")


# ------------------------------------------------------------------------------------------- pollers in threads
class ThreadPollers:
    """N leased pollers in threads of this process (each its own client, lease manager and budget handle)."""

    def __init__(self, url: str, server: FakeWeibo, n: int, policy, scorer=None, per_minute: float = 600_000,  # noqa: ANN001
                 burst: int = 1000, lease_seconds: float = 30.0) -> None:
        self.engine = open_db(url)
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.pollers = []
        for i in range(n):
            p = build_leased_poller(
                self.engine, policy,
                {"base_url": server.base_url, "search_base_url": server.base_url, "timeout": 5,
                 "budget": RequestBudget(per_minute=per_minute, burst=burst)},
                poller_id=f"t{i + 1}", lease_seconds=lease_seconds, now=server.clock.now, scorer=scorer,
                scheduler=PriorityScheduler(min_interval=timedelta(0)), backoff_scale=0.001)
            self.pollers.append(p)
        self.threads = [threading.Thread(target=self._loop, args=(p,), daemon=True, name=p.poller_id)
                        for p in self.pollers]

    def _loop(self, poller) -> None:  # noqa: ANN001
        while not self.stop.is_set():
            try:
                report = poller.poll_once(max_requests=200)
            except BaseException as exc:  # noqa: BLE001 - surfaced by check()
                self.errors.append(exc)
                return
            if not report.requests:
                self.stop.wait(0.05)

    def start(self) -> "ThreadPollers":
        for t in self.threads:
            t.start()
        return self

    def check(self) -> None:
        if self.errors:
            raise self.errors[0]

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
        for p in self.pollers:
            p.shutdown()


# ------------------------------------------------------------------------------------------- pollers as processes
class ProcessPollers:
    """`wzmon run --poller-id pN` processes against the fake server (PostgreSQL or SQLite)."""

    def __init__(self, url: str, base_url: str, n: int, *, rpm: float = 600_000, lease_seconds: float = 3.0,
                 interval: float = 1.0, log_dir: Path | None = None, env: dict | None = None) -> None:
        self.url, self.base_url, self.rpm = url, base_url, rpm
        self.lease_seconds, self.interval = lease_seconds, interval
        self.log_dir = log_dir
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "WZMON_LOG_FORMAT": "json",
                    "WZMON_BACKOFF_SCALE": "0.005", "WZMON_HTTP_TIMEOUT": "2",
                    # the fake server's simulated time and the pollers' wall clock differ: no re-read pause
                    "WZMON_MIN_INTERVAL": "0", **(env or {})}
        self.procs: dict[str, subprocess.Popen] = {}
        self.kills = 0
        for i in range(n):
            self.start(f"p{i + 1}")

    def start(self, name: str) -> subprocess.Popen:
        cmd = [sys.executable, "-m", "matrix.cli.root", "--db", self.url, "-v", "run", "--poller-id", name,
               "--base-url", self.base_url, "--rpm", str(self.rpm), "--lease-seconds", str(self.lease_seconds),
               "--interval", str(self.interval), "--tick-minutes", "1"]
        out = open(self.log_dir / f"{name}.log", "ab") if self.log_dir else subprocess.DEVNULL  # noqa: SIM115
        proc = subprocess.Popen(cmd, env=self.env, stdout=out, stderr=out, cwd=str(REPO))
        self.procs[name] = proc
        return proc

    def alive(self) -> None:
        """Raise if a poller exited on its own (it must only ever die by our hand)."""
        for name, p in self.procs.items():
            if p.poll() is not None and p.returncode != -signal.SIGKILL:
                log = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:] if self.log_dir else ""
                raise RuntimeError(f"poller {name} exited with {p.returncode}\n{log}")

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(timeout=10)
        self.kills += 1

    def close(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def holder_of_any_lease(engine, name: str, accounts_only: bool = False) -> bool:
    """NAME owns a source lease (ACCOUNTS_ONLY: a timeline or mention search, sources that always stay on
    the list; a case's comments or reposts drop off it when the case closes, and nobody takes them over)."""
    where = "(source_key LIKE 'timeline:%' OR source_key LIKE 'mentions:%')" if accounts_only else "source_key NOT LIKE 'task:%'"
    with engine.connect() as conn:
        return bool(conn.execute(text(f"SELECT count(*) FROM poll_leases WHERE owner = :o AND {where}"),
                                 {"o": name}).scalar())
