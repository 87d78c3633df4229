"""Is a link in a member's post still alive? HEAD first, then GET, within the crawler's one request budget.

The national 政务新媒体 check costs an account points for links that do not open. A member's posts carry t.cn short
links and others; `LinkChecker.check(url)` follows redirects (t.cn → the target) with HEAD, and falls back to a GET
(whose body it does not read past the first bytes) when the server refuses HEAD or answers it with an error, since
many servers answer HEAD wrongly. A link is alive when the final answer is below 400.

Every request takes a token from the same `RequestBudget` the Weibo requests use (t.cn is Weibo's own), so checking
links never pushes the crawler past the rate the office set. No Weibo cookie is ever sent to these sites: the checker
has its own HTTP client. Which links are due, and when a link was last checked, is the store's business
(`links_due` / `commit_link` on the poll store; at most once a day per link in wzmon).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from crawler.budget import RequestBudget
from crawler.clock import now_utc
from crawler.constants import MOBILE_USER_AGENT

__all__ = ["LinkChecker", "LinkResult"]

RETRY_WITH_GET = frozenset({400, 403, 404, 405, 406, 409, 410, 429, 500, 501, 502, 503})


@dataclass(frozen=True)
class LinkResult:
    """What checking one link found: alive or not, the final HTTP status (None when no answer came), the URL
    the redirects ended at, and the error in words when there was no answer."""

    url: str
    ok: bool
    status: int | None
    final_url: str
    error: str
    checked_at: datetime
    requests: int


class LinkChecker:
    """HEAD, then GET, each request within BUDGET; see the module docstring."""

    def __init__(self, budget: RequestBudget, *, timeout: float = 10.0, max_redirects: int = 5,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.budget = budget
        self.requests = 0
        headers = {"User-Agent": MOBILE_USER_AGENT, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
                   "Accept-Language": "zh-CN,zh;q=0.9"}
        self._http = httpx.Client(headers=headers, timeout=timeout, follow_redirects=True, max_redirects=max_redirects,
                                  transport=transport)

    def close(self) -> None:
        self._http.close()

    def _one(self, method: str, url: str) -> tuple[int | None, str, str]:
        self.budget.acquire(why=f"link {url}")
        self.requests += 1
        try:
            if method == "HEAD":
                resp = self._http.head(url)
            else:
                with self._http.stream("GET", url) as resp:
                    for _ in resp.iter_bytes(1024):
                        break
            return resp.status_code, str(resp.url), ""
        except httpx.TooManyRedirects:
            return None, url, "too many redirects"
        except httpx.TimeoutException:
            return None, url, "timed out"
        except httpx.HTTPError as exc:
            return None, url, f"{exc.__class__.__name__}: {str(exc)[:200]}"

    def check(self, url: str) -> LinkResult:
        """Check one link: HEAD; GET when HEAD gives no answer or an error status (see RETRY_WITH_GET)."""
        before = self.requests
        if not url.lower().startswith(("http://", "https://")):
            return LinkResult(url, False, None, url, "not an http(s) link", now_utc(), 0)
        status, final, error = self._one("HEAD", url)
        if status is None or status in RETRY_WITH_GET:
            status, final, error = self._one("GET", url)
        ok = status is not None and status < 400
        return LinkResult(url, ok, status, final, error if status is None else ("" if ok else f"HTTP {status}"),
                          now_utc(), self.requests - before)

    def __enter__(self) -> "LinkChecker":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
