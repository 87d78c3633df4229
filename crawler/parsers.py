"""Response bodies to records: the m.weibo.cn JSON shapes and the two HTML pages we read.

Shared by the live client and by `wzmon parse/import`, so a saved file and a fetched page give the
same records. Functions take the decoded payload (or HTML text) and the fetch time; they raise
`MalformedError` naming what is missing when the shape is not the one expected.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator

from bs4 import BeautifulSoup, Tag

from crawler.constants import POST_CARD_TYPE
from crawler.counts import parse_count, parse_count_or_zero
from crawler.exceptions import MalformedError, TimeFormatError
from crawler.ids import bid_to_mid, looks_like_mid, mid_to_bid
from crawler.text import clean_html
from crawler.timeparse import parse_created_at
from crawler.types import Comment, Post, User, post_url

_UID_IN_HREF = re.compile(r"weibo\.(?:com|cn)/(?:u/)?(\d{5,})|^/u/(\d{5,})")
_XML_PROLOG = re.compile(r"^\s*<\?xml[^>]*\?>")
_WEIBO_CN_COMMENT_LINK = re.compile(r"^(?:https?://weibo\.cn)?/comment/([0-9A-Za-z]{8,10})(?:[?#]|$)")
_BID_IN_HREF = re.compile(r"weibo\.com/(\d+)/([0-9A-Za-z]{8,10})")


def _data(payload: Any, what: str) -> dict:
    if not isinstance(payload, dict):
        raise MalformedError(f"{what}: expected a JSON object, got {type(payload).__name__}")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise MalformedError(f"{what}: no `data` object in the response")
    return data


_ITEM_ERRORS = (MalformedError, TimeFormatError, KeyError, TypeError, ValueError, AttributeError)


def _each(rows: Iterable[Any], build: Callable[[Any], Any], what: str, warnings: list[str]) -> list[Any]:
    """BUILD every row; a row that cannot be read becomes a warning naming the item and what is wrong, and the
    others are kept: one odd item never costs its neighbours (the raw response is stored whole either way)."""
    out = []
    for row in rows:
        try:
            out.append(build(row))
        except _ITEM_ERRORS as exc:
            ident = _item_id(row)
            warnings.append(f"{what} item {ident}: {exc.__class__.__name__}: {exc}")
    return out


def _item_id(row: Any) -> str:
    if isinstance(row, dict):
        return str(row.get("idstr") or row.get("id") or row.get("mid") or "?")
    if isinstance(row, Tag):
        return str(row.get("mid") or row.get("comment_id") or row.get("id") or "?")
    return "?"


def iter_mblogs(cards: list) -> Iterator[dict]:
    """Every `mblog` in getIndex cards, including those nested in `card_group` (search pages)."""
    for card in cards or []:
        if not isinstance(card, dict):
            continue
        if card.get("card_type") in (POST_CARD_TYPE, str(POST_CARD_TYPE)) and isinstance(card.get("mblog"), dict):
            yield card["mblog"]
        group = card.get("card_group")
        if isinstance(group, list):
            yield from iter_mblogs(group)


@dataclass
class IndexPage:
    posts: list[Post]
    since_id: str | None  # timeline paging: next page's since_id
    page: int | None  # search paging
    user: User | None = None
    warnings: list[str] = field(default_factory=list)  # items that could not be read (the rest is kept)


def parse_index(payload: Any, fetched_at: datetime | None) -> IndexPage:
    """A getIndex answer (timeline, search, or profile container)."""
    data = _data(payload, "getIndex")
    cards = data.get("cards")
    if cards is None and "userInfo" not in data:
        raise MalformedError("getIndex: `data` has neither `cards` nor `userInfo`")
    if cards is not None and not isinstance(cards, list):
        raise MalformedError(f"getIndex: `data.cards` is {type(cards).__name__}, not a list")
    warnings: list[str] = []
    posts = _each(iter_mblogs(cards or []), lambda m: Post.from_payload(m, fetched_at), "getIndex", warnings)
    info = data.get("cardlistInfo") if isinstance(data.get("cardlistInfo"), dict) else {}
    since = info.get("since_id")
    user = User.from_payload(data["userInfo"]) if isinstance(data.get("userInfo"), dict) else None
    page = info.get("page")
    return IndexPage(posts, str(since) if since not in (None, "", 0, "0") else None,
                     int(page) if isinstance(page, (int, str)) and str(page).isdigit() else None, user, warnings)


@dataclass
class CommentPage:
    comments: list[Comment]  # top level, replies inside
    max_id: int
    max_id_type: int
    warnings: list[str] = field(default_factory=list)

    def flat(self) -> list[Comment]:
        out: list[Comment] = []
        for c in self.comments:
            out.extend(c.flatten())
        return out


def parse_hotflow(payload: Any, fetched_at: datetime | None, post_id: str | None) -> CommentPage:
    """comments/hotflow: `data.data[]` and the next `max_id` (0 = last page)."""
    data = _data(payload, "hotflow")
    rows = data.get("data")
    if not isinstance(rows, list):
        raise MalformedError("hotflow: `data.data` is not a list of comments")
    warnings: list[str] = []
    comments = _each([r for r in rows if isinstance(r, dict)], lambda r: Comment.from_payload(r, fetched_at, post_id),
                     "hotflow", warnings)
    return CommentPage(comments, int(parse_count(data.get("max_id")) or 0),
                       int(parse_count(data.get("max_id_type")) or 0), warnings)


def parse_build_comments(payload: Any, fetched_at: datetime | None, post_id: str | None) -> CommentPage:
    """weibo.com ajax/statuses/buildComments: top-level `data[]`, `max_id`."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise MalformedError("buildComments: no `data` list")
    warnings: list[str] = []
    comments = _each([r for r in payload["data"] if isinstance(r, dict)],
                     lambda r: Comment.from_payload(r, fetched_at, post_id), "buildComments", warnings)
    return CommentPage(comments, int(parse_count(payload.get("max_id")) or 0), 0, warnings)


@dataclass
class RepostPage:
    posts: list[Post]
    page_count: int | None  # `data.max`: pages available
    warnings: list[str] = field(default_factory=list)


def parse_reposts(payload: Any, fetched_at: datetime | None) -> RepostPage:
    data = _data(payload, "repostTimeline")
    rows = data.get("data")
    if not isinstance(rows, list):
        raise MalformedError("repostTimeline: `data.data` is not a list")
    warnings: list[str] = []
    posts = _each([r for r in rows if isinstance(r, dict)], lambda r: Post.from_payload(r, fetched_at),
                  "repostTimeline", warnings)
    return RepostPage(posts, parse_count(data.get("max")), warnings)


def parse_long_text(payload: Any) -> str:
    """statuses/extend: the full HTML text in `data.longTextContent`."""
    data = _data(payload, "statuses/extend")
    html = data.get("longTextContent")
    if not isinstance(html, str):
        raise MalformedError("statuses/extend: no `data.longTextContent`")
    return html


# ---------------------------------------------------------------- HTML: s.weibo.com search results


def _uid_from_href(href: str) -> str | None:
    m = _UID_IN_HREF.search(href or "")
    return (m.group(1) or m.group(2)) if m else None


def _time_link(block: Tag) -> tuple[str, str | None, str | None, str]:
    """(time text, uid, bid, client) from a `.from` block: the first link is the post's permalink."""
    links = block.find_all("a")
    if not links:
        return block.get_text(" ", strip=True), None, None, ""
    first = links[0]
    href = first.get("href", "") or ""
    m = _BID_IN_HREF.search(href)
    client = links[1].get_text(" ", strip=True) if len(links) > 1 else ""
    return first.get_text(" ", strip=True), m.group(1) if m else None, m.group(2) if m else None, client


def _own_from_block(content: Tag) -> Tag | None:
    for block in content.select(".from"):
        if block.find_parent(class_="card-comment") is None:
            return block
    return None


def _html_text(p: Tag | None) -> Any:
    return clean_html(p.decode_contents()) if p is not None else clean_html("")


@dataclass
class SearchHtmlPage:
    posts: list[Post]
    has_next: bool
    no_result: bool
    warnings: list[str] = field(default_factory=list)


def parse_search_html(html: str, fetched_at: datetime | None) -> SearchHtmlPage:
    """s.weibo.com/weibo result page: `div.card-wrap[mid]` posts, `div.card-no-result`, `a.next`."""
    soup = BeautifulSoup(html, "lxml")
    no_result = soup.select_one(".card-no-result") is not None
    warnings: list[str] = []
    cards = soup.select("div.card-wrap[mid]")
    posts = _each(cards, lambda wrap: _search_card(wrap, fetched_at), "s.weibo.com card", warnings)
    if not cards and not no_result and soup.select_one(".card-wrap") is None:
        raise MalformedError("not an s.weibo.com result page (no card-wrap, no card-no-result)")
    return SearchHtmlPage(posts, soup.select_one("a.next") is not None, no_result, warnings)


def _search_card(wrap: Tag, fetched_at: datetime | None) -> Post:
    mid = str(wrap.get("mid") or "").strip()
    if not looks_like_mid(mid):
        raise MalformedError(f"card-wrap has no numeric mid ({mid!r})")
    content = wrap.select_one(".content") or wrap
    name_a = content.select_one(".info a.name") or content.select_one("a.name")
    screen_name = (name_a.get("nick-name") or name_a.get_text(strip=True)) if name_a else ""
    uid = _uid_from_href(name_a.get("href", "")) if name_a else None
    full = None
    for p in content.select('p[node-type="feed_list_content_full"]'):
        if p.find_parent(class_="card-comment") is None:
            full = p
    short = None
    for p in content.select('p[node-type="feed_list_content"], p.txt'):
        if p.find_parent(class_="card-comment") is None:
            short = p
            break
    body = _html_text(full if full is not None else short)
    from_block = _own_from_block(content)
    when, uid2, bid, client = _time_link(from_block) if from_block is not None else ("", None, None, "")
    if not when:
        raise MalformedError("no time in the card's `.from` block")
    created = parse_created_at(when, fetched_at)
    uid = uid or uid2
    bid = bid or mid_to_bid(mid)
    retweeted = None
    rt = wrap.select_one(".card-comment")
    if rt is not None:
        retweeted = _search_retweet(rt, fetched_at)
    counts = {}
    for a in wrap.select(".card-act li a, .card-act li"):
        label = a.get_text(" ", strip=True)
        for key, word in (("reposts_count", "转发"), ("comments_count", "评论"), ("attitudes_count", "赞")):
            if key not in counts and (word in label or a.get("action-type", "").endswith(
                    {"reposts_count": "forward", "comments_count": "comment", "attitudes_count": "like"}[key])):
                counts[key] = parse_count_or_zero(label)
    payload = {"id": mid, "mid": mid, "bid": bid, "html": str(wrap)[:20000]}
    return Post(
        id=mid, mid=mid, bid=bid, created_at=created, user_id=uid, screen_name=screen_name,
        text=body.text, mentions=body.mentions, topics=body.topics,
        is_long_text=full is not None, reposted_id=retweeted.id if retweeted else None, retweeted=retweeted,
        item_type="repost" if retweeted else "post", client=client,
        reposts_count=counts.get("reposts_count"), comments_count=counts.get("comments_count"),
        attitudes_count=counts.get("attitudes_count"), source_url=post_url(uid, bid, mid),
        fetched_at=fetched_at, text_expanded=full is not None, raw=payload,
    )


def _search_retweet(rt: Tag, fetched_at: datetime | None) -> Post | None:
    from_block = rt.select_one(".from")
    if from_block is None:
        return None
    when, uid, bid, client = _time_link(from_block)
    if not bid:
        return None
    name_a = rt.select_one("a.name") or rt.select_one("a[nick-name]")
    full = rt.select_one('p[node-type="feed_list_content_full"]')
    body = _html_text(full if full is not None else rt.select_one("p.txt"))
    mid = bid_to_mid(bid)
    try:
        created = parse_created_at(when, fetched_at)
    except TimeFormatError:
        return None
    return Post(id=mid, mid=mid, bid=bid, created_at=created, user_id=uid,
                screen_name=(name_a.get("nick-name") or name_a.get_text(strip=True).lstrip("@")) if name_a else "",
                text=body.text, mentions=body.mentions, topics=body.topics, client=client,
                source_url=post_url(uid, bid, mid), fetched_at=fetched_at, raw={"id": mid, "bid": bid})


# ---------------------------------------------------------------- HTML: weibo.cn comment page


@dataclass
class WeiboCnCommentPage:
    post_id: str | None
    comments: list[Comment] = field(default_factory=list)
    has_next: bool = False
    warnings: list[str] = field(default_factory=list)


def parse_weibo_cn_comments(html: str, fetched_at: datetime | None, post_id: str | None = None) -> WeiboCnCommentPage:
    """weibo.cn/comment/{bid}: `div.c#C_{id}` comments, the post itself in `div.c#M_{bid}`."""
    soup = BeautifulSoup(_XML_PROLOG.sub("", html, count=1), "lxml")  # XHTML served with an <?xml ...?> line
    if post_id is None:
        head = soup.select_one('div.c[id^="M_"]')
        if head is not None:
            try:
                post_id = bid_to_mid(head["id"][2:])
            except ValueError:
                post_id = None
        if post_id is None:  # seen in 2025: the post's block is `<div class="c" id="M_">`; its links still name it
            for a in soup.select('a[href*="/comment/"], form[action*="/comment/"]'):
                m = _WEIBO_CN_COMMENT_LINK.search(a.get("href") or a.get("action") or "")
                if m:
                    post_id = bid_to_mid(m.group(1))
                    break
    blocks = soup.select('div.c[id^="C_"]')
    if not blocks and soup.select_one('div.c[id^="M_"]') is None:
        raise MalformedError("not a weibo.cn comment page (no div.c#C_… comments, no div.c#M_… post)")
    warnings: list[str] = []
    out = _each([b for b in blocks if b["id"][2:].isdigit()], lambda b: _weibo_cn_comment(b, fetched_at, post_id),
                "weibo.cn comment", warnings)
    nxt = any(a.get_text(strip=True) == "下页" for a in soup.select("#pagelist a"))
    return WeiboCnCommentPage(post_id, out, nxt, warnings)


def _weibo_cn_comment(block: Tag, fetched_at: datetime | None, post_id: str | None) -> Comment:
    """One `div.c#C_{id}` of a weibo.cn comment page."""
    cid = block["id"][2:]
    user_a = next((a for a in block.find_all("a", recursive=False)), None)
    href = user_a.get("href", "") if user_a else ""
    uid = _uid_from_href(href)
    if uid is None:  # a custom-domain link (/luxchina): the 举报 link names the commenter as fuid=
        spam = block.find("a", href=re.compile(r"/spam/\?.*fuid=\d+"))
        m = re.search(r"fuid=(\d+)", spam["href"]) if spam is not None else None
        uid = m.group(1) if m else None
    ctt = block.select_one("span.ctt")
    body = _html_text(ctt)
    text = body.text.lstrip(":：").strip()
    ct = block.select_one("span.ct")
    when = ct.get_text(" ", strip=True) if ct else ""
    try:
        created = parse_created_at(when, fetched_at)
    except TimeFormatError as exc:
        raise MalformedError(f"weibo.cn comment C_{cid}: {exc}") from None
    likes = None
    for a in block.find_all("a"):
        label = a.get_text(strip=True)
        if label.startswith("赞"):
            likes = parse_count_or_zero(label)
    region = ""
    if "来自" in when:
        region = when.split("来自", 1)[1].strip()
    return Comment(
        id=cid, post_id=post_id, created_at=created, user_id=uid,
        screen_name=user_a.get_text(strip=True) if user_a else "", text=text, mentions=body.mentions,
        like_count=likes, source_url=f"https://m.weibo.cn/detail/{post_id}#comment-{cid}" if post_id else "",
        region=region[:64], fetched_at=fetched_at, topics=body.topics,
        raw={"id": cid, "html": str(block)[:8000]},
    )


# ---------------------------------------------------------------- HTML: weibo.cn profile page

_WEIBO_CN_UID = re.compile(r"^/(\d{5,})/(?:info|follow|fans|avatar)|[?&](?:uid|fuid)=(\d{5,})")
_WEIBO_CN_COUNT = re.compile(r"^(赞|转发|评论)\[(\d+)\]$")
_WEIBO_CN_BID_LINK = re.compile(r"weibo\.cn/comment/([0-9A-Za-z]{8,10})")


def _weibo_cn_owner(soup: BeautifulSoup) -> tuple[str | None, str]:
    """(uid, screen name) of the account whose weibo.cn profile this is (`div.ut`, its 资料/关注 links)."""
    uid = None
    for a in soup.select("div.u a[href], div.tip2 a[href]"):
        m = _WEIBO_CN_UID.search(a.get("href", ""))
        if m:
            uid = m.group(1) or m.group(2)
            break
    name = ""
    ut = soup.select_one("div.ut span.ctt")
    if ut is not None:
        name = next((str(s).strip() for s in ut.strings if str(s).strip()), "").split("\xa0")[0].strip()
    title = soup.title.get_text(strip=True) if soup.title else ""
    if not name and title.endswith("的微博"):
        name = title[: -len("的微博")]
    return uid, name


@dataclass
class WeiboCnProfilePage:
    posts: list[Post]
    user_id: str | None
    screen_name: str
    has_next: bool
    warnings: list[str] = field(default_factory=list)


def parse_weibo_cn_profile(html: str, fetched_at: datetime | None) -> WeiboCnProfilePage:
    """weibo.cn/{uid}/profile (or /u/{uid}): posts `div.c#M_{bid}`, the time and client in `span.ct`
    (`06月17日 18:12\xa0来自绿洲APP`), counts as `赞[N]`/`转发[N]`/`评论[N]`; a repost starts with
    `span.cmt` 转发了 <author> 的微博 and carries the reposter's words after `转发理由:`."""
    soup = BeautifulSoup(_XML_PROLOG.sub("", html, count=1), "lxml")
    blocks = soup.select('div.c[id^="M_"]')
    uid, name = _weibo_cn_owner(soup)
    if not blocks and uid is None:
        raise MalformedError("not a weibo.cn profile page (no div.c#M_… posts, no owner)")
    warnings: list[str] = []
    posts = _each(blocks, lambda b: _weibo_cn_post(b, fetched_at, uid, name), "weibo.cn post", warnings)
    nxt = any(a.get_text(strip=True) == "下页" for a in soup.select("#pagelist a"))
    return WeiboCnProfilePage(posts, uid, name, nxt, warnings)


def _weibo_cn_post(block: Tag, fetched_at: datetime | None, uid: str | None, name: str) -> Post:
    bid = block["id"][2:]
    try:
        mid = bid_to_mid(bid)
    except ValueError:
        raise MalformedError(f"field `id`: {block['id']!r} is not M_<bid>") from None
    ct = block.select_one("span.ct")
    if ct is None:
        raise MalformedError("field `span.ct`: no time")
    when = ct.get_text("", strip=True)
    try:
        created = parse_created_at(when, fetched_at)
    except TimeFormatError as exc:
        raise MalformedError(f"field `span.ct`: {exc}") from None
    client = when.split("来自", 1)[1].strip() if "来自" in when else ""
    counts: dict[str, int] = {}
    for a in block.find_all("a"):  # the post's own counts are links; a repost shows the original's in span.cmt
        m = _WEIBO_CN_COUNT.match(a.get_text(strip=True))
        if m and m.group(1) not in counts:
            counts[m.group(1)] = int(m.group(2))
    reposted_id = None
    cmt = block.select_one("span.cmt")
    is_repost = cmt is not None and cmt.get_text(strip=True).startswith("转发了")
    if is_repost:
        # the original's id is in its 原文评论 link (weibo.cn/comment/{bid}); its time is not on the page, so the
        # original is linked by id only, not built as a record
        for a in block.find_all("a", href=True):
            m = _WEIBO_CN_BID_LINK.search(a["href"])
            if m and m.group(1) != bid:
                reposted_id = bid_to_mid(m.group(1))
                break
        reason = next((s for s in block.select("span.cmt") if s.get_text(strip=True).startswith("转发理由")), None)
        parts: list[str] = []
        if reason is not None:
            for sib in reason.next_siblings:
                if isinstance(sib, Tag) and sib.name == "a" and "/attitude/" in sib.get("href", ""):
                    break  # the 赞[N] 转发[N] 评论[N] line follows the reposter's words
                parts.append(str(sib))
        body = clean_html("".join(parts))
    else:
        # weibo.cn closes span.ctt early: links and text after it (`</span> <a>绿洲</a> </span>`) are still the post's,
        # up to the 赞[N] line
        ctt = block.select_one("span.ctt")
        parts = [str(ctt)] if ctt is not None else []
        for sib in (ctt.next_siblings if ctt is not None else ()):
            if isinstance(sib, Tag) and sib.name == "a" and "/attitude/" in sib.get("href", ""):
                break
            if isinstance(sib, Tag) and sib.name == "a" and ("/mblog/pic" in sib.get("href", "")
                                                             or "/mblog/oripic" in sib.get("href", "")):
                continue
            parts.append(str(sib))
        body = clean_html("".join(parts))
    return Post(
        id=mid, mid=mid, bid=bid, created_at=created, user_id=uid, screen_name=name, text=body.text,
        mentions=body.mentions, topics=body.topics, is_long_text=block.find("a", string="全文") is not None,
        reposted_id=reposted_id, item_type="repost" if is_repost else "post", client=client,
        reposts_count=counts.get("转发"), comments_count=counts.get("评论"), attitudes_count=counts.get("赞"),
        source_url=post_url(uid, bid, mid), fetched_at=fetched_at, raw={"id": mid, "bid": bid, "html": str(block)[:8000]},
    )
