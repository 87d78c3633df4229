"""The fake Weibo can close a whole route (`refuse=`, `--refuse`): each answers as weibo-api.md says the site does,
the other routes keep serving, and the client reads each refusal as the typed error the poller acts on."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from crawler.budget import RequestBudget
from crawler.client import WeiboClient
from crawler.exceptions import BlockedError, LoginRequiredError
from crawler.fake_weibo.doors import DoorError, route_of
from crawler.fake_weibo.server import serve_in_thread


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003 - stdlib signature
        return None


def get(url: str) -> tuple[int, dict, bytes]:
    """Plain urllib, no redirects followed: what the wire says."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def client(server) -> WeiboClient:
    return WeiboClient(server.base_url, server.base_url, RequestBudget(per_minute=60_000, burst=1000),
                       pc_base_url=server.base_url, timeout=5.0)


def member(server):
    return max(server.scenario.members, key=lambda m: len(server.scenario.timelines.get(m.uid, ())))


def test_route_of_names_each_family_of_paths() -> None:
    assert route_of("/api/container/getIndex") == "mobile"
    assert route_of("/comments/hotflow") == "mobile"
    assert route_of("/statuses/extend") == "mobile"
    assert route_of("/ajax/statuses/mymblog") == "pc"
    assert route_of("/weibo") == "search"
    assert route_of("/visitor/genvisitor") == "visitor"
    assert route_of("/__sim/truth") is None


def test_closed_mobile_answers_432_and_search_still_serves(fake_weibo_factory) -> None:
    server = fake_weibo_factory(refuse=("mobile",), search_html_needs_login=False)
    uid = member(server).uid
    code, headers, body = get(server.url(f"/api/container/getIndex?containerid=107603{uid}"))
    assert code == 432 and headers.get("Retry-After") == "60"
    with client(server) as c, pytest.raises(BlockedError) as err:
        next(c.timeline(uid))
    assert "432" in str(err.value)
    code, _, body = get(server.url("/weibo?q=%E9%93%B6%E5%B7%9D"))
    assert code == 200 and (b"card-wrap" in body or b"card-no-result" in body)
    assert server.doors.describe()["refused"] == {"mobile": 2}


def test_closed_pc_answers_ok_minus_100_with_a_login_url(fake_weibo_factory) -> None:
    server = fake_weibo_factory(refuse=("pc",))
    code, _, body = get(server.url("/ajax/statuses/mymblog?uid=1&page=1&feature=0"))
    data = json.loads(body)
    assert code == 200 and data["ok"] == -100 and data["url"].startswith("https://weibo.com/login.php?url=")
    uid = member(server).uid
    with client(server) as c:  # the mobile route is open
        assert next(c.timeline(uid)).items


def test_closed_search_redirects_to_sign_in_even_with_a_cookie(fake_weibo_factory) -> None:
    server = fake_weibo_factory(refuse=("search",), search_html_needs_login=False)
    req = urllib.request.Request(server.url("/weibo?q=x"), headers={"Cookie": "SUB=_2A25x"})
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as err:
        opener.open(req, timeout=5)
    assert err.value.code == 302
    assert err.value.headers["Location"].startswith("https://passport.weibo.com/sso/signin?")
    with client(server) as c, pytest.raises(LoginRequiredError):
        next(c.search_html("银川"))


def test_closed_visitor_refuses_its_paths_only(fake_weibo_factory) -> None:
    server = fake_weibo_factory(refuse=("visitor",))
    assert get(server.url("/visitor/genvisitor"))[0] == 432
    assert get(server.url("/api/config"))[0] == 200


def test_doors_open_and_close_at_run_time_over_http(fake_weibo_factory) -> None:
    server = fake_weibo_factory()
    uid = member(server).uid
    url = server.url(f"/api/container/getIndex?containerid=107603{uid}")
    assert get(url)[0] == 200
    req = urllib.request.Request(server.url("/__sim/doors"), data=json.dumps({"close": ["mobile", "pc"]}).encode(),
                                 method="POST")
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert json.loads(resp.read())["closed"] == ["mobile", "pc"]
    assert get(url)[0] == 432
    server.doors.open("mobile")
    assert get(url)[0] == 200
    bad = urllib.request.Request(server.url("/__sim/doors"), data=b'{"close": ["mobil"]}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(bad, timeout=5)
    assert err.value.code == 400 and "unknown route 'mobil'" in json.loads(err.value.read())["msg"]


def test_unknown_route_is_refused_at_start() -> None:
    with pytest.raises(DoorError, match="unknown route 'mobiel' to refuse; use one of mobile, pc, search, visitor"):
        serve_in_thread(port=0, refuse=("mobiel",))
