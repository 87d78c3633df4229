"""WeiboClient with a credentials provider over real HTTP: pool cookie first, visitor otherwise, never mixed."""
from __future__ import annotations

from crawler.budget import RequestBudget
from crawler.client import WeiboClient
from crawler.cookiepool import CookiePool
from crawler.credentials import Credentials
from crawler.exceptions import LoginRequiredError
from crawler.visitor import VisitorCookie

LOGGED = "SUB=_2A25loggedin-secret; SUBP=0033logged"


def client(server, creds):
    return WeiboClient(server.base_url, server.base_url, budget=RequestBudget(per_minute=60_000, burst=1000),
                       timeout=5.0, credentials=creds)


def test_logged_in_cookie_first_then_visitor_after_a_login_wall(fake_weibo):
    pool = CookiePool([("office.txt", LOGGED)], per_minute=60_000, burst=100)
    visitor = VisitorCookie(fake_weibo.base_url)
    creds = Credentials(pool, visitor)
    with client(fake_weibo, creds) as c:
        assert c.login_state().logged_in is True  # the fake's api/config says login for a non-visitor SUB
        fake_weibo.faults.add("captcha", path="api/config", count=1)  # ok:-100, as the real site answers
        try:
            c.login_state()
        except LoginRequiredError:
            pass
        else:
            raise AssertionError("ok:-100 must raise LoginRequiredError")
        assert pool.cookies[0].state == "login_wanted" and "api/config" in pool.cookies[0].reason
        assert c.login_state().logged_in is False  # now the visitor cookie alone: not a login
        assert creds.sent == {"logged_in": 2, "visitor": 1, "none": 0}
        assert "secret" not in repr(c) + repr(creds)


def test_visitor_cookie_renewed_after_a_login_wall(fake_weibo):
    visitor = VisitorCookie(fake_weibo.base_url)
    with client(fake_weibo, Credentials(None, visitor)) as c:
        c.login_state()
        first = visitor.header()
        fake_weibo.faults.add("captcha", path="api/config", count=1)
        try:
            c.login_state()
        except LoginRequiredError:
            pass
        c.login_state()
        assert visitor.renewals == 2 and visitor.header() != first


def test_search_never_gets_the_visitor_cookie(fake_weibo_factory):
    # s.weibo.com search wants a login: the visitor cookie (for m.weibo.cn / weibo.com public pages) is not sent
    server = fake_weibo_factory(search_html_needs_login=False)
    visitor = VisitorCookie(server.base_url)
    creds = Credentials(None, visitor)
    with client(server, creds) as c:
        assert c.login_state().logged_in is False  # a public page: the visitor cookie goes
        pages = c.search_html("@" + server.scenario.members[0].screen_name)
        next(pages)
        pages.close()
    assert creds.sent["visitor"] == 1 and visitor.renewals == 1
    assert server.search_html_cookies == {"login": 0, "visitor": 0, "none": 1}


def test_search_gets_a_pooled_login_cookie(fake_weibo_factory):
    server = fake_weibo_factory()
    creds = Credentials(CookiePool([("office.txt", LOGGED)], per_minute=60_000, burst=100),
                        VisitorCookie(server.base_url))
    with client(server, creds) as c:
        pages = c.search_html("@" + server.scenario.members[0].screen_name)
        next(pages)
        pages.close()
    assert server.search_html_cookies == {"login": 1, "visitor": 0, "none": 0}


def _search_once(c, server) -> None:
    pages = c.search_html("@" + server.scenario.members[0].screen_name)
    try:
        next(pages)
    except LoginRequiredError:
        pass
    else:
        raise AssertionError("a login wall on s.weibo.com must raise LoginRequiredError")
    finally:
        pages.close()


def test_search_login_wall_takes_the_pooled_cookie_out_of_use(fake_weibo_factory):
    # the closed search door answers as s.weibo.com does: 302 to passport.weibo.com/sso/signin
    server = fake_weibo_factory(refuse=("search",))
    pool = CookiePool([("office.txt", LOGGED), ("member.txt", LOGGED + "2")], per_minute=60_000, burst=100)
    with client(server, Credentials(pool, VisitorCookie(server.base_url))) as c:
        _search_once(c, server)
        assert [x.state for x in pool.cookies] == ["login_wanted", "active"]
        assert "login page" in pool.cookies[0].reason and "/weibo?q=" in pool.cookies[0].reason
        assert c.login_state().logged_in is True  # m.weibo.cn goes on with the cookie still in use
    assert "secret" not in " ".join(pool.report())


def test_search_passport_redirect_and_login_page_take_the_cookie_out(fake_weibo_factory):
    server = fake_weibo_factory()
    server.faults.add("passport", path="/weibo\\?q=", count=1)  # 302 to passport.weibo.com/visitor/visitor
    pool = CookiePool([("a.txt", LOGGED), ("b.txt", LOGGED + "2")], per_minute=60_000, burst=100)
    with client(server, Credentials(pool, None)) as c:
        _search_once(c, server)
        assert pool.cookies[0].state == "login_wanted" and pool.cookies[1].state == "active"
        server.faults.add("login_page", path="/weibo\\?q=", count=1)  # 200 with the passport login page
        _search_once(c, server)
        assert pool.cookies[1].state == "login_wanted" and "login page" in pool.cookies[1].reason
