"""Which cookie goes with each request: a logged-in cookie from the pool first, else the visitor cookie.

The two are held apart (CookiePool, VisitorCookie): a request carries exactly one source's cookie, never a mix.
The visitor cookie is for m.weibo.cn and weibo.com public pages only: s.weibo.com search wants a login, so a
`logged_in_only` request (the client's search) carries a pooled cookie or none, never the visitor's.
The client tells `login_wanted` when a response was a login wall; the cookie that was sent is then dropped
(pool: out of use with the reason; visitor: renewed on the next request).
"""
from __future__ import annotations

from .cookiepool import CookiePool, PooledCookie
from .visitor import VisitorCookie


class Credentials:
    """Gives the Cookie header for each request and hears about login walls."""

    def __init__(self, pool: CookiePool | None = None, visitor: VisitorCookie | None = None) -> None:
        self.pool = pool
        self.visitor = visitor
        self._last: PooledCookie | VisitorCookie | None = None
        self.sent = {"logged_in": 0, "visitor": 0, "none": 0}

    def __repr__(self) -> str:
        return f"Credentials(pool={self.pool!r}, visitor={self.visitor!r})"

    def member_cookie(self, uid: str) -> PooledCookie | None:
        """The in-use cookie supplied for member `uid` (its own mention feed needs its own login), or None."""
        c = self.pool.for_uid(uid) if self.pool is not None else None
        return c if c is not None and c.state == "active" else None

    def cookie_for(self, url: str, logged_in_only: bool = False, member: str | None = None) -> str | None:
        """The Cookie header for this request (None: send none); `logged_in_only` never gives the visitor's;
        `member`: that member's own cookie only (waiting for its budget), none if it has none in use."""
        if member is not None:
            c = self.member_cookie(member)
            if c is not None:
                c.budget.acquire(why=f"member {member}")
                c.requests += 1
            return self._send(c, "logged_in")
        c = self.pool.take() if self.pool is not None else None
        if c is not None:
            return self._send(c, "logged_in")
        if self.visitor is not None and not logged_in_only:
            return self._send(self.visitor, "visitor")
        return self._send(None, "none")

    def _send(self, source: PooledCookie | VisitorCookie | None, kind: str) -> str | None:
        """Remember which cookie this request carries (a login wall drops that one) and count it."""
        self._last = source
        self.sent["none" if source is None else kind] += 1
        return source.header() if source is not None else None

    def login_wanted(self, reason: str) -> None:
        """The last request's answer was a login wall: drop the cookie it carried."""
        if isinstance(self._last, PooledCookie) and self.pool is not None:
            self.pool.login_wanted(self._last, reason)
        elif isinstance(self._last, VisitorCookie):
            self._last.invalidate(reason)

    def report(self) -> list[str]:
        """One line a logged-in cookie (never its value), and one for the visitor cookie."""
        lines = self.pool.report() if self.pool is not None else []
        if self.visitor is not None:
            lines.append(f"visitor\t-\t{'renewed ' + str(self.visitor.renewals) + 'x'}"
                         f"{' (' + self.visitor.last_reason + ')' if self.visitor.last_reason else ''}\t"
                         f"{self.sent['visitor']} requests")
        return lines
