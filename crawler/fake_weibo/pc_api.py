"""The fake's weibo.com/ajax route (the PC web API), served from the same scenario as the m.weibo.cn paths.

Shapes (weibo-api.md, `crawler.pc_parsers`):
- `ajax/statuses/mymblog?uid=U&page=N&feature=0[&since_id=M]`: `{"ok":1,"data":{"list":[status…],"since_id":…}}`;
  `since_id` is the id of the page's last post while older ones remain (the same cursor as the mobile timeline,
  so a walk can change route mid-way), else "".
- `ajax/statuses/buildComments?id=MID&is_reload=1&is_show_bulletin=2&is_mix=0&count=20[&max_id=N]`: root
  comments newest first in top-level `data`, at most `pc_inline_replies` replies inline with `total_number`;
  `max_id` top level (0 = last page). With `fetch_level=1&id=CID`: the replies (child comments) of comment CID.
- `ajax/statuses/repostTimeline?id=MID&page=N`: `{"ok":1,"data":[…],"total_number":n,"max_page":m}`.
- `ajax/statuses/show?id=MBLOGID`: the status at top level; `ajax/statuses/longtext?id=…`: `data.longTextContent`.
- `ajax/statuses/mentions?page=N&feature=0`: the logged-in account's own @-mention feed (weibo.com's 提到我的),
  `{"ok":1,"data":{"statuses":[status…],"total_number":n}}`, newest first; without a login `ok:-100`. Whose feed:
  a login `SUB=_2A25u<uid>…` is account <uid>'s (how the tests hand a member's cookie); any other login SUB is the
  coordinator's, as the fake's login page issues.
Statuses carry `idstr`, `mblogid` (no `bid`) and `text_raw` as the PC site's do.

The site's double-submit check: an ajax request must echo its `XSRF-TOKEN` cookie in an `X-XSRF-TOKEN` header;
one that does not gets HTTP 403 and a fresh `XSRF-TOKEN` cookie.
"""
from __future__ import annotations

import math
import re
import secrets
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING

from . import render
from .scenario import Comment, Scenario, Status

if TYPE_CHECKING:
    from datetime import datetime

INLINE_REPLIES = 2
GONE = {"ok": 0, "msg": "微博不存在或暂无查看权限!"}


def pc_status(st: Status, sc: Scenario, now: "datetime", full_text: bool = False) -> dict:
    """One status as weibo.com's ajax shows it: the mobile `mblog` with `idstr`, `mblogid`, `text_raw`."""
    d = render.mblog(st, sc, now, full_text=full_text)
    d["idstr"], d["mblogid"] = st.id, d.pop("bid")
    d["text_raw"] = st.text if full_text or not d["isLongText"] else st.text[:render.SHORT_LIMIT]
    if isinstance(d.get("user"), dict):
        d["user"]["idstr"] = str(d["user"].get("id"))
    rt = d.get("retweeted_status")
    if isinstance(rt, dict) and "bid" in rt:
        rt["idstr"], rt["mblogid"] = rt["id"], rt.pop("bid")
    return d


def _pc_comment(c: Comment, sc: Scenario, now: "datetime", replies: list[Comment] | None,
                inline: int = INLINE_REPLIES) -> dict:
    d = render.comment_json(c, sc, now, "full", replies[:inline] if replies is not None else None)
    d["idstr"], d["text_raw"] = c.id, c.text
    d.pop("bid", None)
    if replies is not None:
        d["total_number"] = len(replies)
        if not d["comments"]:
            d["comments"] = []
    return d


def mymblog(sc: Scenario, uid: str, now: "datetime", since: int, size: int) -> dict:
    posts = [s for s in sc.timelines.get(uid, ()) if s.visible(now) and (not since or int(s.id) < since)]
    page, more = posts[:size], len(posts) > size
    rows = [pc_status(s, sc, now) for s in page]
    pinned = sc.pinned.get(uid)
    if not since and pinned is not None and pinned.visible(now):
        top = pc_status(pinned, sc, now)
        top["isTop"] = 1
        rows.insert(0, top)
    return {"ok": 1, "data": {"since_id": page[-1].id if more and page else "", "list": rows, "status_visible": 0,
                              "bottom_tips_visible": False, "bottom_tips_text": "", "topicList": [],
                              "total": len(sc.timelines.get(uid, ()))}}


def build_comments(sc: Scenario, st: Status, now: "datetime", max_id: int, size: int,
                   inline: int = INLINE_REPLIES) -> dict:
    roots = [c for c in reversed(sc.root_comments.get(st.id, ())) if c.visible(now) and
             (not max_id or int(c.id) < max_id)]
    page, more = roots[:size], len(roots) > size
    data = [_pc_comment(c, sc, now, [r for r in sc.replies.get(c.id, ()) if r.visible(now)], inline) for c in page]
    return {"ok": 1, "filter_group": [], "data": data, "rootComment": [], "total_number": sc.comment_count(st.id, now),
            "max_id": int(page[-1].id) if more else 0, "trendsText": ""}


def child_comments(sc: Scenario, root: Comment, now: "datetime", max_id: int, size: int) -> dict:
    reps = [r for r in sc.replies.get(root.id, ()) if r.visible(now) and (not max_id or int(r.id) > max_id)]
    page, more = reps[:size], len(reps) > size
    return {"ok": 1, "data": [_pc_comment(r, sc, now, None) for r in page], "rootComment": [],
            "total_number": len(reps), "max_id": int(page[-1].id) if more else 0}


def repost_timeline(sc: Scenario, st: Status, now: "datetime", page: int, size: int) -> dict:
    reps = [s for s in sc.reposts.get(st.id, ()) if s.visible(now)]
    items = reps[(max(page, 1) - 1) * size: max(page, 1) * size]
    return {"ok": 1, "data": [pc_status(s, sc, now) for s in items], "total_number": len(reps),
            "max_page": math.ceil(len(reps) / size)}


_MEMBER_SUB = re.compile(r"(?:^|;\s*)SUB=_2A25u(\d+)")


def login_uid(cookie: str, sc: Scenario) -> str | None:
    """Whose login the Cookie header carries (see the module doc); None for no login or a visitor SUB."""
    if "SUB=" not in cookie or "SUB=_2AkM" in cookie:
        return None
    m = _MEMBER_SUB.search(cookie)
    return m.group(1) if m and m.group(1) in sc.users else sc.coordinator.uid


def mentions_feed(handler, sc: Scenario, uid: str, now: "datetime", page: int, size: int) -> dict:  # noqa: ANN001
    hits = handler.server.fake.search("@" + sc.users[uid].screen_name, now)
    items = hits[(page - 1) * size: page * size] if page >= 1 else []
    return {"ok": 1, "data": {"statuses": [pc_status(s, sc, now) for s in items], "total_number": len(hits)}}


def _xsrf_ok(handler) -> bool:  # noqa: ANN001 - the server's request handler
    jar = SimpleCookie()
    try:
        jar.load(handler.headers.get("Cookie") or "")
    except Exception:  # noqa: BLE001 - a malformed Cookie header is simply no token
        return False
    token = jar["XSRF-TOKEN"].value if "XSRF-TOKEN" in jar else ""
    return bool(token) and handler.headers.get("X-XSRF-TOKEN") == token


def serve(handler, path: str, qs: dict, fault: str | None) -> None:  # noqa: ANN001
    """Answer one `/ajax/...` request on `handler` (the server's `_Handler`)."""
    if not _xsrf_ok(handler):
        token = secrets.token_urlsafe(18)
        return handler._json({"ok": 0, "msg": "xsrf token mismatch"}, 403,
                             headers={"Set-Cookie": f"XSRF-TOKEN={token}; Path=/; SameSite=Lax"})
    fake = handler.server.fake
    sc, now = fake.scenario, fake.clock.now()
    arg, int_arg = handler._arg, handler._int_arg
    name = path[len("/ajax/statuses/"):] if path.startswith("/ajax/statuses/") else ""
    if name == "mymblog":
        uid, since, page = arg(qs, "uid"), int_arg(qs, "since_id", 0), int_arg(qs, "page", 1)
        if uid not in sc.users or since is None or page is None:
            return handler._json({"ok": 0, "msg": "用户不存在"}, fault=fault)
        return handler._json(mymblog(sc, uid, now, since, fake.page_timeline), fault=fault)
    if name == "mentions":
        uid, page = login_uid(handler.headers.get("Cookie") or "", sc), int_arg(qs, "page", 1)
        if uid is None:
            return handler._json({"ok": -100, "url": "https://weibo.com/login.php?url="
                                  + "https%3A%2F%2Fweibo.com%2Fat%2Fweibo"}, fault=fault)
        return handler._json(mentions_feed(handler, sc, uid, now, page or 1, fake.page_search), fault=fault)
    if name == "buildComments":
        max_id = int_arg(qs, "max_id", 0)
        if arg(qs, "fetch_level") == "1":
            root = sc.comments.get(arg(qs, "id"))
            if root is None or max_id is None or not root.visible(now):
                return handler._json(GONE, fault=fault)
            return handler._json(child_comments(sc, root, now, max_id, fake.page_comments), fault=fault)
        st = handler._visible_status(arg(qs, "id"))
        if st is None or max_id is None:
            return handler._json(GONE, fault=fault)
        page_ = build_comments(sc, st, now, max_id, fake.page_comments, fake.pc_inline_replies)
        return handler._json(page_, fault=fault)
    if name == "repostTimeline":
        st, page = handler._visible_status(arg(qs, "id")), int_arg(qs, "page", 1)
        if st is None or page is None:
            return handler._json(GONE, fault=fault)
        return handler._json(repost_timeline(sc, st, now, page, fake.page_reposts), fault=fault)
    if name in ("show", "longtext"):
        st = handler._visible_status(arg(qs, "id"))
        if st is None:
            return handler._json(GONE, fault=fault)
        if name == "show":
            status = {**pc_status(st, sc, now, full_text=True), "ok": 1}
            return handler._json(status, fault=fault)
        return handler._json({"ok": 1, "http_code": 200, "data": {"longTextContent": st.text}}, fault=fault)
    return handler._json({"ok": 0, "msg": f"unknown ajax path {path}"}, 404)
