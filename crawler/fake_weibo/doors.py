"""Closed doors: whole routes of the fake Weibo that answer "no" the way the real site does, to test fallbacks.

A route is a family of paths the real site serves from one host:
- `mobile`  m.weibo.cn JSON (`/api/`, `/comments/`, `/statuses/`, `/n/`, `/u/`, m.weibo.cn search included):
  HTTP 432, the anti-bot answer (weibo-api.md "How the site says no").
- `pc`      weibo.com/ajax (`/ajax/`): `{"ok": -100, "url": "https://weibo.com/login.php?..."}`, login wanted.
- `search`  s.weibo.com HTML search (`/weibo`): a 302 to passport.weibo.com's sign-in page (请先登录).
- `visitor` passport.weibo.com's visitor flow (`/visitor/`): HTTP 432.
Unlike a fault rule (`faults.py`, per request, by count or chance), a closed door refuses every request,
cookie or not, until it is opened again.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable

ROUTES = ("mobile", "pc", "search", "visitor")
MOBILE_PREFIXES = ("/api/", "/comments/", "/statuses/", "/n/", "/u/")


class DoorError(ValueError):
    """An unknown route name (the message lists the known ones)."""


def route_of(path: str) -> str | None:
    """The route a request path belongs to (None: control paths and anything else)."""
    if path.startswith("/ajax/"):
        return "pc"
    if path.startswith("/visitor/"):
        return "visitor"
    if path == "/weibo":
        return "search"
    if path.startswith(MOBILE_PREFIXES):
        return "mobile"
    return None


def check_routes(routes: Iterable[str]) -> tuple[str, ...]:
    """The routes as a tuple, or DoorError naming the first unknown one."""
    out = tuple(routes)
    for r in out:
        if r not in ROUTES:
            raise DoorError(f"unknown route {r!r} to refuse; use one of {', '.join(ROUTES)}")
    return out


class Doors:
    """Which routes are closed now; thread-safe; counts the refusals each route gave."""

    def __init__(self, closed: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._closed: set[str] = set(check_routes(closed))
        self.refused: dict[str, int] = {}

    def close(self, *routes: str) -> None:
        with self._lock:
            self._closed.update(check_routes(routes))

    def open(self, *routes: str) -> None:
        with self._lock:
            self._closed.difference_update(check_routes(routes))

    def closed(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(r for r in ROUTES if r in self._closed)

    def refusing(self, path: str) -> str | None:
        """The closed route this path belongs to (and count the refusal), or None when it may be served."""
        route = route_of(path)
        with self._lock:
            if route is None or route not in self._closed:
                return None
            self.refused[route] = self.refused.get(route, 0) + 1
            return route

    def configure(self, body: dict) -> None:
        """Apply a `POST /__sim/doors` body: {"close": [route...], "open": [route...]} (open last)."""
        if not isinstance(body, dict):
            raise DoorError("doors configuration must be a JSON object")
        for key in ("close", "open"):
            value = body.get(key, [])
            if isinstance(value, str) or not isinstance(value, list):
                raise DoorError(f"doors {key!r} must be a list of routes, got {value!r}")
        self.close(*body.get("close", []))
        self.open(*body.get("open", []))

    def describe(self) -> dict:
        with self._lock:
            return {"closed": [r for r in ROUTES if r in self._closed], "refused": dict(self.refused)}
