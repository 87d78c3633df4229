"""Saved responses (what a browser or an earlier run stored) to records, for `wzmon parse/import`.

Recognised: getIndex JSON (timeline, search, profile), comments/hotflow JSON, weibo.com
buildComments JSON, statuses/extend JSON, statuses/show JSON, repostTimeline JSON, s.weibo.com
search HTML (the card-wrap layout and the pre-2018 WB_cardwrap one), weibo.cn comment and profile HTML,
m.weibo.cn /detail HTML, weibo.com ajax mymblog, longtext and status lists (favorites), weibo.com v6 comment/repost lists and
profile feeds (`crawler.pc_parsers`). Refusal pages (login, busy, banned, access denied) are named as such. Relative dates ("5分钟前") are resolved against the file's
modification time unless a fetch time is given. Anything else raises `UnreadableFileError`
naming the file and why.
"""
from __future__ import annotations

import gzip
import json
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from crawler.exceptions import MalformedError, TimeFormatError, UnreadableFileError
from crawler.parsers import (
    parse_build_comments,
    parse_hotflow,
    parse_index,
    parse_long_text,
    parse_reposts,
    parse_search_html,
    parse_weibo_cn_comments,
    parse_weibo_cn_profile,
)
from crawler.pc_parsers import (
    parse_detail_page,
    parse_mymblog,
    parse_old_search_html,
    parse_pc_status_list,
    parse_v6_comments,
    parse_v6_feed,
    parse_v6_profile_page,
    parse_v6_reposts,
)
from crawler.text import clean_html
from crawler.types import Comment, Post, RawResponse, User

KINDS = ("getIndex", "hotflow", "buildComments", "extend", "show", "reposts", "search_html", "comment_html",
         "detail_html", "weibo_cn_profile", "search_html_2017", "pc_mymblog", "pc_status_list", "pc_v6_comments",
         "pc_v6_reposts", "pc_v6_feed", "pc_v6_profile",
         "dataabc_json", "dataabc_csv", "mediacrawler_contents_json", "mediacrawler_contents_csv",
         "mediacrawler_contents_jsonl", "mediacrawler_comments_json", "mediacrawler_comments_csv",
         "mediacrawler_comments_jsonl")
_MID_IN_NAME = re.compile(r"(?<!\d)(\d{16})(?!\d)")


@dataclass
class ParsedFile:
    """Records found in one file, the file as a RawResponse, and which shape it was."""

    items: list[Post | Comment]
    raw: RawResponse
    kind: str
    long_text: str | None = None  # statuses/extend: the full text (clean)
    user: User | None = None  # getIndex profile containers
    warnings: list[str] = field(default_factory=list)

    @property
    def posts(self) -> list[Post]:
        return [i for i in self.items if isinstance(i, Post)]


def _read(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableFileError(str(path), "no such file") from None
    except IsADirectoryError:
        raise UnreadableFileError(str(path), "is a directory, not a saved response") from None
    except OSError as exc:
        raise UnreadableFileError(str(path), f"cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            raise UnreadableFileError(str(path), "is gzip-compressed but the archive is damaged") from None
    if not data.strip():
        raise UnreadableFileError(str(path), "is empty")
    return data


def _decode(data: bytes, path: Path) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise UnreadableFileError(str(path), "is neither UTF-8 nor GB18030 text")


def _mid_hint(path: Path) -> str | None:
    m = _MID_IN_NAME.search(path.name)
    return m.group(1) if m else None


def parse_file(path: str | Path, *, fetched_at: datetime | None = None, parent_id: str | None = None) -> ParsedFile:
    """Detect the file's shape and parse it. `parent_id`: the post a comment file belongs to, when the
    file does not say (defaults to a 16-digit id in the file name)."""
    p = Path(path)
    data = _read(p)
    when = fetched_at or datetime.fromtimestamp(p.stat().st_mtime, tz=timezone.utc)
    text = _decode(data, p)
    head = text.lstrip()[:1]
    ctype = "application/json" if head in ("{", "[") else "text/html" if head == "<" else \
        (mimetypes.guess_type(p.name)[0] or "application/octet-stream")
    raw = RawResponse(url=p.resolve().as_uri(), status=200, content_type=ctype, fetched_at=when, body=data)
    parent = parent_id or _mid_hint(p)
    peer = _peer_file(p, text, head, raw)
    if peer is not None:
        return peer
    try:
        if head in ("{", "["):
            return _parse_json(text, raw, p, parent)
        if head == "<":
            return _parse_html(text, raw, p, parent)
    except (MalformedError, TimeFormatError) as exc:
        raise UnreadableFileError(str(p), f"looks like a Weibo response but does not parse: {exc}") from None
    raise UnreadableFileError(str(p), "is neither JSON nor HTML; expected a saved m.weibo.cn / s.weibo.com / "
                                      "weibo.cn response")


def _peer_file(p: Path, text: str, head: str, raw: RawResponse) -> ParsedFile | None:
    """Another crawler's output file (dataabc/weibo-crawler, MediaCrawler), or None; see crawler.peers."""
    from crawler.peers import peer_records

    payload = None
    if head == "{" and '"weibo"' in text[:4096] + text[-4096:]:
        try:
            payload = json.loads(text)
        except ValueError:
            return None
    elif not (head == "[" or p.suffix.lower() in (".csv", ".jsonl")):
        return None
    found = peer_records(p, text, payload)
    if found is None:
        return None
    kind, items, warnings = found
    if not items and warnings:
        raise UnreadableFileError(str(p), f"is a {kind} file but no row could be read ({warnings[0]})")
    return ParsedFile(items, raw, kind, warnings=warnings)


def _parse_json(text: str, raw: RawResponse, p: Path, parent: str | None) -> ParsedFile:
    try:
        payload: Any = json.loads(text)
    except ValueError as exc:
        raise UnreadableFileError(str(p), f"JSON is broken or cut short ({exc})") from None
    if not isinstance(payload, dict):
        raise UnreadableFileError(str(p), "JSON is a list, not a Weibo answer object ({\"ok\":..., \"data\":...})")
    ok = payload.get("ok")
    if ok in (-100, "-100"):
        raise UnreadableFileError(str(p), "is a login/captcha answer (ok:-100), not data: save it while logged in")
    data0 = payload.get("data")
    if ok in (0, "0") and (not data0 or (isinstance(data0, dict) and not data0.get("cards") and "userInfo" not in data0
                                         and not data0.get("data"))):
        raise UnreadableFileError(str(p), f"is an empty answer (ok:0 {payload.get('msg') or ''}), no records in it")
    when = raw.fetched_at
    data = payload.get("data")
    if str(payload.get("code")) == "100000" and data is not None:  # weibo.com v6 ajax: the list is HTML
        html = data if isinstance(data, str) else data.get("html") if isinstance(data, dict) else None
        if isinstance(html, str) and "comment_id=" in html:
            cpage = parse_v6_comments(payload, when, parent)
            flat_c: list[Post | Comment] = []
            for c in cpage.comments:
                flat_c.extend(c.flatten())
            return ParsedFile(flat_c, raw, "pc_v6_comments", warnings=_named(p, cpage.warnings))
        if isinstance(html, str) and "WB_cardwrap" in html:
            fpage = parse_v6_feed(html, when)
            return ParsedFile(list(fpage.posts), raw, "pc_v6_feed", warnings=_named(p, fpage.warnings))
        if isinstance(html, str) and "list_li" in html and "feed_list_item" in html:
            rpage = parse_v6_reposts(payload, when, parent)
            return ParsedFile(list(rpage.posts), raw, "pc_v6_reposts", warnings=_named(p, rpage.warnings))
    if isinstance(data, dict):
        if isinstance(data.get("list"), list) and "cards" not in data:
            mpage = parse_mymblog(payload, when)
            return ParsedFile(list(mpage.posts), raw, "pc_mymblog", warnings=_named(p, mpage.warnings))
        if "cards" in data or "userInfo" in data:
            page = parse_index(payload, when)
            return ParsedFile(list(page.posts), raw, "getIndex", user=page.user, warnings=_named(p, page.warnings))
        if "longTextContent" in data:
            html = parse_long_text(payload)
            return ParsedFile([], raw, "extend", long_text=clean_html(html).text)
        if isinstance(data.get("data"), list):
            rows = data["data"]
            if rows and isinstance(rows[0], dict) and ("mblogtype" in rows[0] or "retweeted_status" in rows[0]
                                                         or "reposts_count" in rows[0]):
                rpage = parse_reposts(payload, when)
                return ParsedFile(list(rpage.posts), raw, "reposts", warnings=_named(p, rpage.warnings))
            if "max" in data and "max_id" not in data:
                rpage = parse_reposts(payload, when)
                return ParsedFile(list(rpage.posts), raw, "reposts", warnings=_named(p, rpage.warnings))
            page = parse_hotflow(payload, when, parent)
            return ParsedFile(list(page.flat()), raw, "hotflow", warnings=_named(p, page.warnings))
        if ("id" in data or "mid" in data) and "created_at" in data:
            return ParsedFile([Post.from_payload(data, when)], raw, "show")
    if isinstance(data, list) and "max_id" in payload:
        page = parse_build_comments(payload, when, parent)
        flat: list[Post | Comment] = []
        for c in page.comments:
            flat.extend(c.flatten())
        return ParsedFile(flat, raw, "buildComments", warnings=_named(p, page.warnings))
    if isinstance(data, list) and data and isinstance(data[0], dict) and "mblogid" in data[0]:
        lpage = parse_pc_status_list(payload, when)  # weibo.com ajax/favorites/all_fav and the like
        return ParsedFile(list(lpage.posts), raw, "pc_status_list", warnings=_named(p, lpage.warnings))
    if ("id" in payload or "mid" in payload) and "created_at" in payload and "text" in payload:
        return ParsedFile([Post.from_payload(payload, when)], raw, "show")  # weibo.com ajax/statuses/show
    keys = ", ".join(sorted(payload)[:8])
    raise UnreadableFileError(str(p), f"is JSON but not a Weibo answer we know (top-level keys: {keys})")


_REFUSALS = (  # (marker in the page, what to tell the user)
    ("网络繁忙", "is Weibo's 'busy' page (抱歉，网络繁忙), not data: wait and save the page again"),
    ("帐号存在异常", "is Weibo's 'account blocked' page (帐号存在异常, 20003), not data: the account used was banned"),
    ("访问受限", "is Weibo's 'access restricted' page (访问受限: a captcha is wanted), not data"),
    ("新浪通行证", "is a Sina login page (新浪通行证), not data: save the page while logged in"),
    ("ajaxlogin.php", "is a Sina login redirect (ajaxlogin.php), not data: save the page while logged in"),
)


def _parse_html(text: str, raw: RawResponse, p: Path, parent: str | None) -> ParsedFile:
    low = text[:200000]
    when = raw.fetched_at
    if "$render_data" in low:
        dpage = parse_detail_page(text, when)
        return ParsedFile(list(dpage.posts), raw, "detail_html", warnings=_named(p, dpage.warnings))
    if "card-wrap" in low or "card-no-result" in low:
        page = parse_search_html(text, when)
        return ParsedFile(list(page.posts), raw, "search_html", warnings=_named(p, page.warnings))
    if "feed_list_item" in text and ("pl_weibo_direct" in text or "s.weibo.com" in low or "pl_noresult" in text):
        opage = parse_old_search_html(text, when)
        return ParsedFile(list(opage.posts), raw, "search_html_2017", warnings=_named(p, opage.warnings))
    if re.search(r'id=["\']C_\d+', low):
        cpage = parse_weibo_cn_comments(text, when, parent)
        return ParsedFile(list(cpage.comments), raw, "comment_html", warnings=_named(p, cpage.warnings))
    if re.search(r'id=["\']M_[0-9A-Za-z]+', low):
        if "/comment/" in low[:3000] or "评论列表" in low[:3000]:
            cpage = parse_weibo_cn_comments(text, when, parent)
            return ParsedFile(list(cpage.comments), raw, "comment_html", warnings=_named(p, cpage.warnings))
        wpage = parse_weibo_cn_profile(text, when)
        return ParsedFile(list(wpage.posts), raw, "weibo_cn_profile", warnings=_named(p, wpage.warnings))
    for marker, why in _REFUSALS:
        if marker in text:
            raise UnreadableFileError(str(p), why)
    if "FM.view(" in text and "$CONFIG" in text:
        vpage = parse_v6_profile_page(text, when)
        return ParsedFile(list(vpage.posts), raw, "pc_v6_profile", warnings=_named(p, vpage.warnings))
    if "passport.weibo" in low or "登录" in low[:5000]:
        raise UnreadableFileError(str(p), "is a Weibo login page, not data: save the page while logged in")
    raise UnreadableFileError(str(p), "is HTML but neither an s.weibo.com search result (div.card-wrap) nor a "
                                      "weibo.cn comment page (div.c#C_…)")


def _named(path: Path, warnings: list[str]) -> list[str]:
    """Item warnings with the file they come from."""
    return [f"{path}: {w}" for w in warnings]


def item_json(item: Post | Comment) -> dict:
    """The `wzmon parse` line for one record."""
    from crawler.timeparse import iso

    if isinstance(item, Post):
        return {"id": item.id, "mid": item.mid, "bid": item.bid, "created_at": iso(item.created_at),
                "user_id": item.user_id, "screen_name": item.screen_name, "text": item.text,
                "mentions": item.mentions, "is_long_text": item.is_long_text, "reposted_id": item.reposted_id,
                "source_url": item.source_url, "item_type": item.item_type}
    return {"id": item.id, "mid": item.raw.get("mid") and str(item.raw.get("mid")) or item.id, "bid": None,
            "created_at": iso(item.created_at), "user_id": item.user_id, "screen_name": item.screen_name,
            "text": item.text, "mentions": item.mentions, "is_long_text": False, "reposted_id": None,
            "source_url": item.source_url, "item_type": "comment", "parent_id": item.post_id,
            "reply_to_id": item.reply_to_id}
