"""Typed errors for everything Weibo can answer instead of data.

The poller decides what to do from the type alone: `BlockedError` cools the whole site down,
`LoginRequiredError` needs a person (new cookie or captcha), `NoRouteError` leaves one source waiting for a
cookie of ours, `EmptyError` is a normal end,
`MalformedError` / `TransportError` are per-source failures worth retrying later.
Messages never contain the cookie: we only ever put URLs and short body excerpts in them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from crawler.raw import RawResponse


class WeiboError(Exception):
    """Base class. `url` is what was asked, `status` the HTTP status (if any), `raw` the response kept."""

    state = "error"  # the crawler_health state this error is recorded as

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None,
                 raw: "RawResponse | None" = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status
        self.raw = raw

    def __str__(self) -> str:
        return self.message


class BlockedError(WeiboError):
    """HTTP 432/418/403/429: the site refuses us for now. Back off site-wide; cool-down grows."""

    state = "blocked"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class LoginRequiredError(WeiboError):
    """`ok: -100`, a redirect to passport.weibo.com, or a captcha page: a person must renew the cookie."""

    state = "login_required"


class NoRouteError(WeiboError):
    """Every door to one source is closed to us for a reason of ours (s.weibo.com search or a member's own feed
    wants a login cookie we do not have in use), while the site itself is not refusing: that source waits and
    the others are read on. Not site-wide."""

    state = "no_route"


class EmptyError(WeiboError):
    """`ok: 0` ("这里还没有内容"): nothing there, or past the last page."""

    state = "empty"


class MalformedError(WeiboError):
    """HTML, broken or truncated JSON, or a JSON shape we do not know, where JSON data was due."""

    state = "malformed"


class TransportError(WeiboError):
    """Timeouts, refused or reset connections, bodies cut mid-way, 5xx answers: try again later."""

    state = "transport"


class UnreadableFileError(WeiboError):
    """A saved response given to `wzmon parse/import` that is not one of the shapes we read."""

    state = "malformed"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class TimeFormatError(ValueError):
    """A `created_at` string in none of the forms Weibo uses."""
