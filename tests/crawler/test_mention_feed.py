"""A member's own @-mention feed (weibo.com ajax/statuses/mentions) as a mentions route, over real HTTP against the
fake Weibo: used only with the cookie the office supplied for that member (labelled with its uid), it brings the
member's mentions when m.weibo.cn and s.weibo.com both refuse; its login wall takes that cookie out of use and
closes no door for the others."""
from __future__ import annotations

from datetime import timedelta

from crawler.client import WeiboClient
from crawler.cookiepool import CookiePool
from crawler.credentials import Credentials
from crawler.poller import Poller
from crawler.store import MemoryStore
from tests.crawler.test_poller_http import sim_budget


def feed_setup(server, with_member_cookie: bool = True):
    sc = server.scenario
    member = sc.members[0]
    cookies = [("office.cookie", "SUB=_2A25officeLogin-secret; SUBP=0033o")]
    if with_member_cookie:
        cookies.append((f"{member.uid}.cookie", f"SUB=_2A25u{member.uid}x-secret; SUBP=0033m"))
    pool = CookiePool(cookies, per_minute=60_000, burst=1000)
    budget, _ = sim_budget(server, per_minute=600)
    client = WeiboClient(server.base_url, server.base_url, budget=budget, timeout=5, credentials=Credentials(pool))
    store = MemoryStore()
    store.add_source("mentions", member.screen_name, cursor={"last_created_at": sc.start.isoformat()}, uid=member.uid)
    return Poller(client, store, budget, now=server.clock.now), store, pool, member


def member_mentions(server, member) -> set[str]:
    sc, now = server.scenario, server.clock.now()
    return {s.id for s in sc.mentions.get(member.screen_name, ()) if s.visible(now) and not s.pinned
            and s.created_at >= sc.start}


def test_mentions_arrive_through_the_members_own_feed_when_both_searches_refuse(fake_weibo_factory) -> None:
    server = fake_weibo_factory(refuse=("mobile", "search"))
    poller, store, pool, member = feed_setup(server)
    routes = set()
    for _ in range(5):
        report = poller.poll_once()
        assert not report.errors, report.errors
        routes |= set(report.routes.values())
        server.clock.advance(timedelta(minutes=30))
    want = member_mentions(server, member)
    assert want and set(store.items) == want  # that member's feed, not the office's (the fake reads whose SUB)
    assert routes == {"feed"}
    assert server.stats["requests"].get("pc_mentions", 0) > 0
    assert pool.cookies[1].requests > 0
    assert "feed" not in poller.routes.closed


def test_no_member_cookie_no_feed(fake_weibo_factory) -> None:
    server = fake_weibo_factory(search_html_needs_login=False)
    poller, store, pool, member = feed_setup(server, with_member_cookie=False)
    server.faults.add("432", path="containerid=100103", count=100)  # m.weibo.cn search refuses
    report = poller.poll_once()
    assert report.routes[f"mentions:{member.screen_name}"] == "search"
    assert server.stats["requests"].get("pc_mentions", 0) == 0


def test_feed_login_wall_takes_the_members_cookie_out_and_closes_no_door(fake_weibo_factory) -> None:
    server = fake_weibo_factory(search_html_needs_login=False)
    poller, store, pool, member = feed_setup(server)
    server.faults.add("432", path="containerid=100103", count=100)  # m.weibo.cn search refuses
    server.faults.add("captcha", path="/ajax/statuses/mentions", count=1)  # ok:-100 on the feed
    report = poller.poll_once()
    assert pool.cookies[1].state == "login_wanted" and "mentions" in pool.cookies[1].reason
    assert report.routes[f"mentions:{member.screen_name}"] == "search"  # read on through s.weibo.com
    assert "feed" not in poller.routes.closed and pool.cookies[0].state == "active"
    asked = server.stats["requests"].get("pc_mentions", 0)
    poller.poll_once()
    assert server.stats["requests"].get("pc_mentions", 0) == asked  # its cookie is out of use: not asked again
