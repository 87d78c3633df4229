"""Visitor cookie (passport genvisitor -> incarnate) over real HTTP against the fake passport endpoints."""
from __future__ import annotations

import httpx
import pytest

from crawler.visitor import VisitorCookie, VisitorError, parse_jsonp


class Tick:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_visitor_flow_gives_sub_and_subp(fake_weibo):
    v = VisitorCookie(fake_weibo.base_url)
    header = v.header()
    # Visitor SUBs start with _2AkM (logged-in ones with _2A25); both SUB and SUBP are sent.
    assert header.startswith("SUB=_2AkM") and "; SUBP=0033" in header
    assert v.header() == header and v.renewals == 1  # kept while fresh
    assert "_2AkM" not in repr(v)


def test_visitor_cookie_renewed_when_expired_and_after_login_wall(fake_weibo):
    clock = Tick()
    v = VisitorCookie(fake_weibo.base_url, ttl=100, clock=clock)
    first = v.header()
    clock.t = 99
    assert v.header() == first
    clock.t = 100
    second = v.header()
    assert second != first and v.renewals == 2 and v.last_reason == "expired"
    v.invalidate("login wall on /api/container/getIndex")
    third = v.header()
    assert third not in (first, second) and v.renewals == 3
    assert v.last_reason.startswith("login wall")


def test_bad_tid_is_a_clear_error(fake_weibo):
    r = httpx.get(fake_weibo.base_url + "/visitor/visitor", params={"a": "incarnate", "t": "bogus",
                                                                      "cb": "cross_domain"})
    assert r.text.startswith("window.cross_domain && cross_domain(")
    assert parse_jsonp(r.text, "x")["retcode"] == 50111299


def test_unreachable_passport_names_the_url():
    v = VisitorCookie("http://127.0.0.1:9")
    with pytest.raises(VisitorError, match=r"127.0.0.1:9/visitor/genvisitor"):
        v.header()
