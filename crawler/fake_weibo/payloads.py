"""The fake site's JSON answers as plain functions of the scenario and the simulated time.

The server sends them; `tests/bench/archive.py` writes them to files as an archive a researcher would hold,
so the demo, the tests and the import bench all see the same shapes.
"""
from __future__ import annotations

import math
import zlib
from datetime import datetime

from . import render
from .scenario import Scenario, Status


def card(st: Status, sc: Scenario, lfid: str, now: datetime) -> dict:
    """A `card_type` 9 card holding ST's mblog."""
    return {"card_type": 9, "itemid": f"1076031{lfid}_-_{st.id}", "show_type": 0,
            "scheme": f"https://m.weibo.cn/status/{st.bid}?mblogid={st.bid}&luicode=10000011&lfid=107603{lfid}",
            "mblog": render.mblog(st, sc, now)}


def timeline(sc: Scenario, uid: str, now: datetime, since: int, size: int) -> dict:
    """getIndex containerid 107603{uid}: the pinned post and a follow card on the first page, then SIZE posts
    older than SINCE (0: the newest); `cardlistInfo.since_id` while older posts remain."""
    cid = f"107603{uid}"
    posts = [s for s in sc.timelines.get(uid, ()) if s.visible(now) and (not since or int(s.id) < since)]
    page, more = posts[:size], len(posts) > size
    cards = []
    if not since:
        pinned = sc.pinned.get(uid)
        if pinned is not None and pinned.visible(now):
            cards.append(card(pinned, sc, uid, now))
        if page:
            cards.append({"card_type": 11, "card_group": [
                {"card_type": 10, "user": render.user_json(sc.users[uid], uid), "desc1": "关注了你"}],
                "itemid": f"1076031{uid}_recommend"})
    cards += [card(s, sc, uid, now) for s in page]
    info = {"containerid": cid, "v_p": 42, "show_style": 1, "total": len(sc.timelines.get(uid, ())),
            "autoLoadMoreIndex": 3}
    if more and page:
        info["since_id"] = int(page[-1].id)
    return {"ok": 1, "data": {"cardlistInfo": info, "cards": cards,
                              "scheme": f"sinaweibo://cardlist?containerid={cid}", "showAppTips": 0}}


def search(sc: Scenario, cid: str, q: str, items: list[Status], page: int, next_page: int | None, total: int,
           size: int, now: datetime) -> dict:
    """getIndex containerid 100103: ITEMS (one page of hits), some as flat cards and the rest nested in a
    `card_group`, as the real site mixes them."""
    cards: list[dict] = []
    if page == 1:
        cards.append({"card_type": 11, "card_group": [{"card_type": 4, "desc": f"“{q}”的实时微博"}],
                      "itemid": "seqid:0"})
    split = zlib.crc32(f"{q}|{page}".encode()) % (len(items) + 1)
    cards += [card(s, sc, "100103", now) for s in items[:split]]
    nested = [card(s, sc, "100103", now) for s in items[split:]]
    if nested:
        cards.append({"card_type": 11, "show_type": 1, "card_group": nested, "itemid": f"seqid:{page}"})
    return {"ok": 1, "data": {"cardlistInfo": {"containerid": cid, "v_p": "42", "title_top": "实时",
                                               "page_size": size, "page": next_page, "total": total},
                              "cards": cards, "scheme": ""}}


def hotflow(sc: Scenario, st: Status, now: datetime, max_id: int, size: int, style: str) -> dict:
    """comments/hotflow for ST: SIZE root comments older than MAX_ID (0: the newest), each with its replies."""
    roots = [c for c in reversed(sc.root_comments.get(st.id, ())) if c.visible(now) and
             (not max_id or int(c.id) < max_id)]
    page, more = roots[:size], len(roots) > size
    data = []
    for i, c in enumerate(page):
        replies = [r for r in sc.replies.get(c.id, ()) if r.visible(now)]
        data.append(render.comment_json(c, sc, now, style, replies, floor=len(roots) - i))
    return {"ok": 1, "data": {"data": data, "total_number": sc.comment_count(st.id, now),
                              "max_id": int(page[-1].id) if more else 0, "max_id_type": 0}}


def reposts(sc: Scenario, st: Status, now: datetime, page: int, size: int) -> dict:
    """api/statuses/repostTimeline for ST, page PAGE (from 1) of SIZE."""
    reps = [s for s in sc.reposts.get(st.id, ()) if s.visible(now)]
    items = reps[(max(page, 1) - 1) * size: max(page, 1) * size]
    return {"ok": 1, "data": {"data": [render.mblog(s, sc, now) for s in items], "total_number": len(reps),
                              "hot_total_number": 0, "max": math.ceil(len(reps) / size)}}
