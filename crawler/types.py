"""Typed records built from Weibo payloads (`from_payload`), and the page/response wrappers.

Every record keeps its source dict in `.raw`; every page keeps the whole response body in
`Page.raw`, so a parser bug can be fixed later by re-parsing what was stored.
`to_row()` gives the columns of matrix's `posts` table, so posts, reposts and comments are stored
uniformly (comments: item_type "comment", parent_id = the post they sit under).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crawler.clock import now_utc
from crawler.constants import DEFAULT_BASE_URL, DEFAULT_PC_BASE_URL
from crawler.counts import parse_count
from crawler.exceptions import MalformedError, TimeFormatError
from crawler.ids import mid_to_bid
from crawler.raw import RawResponse
from crawler.text import clean_html
from crawler.timeparse import parse_created_at


def _id(value: Any) -> str | None:
    """Ids as text, never through float (16-digit ids exceed a double's exact range)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, float):  # should not happen: json floats lose digits; keep what is left
        value = int(value)
    return str(value).strip() or None


def _time(payload: dict, fetched_at: datetime | None, what: str) -> datetime:
    value = payload.get("created_at")
    try:
        return parse_created_at(value, fetched_at)
    except TimeFormatError as exc:
        raise MalformedError(f"{what} {payload.get('id')!r}: {exc}") from None


def _user_fields(payload: dict) -> tuple[str | None, str]:
    user = payload.get("user") or {}
    if not isinstance(user, dict):
        return None, ""
    return _id(user.get("idstr") or user.get("id")), str(user.get("screen_name") or "")


@dataclass
class Page:
    """One fetched page of a source.

    `items`: the records new to the cursor, flat (a comment's replies appear as their own items).
    `cursor`: what to store once this page is committed (resume point, or the new high-water mark).
    `done`: this page ends the walk. `extras`: further responses the page needed (long text).
    `shown`, `exhausted` (timeline and search pages): what the page listed, old posts included, which
    tells the scheduler how often the source posts (see `crawler.poller.Evidence`).
    `warnings`: one line per item of the page that could not be read (item id, field, why), counted in crawler
    health per source.
    """

    items: list[Any]
    raw: RawResponse
    cursor: dict | None
    done: bool
    extras: list[RawResponse] = field(default_factory=list)
    seen: int = 0  # records on the page before filtering out already-known ones
    shown: list[tuple[str, datetime]] | None = None  # (id, created_at) of every non-pinned post listed
    exhausted: bool = False  # the page ends the source's history (no further page)
    warnings: list[str] = field(default_factory=list)  # items the parser could not read (the rest is in `items`)


@dataclass
class User:
    uid: str
    screen_name: str
    followers_count: int | None = None
    verified: bool = False
    verified_reason: str = ""
    description: str = ""
    statuses_count: int | None = None
    gender: str = ""
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_payload(cls, payload: dict, fetched_at: datetime | None = None) -> "User":
        if not isinstance(payload, dict) or _id(payload.get("idstr") or payload.get("id")) is None:
            raise MalformedError(f"user payload without an id: {str(payload)[:120]!r}")
        return cls(
            uid=_id(payload.get("idstr") or payload.get("id")),
            screen_name=str(payload.get("screen_name") or ""),
            followers_count=parse_count(payload.get("followers_count")),
            verified=bool(payload.get("verified")),
            verified_reason=str(payload.get("verified_reason") or ""),
            description=str(payload.get("description") or ""),
            statuses_count=parse_count(payload.get("statuses_count")),
            gender=str(payload.get("gender") or ""),
            raw=payload,
        )


@dataclass
class Post:
    id: str
    mid: str | None
    bid: str | None
    created_at: datetime
    user_id: str | None
    screen_name: str
    text: str
    mentions: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    is_long_text: bool = False
    reposted_id: str | None = None
    retweeted: "Post | None" = None
    item_type: str = "post"
    client: str = ""
    region: str = ""
    reposts_count: int | None = None
    comments_count: int | None = None
    attitudes_count: int | None = None
    is_pinned: bool = False
    source_url: str = ""
    fetched_at: datetime | None = None
    text_expanded: bool = False  # long text fetched and put in `text`
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_payload(cls, payload: dict, fetched_at: datetime | None = None) -> "Post":
        """Build from an m.weibo.cn `mblog` (also statuses/show `data`, weibo.com ajax statuses)."""
        if not isinstance(payload, dict):
            raise MalformedError(f"post payload is {type(payload).__name__}, not an object")
        pid = _id(payload.get("idstr") or payload.get("id") or payload.get("mid"))
        if pid is None:
            raise MalformedError(f"post payload without an id: {str(payload)[:120]!r}")
        mid = _id(payload.get("mid")) or pid
        bid = _id(payload.get("bid") or payload.get("mblogid"))
        if bid is None and mid.isdigit():
            bid = mid_to_bid(mid)
        user_id, screen_name = _user_fields(payload)
        # weibo.com ajax statuses carry `text_raw`, the site's own plain text: topics as `#…[超话]#` where `text` has
        # an icon link, and no `...展开` button (a <span>, not the m.weibo.cn `全文` link) at the end of long texts
        html = payload.get("longTextContent") or payload.get("text_raw") or payload.get("text") or ""
        clean = clean_html(html)
        retweeted = None
        rs = payload.get("retweeted_status")
        if isinstance(rs, dict) and (rs.get("id") or rs.get("mid")):
            try:
                retweeted = cls.from_payload(rs, fetched_at)
            except MalformedError:  # deleted originals come back as stubs; keep the id
                retweeted = None
        reposted_id = retweeted.id if retweeted else (_id(rs.get("id")) if isinstance(rs, dict) else None)
        title = payload.get("title") if isinstance(payload.get("title"), dict) else {}
        pinned = bool(payload.get("isTop")) or payload.get("mblogtype") == 2 or title.get("text") == "置顶"
        region = str(payload.get("region_name") or payload.get("status_city") or "")
        for prefix in ("发布于", "發佈於"):
            region = region.replace(prefix, "").strip()
        return cls(
            id=pid,
            mid=mid,
            bid=bid,
            created_at=_time(payload, fetched_at, "post"),
            user_id=user_id,
            screen_name=screen_name,
            text=clean.text,
            mentions=clean.mentions,
            topics=clean.topics,
            is_long_text=bool(payload.get("isLongText")) or bool(payload.get("longTextContent")),
            reposted_id=reposted_id,
            retweeted=retweeted,
            item_type="repost" if reposted_id else "post",
            client=clean_html(str(payload.get("source") or "")).text,
            region=region,
            reposts_count=parse_count(payload.get("reposts_count")),
            comments_count=parse_count(payload.get("comments_count")),
            attitudes_count=parse_count(payload.get("attitudes_count")),
            is_pinned=pinned,
            source_url=post_url(user_id, bid, pid),
            fetched_at=fetched_at,
            text_expanded=bool(payload.get("longTextContent")),
            raw=payload,
        )

    def with_long_text(self, html: str) -> "Post":
        """The same post with its full text (from statuses/extend) in place of the truncated one."""
        clean = clean_html(html)
        self.text = clean.text
        self.mentions = clean.mentions or self.mentions
        self.topics = clean.topics or self.topics
        self.text_expanded = True
        self.raw = {**self.raw, "longTextContent": html}
        return self

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item_type": self.item_type,
            "mid": self.mid,
            "bid": self.bid,
            "user_id": self.user_id,
            "screen_name": self.screen_name,
            "text": self.text,
            "created_at": self.created_at,
            "fetched_at": self.fetched_at or now_utc(),
            "parent_id": None,
            "reply_to_id": None,
            "reposted_id": self.reposted_id,
            "mentions": list(self.mentions),
            "topics": list(self.topics),
            "is_long_text": self.is_long_text,
            "client": self.client[:128],
            "region": self.region[:64],
            "reposts_count": self.reposts_count,
            "comments_count": self.comments_count,
            "attitudes_count": self.attitudes_count,
            "source_url": self.source_url,
            "is_pinned": bool(self.is_pinned),
        }


@dataclass
class Comment:
    id: str
    post_id: str | None
    created_at: datetime
    user_id: str | None
    screen_name: str
    text: str
    mentions: list[str] = field(default_factory=list)
    reply_to_id: str | None = None
    like_count: int | None = None
    replies: list["Comment"] = field(default_factory=list)
    source_url: str = ""
    region: str = ""
    fetched_at: datetime | None = None
    topics: list[str] = field(default_factory=list)
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_payload(cls, payload: dict, fetched_at: datetime | None = None, post_id: str | None = None,
                     parent_comment_id: str | None = None) -> "Comment":
        """Build from a hotflow comment (its `comments[]` replies become `.replies`)."""
        if not isinstance(payload, dict):
            raise MalformedError(f"comment payload is {type(payload).__name__}, not an object")
        cid = _id(payload.get("idstr") or payload.get("id"))
        if cid is None:
            raise MalformedError(f"comment payload without an id: {str(payload)[:120]!r}")
        status = payload.get("status") if isinstance(payload.get("status"), dict) else {}
        post_id = post_id or _id(status.get("mid") or status.get("id"))
        user_id, screen_name = _user_fields(payload)
        clean = clean_html(payload.get("text") or payload.get("text_raw") or "")
        reply_to = _id(payload.get("reply_id")) or (
            _id((payload.get("reply_comment") or {}).get("id")) if isinstance(payload.get("reply_comment"), dict)
            else None) or parent_comment_id
        region = str(payload.get("source") or "")
        region = region.replace("来自", "").strip() if region.startswith("来自") else ""
        comment = cls(
            id=cid,
            post_id=post_id,
            created_at=_time(payload, fetched_at, "comment"),
            user_id=user_id,
            screen_name=screen_name,
            text=clean.text,
            mentions=clean.mentions,
            reply_to_id=reply_to,
            like_count=parse_count(payload.get("like_count", payload.get("like_counts"))),
            source_url=f"{DEFAULT_BASE_URL}/detail/{post_id}#comment-{cid}" if post_id else "",
            region=region,
            fetched_at=fetched_at,
            topics=clean.topics,
            raw=payload,
        )
        replies = payload.get("comments")
        if isinstance(replies, list):
            for r in replies:
                if isinstance(r, dict):
                    comment.replies.append(cls.from_payload(r, fetched_at, post_id, parent_comment_id=cid))
        return comment

    def flatten(self) -> list["Comment"]:
        """This comment then every reply below it, each once."""
        out = [self]
        for r in self.replies:
            out.extend(r.flatten())
        return out

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item_type": "comment",
            "mid": _id(self.raw.get("mid")) or self.id,
            "bid": None,
            "user_id": self.user_id,
            "screen_name": self.screen_name,
            "text": self.text,
            "created_at": self.created_at,
            "fetched_at": self.fetched_at or now_utc(),
            "parent_id": self.post_id,
            "reply_to_id": self.reply_to_id,
            "reposted_id": None,
            "mentions": list(self.mentions),
            "topics": list(self.topics),
            "is_long_text": False,
            "client": "",
            "region": self.region[:64],
            "reposts_count": None,
            "comments_count": len(self.replies) if self.replies else None,
            "attitudes_count": self.like_count,
            "source_url": self.source_url,
        }


def post_url(user_id: str | None, bid: str | None, pid: str | None) -> str:
    """weibo.com/{uid}/{bid} when both are known, else the m.weibo.cn detail page."""
    if user_id and bid:
        return f"{DEFAULT_PC_BASE_URL}/{user_id}/{bid}"
    if pid:
        return f"{DEFAULT_BASE_URL}/detail/{pid}"
    return ""


Item = Post | Comment
