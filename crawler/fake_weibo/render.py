"""Scenario records rendered in Weibo's wire shapes: mblog/comment JSON, Weibo text HTML, dates, search HTML."""
from __future__ import annotations

import html
import re
import zlib
from datetime import datetime, timedelta
from urllib.parse import quote

from . import names as N
from .clock import CST
from .scenario import Account, Comment, Scenario, Status

_TOKEN_RE = re.compile(r"@([\w\u4e00-\u9fff\-]+)|#([^#\s]+)#|\[([\w\u4e00-\u9fff]+)\]")
API_DATE = "%a %b %d %H:%M:%S %z %Y"
SHORT_LIMIT = 140


def api_date(dt: datetime) -> str:
    """`Tue Jun 08 09:35:04 +0800 2021`."""
    return dt.astimezone(CST).strftime(API_DATE)


def _stable(key: str) -> int:
    return zlib.crc32(key.encode())


def relative_date(dt: datetime, now: datetime, key: str = "", style: str = "mobile") -> str:
    """Weibo's relative forms as seen at `now`; `key` picks among equivalent forms deterministically.

    mobile (hotflow): 刚刚, N秒前, N分钟前, N小时前 or 今天 HH:MM, 昨天 HH:MM, MM-DD or MM月DD日 HH:MM,
    YYYY-MM-DD HH:MM:SS for other years. pc (s.weibo.com): N分钟前, 今天 HH:MM, MM月DD日 HH:MM,
    YYYY年MM月DD日 HH:MM.
    """
    dt, now = dt.astimezone(CST), now.astimezone(CST)
    secs = (now - dt).total_seconds()
    h = _stable(key)
    if style == "pc":
        if secs < 60:
            return f"{max(int(secs), 1)}秒前"
        if secs < 3600:
            return f"{int(secs // 60)}分钟前"
        if dt.date() == now.date():
            return dt.strftime("今天 %H:%M")
        if dt.year == now.year:
            return dt.strftime("%m月%d日 %H:%M")
        return dt.strftime("%Y年%m月%d日 %H:%M")
    if secs < 30:
        return "刚刚"
    if secs < 60:
        return f"{int(secs)}秒前"
    if secs < 3600:
        return f"{int(secs // 60)}分钟前"
    if dt.date() == now.date():
        return f"{int(secs // 3600)}小时前" if h % 2 else dt.strftime("今天 %H:%M")
    if dt.date() == (now - timedelta(days=1)).date():
        return dt.strftime("昨天 %H:%M")
    if dt.year == now.year:
        return dt.strftime("%m-%d") if h % 3 == 0 else dt.strftime("%m月%d日 %H:%M")
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def comment_date(c: Comment, now: datetime, style: str) -> str:
    """`style`: full (API form), relative, or mixed (per-comment choice, a third relative with 来自 tail)."""
    if style == "full":
        return api_date(c.created_at)
    if style == "relative":
        return relative_date(c.created_at, now, c.id)
    h = _stable("d" + c.id)
    if h % 2 == 0:
        return api_date(c.created_at)
    rel = relative_date(c.created_at, now, c.id)
    return rel + f" 来自{c.region}" if h % 3 == 0 else rel


def text_html(text: str) -> str:
    """Plain scenario text -> Weibo HTML (mention links, topic spans, emoticon images)."""
    out: list[str] = []
    pos = 0
    for m in _TOKEN_RE.finditer(text):
        out.append(html.escape(text[pos:m.start()], quote=False))
        name, topic, emo = m.groups()
        if name:
            out.append(f"<a href='/n/{name}'>@{name}</a>")
        elif topic:
            q = quote(f"#{topic}#")
            out.append(f'<a  href="https://m.weibo.cn/search?containerid=231522type%3D1%26t%3D10%26q%3D{q}&'
                       f'isnewpage=1" data-hide=""><span class="surl-text">#{html.escape(topic)}#</span></a>')
        else:
            icon = N.EMOTICON_FILES.get(emo, "d_hehe")
            out.append(f'<span class="url-icon"><img alt=[{emo}] src="https://h5.sinaimg.cn/m/emoticon/icon/'
                       f'default/{icon}-{_stable(emo) % 10**6:06d}.png" style="width:1em; height:1em;" /></span>')
        pos = m.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def _short(text: str) -> str:
    """Cut at 140 characters without splitting a token (mention/topic/emoticon)."""
    cut = SHORT_LIMIT
    for m in _TOKEN_RE.finditer(text):
        if m.start() < cut < m.end():
            cut = m.start()
    return text[:cut]


def user_json(a: Account | None, uid: str) -> dict:
    if a is None:
        return {"id": int(uid), "screen_name": f"用户{uid}", "verified": False, "followers_count": 0}
    followers: int | str = a.followers_count
    if isinstance(followers, int) and followers >= 100_000:
        followers = f"{followers / 10_000:.1f}万"
    official = a.role != "citizen"
    return {
        "id": int(a.uid), "screen_name": a.screen_name,
        "profile_image_url": f"https://tvax1.sinaimg.cn/crop.0.0.180.180.180/{a.uid}.jpg",
        "profile_url": f"https://m.weibo.cn/u/{a.uid}?uid={a.uid}&luicode=10000011&lfid=1076033{a.uid}",
        "statuses_count": 0, "verified": official, "verified_type": 1 if official else -1,
        "verified_reason": a.department if official else "", "close_blue_v": False, "description": a.description,
        "gender": "m" if _stable(a.uid) % 2 else "f", "mbtype": 0, "urank": 10, "mbrank": 0, "follow_me": False,
        "following": False, "follow_count": 100 + _stable(a.uid) % 400, "followers_count": followers,
        "followers_count_str": str(followers), "cover_image_phone": "https://tva1.sinaimg.cn/crop.0.0.640.640.640/default.jpg",
        "avatar_hd": f"https://wx1.sinaimg.cn/orj480/{a.uid}.jpg", "like": False, "like_me": False, "badge": {},
    }


def mblog(st: Status, sc: Scenario, now: datetime, full_text: bool = False, nested: bool = True) -> dict:
    """One status as m.weibo.cn's `mblog`; `full_text` puts the long text in `text` (statuses/show)."""
    long = len(st.text) > SHORT_LIMIT
    if long and not full_text:
        body = text_html(_short(st.text)) + f' ...<a href="/status/{st.id}">全文</a>'
    else:
        body = text_html(st.text)
    author = sc.users.get(st.author_uid)
    d: dict = {
        "visible": {"type": 0, "list_id": 0},
        "created_at": api_date(st.created_at),
        "id": st.id, "mid": st.id, "bid": st.bid,
        "can_edit": False, "show_additional_indication": 0,
        "text": body, "textLength": len(st.text.encode("gbk", "replace")),
        "source": st.source, "favorited": False, "pic_ids": [], "is_paid": False, "mblog_vip_type": 0,
        "user": user_json(author, st.author_uid),
        "reposts_count": sc.repost_count(st.id, now), "comments_count": sc.comment_count(st.id, now),
        "reprint_cmt_count": 0, "attitudes_count": st.attitudes, "pending_approval_count": 0,
        "isLongText": long, "reward_exhibition_type": 0, "hide_flag": 0, "mblogtype": 2 if st.pinned else 0,
        "more_info_type": 0, "content_auth": 0, "region_name": f"发布于 {st.region}", "pic_num": 0,
        "edit_config": {"edited": False}, "number_display_strategy": {"apply_scenario_flag": 3},
    }
    if st.pinned:
        d["isTop"] = 1
        d["title"] = {"text": "置顶", "base_color": 1}
    if st.retweeted_id:
        d["raw_text"] = st.text
        orig = sc.statuses.get(st.retweeted_id)
        if nested and orig is not None and orig.visible(now):
            d["retweeted_status"] = mblog(orig, sc, now, nested=False)
        elif nested:
            d["retweeted_status"] = {"id": st.retweeted_id, "mid": st.retweeted_id, "text": "抱歉，此微博已被作者删除。",
                                     "user": None, "created_at": api_date(orig.created_at) if orig else ""}
    return d


def comment_json(c: Comment, sc: Scenario, now: datetime, style: str, replies: list[Comment] | None = None,
                 floor: int = 0) -> dict:
    author = sc.users.get(c.author_uid)
    text = c.text
    d: dict = {
        "created_at": comment_date(c, now, style), "id": c.id, "rootid": c.root_id, "rootidstr": c.root_id,
        "floor_number": floor, "text": "", "disable_reply": 0, "restrictOperate": 0,
        "source": f"来自{c.region}", "user": user_json(author, c.author_uid), "mid": c.id,
        "bid": "", "like_count": c.like_count, "liked": False, "isLikedByMblogAuthor": False,
        "more_info_type": 0, "max_id": 0,
    }
    if c.reply_to_id:
        target = sc.comments[c.reply_to_id]
        tname = sc.users[target.author_uid].screen_name
        d["reply_id"] = target.id
        d["reply_text"] = text_html(target.text)
        d["reply_original_text"] = target.text
        if target.id != c.root_id:
            text = f"回复@{tname}:{text}"
    d["text"] = text_html(text)
    if replies is not None:
        d["comments"] = [comment_json(r, sc, now, style) for r in replies] or False
        d["total_number"] = len(replies)
    return d


def search_html(sc: Scenario, q: str, page: int, items: list[Status], has_next: bool, now: datetime) -> str:
    """An s.weibo.com result page: `div.card-wrap[mid]`, `div.card-no-result`, `a.next`."""
    esc = html.escape(q)
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>", esc,
             " - 微博搜索</title></head><body><div class='m-main'><div id='pl_feedlist_index'>"]
    if not items:
        parts.append(f'<div class="card card-no-result s-pt20b40"><p>抱歉，未找到“{esc}”相关结果。</p></div>')
    for st in items:
        a = sc.users.get(st.author_uid)
        name = html.escape(a.screen_name if a else st.author_uid)
        long = len(st.text) > SHORT_LIMIT
        short = text_html(_short(st.text)) + ("<a action-type='fl_unfold'>展开c</a>" if long else "")
        parts.append(
            f'<div class="card-wrap" action-type="feed_list_item" mid="{st.id}">'
            f'<div class="card"><div class="card-feed"><div class="avator"><a href="//weibo.com/{st.author_uid}">'
            f'<img src="https://tvax1.sinaimg.cn/crop/{st.author_uid}.jpg"></a></div><div class="content" node-type="like">'
            f'<div class="info"><div><a href="//weibo.com/{st.author_uid}?refer_flag=1001030103_" class="name" '
            f'nick-name="{name}" target="_blank">{name}</a></div></div>'
            f'<p class="txt" node-type="feed_list_content" nick-name="{name}">{short}</p>')
        if long:
            parts.append(f'<p class="txt" node-type="feed_list_content_full" nick-name="{name}" style="display: none">'
                         f'{text_html(st.text)}<a action-type="fl_fold">收起d</a></p>')
        orig = sc.statuses.get(st.retweeted_id) if st.retweeted_id else None
        if orig is not None and orig.visible(now):  # a repost shows its original in div.card-comment
            oname = html.escape(sc.users[orig.author_uid].screen_name if orig.author_uid in sc.users
                                else orig.author_uid)
            parts.append(
                f'<div class="card-comment"><div class="con"><div><a href="//weibo.com/{orig.author_uid}" '
                f'class="name" nick-name="{oname}">@{oname}</a></div><p class="txt" node-type="feed_list_content" '
                f'nick-name="{oname}">{text_html(orig.text)}</p><div class="from"><a href="//weibo.com/'
                f'{orig.author_uid}/{orig.bid}?refer_flag=1001030103_" target="_blank">'
                f'{relative_date(orig.created_at, now, orig.id, style="pc")}</a></div></div></div>')
        parts.append(
            f'<div class="from"><a href="//weibo.com/{st.author_uid}/{st.bid}?refer_flag=1001030103_" target="_blank">'
            f'{relative_date(st.created_at, now, st.id, style="pc")}</a> 来自 <a rel="nofollow">{html.escape(st.source)}</a>'
            f'</div></div></div><div class="card-act"><ul>'
            f'<li><a action-type="feed_list_forward">转发 {sc.repost_count(st.id, now) or ""}</a></li>'
            f'<li><a action-type="feed_list_comment">评论 {sc.comment_count(st.id, now) or ""}</a></li>'
            f'<li><a action-type="feed_list_like"><span class="woo-like-count">{st.attitudes or "赞"}</span></a></li>'
            f'</ul></div></div></div>')
    parts.append("</div><div class='m-page'><div>")
    if has_next:
        parts.append(f'<a class="next" href="/weibo?q={quote(q)}&page={page + 1}">下一页</a>')
    parts.append("</div></div></div></body></html>")
    return "".join(parts)
