"""A pool of logged-in Weibo cookies, each with its own request budget inside the site budget.

A cookie is named by its file name or a short fingerprint, never by its value; when Weibo answers that it
wants a login, the cookie leaves the pool with the reason kept, and `report()` says so.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .budget import RequestBudget
from .client import CookieError, load_cookie
from .clock import now_utc
from .constants import COOKIE_ENV, COOKIE_FILE_ENV

COOKIE_DIR_ENV = "WZMON_WEIBO_COOKIE_DIR"


def fingerprint(value: str) -> str:
    """A short, non-reversible name for a cookie value (first 8 hex digits of its SHA-256)."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:8]


@dataclass(eq=False)
class PooledCookie:
    """One logged-in cookie: its label, its budget, its state. The value is kept out of repr."""

    label: str
    budget: RequestBudget
    _value: str = field(repr=False)
    account: str = ""
    state: str = "active"  # active | login_wanted
    reason: str = ""
    requests: int = 0
    since: datetime | None = None  # when it was taken out of use

    def header(self) -> str:
        return self._value

    @property
    def fingerprint(self) -> str:
        """The name it is stored and shown under (`fingerprint()` of the value), never the value."""
        return fingerprint(self._value)


class CookiePool:
    """Logged-in cookies taken in turn; one whose own budget is spent is skipped until it refills."""

    def __init__(self, cookies: list[tuple[str, str]], *, per_minute: float = 6, burst: int = 1) -> None:
        self.cookies: list[PooledCookie] = []
        seen: set[str] = set()
        for label, value in cookies:
            if value in seen:
                continue
            seen.add(value)
            self.cookies.append(PooledCookie(label, RequestBudget(per_minute=per_minute, burst=burst), value))
        self._next = 0

    @classmethod
    def from_sources(cls, files: list[str | os.PathLike] = (), directory: str | os.PathLike | None = None,
                     **kw) -> "CookiePool":
        """Cookies from files, a folder of files (*.txt, *.json, *.cookie), and $WZMON_WEIBO_COOKIE(_FILE/_DIR)."""
        paths = [Path(f).expanduser() for f in files]
        directory = directory or os.environ.get(COOKIE_DIR_ENV)
        if directory:
            d = Path(directory).expanduser()
            if not d.is_dir():
                raise CookieError(f"cookie folder {d} is not a folder")
            paths += sorted(p for p in d.iterdir() if p.is_file() and p.suffix in (".txt", ".json", ".cookie"))
        if os.environ.get(COOKIE_FILE_ENV):
            paths.append(Path(os.environ[COOKIE_FILE_ENV]).expanduser())
        found = [(p.name, load_cookie(cookie_file=p)) for p in paths]
        env = os.environ.get(COOKIE_ENV, "").strip()
        if env:
            found.append((f"${COOKIE_ENV} ({fingerprint(env)})", env))
        return cls([(label, value) for label, value in found if value], **kw)

    def __repr__(self) -> str:
        return f"CookiePool({[c.label for c in self.cookies]!r})"

    def __len__(self) -> int:
        return len(self.cookies)

    def usable(self) -> list[PooledCookie]:
        return [c for c in self.cookies if c.state == "active"]

    def for_uid(self, uid: str) -> PooledCookie | None:
        """The cookie the office supplied for account `uid`: labelled `<uid>.cookie` (or .txt/.json), or logged in as
        `uid` (its `account`); None when there is none."""
        for c in self.cookies:
            if Path(c.label).stem == str(uid) or (c.account and c.account == str(uid)):
                return c
        return None

    def take(self) -> PooledCookie | None:
        """The next active cookie with budget left (its request counted), or None when none can go now."""
        n = len(self.cookies)
        for i in range(n):
            c = self.cookies[(self._next + i) % n]
            if c.state == "active" and c.budget.try_acquire():
                self._next = (self._next + i + 1) % n
                c.requests += 1
                return c
        return None

    def login_wanted(self, cookie: PooledCookie, reason: str, since: datetime | None = None) -> None:
        """Weibo wants a login for this cookie: take it out of use and keep why and since when."""
        cookie.state, cookie.reason = "login_wanted", reason
        cookie.since = since or cookie.since or now_utc()

    def report(self) -> list[str]:
        """One line a cookie: label, account, state (with reason), requests used. Never the value."""
        return [f"{c.label}\t{c.account or '?'}\t{c.state}{' (' + c.reason + ')' if c.reason else ''}\t"
                f"{c.requests} requests" for c in self.cookies]
