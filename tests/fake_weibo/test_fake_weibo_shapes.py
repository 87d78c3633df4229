"""The fake server answers in the shapes of shared/docs/weibo-api.md, with working paging and ends."""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

import httpx
import pytest
from bs4 import BeautifulSoup

from crawler.fake_weibo import bid_to_mid, mid_to_bid

API_DATE = "%a %b %d %H:%M:%S %z %Y"
RELATIVE = re.compile(r"^(刚刚|\d+秒前|\d+分钟前|\d+小时前|今天 \d\d:\d\d|昨天 \d\d:\d\d|\d\d-\d\d|\d\d月\d\d日 \d\d:\d\d|"
                      r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)( 来自\S+)?$")


@pytest.fixture
def client(fake_weibo):
    with httpx.Client(base_url=fake_weibo.base_url, timeout=5) as c:
        yield c


def _timeline(client, uid, since_id=None):
    params = {"containerid": f"107603{uid}"}
    if since_id is not None:
        params["since_id"] = since_id
    return client.get("/api/container/getIndex", params=params).json()


def _mblogs(cards):
    out = []
    for card in cards:
        if card.get("card_type") == 9:
            out.append(card["mblog"])
        for sub in card.get("card_group") or []:
            if sub.get("card_type") == 9:
                out.append(sub["mblog"])
    return out


def _check_mblog(m):
    assert isinstance(m["id"], str) and re.fullmatch(r"\d{16}", m["id"])
    assert m["mid"] == m["id"]
    assert bid_to_mid(m["bid"]) == m["id"]
    datetime.strptime(m["created_at"], API_DATE)
    assert isinstance(m["user"]["id"], int) and m["user"]["screen_name"]
    assert isinstance(m["isLongText"], bool)
    if m["isLongText"]:
        assert m["text"].endswith("全文</a>")


def test_timeline_pages_to_the_end_without_repeats(fake_weibo, client):
    sc = fake_weibo.scenario
    uid = max(sc.timelines, key=lambda u: len(sc.timelines[u]) if u in {m.uid for m in sc.members} else -1)
    now = fake_weibo.clock.now()
    expected = [s.id for s in sc.timelines[uid] if s.visible(now)]
    fake_weibo.page_timeline = 3  # force several pages
    seen, since, pages = [], None, 0
    while True:
        body = _timeline(client, uid, since)
        assert body["ok"] == 1
        blogs = _mblogs(body["data"]["cards"])
        for m in blogs:
            _check_mblog(m)
        seen += [m["id"] for m in blogs if not m.get("isTop")]
        pages += 1
        since = body["data"]["cardlistInfo"].get("since_id")
        if since is None:
            break
        assert isinstance(since, int)
    assert pages >= 2
    assert seen == expected  # newest first, all of them, once each
    # past the end: an empty card list
    past = _timeline(client, uid, int(expected[-1]))
    assert past["ok"] == 1 and past["data"]["cards"] == []


def test_pinned_post_first_on_first_page_only(fake_weibo, client):
    sc = fake_weibo.scenario
    uid = next(u for u in sc.pinned if u != sc.coordinator.uid)
    first = _timeline(client, uid)
    blogs = _mblogs(first["data"]["cards"])
    assert blogs[0]["isTop"] == 1 and blogs[0]["mblogtype"] == 2 and blogs[0]["title"]["text"] == "置顶"
    assert int(blogs[0]["id"]) < int(blogs[1]["id"])  # older than what follows it
    since = first["data"]["cardlistInfo"].get("since_id")
    if since:
        assert not any(m.get("isTop") for m in _mblogs(_timeline(client, uid, since)["data"]["cards"]))
    assert any(c["card_type"] != 9 for c in first["data"]["cards"])  # not every card is a post


def test_profile_and_unknown_uid(fake_weibo, client):
    m = fake_weibo.scenario.members[0]
    body = client.get("/api/container/getIndex", params={"containerid": f"100505{m.uid}"}).json()
    info = body["data"]["userInfo"]
    assert info["id"] == int(m.uid) and info["screen_name"] == m.screen_name and info["verified"] is True
    by_value = client.get("/api/container/getIndex", params={"type": "uid", "value": m.uid}).json()
    assert by_value["data"]["userInfo"]["screen_name"] == m.screen_name
    assert client.get("/api/container/getIndex", params={"containerid": "1005050000000001"}).json() == \
        {"ok": 0, "msg": "这里还没有内容"}


def test_realtime_search_nests_card_groups_and_pages(fake_weibo, client):
    sc = fake_weibo.scenario
    name = max(sc.mentions, key=lambda n: len(sc.mentions[n]) if n in sc.by_name else -1)
    fake_weibo.page_search = 2
    cid = f"100103type=61&q=@{name}&t=0"
    ids, page, nested = [], 1, False
    while True:
        body = client.get("/api/container/getIndex", params={"containerid": cid, "page_type": "searchall",
                                                              "page": page}).json()
        if body["ok"] == 0:
            assert body["msg"] == "这里还没有内容"
            break
        nested |= any(c.get("card_group") and c["card_group"][0].get("card_type") == 9 for c in body["data"]["cards"])
        blogs = _mblogs(body["data"]["cards"])
        for m in blogs:
            _check_mblog(m)
            assert f"@{name}" in m["text"] or f"@{name}" in m.get("raw_text", "")
        ids += [m["id"] for m in blogs]
        page += 1
    assert len(ids) >= 3 and nested
    assert ids == sorted(ids, key=int, reverse=True) and len(set(ids)) == len(ids)
    # the same query url-encoded once more inside containerid (as some crawlers send it) gives the same first page
    enc = client.get(f"/api/container/getIndex?containerid=100103type%3D61%26q%3D{quote(quote('@' + name))}%26t%3D0"
                     f"&page_type=searchall&page=1").json()
    assert [m["id"] for m in _mblogs(enc["data"]["cards"])] == ids[:2]
    over = client.get("/api/container/getIndex", params={"containerid": cid, "page": 51}).json()
    assert over["ok"] == 0


def test_hotflow_pages_with_max_id_and_relative_dates(fake_weibo_factory):
    fw = fake_weibo_factory(page_comments=2, comment_dates="relative")
    sc = fw.scenario
    now = fw.clock.now()
    visible = {p: [c.id for c in cs if c.visible(now)] for p, cs in sc.root_comments.items() if sc.statuses[p].visible(now)}
    post = max(visible, key=lambda p: len(visible[p]))
    roots = visible[post]
    assert len(roots) >= 3
    got, max_id = [], None
    with httpx.Client(base_url=fw.base_url) as client:
        while True:
            params = {"id": post, "mid": post, "max_id_type": 0}
            if max_id:
                params["max_id"] = max_id
            body = client.get("/comments/hotflow", params=params).json()
            assert body["ok"] == 1
            for c in body["data"]["data"]:
                assert isinstance(c["id"], str) and RELATIVE.match(c["created_at"]), c["created_at"]
                assert c["comments"] is False or all(r["reply_id"] for r in c["comments"])
                got.append(c["id"])
            max_id = body["data"]["max_id"]
            if max_id == 0:
                break
    assert got == sorted(roots, key=int, reverse=True)


def test_hotflow_replies_and_date_forms(fake_weibo, client):
    sc = fake_weibo.scenario
    row = next(r for r in sc.truth_at(fake_weibo.clock.now()) if r["followups"] and not r["deleted_at"])
    fake_weibo.page_comments = 50
    body = client.get("/comments/hotflow", params={"id": row["post_id"], "mid": row["post_id"]}).json()
    replies = [r for c in body["data"]["data"] if c["comments"] for r in c["comments"]]
    assert row["followups"][0]["id"] in {r["id"] for r in replies}
    for c in body["data"]["data"]:
        ok_full = True
        try:
            datetime.strptime(c["created_at"], API_DATE)
        except ValueError:
            ok_full = False
        assert ok_full or RELATIVE.match(c["created_at"])


def test_reposts_extend_show_resolve_config(fake_weibo, client):
    sc = fake_weibo.scenario
    now = fake_weibo.clock.now()
    post = next(p for p, reps in sc.reposts.items() if any(r.visible(now) for r in reps) and sc.statuses[p].visible(now))
    body = client.get("/api/statuses/repostTimeline", params={"id": post, "page": 1}).json()
    assert body["ok"] == 1 and body["data"]["max"] >= 1 and body["data"]["data"]
    assert all(m["retweeted_status"]["id"] for m in body["data"]["data"])
    beyond = client.get("/api/statuses/repostTimeline", params={"id": post, "page": body["data"]["max"] + 1}).json()
    assert beyond["data"]["data"] == []

    long = next(s for s in sc.statuses.values() if len(s.text) > 140 and s.visible(now))
    ext = client.get("/statuses/extend", params={"id": long.id}).json()
    assert ext["ok"] == 1 and "全文" not in ext["data"]["longTextContent"]
    assert len(BeautifulSoup(ext["data"]["longTextContent"], "html.parser").get_text()) > 140
    show = client.get("/statuses/show", params={"id": mid_to_bid(long.id)}).json()
    assert show["data"]["id"] == long.id and show["data"]["isLongText"] is True

    m = sc.members[1]
    r = client.get(f"/n/{m.screen_name}")
    assert r.status_code == 302 and r.headers["location"] == f"/u/{m.uid}"
    assert client.get("/api/config").json()["data"]["login"] is False
    assert client.get("/api/config", headers={"Cookie": "SUB=_2A25x"}).json()["data"]["login"] is True


def test_text_html_forms(fake_weibo, client):
    sc = fake_weibo.scenario
    now = fake_weibo.clock.now()
    html = " ".join(client.get("/statuses/show", params={"id": s.id}).json()["data"]["text"]
                    for s in sc.statuses.values() if s.kind == "citizen" and s.visible(now))
    assert re.search(r"<a href='/n/[^']+'>@[^<]+</a>", html)
    assert '<span class="surl-text">#' in html
    assert '<span class="url-icon"><img alt=[' in html


def test_search_html_cards_next_and_no_result(fake_weibo, client):
    sc = fake_weibo.scenario
    name = max(sc.mentions, key=lambda n: len(sc.mentions[n]) if n in sc.by_name else -1)
    walled = client.get("/weibo", params={"q": f"@{name}"})
    assert walled.status_code == 302 and "passport.weibo.com" in walled.headers["location"]
    fake_weibo.page_search = 2
    cookies = {"Cookie": "SUB=_2A25x"}
    soup = BeautifulSoup(client.get("/weibo", params={"q": f"@{name}", "page": 1}, headers=cookies).text, "html.parser")
    cards = soup.select("div.card-wrap[mid]")
    assert len(cards) == 2 and soup.select_one("a.next")["href"].endswith("page=2")
    assert all(re.fullmatch(r"\d{16}", c["mid"]) for c in cards)
    none = BeautifulSoup(client.get("/weibo", params={"q": "没有这个词"}, headers=cookies).text, "html.parser")
    assert none.select_one("div.card-no-result") and not none.select("div.card-wrap[mid]")


def test_sim_endpoints(fake_weibo, client):
    truth = client.get("/__sim/truth").json()
    assert truth == fake_weibo.scenario.truth
    roster = client.get("/__sim/roster.csv").text.splitlines()
    assert roster[0] == "uid,screen_name,name,department,category,role,contacts"
    assert len(roster) == 1 + len(fake_weibo.scenario.accounts)
    stats = client.get("/__sim/stats").json()
    assert stats["requests"]["sim"] >= 3
    client.get("/api/config")
    assert fake_weibo.stats["requests"]["config"] == 1
