"""Links in members' own posts: found as posts arrive, checked by the poller (HEAD, then GET) within its request
budget and at most once a day each, dead ones listed with their post. Live and dead links are served on
127.0.0.1 by a real HTTP server (and one port where nothing listens)."""
from __future__ import annotations

import socket
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest
from sqlalchemy import select

from crawler.budget import RequestBudget
from crawler.linkcheck import LinkChecker
from crawler.poller import Poller
from matrix.storage.db import open_db, session_scope
from matrix.polling.ingest import Ingestor
from matrix.casework.inspection import dead_links, inspect_month, links_in, record_links
from matrix.storage.models import Account, LinkCheck, Post
from matrix.rules.policy import load_policy
from matrix.polling.pollstore import DbPollStore
from matrix.timeutil import SHANGHAI

T = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)
MEMBER, CITIZEN = "8100000002", "7100000009"


class Site(BaseHTTPRequestHandler):
    """/ok: 200; /nohead: HEAD refused (405), GET 200; /gone: 404; /moved: 302 to /ok; /moved-dead: 302 to /gone."""

    calls: list[tuple[str, str]] = []

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass

    def _answer(self, method: str) -> None:
        Site.calls.append((method, self.path))
        status, headers = {"/ok": (200, {}), "/gone": (404, {}), "/moved": (302, {"Location": "/ok"}),
                           "/moved-dead": (302, {"Location": "/gone"})}.get(self.path, (404, {}))
        if self.path == "/nohead":
            status = 405 if method == "HEAD" else 200
        body = b"<html>ok</html>" if status == 200 else b"no"
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method == "GET":
            self.wfile.write(body)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer("HEAD")

    def do_GET(self) -> None:  # noqa: N802
        self._answer("GET")


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def nobody() -> str:
    """A local address where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/x"


def links(site: str, nobody: str) -> dict[str, bool]:
    """Each link with whether it is alive."""
    return {f"{site}/ok": True, f"{site}/nohead": True, f"{site}/moved": True, f"{site}/gone": False,
            f"{site}/moved-dead": False, nobody: False}


def test_links_in_text():
    assert links_in("详见 https://t.cn/A6xyz。另见 http://example.gov.cn/a?b=1，和 https://t.cn/A6xyz") == [
        "https://t.cn/A6xyz", "http://example.gov.cn/a?b=1"]
    assert links_in("没有链接") == []


def test_checker_head_then_get(site, nobody):
    Site.calls.clear()
    checker = LinkChecker(RequestBudget(per_minute=6000, burst=50), timeout=5)
    for url, alive in links(site, nobody).items():
        r = checker.check(url)
        assert r.ok is alive, (url, r)
    assert checker.check(f"{site}/nohead").requests == 2  # HEAD refused, then GET
    assert checker.check(f"{site}/ok").requests == 1
    assert checker.check(f"{site}/moved").final_url.endswith("/ok")
    dead = checker.check(f"{site}/gone")
    assert (dead.status, dead.error) == (404, "HTTP 404")
    refused = checker.check(nobody)
    assert refused.status is None and refused.error
    assert ("HEAD", "/nohead") in Site.calls and ("GET", "/nohead") in Site.calls


@pytest.fixture
def world(db_url, site, nobody):
    engine = open_db(db_url)
    text = "供水公告 " + " ".join(links(site, nobody))
    with session_scope(engine) as s:
        # active only in the past: the roster gives the poller no Weibo source, so a pass is link checks alone
        s.add(Account(uid=MEMBER, screen_name="银川水务", role="member", active_to=datetime(2020, 1, 1).date()))
        posts = [Post(id="5300000000000001", mid="5300000000000001", item_type="post", user_id=MEMBER,
                      screen_name="银川水务", text=text, created_at=T - timedelta(days=1), mentions=[], topics=[]),
                 Post(id="5300000000000002", mid="5300000000000002", item_type="post", user_id=CITIZEN,
                      screen_name="市民甲", text=f"看看 {site}/citizen", created_at=T, mentions=[], topics=[])]
        s.add_all(posts)
        s.flush()
        assert record_links(s, posts, {MEMBER}) == 6, "the member's links, not the citizen's"
        assert record_links(s, posts, {MEMBER}) == 0
    return engine


def poller(engine, at: datetime, per_pass: int = 100) -> Poller:
    policy = load_policy()
    store = DbPollStore(Ingestor(engine, policy, scorer=None), now=lambda: at)
    budget = RequestBudget(per_minute=6000, burst=50)
    return Poller(client=_NoWeibo(budget), store=store, budget=budget, now=lambda: at, requests_per_pass=per_pass,
                  link_checker=LinkChecker(budget, timeout=5))


class _NoWeibo:
    """The poller's Weibo client, never called here (the roster gives no source); counts no requests."""

    def __init__(self, budget: RequestBudget) -> None:
        self.budget, self.requests = budget, 0


def test_poller_checks_links_once_a_day_within_its_budget(world, site, nobody):
    expected = links(site, nobody)
    report = poller(world, T).poll_once()
    assert report.links_checked == 6 and report.requests >= 6
    with session_scope(world) as s:
        rows = {r.url: r for r in s.scalars(select(LinkCheck))}
    assert {u: r.ok for u, r in rows.items()} == expected
    assert all(r.checked_at == T and r.checks == 1 for r in rows.values())
    assert rows[f"{site}/gone"].http_status == 404 and rows[f"{site}/gone"].dead_since == T
    # the same day: nothing is due
    assert poller(world, T + timedelta(hours=12)).poll_once().links_checked == 0
    # a day later every link is due again; a pass of 3 requests checks only what fits
    small = poller(world, T + timedelta(days=1, minutes=1), per_pass=3).poll_once()
    assert 1 <= small.links_checked <= 3 and small.requests <= 4  # the last check may need its GET
    rest = poller(world, T + timedelta(days=1, minutes=2)).poll_once()
    assert small.links_checked + rest.links_checked == 6
    with session_scope(world) as s:
        dead = dead_links(s)
        rep = inspect_month(s, load_policy(), "2026-11", T + timedelta(days=2))
    assert sorted(d["url"] for d in dead) == sorted(u for u, alive in expected.items() if not alive)
    assert all(d["post_id"] == "5300000000000001" and "供水公告" in d["post_text"] for d in dead)
    assert all(d["dead_since"] == T for d in dead), "dead since its first failed check"
    assert [(r.account_uid, r.dead_links) for r in rep.rows] == [(MEMBER, 3)]
    assert len(rep.links) == 3


def test_one_leased_poller_checks_the_links(world):
    """With several `wzmon run` pollers on one database, the holder of the `task:link-check` lease checks links."""
    from matrix.polling.leases import LeaseManager
    from matrix.polling.pollstore import LeasedPollStore

    policy = load_policy()
    first = LeasedPollStore(Ingestor(world, policy, scorer=None), LeaseManager(world, "poller-a", 120))
    second = LeasedPollStore(Ingestor(world, policy, scorer=None), LeaseManager(world, "poller-b", 120))
    assert len(first.links_due(T)) == 6
    assert second.links_due(T) == [], "the lease is held by the first poller"
    assert len(first.links_due(T)) == 6, "and kept by it"
