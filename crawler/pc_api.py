"""The second route: weibo.com's PC web API (`/ajax/statuses/...`), beside m.weibo.cn, for when one door closes.

`PcRoute(client)` walks the same sources as `WeiboClient` (timeline, comments with child comments, reposts, one
post, long text) with the same `Page` records and cursors, through the client's budget and cookie. The timeline
cursor (`since_id` = id of the last post read) means the same on both routes, so a walk may change route mid-way.
What the site wants: the `XSRF-TOKEN` cookie it sets echoed as an `X-XSRF-TOKEN` header (double submit) and a
weibo.com Referer; a first request without the token is refused with 403 and a fresh token, then asked again.
"""
from __future__ import annotations

from typing import Any, Iterator
from urllib.parse import urlencode

from crawler.client import WeiboClient, _index_page, _parsed
from crawler.constants import COMMENT_PAGE_CAP, SEARCH_PAGE_CAP, TIMELINE_PAGE_CAP
from crawler.cursors import Walk
from crawler.exceptions import BlockedError, EmptyError, MalformedError
from crawler.parsers import CommentPage, parse_build_comments
from crawler.pc_parsers import parse_mymblog, parse_pc_longtext, parse_pc_show
from crawler.types import Comment, Page, Post, RawResponse

ROUTE = "pc"
XSRF = "XSRF-TOKEN"


def parse_pc_reposts(payload: Any, fetched_at: Any) -> tuple[list[Post], int | None]:
    """weibo.com `ajax/statuses/repostTimeline`: top-level `data[]` and `max_page`."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise MalformedError("repostTimeline (PC): no `data` list")
    posts = [Post.from_payload(r, fetched_at) for r in payload["data"] if isinstance(r, dict)]
    pages = payload.get("max_page")
    return posts, int(pages) if isinstance(pages, int) or (isinstance(pages, str) and pages.isdigit()) else None


def parse_pc_mentions(payload: Any, fetched_at: Any) -> list[Post]:
    """weibo.com `ajax/statuses/mentions`: `data.statuses[]`, newest first."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("statuses"), list):
        raise MalformedError("mentions (PC): no `data.statuses` list")
    return [Post.from_payload(s, fetched_at) for s in data["statuses"] if isinstance(s, dict)]


class PcRoute:
    """weibo.com/ajax over a `WeiboClient` (its budget, cookie and refusal mapping)."""

    route = ROUTE

    def __init__(self, client: WeiboClient) -> None:
        self.client = client
        self.base = client.urls.pc_base_url

    def url(self, name: str, **params: Any) -> str:
        return f"{self.base}/ajax/statuses/{name}?{urlencode(params)}"

    def fetch_json(self, url: str, referer: str, member: str | None = None) -> tuple[RawResponse, dict]:
        """One ajax GET with the XSRF double submit; fetches the token once when the site hands a new one.
        `member`: sent with that member's own login cookie (crawler.credentials)."""
        for attempt in (1, 2):
            token = self.client.site_cookie(XSRF)
            extra: dict[str, Any] = {"extra_headers": {"X-XSRF-TOKEN": token, "Accept": "application/json, text/plain, */*"},
                                     "add_cookie": f"{XSRF}={token}"} if token else {}
            if member is not None:
                extra["member"] = member
            try:
                return self.client.fetch_json(url, referer=referer, **extra)
            except BlockedError as exc:
                fresh = self.client.site_cookie(XSRF)
                if attempt == 2 or exc.status != 403 or not fresh or fresh == token:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ single answers
    def show(self, id_or_bid: str) -> Post:
        raw, payload = self.fetch_json(self.url("show", id=id_or_bid), f"{self.base}/")
        return _parsed(lambda: parse_pc_show(payload, raw.fetched_at), raw)

    def long_text(self, mid: str) -> str:
        raw, payload = self.fetch_json(self.url("longtext", id=mid), f"{self.base}/")
        return _parsed(lambda: parse_pc_longtext(payload), raw)

    # ------------------------------------------------------------------ paging generators
    def timeline(self, uid: str, cursor: dict | None = None) -> Iterator[Page]:
        """A user's posts newest first (mymblog, since_id paging); same cursor and end rules as the mobile walk."""
        uid = str(uid)
        walk = Walk(cursor, overlap_seconds=0)
        since_id = walk.resume.get("since_id")
        pages = 0
        while True:
            params = {"uid": uid, "page": pages + 1, "feature": 0}
            if since_id:
                params["since_id"] = since_id
            try:
                raw, payload = self.fetch_json(self.url("mymblog", **params), f"{self.base}/u/{uid}")
            except EmptyError as exc:
                if exc.raw is None:
                    raise
                yield Page([], exc.raw, walk.finished(), True, shown=[], exhausted=True)
                return
            index = _parsed(lambda: parse_mymblog(payload, raw.fetched_at), raw)
            fresh, reached_old = walk.filter(index.posts, pinned=lambda p: p.is_pinned)
            extras = self._expand(fresh)
            pages += 1
            end = (reached_old or not index.posts or not index.since_id or pages >= TIMELINE_PAGE_CAP
                   or (walk.first_walk and pages >= self.client.initial_pages and not walk.resuming))
            if end:
                yield _index_page(fresh, raw, walk.finished(), True, extras, index)
                return
            since_id = index.since_id
            yield _index_page(fresh, raw, walk.continuing(since_id=since_id), False, extras, index)

    def mention_feed(self, uid: str, cursor: dict | None = None, *, overlap_seconds: float = 600) -> Iterator[Page]:
        """Member `uid`'s own @-mention feed (ajax/statuses/mentions, page paging) read with that member's own
        login cookie: every post that @-mentions it, search index or not. Same cursor rules as the search walk."""
        walk = Walk(cursor, overlap_seconds=overlap_seconds)
        page = int(walk.resume.get("page") or 1)
        while True:
            raw, payload = self.fetch_json(self.url("mentions", page=page, feature=0), f"{self.base}/at/weibo",
                                           member=str(uid))
            posts = _parsed(lambda: parse_pc_mentions(payload, raw.fetched_at), raw)
            fresh, reached_old = walk.filter(posts, pinned=lambda p: p.is_pinned)
            extras = self._expand(fresh)
            if reached_old or not posts or page >= SEARCH_PAGE_CAP:
                yield Page(fresh, raw, walk.finished(), True, extras, len(posts))
                return
            page += 1
            yield Page(fresh, raw, walk.continuing(page=page), False, extras, len(posts))

    def comments(self, mid: str, cursor: dict | None = None, *, overlap_seconds: float = 3600) -> Iterator[Page]:
        """Comments of a post (buildComments, max_id paging) with every reply: the inline ones, and the rest
        from the child-comment call (`fetch_level=1`) when a comment says it has more."""
        mid = str(mid)
        walk = Walk(cursor, overlap_seconds=overlap_seconds, ordered=False)
        max_id = walk.resume.get("max_id")
        pages = 0
        referer = f"{self.base}/detail/{mid}"
        while True:
            params = {"is_reload": 1, "id": mid, "is_show_bulletin": 2, "is_mix": 0, "count": 20}
            if max_id:
                params["max_id"] = max_id
            try:
                raw, payload = self.fetch_json(self.url("buildComments", **params), referer)
            except EmptyError as exc:
                if exc.raw is None:
                    raise
                yield Page([], exc.raw, walk.finished(), True)
                return
            cpage: CommentPage = _parsed(lambda: parse_build_comments(payload, raw.fetched_at, mid), raw)
            extras = self._children(cpage, payload, mid, referer)
            flat = cpage.flat()
            fresh, _ = walk.filter(flat)
            pages += 1
            if not cpage.max_id or not cpage.comments or pages >= COMMENT_PAGE_CAP:
                yield Page(fresh, raw, walk.finished(), True, extras, len(flat))
                return
            max_id = cpage.max_id
            yield Page(fresh, raw, walk.continuing(max_id=max_id, max_id_type=0), False, extras, len(flat))

    def _children(self, cpage: CommentPage, payload: dict, mid: str, referer: str) -> list[RawResponse]:
        """Fetch the replies a root comment holds beyond those shown inline; they join that comment."""
        extras: list[RawResponse] = []
        rows = {str(r.get("idstr") or r.get("id")): r for r in payload.get("data", []) if isinstance(r, dict)}
        for root in cpage.comments:
            row = rows.get(str(root.id), {})
            inline = row.get("comments") if isinstance(row.get("comments"), list) else []
            total = row.get("total_number") if isinstance(row.get("total_number"), int) else 0
            if total <= len(inline):
                continue
            child_max = 0
            known = {c.id for c in root.replies}
            for _ in range(COMMENT_PAGE_CAP):
                params = {"flow": 0, "is_reload": 1, "id": root.id, "is_show_bulletin": 2, "is_mix": 1,
                          "fetch_level": 1, "max_id": child_max, "count": 20}
                raw, child = self.fetch_json(self.url("buildComments", **params), referer)
                extras.append(raw)
                rows_c = child.get("data") if isinstance(child.get("data"), list) else None
                if rows_c is None:
                    raise MalformedError(f"{raw.url}: child comments without a `data` list", url=raw.url, raw=raw)
                got = [Comment.from_payload(r, raw.fetched_at, mid, parent_comment_id=root.id)
                       for r in rows_c if isinstance(r, dict)]
                for c in got:
                    if c.id not in known:
                        known.add(c.id)
                        root.replies.append(c)
                child_max = child.get("max_id") if isinstance(child.get("max_id"), int) else 0
                if not child_max or not got:
                    break
        return extras

    def reposts(self, mid: str, cursor: dict | None = None, *, overlap_seconds: float = 600) -> Iterator[Page]:
        """Reposts newest first (page paging; ends past `max_page`), new only."""
        mid = str(mid)
        walk = Walk(cursor, overlap_seconds=overlap_seconds)
        page = int(walk.resume.get("page") or 1)
        while True:
            try:
                raw, payload = self.fetch_json(self.url("repostTimeline", id=mid, page=page, moduleID="feed",
                                                        count=10), f"{self.base}/detail/{mid}")
            except EmptyError as exc:
                if exc.raw is None:
                    raise
                yield Page([], exc.raw, walk.finished(), True)
                return
            posts, page_count = _parsed(lambda: parse_pc_reposts(payload, raw.fetched_at), raw)
            fresh, reached_old = walk.filter(posts)
            for p in fresh:
                if p.reposted_id is None:
                    p.reposted_id, p.item_type = mid, "repost"
            last = page_count is None or page >= page_count
            if reached_old or not posts or last or page >= SEARCH_PAGE_CAP:
                yield Page(fresh, raw, walk.finished(), True, [], len(posts))
                return
            page += 1
            yield Page(fresh, raw, walk.continuing(page=page), False, [], len(posts))

    def _expand(self, posts: list[Post]) -> list[RawResponse]:
        """Long posts get their full text from ajax/statuses/longtext (kept truncated if that fails)."""
        if not self.client.expand_long_text:
            return []
        extras: list[RawResponse] = []
        for post in posts:
            if post.is_long_text and not post.text_expanded:
                try:
                    raw, payload = self.fetch_json(self.url("longtext", id=post.bid or post.id), f"{self.base}/")
                    text = parse_pc_longtext(payload)
                except (EmptyError, MalformedError):
                    continue
                post.with_long_text(text)
                extras.append(raw)
        return extras
