"""`WeiboClient`: the m.weibo.cn endpoints as paging generators over httpx.

Each generator yields `Page(items, raw, cursor, done)`: the records new to the given cursor, the
untouched response, and the cursor to store once that page is committed. Stopping the iteration
early is safe: the last committed cursor resumes the walk. Every request first takes a token from
the shared `RequestBudget`; every refusal becomes a typed `WeiboError` (see `crawler.exceptions`).
The cookie is sent but never logged, never put in an exception, never shown in a repr.
"""
from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urljoin

import httpx

from crawler.budget import RequestBudget
from crawler.constants import (
    BASE_HEADERS,
    BLOCK_STATUSES,
    COMMENT_PAGE_CAP,
    COOKIE_ENV,
    COOKIE_FILE_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_PC_BASE_URL,
    DEFAULT_SEARCH_BASE_URL,
    DEFAULT_TIMEOUT,
    LOGIN_MARKERS,
    SEARCH_PAGE_CAP,
    TIMELINE_PAGE_CAP,
)
from crawler.cursors import Walk
from crawler.exceptions import (
    BlockedError,
    EmptyError,
    LoginRequiredError,
    MalformedError,
    TransportError,
    WeiboError,
)
from crawler.parsers import IndexPage, parse_hotflow, parse_index, parse_long_text, parse_reposts, parse_search_html
from crawler.types import Page, Post, RawResponse, User
from crawler.urls import Urls

log = logging.getLogger("wzmon.crawler.client")

__all__ = ["WeiboClient", "LoginState", "Page", "RawResponse", "load_cookie"]


class CookieError(WeiboError):
    """The cookie file given cannot be read (missing, empty, unknown format)."""

    state = "login_required"


def load_cookie(cookie: str | None = None, cookie_file: str | os.PathLike | None = None) -> str | None:
    """The Cookie header value: explicit string, else the file, else $WZMON_WEIBO_COOKIE(_FILE).

    Files may hold a raw header (`SUB=...; SUBP=...`), a browser JSON export ([{name, value}, ...])
    or Netscape cookies.txt lines. Errors name the file, never its content.
    """
    if cookie:
        return cookie.strip()
    path = cookie_file or os.environ.get(COOKIE_FILE_ENV)
    if path:
        p = Path(path).expanduser()
        try:
            text = p.read_text(encoding="utf-8-sig").strip()
        except OSError as exc:
            raise CookieError(f"cookie file {p} cannot be read ({exc.strerror or exc.__class__.__name__})") from None
        if not text:
            raise CookieError(f"cookie file {p} is empty")
        return _cookie_from_text(text, str(p))
    env = os.environ.get(COOKIE_ENV)
    return env.strip() if env and env.strip() else None


def _cookie_from_text(text: str, where: str) -> str:
    if text.startswith("[") or text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise CookieError(f"cookie file {where} looks like JSON but does not parse") from None
        items = data if isinstance(data, list) else data.get("cookies", [])
        pairs = [f"{c['name']}={c['value']}" for c in items if isinstance(c, dict) and "name" in c and "value" in c
                 and "weibo" in str(c.get("domain", "weibo"))]
        if not pairs:
            raise CookieError(f"cookie file {where} holds no weibo cookies")
        return "; ".join(pairs)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if lines and all(len(ln.split("\t")) >= 7 for ln in lines):  # Netscape cookies.txt
        return "; ".join(f"{f[5]}={f[6]}" for f in (ln.split("\t") for ln in lines) if "weibo" in f[0])
    if text.lower().startswith("cookie:"):
        text = text.split(":", 1)[1]
    return " ".join(text.split())


@dataclass
class LoginState:
    logged_in: bool
    uid: str | None
    raw: RawResponse


def _date_header(resp: httpx.Response) -> datetime:
    value = resp.headers.get("date")
    if value:
        try:
            dt = parsedate_to_datetime(value)
            return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
        except (TypeError, ValueError):
            pass
    return datetime.now(timezone.utc)


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - _date_header(resp)).total_seconds())
        except (TypeError, ValueError):
            return None


def _looks_like_login(text: str) -> bool:
    low = text.lower()
    return any(m in low for m in LOGIN_MARKERS) or "请登录" in text or "登录 - 新浪" in text


class WeiboClient:
    """m.weibo.cn / s.weibo.com reader. All requests share `budget`; `cookie` (or its file) is optional."""

    def __init__(self, base_url: str = DEFAULT_BASE_URL, search_base_url: str = DEFAULT_SEARCH_BASE_URL,
                 budget: RequestBudget | None = None, cookie: str | None = None, *,
                 cookie_file: str | os.PathLike | None = None, pc_base_url: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, expand_long_text: bool = True, initial_pages: int = 1,
                 transport: httpx.BaseTransport | None = None, credentials: Any = None) -> None:
        # a local base URL (tests, the demo, a mirror) serves every route unless told otherwise
        pc_base_url = pc_base_url or (DEFAULT_PC_BASE_URL if base_url == DEFAULT_BASE_URL else base_url)
        self.urls = Urls(base_url, search_base_url, pc_base_url)
        self.budget = budget or RequestBudget(per_minute=20, burst=2, jitter=0.3)
        self.expand_long_text = expand_long_text
        self.initial_pages = max(1, initial_pages)
        self.timeout = timeout
        self.requests = 0
        self.credentials = credentials  # crawler.credentials.Credentials: a cookie per request, told of login walls
        self.__cookie = None if credentials is not None else load_cookie(cookie, cookie_file)
        headers = dict(BASE_HEADERS)
        if self.__cookie:
            headers["Cookie"] = self.__cookie
        self._http = httpx.Client(headers=headers, timeout=timeout, follow_redirects=False, transport=transport)

    def __repr__(self) -> str:
        return (f"WeiboClient(base_url={self.urls.base_url!r}, cookie={'<set>' if self.__cookie else None}, "
                f"per_minute={self.budget.per_minute:g})")

    @property
    def has_cookie(self) -> bool:
        return bool(self.__cookie) or self.credentials is not None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "WeiboClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ one request

    def site_cookie(self, name: str) -> str | None:
        """A cookie the site set on this client (e.g. weibo.com's XSRF-TOKEN), never the configured login."""
        return self._http.cookies.get(name)

    def fetch(self, url: str, *, referer: str | None = None, accept_html: bool = False,
              extra_headers: dict[str, str] | None = None, add_cookie: str | None = None,
              logged_in_only: bool = False, member: str | None = None) -> RawResponse:
        """GET one URL within the budget; refusals raise typed errors. Redirects are not followed.
        `add_cookie` ("NAME=value") is sent beside the configured cookie (the PC route's XSRF-TOKEN);
        `logged_in_only`: a pooled login cookie or none, never the visitor cookie (s.weibo.com search);
        `member`: that member's own login cookie (its mention feed)."""
        self.budget.acquire(why=url)
        headers = {"Referer": referer or f"{self.urls.base_url}/", **(extra_headers or {})}
        if add_cookie:
            headers["Cookie"] = "; ".join(c for c in (self.__cookie, add_cookie) if c)
        if accept_html:
            headers["Accept"] = "text/html,application/xhtml+xml,*/*;q=0.8"
        if self.credentials is not None:
            self._http.cookies.clear()  # only the provider's cookie goes out, never one picked up on the way
            cookie = self.credentials.cookie_for(url, logged_in_only=logged_in_only, member=member)
            if cookie or add_cookie:
                headers["Cookie"] = "; ".join(c for c in (cookie, add_cookie) if c)
        try:
            resp = self._http.get(url, headers=headers)
        except httpx.TimeoutException:
            self.requests += 1
            raise TransportError(f"timed out after {self.timeout:g}s waiting for {url}", url=url) from None
        except httpx.HTTPError as exc:  # connect/read errors, resets, bodies cut short
            self.requests += 1
            raise TransportError(f"{exc.__class__.__name__} from {url}: {str(exc)[:200]}", url=url) from None
        self.requests += 1
        raw = RawResponse(url=url, status=resp.status_code, content_type=resp.headers.get("content-type", ""),
                          fetched_at=_date_header(resp), body=resp.content,
                          location=urljoin(url, resp.headers.get("location", "")) if resp.is_redirect else "",
                          framed="content-length" in resp.headers or "chunked" in resp.headers.get(
                              "transfer-encoding", "").lower())
        status = resp.status_code
        if status in BLOCK_STATUSES:
            raise BlockedError(f"Weibo refused {url} with HTTP {status}: too many requests or an anti-bot block",
                               url=url, status=status, raw=raw, retry_after=_retry_after(resp))
        if 300 <= status < 400:
            if _looks_like_login(unquote(raw.location)):
                self._login_wanted(f"redirect to a login page from {url}")
                raise LoginRequiredError(
                    f"{url} redirected to a login/captcha page: the cookie is missing or expired; "
                    f"set {COOKIE_ENV} or a cookie file from a logged-in browser", url=url, status=status, raw=raw)
            return raw
        if status == 404:
            raise EmptyError(f"{url}: not found (HTTP 404)", url=url, status=status, raw=raw)
        if status >= 500:
            raise TransportError(f"{url}: server error HTTP {status}", url=url, status=status, raw=raw)
        if status >= 400:
            raise MalformedError(f"{url}: unexpected HTTP {status}", url=url, status=status, raw=raw)
        return raw

    def fetch_json(self, url: str, *, referer: str | None = None, **extra: Any) -> tuple[RawResponse, dict]:
        """GET and decode a `{"ok": ...}` answer; maps ok:-100 / ok:0 / HTML / broken JSON to typed errors."""
        raw = self.fetch(url, referer=referer, **extra)
        if 300 <= raw.status < 400:
            raise MalformedError(f"{url}: unexpected redirect where JSON was due", url=url, status=raw.status, raw=raw)
        try:
            return raw, decode_json(raw)
        except LoginRequiredError:
            self._login_wanted(f"login wall (ok:-100 or login page) on {url}")
            raise

    def _login_wanted(self, reason: str) -> None:
        if self.credentials is not None:
            self.credentials.login_wanted(reason)

    # ------------------------------------------------------------------ single answers

    def long_text_raw(self, mid: str) -> tuple[RawResponse, str]:
        raw, payload = self.fetch_json(self.urls.long_text(mid), referer=self.urls.detail(mid))
        try:
            return raw, parse_long_text(payload)
        except MalformedError as exc:
            exc.url, exc.raw = raw.url, raw
            raise

    def long_text(self, mid: str) -> str:
        """The full clean text of a post whose `isLongText` is true."""
        from crawler.text import clean_html

        return clean_html(self.long_text_raw(mid)[1]).text

    def profile(self, uid: str) -> User:
        raw, payload = self.fetch_json(self.urls.profile(str(uid)), referer=self.urls.user_page(str(uid)))
        page = _parsed(lambda: parse_index(payload, raw.fetched_at), raw)
        if page.user is None:
            raise MalformedError(f"{raw.url}: profile answer without `data.userInfo`", url=raw.url, raw=raw)
        return page.user

    def resolve_screen_name(self, name: str) -> str:
        """uid for a screen name, from the /n/{name} redirect to /u/{uid}."""
        name = name.strip().lstrip("@")
        raw = self.fetch(self.urls.resolve_name(name), accept_html=True)
        body = raw.body.decode("utf-8", "replace")
        candidates = []
        if 300 <= raw.status < 400:
            candidates.append(_location_of(raw))
        candidates.append(body)
        for text in candidates:
            m = re.search(r"/u/(\d{5,})", text or "") or re.search(r'"(?:uid|id)"\s*:\s*"?(\d{5,})', text or "")
            if m:
                return m.group(1)
        if raw.status == 200 and _looks_like_login(body):
            raise LoginRequiredError(f"resolving @{name} hit a login page", url=raw.url, raw=raw)
        raise EmptyError(f"no Weibo user named @{name} (no /u/<uid> redirect from {raw.url})", url=raw.url, raw=raw)

    def login_state(self) -> LoginState:
        """Whether the cookie is logged in (api/config `data.login`), and as whom."""
        raw, payload = self.fetch_json(self.urls.config())
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        uid = data.get("uid")
        return LoginState(bool(data.get("login")), str(uid) if uid else None, raw)

    def show(self, id_or_bid: str) -> Post:
        raw, payload = self.fetch_json(self.urls.show(id_or_bid), referer=self.urls.detail(id_or_bid))
        data = payload.get("data")
        return _parsed(lambda: Post.from_payload(data, raw.fetched_at), raw)

    # ------------------------------------------------------------------ paging generators

    def timeline(self, uid: str, cursor: dict | None = None) -> Iterator[Page]:
        """A user's posts, newest first (since_id paging), only those newer than `cursor`.

        cursor: {since_id (resume point), last_id, last_created_at, seen}. Pinned posts are filtered
        like the rest but never end the walk; the walk ends at the first non-pinned post older than
        `last_created_at` (so a deleted last-seen post cannot make it run on forever).
        """
        uid = str(uid)
        walk = Walk(cursor, overlap_seconds=0)
        since_id = walk.resume.get("since_id")
        pages = 0
        while True:
            url = self.urls.timeline(uid, since_id)
            try:
                raw, payload = self.fetch_json(url, referer=self.urls.user_page(uid))
            except EmptyError as exc:
                if exc.raw is None:
                    raise
                yield Page([], exc.raw, walk.finished(), True, shown=[], exhausted=True)
                return
            index = _parsed(lambda: parse_index(payload, raw.fetched_at), raw)
            fresh, reached_old = walk.filter(index.posts, pinned=lambda p: p.is_pinned)
            extras = self._expand(fresh)
            pages += 1
            end = (reached_old or not index.posts or not index.since_id or pages >= TIMELINE_PAGE_CAP
                   or (walk.first_walk and pages >= self.initial_pages and not walk.resuming))
            if end:
                yield _index_page(fresh, raw, walk.finished(), True, extras, index)
                return
            since_id = index.since_id
            yield _index_page(fresh, raw, walk.continuing(since_id=since_id), False, extras, index)

    def search_mentions(self, screen_name: str, cursor: dict | None = None, *, overlap_seconds: float = 600) -> \
            Iterator[Page]:
        """Real-time search for `@screen_name` (newest first), down to what the cursor already has.

        Search indexes late, so the walk reaches `overlap_seconds` below the mark and dedupes by id.
        """
        yield from self.search(f"@{screen_name.lstrip('@')}", cursor, overlap_seconds=overlap_seconds)

    def search(self, query: str, cursor: dict | None = None, *, overlap_seconds: float = 600) -> Iterator[Page]:
        walk = Walk(cursor, overlap_seconds=overlap_seconds)
        page = int(walk.resume.get("page") or 1)
        pages = 0
        while True:
            url = self.urls.search(query, page)
            try:
                raw, payload = self.fetch_json(url, referer=f"{self.urls.base_url}/search")
            except EmptyError as exc:
                if exc.raw is None:
                    raise
                yield Page([], exc.raw, walk.finished(), True, shown=[], exhausted=True)
                return
            index = _parsed(lambda: parse_index(payload, raw.fetched_at), raw)
            fresh, reached_old = walk.filter(index.posts, pinned=lambda p: p.is_pinned)
            extras = self._expand(fresh)
            pages += 1
            if page >= SEARCH_PAGE_CAP and index.posts and not reached_old:
                log.warning("search %r filled %d pages: older results are out of reach this walk", query, page)
            end = (reached_old or not index.posts or page >= SEARCH_PAGE_CAP
                   or (walk.first_walk and pages >= self.initial_pages and not walk.resuming))
            if end:
                yield _index_page(fresh, raw, walk.finished(), True, extras, index)
                return
            page += 1
            yield _index_page(fresh, raw, walk.continuing(page=page), False, extras, index)

    def comments(self, mid: str, cursor: dict | None = None, *, overlap_seconds: float = 3600) -> Iterator[Page]:
        """Comments under a post with their inline replies (hotflow, max_id paging), flat, new only.

        hotflow is ordered by heat, not time, so a walk reads every page (up to the site's cap) and
        keeps what the cursor has not seen; replies to old comments are still picked up.
        """
        mid = str(mid)
        walk = Walk(cursor, overlap_seconds=overlap_seconds, ordered=False)
        max_id = walk.resume.get("max_id")
        max_id_type = walk.resume.get("max_id_type") or 0
        pages = 0
        while True:
            url = self.urls.comments(mid, max_id, max_id_type)
            try:
                raw, payload = self.fetch_json(url, referer=self.urls.detail(mid))
            except EmptyError as exc:  # ok:0 = no comments (yet) or past the end
                if exc.raw is None:
                    raise
                yield Page([], exc.raw, walk.finished(), True)
                return
            cpage = _parsed(lambda: parse_hotflow(payload, raw.fetched_at, mid), raw)
            flat = cpage.flat()
            fresh, _ = walk.filter(flat)
            pages += 1
            if not cpage.max_id or not cpage.comments or pages >= COMMENT_PAGE_CAP:
                yield Page(fresh, raw, walk.finished(), True, [], len(flat), warnings=list(cpage.warnings))
                return
            max_id, max_id_type = cpage.max_id, cpage.max_id_type
            yield Page(fresh, raw, walk.continuing(max_id=max_id, max_id_type=max_id_type), False, [], len(flat),
                       warnings=list(cpage.warnings))

    def reposts(self, mid: str, cursor: dict | None = None, *, overlap_seconds: float = 600) -> Iterator[Page]:
        """Reposts of a post, newest first (page paging; ends past `data.max`), new only."""
        mid = str(mid)
        walk = Walk(cursor, overlap_seconds=overlap_seconds)
        page = int(walk.resume.get("page") or 1)
        while True:
            url = self.urls.reposts(mid, page)
            try:
                raw, payload = self.fetch_json(url, referer=self.urls.detail(mid))
            except EmptyError as exc:
                if exc.raw is None:
                    raise
                yield Page([], exc.raw, walk.finished(), True)
                return
            rpage = _parsed(lambda: parse_reposts(payload, raw.fetched_at), raw)
            fresh, reached_old = walk.filter(rpage.posts)
            for p in fresh:  # repostTimeline rows may omit the original; they sit under `mid`
                if p.reposted_id is None:
                    p.reposted_id, p.item_type = mid, "repost"
            last = rpage.page_count is None or page >= rpage.page_count
            if reached_old or not rpage.posts or last or page >= SEARCH_PAGE_CAP:
                yield Page(fresh, raw, walk.finished(), True, [], len(rpage.posts), warnings=list(rpage.warnings))
                return
            page += 1
            yield Page(fresh, raw, walk.continuing(page=page), False, [], len(rpage.posts),
                       warnings=list(rpage.warnings))

    def search_html(self, query: str, cursor: dict | None = None, *, timescope: str | None = None,
                    overlap_seconds: float = 600) -> Iterator[Page]:
        """s.weibo.com PC search (needs a cookie), newest first; same cursor rules as `search`."""
        walk = Walk(cursor, overlap_seconds=overlap_seconds)
        page = int(walk.resume.get("page") or 1)
        while True:
            url = self.urls.search_html(query, page, timescope)
            raw = self.fetch(url, referer=f"{self.urls.search_base_url}/", accept_html=True, logged_in_only=True)
            if 300 <= raw.status < 400:
                raise MalformedError(f"{url}: unexpected redirect to {_location_of(raw)}", url=url, raw=raw)
            html = raw.body.decode("utf-8", "replace")
            if _looks_like_login(html[:4000]) and "card-wrap" not in html:
                self._login_wanted(f"s.weibo.com answered a login page on {url}")
                raise LoginRequiredError(f"{url}: s.weibo.com answered with a login page; a logged-in cookie "
                                         f"is needed", url=url, raw=raw)
            spage = _parsed(lambda: parse_search_html(html, raw.fetched_at), raw)
            fresh, reached_old = walk.filter(spage.posts)
            if reached_old or not spage.posts or not spage.has_next or page >= SEARCH_PAGE_CAP:
                yield Page(fresh, raw, walk.finished(), True, [], len(spage.posts), warnings=list(spage.warnings))
                return
            page += 1
            yield Page(fresh, raw, walk.continuing(page=page), False, [], len(spage.posts),
                       warnings=list(spage.warnings))

    # ------------------------------------------------------------------ helpers

    def _expand(self, posts: list[Post]) -> list[RawResponse]:
        """Fetch the full text of truncated long posts; keep the truncated text if that fails softly."""
        extras: list[RawResponse] = []
        if not self.expand_long_text:
            return extras
        for post in posts:
            if post.is_long_text and not post.text_expanded:
                try:
                    raw, html = self.long_text_raw(post.mid or post.id)
                except (EmptyError, MalformedError) as exc:
                    log.warning("long text of %s not expanded (%s); keeping the truncated text", post.id, exc)
                    continue
                post.with_long_text(html)
                extras.append(raw)
        return extras


def _location_of(raw: RawResponse) -> str:
    return raw.location


def _index_page(fresh: list, raw: RawResponse, cursor: dict | None, done: bool, extras: list[RawResponse],
                index: IndexPage) -> Page:
    """A timeline or search page, with every non-pinned post it listed (old ones too) for the scheduler."""
    return Page(fresh, raw, cursor, done, extras, len(index.posts),
                shown=[(p.id, p.created_at) for p in index.posts if not p.is_pinned],
                exhausted=index.since_id is None and index.page is None, warnings=list(index.warnings))


def _parsed(fn, raw: RawResponse):
    """Run a parser; its MalformedError gains the URL and keeps the raw response."""
    try:
        return fn()
    except MalformedError as exc:
        raise MalformedError(f"{raw.url}: {exc.message}", url=raw.url, status=raw.status, raw=raw) from None


def decode_json(raw: RawResponse) -> dict:
    """Body to dict, mapping Weibo's in-band refusals (`ok`) to typed errors."""
    body = raw.body
    head = body.lstrip()[:1]
    if head == b"<" or "html" in raw.content_type.lower():
        text = body[:20000].decode("utf-8", "replace")
        if _looks_like_login(text):
            raise LoginRequiredError(f"{raw.url}: got a login/captcha HTML page instead of JSON; renew the cookie",
                                     url=raw.url, status=raw.status, raw=raw)
        raise MalformedError(f"{raw.url}: got an HTML page ({len(body)} bytes) where JSON was due",
                             url=raw.url, status=raw.status, raw=raw)
    try:
        payload = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        if not raw.framed:  # the connection closed mid-body: a transport failure, not a bad page
            raise TransportError(f"{raw.url}: connection closed after {len(body)} bytes, mid-body",
                                 url=raw.url, status=raw.status, raw=raw) from None
        raise MalformedError(f"{raw.url}: broken or truncated JSON ({len(body)} bytes): {str(exc)[:120]}",
                             url=raw.url, status=raw.status, raw=raw) from None
    if not isinstance(payload, dict):
        raise MalformedError(f"{raw.url}: JSON is a {type(payload).__name__}, not an object", url=raw.url, raw=raw)
    ok = payload.get("ok")
    if ok in (-100, "-100"):
        where = payload.get("url") or ""
        raise LoginRequiredError(f"{raw.url}: Weibo wants a login or captcha (ok:-100 {str(where)[:80]}); "
                                 f"renew the cookie", url=raw.url, status=raw.status, raw=raw)
    if ok in (0, "0", False):
        msg = payload.get("msg") or payload.get("message") or "no content"
        raise EmptyError(f"{raw.url}: empty answer (ok:0 {msg})", url=raw.url, status=raw.status, raw=raw)
    if ok in (1, "1", True) or (ok is None and "data" in payload):
        return payload
    raise MalformedError(f"{raw.url}: unknown answer ok={ok!r}", url=raw.url, status=raw.status, raw=raw)
