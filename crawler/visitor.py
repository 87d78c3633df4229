"""Weibo visitor cookies (SUB/SUBP without a login) for public pages, kept apart from logged-in cookies.

The passport visitor flow as the maintained crawlers use it: POST visitor/genvisitor (JSONP, gives a tid),
then GET visitor/visitor?a=incarnate&t=<tid> (JSONP, gives sub/subp). The holder renews the cookie when it
is older than `ttl` or when a response said "login wanted" (`invalidate`). It never holds a logged-in cookie.
"""
from __future__ import annotations

import json
import re
import time
from typing import Callable

import httpx

from .exceptions import WeiboError

DEFAULT_PASSPORT_URL = "https://passport.weibo.com"
_JSONP = re.compile(r"^\s*(?:window\.\w+\s*&&\s*)?\w+\((.*)\)\s*;?\s*$", re.S)


class VisitorError(WeiboError):
    """The passport visitor flow did not give a visitor cookie."""


def parse_jsonp(text: str, where: str) -> dict:
    """The object inside `window.cb && cb({...});`; errors name the URL, not the body's secrets."""
    m = _JSONP.match(text)
    try:
        obj = json.loads(m.group(1) if m else text)
    except json.JSONDecodeError:
        raise VisitorError(f"{where}: answer is not JSONP/JSON ({len(text)} chars)") from None
    if not isinstance(obj, dict):
        raise VisitorError(f"{where}: answer is not an object")
    return obj


class VisitorCookie:
    """Holds one visitor cookie; `header()` gives the Cookie value, fetching or renewing it as needed."""

    def __init__(self, passport_url: str = DEFAULT_PASSPORT_URL, *, ttl: float = 6 * 3600,
                 http: httpx.Client | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.passport_url = passport_url.rstrip("/")
        self.ttl = ttl
        self._http = http or httpx.Client(timeout=10, follow_redirects=False)
        self._clock = clock
        self.__value: str | None = None
        self._got_at = 0.0
        self.renewals = 0
        self.last_reason = ""

    def __repr__(self) -> str:
        return f"VisitorCookie(passport_url={self.passport_url!r}, cookie={'<set>' if self.__value else None})"

    def header(self) -> str:
        """The Cookie header for a public-page request (SUB=...; SUBP=...)."""
        if self.__value is None or self._clock() - self._got_at >= self.ttl:
            if self.__value is not None:
                self.last_reason = "expired"
            self.__value = self._fetch()
            self._got_at = self._clock()
            self.renewals += 1
        return self.__value

    def invalidate(self, reason: str) -> None:
        """The site answered a login wall with this cookie: drop it so the next request gets a new one."""
        self.__value = None
        self.last_reason = reason

    def _fetch(self) -> str:
        url = f"{self.passport_url}/visitor/genvisitor"
        fp = json.dumps({"os": "1", "browser": "Chrome120,0,0,0", "fonts": "undefined", "screenInfo": "1920*1080*24",
                         "plugins": ""})
        try:
            r = self._http.post(url, data={"cb": "gen_callback", "fp": fp})
            data = parse_jsonp(r.text, url)
            tid = (data.get("data") or {}).get("tid")
            if data.get("retcode") != 20000000 or not tid:
                raise VisitorError(f"{url}: no tid (retcode {data.get('retcode')})")
            url = f"{self.passport_url}/visitor/visitor"
            r = self._http.get(url, params={"a": "incarnate", "t": tid, "w": "2", "c": "095", "gc": "",
                                            "cb": "cross_domain", "from": "weibo", "_rand": f"{time.time():.4f}"})
        except httpx.HTTPError as exc:
            raise VisitorError(f"{url}: {exc.__class__.__name__}") from None
        data = parse_jsonp(r.text, url)
        got = data.get("data") or {}
        if data.get("retcode") != 20000000 or not got.get("sub"):
            raise VisitorError(f"{url}: no visitor cookie (retcode {data.get('retcode')}, {data.get('msg')!r})")
        return f"SUB={got['sub']}; SUBP={got.get('subp', '')}"
