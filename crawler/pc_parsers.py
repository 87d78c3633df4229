"""The PC site's shapes, old and new, to the same page records as the m.weibo.cn parsers (`crawler.parsers`).

- weibo.com ajax (2020 on): `ajax/statuses/mymblog` (`data.list[]`), `ajax/statuses/longtext`
  (`data.longTextContent`), `ajax/statuses/show` (the status at top level) and `buildComments` (in
  `crawler.parsers`).
- weibo.com v6 (until about 2020): answers of `aj/v6/comment/big` and `aj/v6/mblog/info/big` (JSON whose `data.html`
  is the list), the profile feed (`div.WB_cardwrap[mid]`, loaded by ajax as `data` or in a page's `FM.view(...)`
  pagelets).
- s.weibo.com before 2018: `div.WB_cardwrap > div[mid][action-type=feed_list_item]`, inline or inside a
  `STK.pageletM.view({"pid":"pl_weibo_direct","html":...})` script.
- m.weibo.cn `/detail/{id}` HTML pages (`var $render_data = [{"status": ...}][0]`).

Where a v6 page gives a time as `date="<epoch ms>"` that exact value is used, else the shown text (`5月12日 10:14`,
`今天 14:52`, `10分钟前`) against the fetch time. One unreadable item becomes a warning naming the source, the item
and the field; the rest are kept.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from bs4 import BeautifulSoup, Tag

from crawler.constants import SHANGHAI
from crawler.counts import parse_count, parse_count_or_zero
from crawler.exceptions import MalformedError, TimeFormatError
from crawler.ids import bid_to_mid, looks_like_mid, mid_to_bid
from crawler.parsers import (
    CommentPage,
    IndexPage,
    RepostPage,
    SearchHtmlPage,
    _each,
    _html_text,
    _uid_from_href,
)
from crawler.timeparse import parse_created_at
from crawler.types import Comment, Post, post_url

_RENDER_DATA = re.compile(r"var\s+\$render_data\s*=\s*(\[.*?\])\s*\[0\]\s*\|\|\s*\{\}\s*;", re.S)
_FM_VIEW = re.compile(r"FM\.view\((\{.*?\})\)\s*;?\s*</script>", re.S)
_PAGELET = re.compile(r"STK\.pageletM\.view\((\{.*?\})\)\s*;?\s*</script>", re.S)
_UID_BID = re.compile(r"(?:weibo\.com)?/(\d{5,})/([0-9A-Za-z]{8,10})(?:[?#]|$)")
_USERCARD_ID = re.compile(r"(?:^|&)id=(\d{5,})")


class FieldError(MalformedError):
    """An item's field that cannot be read: the message names the field."""


def _field(name: str, why: str) -> FieldError:
    return FieldError(f"field `{name}`: {why}")


# ---------------------------------------------------------------- weibo.com ajax (2020 on)


def parse_mymblog(payload: Any, fetched_at: datetime | None) -> IndexPage:
    """weibo.com `ajax/statuses/mymblog?uid=…&page=N`: `{"ok":1,"data":{"list":[status…],"since_id":…}}`."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise MalformedError("mymblog: no `data` object")
    rows = payload["data"].get("list")
    if not isinstance(rows, list):
        raise MalformedError("mymblog: `data.list` is not a list")
    warnings: list[str] = []
    posts = _each([r for r in rows if isinstance(r, dict)], lambda r: Post.from_payload(r, fetched_at),
                  "weibo.com mymblog", warnings)
    since = payload["data"].get("since_id")
    return IndexPage(posts, str(since) if since not in (None, "", 0, "0") else None, None, None, warnings)


def parse_pc_status_list(payload: Any, fetched_at: datetime | None) -> IndexPage:
    """weibo.com ajax answers whose `data` is the list of statuses itself, e.g. `ajax/favorites/all_fav`:
    `{"ok":1,"data":[status…]}` (what backup tools keep of an account's saved posts)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise MalformedError("weibo.com status list: `data` is not a list")
    warnings: list[str] = []
    posts = _each([r for r in payload["data"] if isinstance(r, dict)], lambda r: Post.from_payload(r, fetched_at),
                  "weibo.com status list", warnings)
    return IndexPage(posts, None, None, None, warnings)


def parse_pc_show(payload: Any, fetched_at: datetime | None) -> Post:
    """weibo.com `ajax/statuses/show?id={mblogid}`: the status itself at top level."""
    if not isinstance(payload, dict):
        raise MalformedError("statuses/show: not a JSON object")
    return Post.from_payload(payload, fetched_at)


def parse_pc_longtext(payload: Any) -> str:
    """weibo.com `ajax/statuses/longtext?id=…`: `data.longTextContent` (plain text with `\\n`)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise MalformedError("longtext: no `data` object")
    text = payload["data"].get("longTextContent")
    if not isinstance(text, str):
        raise MalformedError("longtext: no `data.longTextContent`")
    return text


# ---------------------------------------------------------------- m.weibo.cn /detail HTML


def render_data_status(html: str) -> dict:
    """The `status` object of an m.weibo.cn `/detail/{id}` page's `$render_data`."""
    m = _RENDER_DATA.search(html)
    if m is None:
        raise MalformedError("m.weibo.cn detail page without `var $render_data = [...]`")
    try:
        data = json.loads(m.group(1))
    except ValueError as exc:
        raise MalformedError(f"m.weibo.cn detail page: `$render_data` is not JSON ({exc})") from None
    status = data[0].get("status") if data and isinstance(data[0], dict) else None
    if not isinstance(status, dict):
        raise MalformedError("m.weibo.cn detail page: `$render_data[0]` has no `status`")
    return status


def parse_detail_page(html: str, fetched_at: datetime | None) -> IndexPage:
    """m.weibo.cn `/detail/{id}` (or `/status/{bid}`) HTML: the one post of `$render_data`."""
    warnings: list[str] = []
    posts = _each([render_data_status(html)], lambda s: Post.from_payload(s, fetched_at), "m.weibo.cn detail",
                  warnings)
    return IndexPage(posts, None, None, None, warnings)


# ---------------------------------------------------------------- shared v6 markup


def _when(a: Tag | None, fallback_text: str, fetched_at: datetime | None, name: str) -> datetime:
    """A v6 time link: `date` (epoch ms) when present, else its `title` (`2017-05-16 08:37`), else the text."""
    if a is not None:
        ms = (a.get("date") or "").strip()
        if ms.isdigit():
            return datetime.fromtimestamp(int(ms) / 1000, tz=SHANGHAI)
        title = (a.get("title") or "").strip()
        if re.match(r"^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}$", title):
            return parse_created_at(title, fetched_at)
    text = fallback_text.strip()
    if not text:
        raise _field(name, "no time shown")
    try:
        return parse_created_at(text, fetched_at)
    except TimeFormatError as exc:
        raise _field(name, str(exc)) from None


def _usercard_uid(tag: Tag | None) -> str | None:
    if tag is None:
        return None
    m = _USERCARD_ID.search(tag.get("usercard") or "")
    if m:
        return m.group(1)
    href = tag.get("href", "") or ""
    bare = re.match(r"^/(\d{5,})$", href)
    return _uid_from_href(href) or (bare.group(1) if bare else None)


def _own(block: Tag, selector: str, outside: str) -> Tag | None:
    """First `selector` inside `block` that is not inside an `outside` element (the reposted original)."""
    for t in block.select(selector):
        if t.find_parent(class_=outside) is None:
            return t
    return None


def _counts_v6(block: Tag) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for a in block.select("a[action-type]"):
        if a.find_parent(class_="WB_feed_expand") is not None:
            continue
        kind = a.get("action-type", "")
        key = {"fl_forward": "reposts_count", "feed_list_forward": "reposts_count", "fl_comment": "comments_count",
               "feed_list_comment": "comments_count", "fl_like": "attitudes_count",
               "feed_list_like": "attitudes_count"}.get(kind)
        if key and key not in out:
            out[key] = parse_count_or_zero(a.get_text(" ", strip=True))
    return out


# ---------------------------------------------------------------- weibo.com v6 profile feed


def _v6_feed_card(card: Tag, fetched_at: datetime | None) -> Post:
    mid = str(card.get("mid") or "").strip()
    if not looks_like_mid(mid):
        raise _field("mid", f"not a numeric id ({mid!r})")
    time_a = _own(card, ".WB_from a[node-type=feed_list_item_date], .WB_from a[date]", "WB_feed_expand")
    created = _when(time_a, time_a.get_text(" ", strip=True) if time_a else "", fetched_at, "WB_from date")
    uid = bid = None
    if time_a is not None:
        m = _UID_BID.search(time_a.get("href", "") or "")
        if m:
            uid, bid = m.group(1), m.group(2)
    name_a = _own(card, ".WB_info a[usercard], .WB_info a[nick-name]", "WB_feed_expand")
    ouid = re.search(r"ouid=(\d+)", card.get("tbinfo", "") or "")
    uid = uid or _usercard_uid(name_a) or (ouid.group(1) if ouid else None)
    text_div = _own(card, "div[node-type=feed_list_content_full]", "WB_feed_expand") or \
        _own(card, "div[node-type=feed_list_content]", "WB_feed_expand")
    if text_div is None:
        raise _field("feed_list_content", "no text block")
    body = _html_text(text_div)
    screen = (text_div.get("nick-name") or (name_a.get_text(strip=True) if name_a else "")).strip()
    client_a = _own(card, ".WB_from a[action-type=app_source]", "WB_feed_expand")
    retweeted = None
    expand = card.select_one(".WB_feed_expand")
    if expand is not None:
        retweeted = _v6_original(expand, card.get("omid"), fetched_at)
    counts = _counts_v6(card)
    bid = bid or mid_to_bid(mid)
    return Post(id=mid, mid=mid, bid=bid, created_at=created, user_id=uid, screen_name=screen, text=body.text,
                mentions=body.mentions, topics=body.topics, is_long_text=body.truncated,
                reposted_id=retweeted.id if retweeted else (str(card.get("omid")) if card.get("omid") else None),
                retweeted=retweeted, item_type="repost" if (retweeted or card.get("omid")) else "post",
                client=client_a.get_text(strip=True) if client_a else "",
                reposts_count=counts.get("reposts_count"), comments_count=counts.get("comments_count"),
                attitudes_count=counts.get("attitudes_count"), source_url=post_url(uid, bid, mid),
                fetched_at=fetched_at, raw={"id": mid, "mid": mid, "bid": bid, "html": str(card)[:20000]})


def _v6_original(expand: Tag, omid: str | None, fetched_at: datetime | None) -> Post | None:
    time_a = expand.select_one(".WB_from a[date], .WB_from a[node-type=feed_list_item_date]")
    if time_a is None:
        return None
    m = _UID_BID.search(time_a.get("href", "") or "")
    if not m:
        return None
    uid, bid = m.group(1), m.group(2)
    mid = str(omid) if omid and looks_like_mid(str(omid)) else bid_to_mid(bid)
    name_a = expand.select_one(".WB_info a[nick-name], .WB_info a[usercard]")
    body = _html_text(expand.select_one("div[node-type=feed_list_reason], div.WB_text"))
    return Post(id=mid, mid=mid, bid=bid, created_at=_when(time_a, time_a.get_text(strip=True), fetched_at, "date"),
                user_id=uid, screen_name=(name_a.get("nick-name") or name_a.get_text(strip=True)).lstrip("@")
                if name_a else "", text=body.text, mentions=body.mentions, topics=body.topics,
                source_url=post_url(uid, bid, mid), fetched_at=fetched_at, raw={"id": mid, "bid": bid})


def parse_v6_feed(html: str, fetched_at: datetime | None, what: str = "weibo.com feed") -> IndexPage:
    """weibo.com (v6) feed markup: every `div.WB_cardwrap[mid]` (`WB_feed_type`) is a post."""
    soup = BeautifulSoup(html, "lxml")
    cards = [c for c in soup.select("div.WB_cardwrap[mid]") if "WB_feed_type" in (c.get("class") or [])
             or c.get("action-type") == "feed_list_item"]
    warnings: list[str] = []
    posts = _each(cards, lambda c: _v6_feed_card(c, fetched_at), what, warnings)
    return IndexPage(posts, None, None, None, warnings)


def fm_view_html(page: str, pattern: re.Pattern = _FM_VIEW) -> list[tuple[str, str]]:
    """(domid or pid, html) of every `FM.view({...})` (or `STK.pageletM.view`) pagelet in a v6 page."""
    out = []
    for m in pattern.finditer(page):
        try:
            view = json.loads(m.group(1))
        except ValueError:
            continue  # a pagelet whose JSON does not decode (seen in real pages); the others still count
        if isinstance(view, dict) and isinstance(view.get("html"), str):
            out.append((str(view.get("domid") or view.get("pid") or view.get("ns") or ""), view["html"]))
    return out


def parse_v6_profile_page(page: str, fetched_at: datetime | None) -> IndexPage:
    """A weibo.com (v6) profile page: the posts sit in the `Pl_Official_MyProfileFeed__N` pagelet."""
    feeds = [h for dom, h in fm_view_html(page) if "ProfileFeed" in dom and "WB_cardwrap" in h]
    if not feeds:
        raise MalformedError("weibo.com profile page without a feed pagelet (Pl_Official_MyProfileFeed): no posts")
    return parse_v6_feed("".join(feeds), fetched_at, "weibo.com profile feed")


# ---------------------------------------------------------------- weibo.com v6 comments and reposts (aj/v6/…/big)


def _v6_html(payload: Any, what: str) -> tuple[str, dict]:
    if not isinstance(payload, dict) or str(payload.get("code")) != "100000":
        code = payload.get("code") if isinstance(payload, dict) else None
        raise MalformedError(f"{what}: answer code {code!r}, not 100000")
    data = payload.get("data")
    if isinstance(data, str):
        return data, {}
    if not isinstance(data, dict) or not isinstance(data.get("html"), str):
        raise MalformedError(f"{what}: no `data.html`")
    return data["html"], data


def _v6_comment(li: Tag, fetched_at: datetime | None, post_id: str | None, parent: str | None) -> Comment:
    cid = str(li.get("comment_id") or "").strip()
    if not cid.isdigit():
        raise _field("comment_id", f"not numeric ({cid!r})")
    con = li.find(class_="list_con")
    text_div = con.find(class_="WB_text") if con is not None else None
    if text_div is None:
        raise _field("WB_text", "no comment text")
    name_a = text_div.find("a", recursive=False)
    uid = _usercard_uid(name_a)
    screen = name_a.get_text(strip=True) if name_a else ""
    if name_a is not None:
        name_a.extract()
    body = _html_text(text_div)
    text = body.text.lstrip(":：").strip()
    from_div = con.find(class_="WB_from", recursive=True)
    own_from = None
    for d in con.select(".WB_from"):
        if d.find_parent(attrs={"comment_id": True}) is li:
            own_from = d
            break
    from_div = own_from or from_div
    created = _when(None, from_div.get_text(" ", strip=True) if from_div else "", fetched_at, "WB_from")
    likes = None
    for a in con.select("a[action-type=fl_like]"):
        if a.find_parent(attrs={"comment_id": True}) is li:
            likes = parse_count_or_zero(a.get_text(" ", strip=True))
            break
    mentions = [m for m in body.mentions]
    comment = Comment(id=cid, post_id=post_id, created_at=created, user_id=uid, screen_name=screen, text=text,
                      mentions=mentions, reply_to_id=parent, like_count=likes,
                      source_url=f"https://m.weibo.cn/detail/{post_id}#comment-{cid}" if post_id else "",
                      fetched_at=fetched_at, topics=body.topics, raw={"id": cid, "html": str(li)[:8000]})
    box = li.select_one("div[node-type=child_comment]")
    if box is not None:
        for child in box.select("div[comment_id]"):
            if child.find_parent(attrs={"comment_id": True}) is li:
                comment.replies.append(_v6_comment(child, fetched_at, post_id, cid))
    return comment


def parse_v6_comments(payload: Any, fetched_at: datetime | None, post_id: str | None) -> CommentPage:
    """weibo.com `aj/v6/comment/big` (and the root_comment form): comments `div[comment_id]`, replies inside a
    `child_comment` box; `data.page.totalpage/pagenum` for paging."""
    html, data = _v6_html(payload, "weibo.com comment list")
    soup = BeautifulSoup(html, "lxml")
    tops = [d for d in soup.select("div[comment_id]") if d.find_parent(attrs={"comment_id": True}) is None]
    if not tops and "comment_list" not in html and "root_comment" not in html:
        raise MalformedError("weibo.com comment list: no `div[comment_id]`")
    warnings: list[str] = []
    comments = _each(tops, lambda d: _v6_comment(d, fetched_at, post_id, None), "weibo.com comment", warnings)
    page = data.get("page") if isinstance(data.get("page"), dict) else {}
    total, num = parse_count(page.get("totalpage")), parse_count(page.get("pagenum"))
    nxt = num + 1 if total and num and num < total else 0
    return CommentPage(comments, int(nxt), 0, warnings)


def _v6_repost(li: Tag, fetched_at: datetime | None, original: str | None) -> Post:
    mid = str(li.get("mid") or "").strip()
    if not looks_like_mid(mid):
        raise _field("mid", f"not numeric ({mid!r})")
    text_div = li.select_one(".WB_text")
    if text_div is None:
        raise _field("WB_text", "no repost text")
    name_a = text_div.select_one("a[node-type=name]") or text_div.find("a")
    span = text_div.select_one("span[node-type=text]")
    body = _html_text(span if span is not None else text_div)
    time_a = li.select_one(".WB_from a[date], .WB_from a[node-type=feed_list_item_date]") or \
        (li.select_one(".WB_from").find("a") if li.select_one(".WB_from") else None)
    created = _when(time_a, time_a.get_text(strip=True) if time_a else "", fetched_at, "WB_from date")
    m = _UID_BID.search(time_a.get("href", "") if time_a else "")
    uid = m.group(1) if m else _usercard_uid(name_a)
    bid = m.group(2) if m else mid_to_bid(mid)
    counts = _counts_v6(li)
    return Post(id=mid, mid=mid, bid=bid, created_at=created, user_id=uid,
                screen_name=name_a.get_text(strip=True) if name_a else "", text=body.text, mentions=body.mentions,
                topics=body.topics, reposted_id=original, item_type="repost",
                reposts_count=counts.get("reposts_count"), attitudes_count=counts.get("attitudes_count"),
                source_url=post_url(uid, bid, mid), fetched_at=fetched_at,
                raw={"id": mid, "mid": mid, "bid": bid, "html": str(li)[:8000]})


def parse_v6_reposts(payload: Any, fetched_at: datetime | None, original: str | None = None) -> RepostPage:
    """weibo.com `aj/v6/mblog/info/big`: reposts `div.list_li[mid][action-type=feed_list_item]`."""
    html, data = _v6_html(payload, "weibo.com repost list")
    soup = BeautifulSoup(html, "lxml")
    rows = soup.select("div.list_li[mid]")
    warnings: list[str] = []
    posts = _each(rows, lambda li: _v6_repost(li, fetched_at, original), "weibo.com repost", warnings)
    page = data.get("page") if isinstance(data.get("page"), dict) else {}
    return RepostPage(posts, parse_count(page.get("totalpage")), warnings)


# ---------------------------------------------------------------- s.weibo.com before 2018


def _old_search_item(item: Tag, fetched_at: datetime | None) -> Post:
    mid = str(item.get("mid") or "").strip()
    if not looks_like_mid(mid):
        raise _field("mid", f"not numeric ({mid!r})")
    time_a = _own(item, "a[node-type=feed_list_item_date]", "comment")
    created = _when(time_a, time_a.get_text(strip=True) if time_a else "", fetched_at, "feed_list_item_date")
    m = _UID_BID.search(time_a.get("href", "") if time_a else "")
    uid, bid = (m.group(1), m.group(2)) if m else (None, mid_to_bid(mid))
    text_p = _own(item, "p[node-type=feed_list_content_full]", "comment") or \
        _own(item, "p[node-type=feed_list_content]", "comment")
    if text_p is None:
        raise _field("feed_list_content", "no text")
    name_a = _own(item, ".feed_content a[nick-name]", "comment")
    screen = (text_p.get("nick-name") or (name_a.get("nick-name") if name_a else "") or "").strip()
    uid = uid or _uid_from_href(name_a.get("href", "") if name_a else "")
    body = _html_text(text_p)
    retweeted = None
    rt = item.select_one("div.comment")
    if rt is not None:
        rt_a = rt.select_one("a[node-type=feed_list_item_date]")
        rm = _UID_BID.search(rt_a.get("href", "") if rt_a else "")
        if rt_a is not None and rm:
            rmid = bid_to_mid(rm.group(2))
            rname = rt.select_one("a[nick-name]")
            rbody = _html_text(rt.select_one("p[node-type=feed_list_forwardContent], p.comment_txt"))
            retweeted = Post(id=rmid, mid=rmid, bid=rm.group(2),
                             created_at=_when(rt_a, rt_a.get_text(strip=True), fetched_at, "date"),
                             user_id=rm.group(1), screen_name=(rname.get("nick-name") if rname else "") or "",
                             text=rbody.text, mentions=rbody.mentions, topics=rbody.topics,
                             source_url=post_url(rm.group(1), rm.group(2), rmid), fetched_at=fetched_at,
                             raw={"id": rmid, "bid": rm.group(2)})
    client = ""
    if time_a is not None:
        nxt = time_a.find_next_sibling("a")
        client = nxt.get_text(strip=True) if nxt is not None and nxt.get("rel") == ["nofollow"] else ""
    counts = _counts_v6(item)
    return Post(id=mid, mid=mid, bid=bid, created_at=created, user_id=uid, screen_name=screen, text=body.text,
                mentions=body.mentions, topics=body.topics, is_long_text=body.truncated,
                reposted_id=retweeted.id if retweeted else None, retweeted=retweeted,
                item_type="repost" if retweeted else "post", client=client,
                reposts_count=counts.get("reposts_count"), comments_count=counts.get("comments_count"),
                attitudes_count=counts.get("attitudes_count"), source_url=post_url(uid, bid, mid),
                fetched_at=fetched_at, raw={"id": mid, "mid": mid, "bid": bid, "html": str(item)[:20000]})


def parse_old_search_html(html: str, fetched_at: datetime | None) -> SearchHtmlPage:
    """s.weibo.com before 2018: `div.WB_cardwrap > div[mid][action-type=feed_list_item]`, inline in the page or inside
    the `pl_weibo_direct` pagelet script; `div.pl_noresult` when nothing matched; `a.next` for more."""
    parts = [h for pid, h in fm_view_html(html, _PAGELET) if pid == "pl_weibo_direct"]
    soup = BeautifulSoup("".join(parts) if parts else html, "lxml")
    items = soup.select("div.WB_cardwrap > div[mid][action-type=feed_list_item]")
    no_result = soup.select_one(".pl_noresult, .search_noresult") is not None
    if not items and not no_result:
        raise MalformedError("not an s.weibo.com (pre-2018) result page: no div.WB_cardwrap > div[mid] items")
    warnings: list[str] = []
    posts = _each(items, lambda it: _old_search_item(it, fetched_at), "s.weibo.com (pre-2018) item", warnings)
    has_next = soup.select_one("a.next, a.page.next") is not None
    return SearchHtmlPage(posts, has_next, no_result, warnings)
