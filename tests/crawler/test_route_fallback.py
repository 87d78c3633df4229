"""The poller keeps collecting when Weibo closes a door: with m.weibo.cn (or s.weibo.com search) refusing, every
post the scenario holds still arrives through the other route, the closure is one health event, the closed
route is probed after its back-off and used again once it answers."""
from __future__ import annotations

from datetime import timedelta

from crawler.routes import RouteBook, cursor_for
from tests.crawler.test_poller_http import expected_ids, run_until_quiet, setup


def route_events(store, route: str) -> list:
    return [h for h in store.health if h.source_key == f"route-{route}"]


def test_mobile_closed_everything_arrives_through_pc_and_search(fake_weibo_factory) -> None:
    server = fake_weibo_factory(refuse=("mobile",), search_html_needs_login=False)
    server.clock.set(server.scenario.window_start)
    poller, store, client, _ = setup(server)
    run_until_quiet(poller)
    server.clock.set(server.scenario.end)
    run_until_quiet(poller)
    assert set(store.items) >= expected_ids(server)
    asked = server.stats["requests"]  # what came through: weibo.com/ajax timelines and s.weibo.com mentions
    assert asked.get("pc_mymblog", 0) > 0 and asked.get("search_html", 0) > 0
    closed = route_events(store, "mobile")
    assert [h.state for h in closed] == ["route_closed"]  # one event for the episode, however many passes
    assert "weibo.com/ajax" in closed[0].message and closed[0].detail["cause"] == "blocked"
    assert server.doors.describe()["refused"]["mobile"] >= 1
    assert all(h.state != "blocked" for h in store.health if not h.source_key.startswith("route-"))


def test_search_closed_mentions_arrive_through_mobile_search(fake_weibo_factory) -> None:
    server = fake_weibo_factory(refuse=("search",), search_html_needs_login=False)
    server.clock.set(server.scenario.window_start)
    poller, store, client, _ = setup(server)
    run_until_quiet(poller)
    server.clock.set(server.scenario.end)
    run_until_quiet(poller)
    assert set(store.items) >= expected_ids(server)
    assert route_events(store, "search") == []  # m.weibo.cn search is preferred and open: s.weibo.com never asked


def test_closed_route_is_probed_after_its_back_off_and_used_again(fake_weibo_factory) -> None:
    server = fake_weibo_factory(refuse=("mobile",), search_html_needs_login=False)
    poller, store, client, clock = setup(server, routes=RouteBook(probe_after=600))
    poller.poll_once()
    assert "mobile" in poller.routes.closed
    refused = server.doors.describe()["refused"]["mobile"]
    poller.poll_once()  # inside the back-off: the closed door is not asked again
    assert server.doors.describe()["refused"]["mobile"] == refused
    server.clock.advance(timedelta(seconds=601))
    poller.poll_once()  # probe due, still closed: one more refusal, the wait doubles
    assert server.doors.describe()["refused"]["mobile"] == refused + 1
    assert poller.routes.closed["mobile"].streak == 2
    server.doors.open("mobile")
    server.clock.advance(timedelta(seconds=1201))
    report = poller.poll_once()
    assert "mobile" not in poller.routes.closed and "mobile" in report.routes.values()
    assert [h.state for h in route_events(store, "mobile")] == ["route_closed", "ok"]


def test_cursor_resume_point_is_dropped_on_a_change_of_route() -> None:
    c = {"since_id": "4900000000000001", "last_created_at": "2024-06-14T10:00:00+08:00", "seen": {"1": "x"},
         "walk_seen": {"2": "y"}, "route": "mobile"}
    assert cursor_for(c, "mobile") is c
    assert cursor_for(c, "pc") == {"last_created_at": "2024-06-14T10:00:00+08:00", "seen": {"1": "x"},
                                   "route": "mobile"}
    assert cursor_for({"page": 3}, "search") == {}  # stored before routes existed: it was m.weibo.cn's


def test_no_login_cookie_closes_search_only_and_the_rest_is_read_on(fake_weibo_factory) -> None:
    """An office polling without a login cookie while m.weibo.cn refuses: s.weibo.com search answers its login wall
    (it always wants one). That says nothing of the site: search alone closes, the mention sources wait with cause
    "no route", and the timelines are read through weibo.com/ajax in the same pass, with no site-wide cool-down."""
    server = fake_weibo_factory(refuse=("mobile",))  # the fake's s.weibo.com wants a login; no cookie here
    poller, store, client, clock = setup(server)
    report = poller.poll_once(max_requests=200)
    sc = server.scenario
    assert report.stopped is None
    assert poller.budget.paused_until <= clock.time()  # nothing paused the crawler
    assert {f"timeline:{m.uid}" for m in sc.accounts} <= set(report.polled)
    assert {report.routes[f"timeline:{m.uid}"] for m in sc.accounts} == {"pc"}
    mentions = {f"mentions:{m.screen_name}" for m in sc.accounts}
    # the first mention source tried finds every door closed to it ("no route"); the rest wait without a request
    assert len(report.errors) == 1 and set(report.causes.values()) == {"no route"}
    assert set(report.errors) | set(report.waiting) == mentions and not set(report.polled) & mentions
    assert server.stats["requests"].get("search_html", 0) == 1  # one login wall closed the door for every source
    closed = route_events(store, "search")
    assert [h.state for h in closed] == ["route_closed"] and "login" in closed[0].message
    assert all(h.state not in ("blocked", "login_required") for h in store.health)
    poller.poll_once(max_requests=200)  # inside the search route's back-off: not asked again
    assert server.stats["requests"].get("search_html", 0) == 1
