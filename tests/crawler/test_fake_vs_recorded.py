"""The fake Weibo server (crawler/fake_weibo) against responses the real site sent (tests/crawler/corpus): shape by
shape, every key our parsers read that the recording has must be in the fake's answer with a value of the same JSON
type (ids as text, counts as numbers, `user.id` a number, and so on). Keys the real site sends in either of two
types (a count as `"100万+"`) are allowed either way only where the recordings or the API notes show both."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.ids import mid_to_bid
from crawler.timeparse import API_FORMAT

CORPUS = Path(__file__).parent / "corpus"
NB = CORPUS / "nonebot-bison"

# keys read by crawler.types.Post/User.from_payload and crawler.parsers.parse_index / parse_long_text
MBLOG_KEYS = ("id", "mid", "bid", "created_at", "text", "isLongText", "user", "source", "reposts_count",
              "comments_count", "attitudes_count", "mblogtype", "retweeted_status", "isTop", "title", "region_name")
USER_KEYS = ("id", "screen_name", "followers_count", "verified", "verified_reason", "description",
             "statuses_count", "gender")
# the real site sends these as a number or as text ("100万+", "1.2万")
# keys a post has only sometimes (a repost, a pinned post): compared when both sides have one
OPTIONAL = {"retweeted_status", "isTop", "title"}
EITHER_NUMBER_OR_TEXT = {"reposts_count", "comments_count", "attitudes_count", "followers_count", "statuses_count",
                         "since_id"}


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return {str: "text", dict: "object", list: "list"}[type(v)]


def _compare(where: str, real: dict, fake: dict, keys: tuple[str, ...], problems: list[str]) -> None:
    for k in keys:
        if k not in real:
            continue
        if k not in fake:
            if k in OPTIONAL:
                continue
            problems.append(f"{where}.{k}: in the recording, missing from the fake")
            continue
        rk, fk = _kind(real[k]), _kind(fake[k])
        if rk != fk and not (k in EITHER_NUMBER_OR_TEXT and {rk, fk} <= {"number", "text"}):
            problems.append(f"{where}.{k}: recorded {rk} ({real[k]!r:.40}), fake {fk} ({fake[k]!r:.40})")


def _relations(where: str, m: dict) -> list[str]:
    """What holds between a post's fields on the real site: 16-digit text ids, `bid` the base62 form of `mid`,
    `created_at` in the API's one format."""
    out = []
    if not (isinstance(m.get("id"), str) and m["id"].isdigit() and len(m["id"]) == 16):
        out.append(f"{where}.id: not a 16-digit text id ({m.get('id')!r})")
    if m.get("bid") is not None and m.get("mid") and m["bid"] != mid_to_bid(m["mid"]):
        out.append(f"{where}.bid: {m['bid']!r} is not the base62 form of mid {m['mid']!r}")
    try:
        datetime.strptime(m.get("created_at") or "", API_FORMAT)
    except ValueError:
        out.append(f"{where}.created_at: {m.get('created_at')!r} not in the API format")
    return out


def _compare_mblog(where: str, real: dict, fake: dict, problems: list[str]) -> None:
    _compare(where, real, fake, MBLOG_KEYS, problems)
    if not _relations(where, real):  # what holds in the recording must hold in the fake
        problems.extend(_relations(f"{where} (fake)", fake))
    if isinstance(real.get("user"), dict) and isinstance(fake.get("user"), dict):
        _compare(f"{where}.user", real["user"], fake["user"], USER_KEYS, problems)


def _get(fake_weibo, path: str) -> dict:
    req = urllib.request.Request(fake_weibo.url(path))
    if path.startswith("/ajax/"):  # weibo.com's double submit: the XSRF-TOKEN cookie echoed in a header
        req.add_header("Cookie", "XSRF-TOKEN=recorded-shapes")
        req.add_header("X-XSRF-TOKEN", "recorded-shapes")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read().decode("utf-8"))


def _recorded(name: str) -> dict:
    return json.loads((NB / name).read_text(encoding="utf-8"))


def _mblogs(cards: list) -> list[dict]:
    out = []
    for c in cards:
        if c.get("card_type") == 9 and isinstance(c.get("mblog"), dict):
            out.append(c["mblog"])
        out.extend(_mblogs(c.get("card_group") or []))
    return out


@pytest.fixture
def fake_weibo(fake_weibo_factory):
    return fake_weibo_factory(page_timeline=3)  # small pages, so the first one carries a since_id as the real did


@pytest.fixture
def account(fake_weibo) -> tuple[str, list]:
    sc = fake_weibo.scenario
    now = fake_weibo.clock.now()
    uid = max(sc.timelines, key=lambda u: sum(1 for s in sc.timelines[u] if s.visible(now)))
    return uid, [s for s in sc.timelines[uid] if s.visible(now)]


def test_timeline_cards_match_the_recordings(fake_weibo, account):
    uid, _ = account
    fake = _get(fake_weibo, f"/api/container/getIndex?containerid=107603{uid}")
    problems: list[str] = []
    for name in ("weibo_ak_list_0.json", "weibo_ak_list_1.json", "weibo_ys_list_0.json"):
        real = _recorded(name)
        _compare(f"{name}:data", real["data"], fake["data"], ("cards", "cardlistInfo"), problems)
        _compare(f"{name}:cardlistInfo", real["data"]["cardlistInfo"], fake["data"]["cardlistInfo"],
                 ("since_id", "containerid"), problems)
        real_card = next(c for c in real["data"]["cards"] if c.get("card_type") == 9)
        fake_card = next(c for c in fake["data"]["cards"] if c.get("card_type") == 9)
        _compare(f"{name}:card", real_card, fake_card, ("card_type", "mblog", "itemid", "scheme"), problems)
        fake_posts = _mblogs(fake["data"]["cards"])
        for real_mblog in _mblogs(real["data"]["cards"]):
            fake_like = next((m for m in fake_posts if bool(m.get("retweeted_status")) == bool(
                real_mblog.get("retweeted_status"))), fake_posts[0])
            _compare_mblog(f"{name}:mblog", real_mblog, fake_like, problems)
            rs = real_mblog.get("retweeted_status")
            fake_rs = next((m["retweeted_status"] for m in fake_posts if isinstance(m.get("retweeted_status"), dict)
                            and m["retweeted_status"].get("user")), None)
            if isinstance(rs, dict) and fake_rs is not None:
                _compare_mblog(f"{name}:retweeted_status", rs, fake_rs, problems)
    assert sorted(set(problems)) == [], "\n".join(sorted(set(problems)))


def test_profile_matches_the_recording(fake_weibo, account):
    uid, _ = account
    fake = _get(fake_weibo, f"/api/container/getIndex?containerid=100505{uid}")
    real = _recorded("weibo_ak_profile.json")
    problems: list[str] = []
    _compare("profile.userInfo", real["data"]["userInfo"], fake["data"]["userInfo"], USER_KEYS, problems)
    assert problems == []


def test_show_and_extend_match_the_recordings(fake_weibo, account):
    _, posts = account
    long_post = next((s for s in posts if len(s.text) > 140), posts[0])
    problems: list[str] = []
    fake_show = _get(fake_weibo, f"/statuses/show?id={long_post.id}")
    for name in ("weibo_show_4645748019299849.json", "weibo_show_4645748019299849_2023.json",
                 "weibo_show_4649031014551911.json"):
        real = _recorded(name)
        _compare(f"{name}", real, fake_show, ("ok", "data"), problems)
        _compare_mblog(f"{name}:data", real["data"], fake_show["data"], problems)
    fake_ext = _get(fake_weibo, f"/statuses/extend?id={long_post.id}")
    for name in ("weibo_extend_4645748019299849.json", "weibo_extend_4649031014551911.json"):
        real = _recorded(name)
        _compare(f"{name}:data", real["data"], fake_ext["data"],
                 ("ok", "longTextContent", "reposts_count", "comments_count", "attitudes_count"), problems)
    assert sorted(set(problems)) == [], "\n".join(sorted(set(problems)))


def test_the_comparison_can_fail():
    problems: list[str] = []
    _compare_mblog("m", {"id": "1", "user": {"id": 5}, "isLongText": True}, {"id": 1, "user": {"id": "5"}},
                   problems)
    assert problems == ["m.id: recorded text ('1'), fake number (1)", "m.isLongText: in the recording, missing from "
                        "the fake", "m.user.id: recorded number (5), fake text ('5')"]


def test_the_relations_can_fail():
    assert _relations("m", {"id": "4645748019299849", "mid": "4645748019299849", "bid": "Kjc77D1jz",
                            "created_at": "Tue Jun 08 09:35:04 +0800 2021"}) == []
    assert len(_relations("m", {"id": 4645748019299849, "mid": "4645748019299849", "bid": "Kjc77D1jA",
                                "created_at": "2021-06-08 09:35"})) == 3


# ------------------------------------------------------------------ weibo.com ajax (PROVENANCE.md)

PC_MBLOG_KEYS = ("id", "idstr", "mid", "mblogid", "created_at", "text", "text_raw", "textLength", "isLongText", "user",
                 "source", "reposts_count", "comments_count", "attitudes_count", "mblogtype", "retweeted_status",
                 "isTop", "region_name")
PC_USER_KEYS = ("id", "idstr", "screen_name", "verified", "verified_type")
PC_MYMBLOG = CORPUS / "NBuddha" / "weibo_com_ajax_mymblog_2339808364_2022-04.json"
PC_LONGTEXT = CORPUS / "weiback-rs" / "weibo_com_ajax_longtext_2023-05.json"


def _pc_relations(where: str, m: dict) -> list[str]:
    """On weibo.com: `id` a number, `idstr` its 16-digit text, `mblogid` the base62 form of `mid`, the API's time
    format."""
    out = []
    if not (isinstance(m.get("idstr"), str) and m["idstr"].isdigit() and len(m["idstr"]) == 16):
        out.append(f"{where}.idstr: not a 16-digit text id ({m.get('idstr')!r})")
    if not isinstance(m.get("id"), int) or str(m.get("id")) != m.get("idstr"):
        out.append(f"{where}.id: not the number of idstr ({m.get('id')!r})")
    if m.get("mblogid") and m.get("mid") and m["mblogid"] != mid_to_bid(str(m["mid"])):
        out.append(f"{where}.mblogid: {m['mblogid']!r} is not the base62 form of mid {m['mid']!r}")
    try:
        datetime.strptime(m.get("created_at") or "", API_FORMAT)
    except ValueError:
        out.append(f"{where}.created_at: {m.get('created_at')!r} not in the API format")
    return out


def _get_or_skip(fake_weibo, path: str) -> dict:
    try:
        return _get(fake_weibo, path)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            pytest.skip(f"the fake Weibo does not serve {path.split('?')[0]} (yet)")
        raise


def test_pc_mymblog_and_longtext_match_the_recordings(fake_weibo, account):
    missing = [p.name for p in (PC_MYMBLOG, PC_LONGTEXT) if not p.exists()]
    if missing:
        pytest.skip(f"recordings not in this checkout (see PROVENANCE.md): {missing}")
    uid, _ = account
    fake = _get_or_skip(fake_weibo, f"/ajax/statuses/mymblog?uid={uid}&page=1&feature=0")
    real = json.loads(PC_MYMBLOG.read_text(encoding="utf-8"))
    problems: list[str] = []
    _compare("mymblog", real, fake, ("ok", "data"), problems)
    _compare("mymblog.data", real["data"], fake["data"], ("list", "since_id"), problems)
    fake_items = [m for m in fake["data"].get("list") or [] if isinstance(m, dict)]
    assert fake_items, "the fake's mymblog page lists no post"
    for real_item in real["data"]["list"]:
        like = next((m for m in fake_items if bool(m.get("retweeted_status")) == bool(real_item.get(
            "retweeted_status"))), fake_items[0])
        _compare("mymblog.item", real_item, like, PC_MBLOG_KEYS, problems)
        if not _pc_relations("mymblog.item", real_item):
            problems.extend(_pc_relations("mymblog.item (fake)", like))
        _compare("mymblog.item.user", real_item["user"], like.get("user") or {}, PC_USER_KEYS, problems)
    bid = fake_items[0].get("mblogid")
    fake_lt = _get_or_skip(fake_weibo, f"/ajax/statuses/longtext?id={bid}")
    real_lt = json.loads(PC_LONGTEXT.read_text(encoding="utf-8"))
    _compare("longtext", real_lt, fake_lt, ("ok", "data"), problems)
    _compare("longtext.data", real_lt["data"], fake_lt.get("data") or {}, ("longTextContent",), problems)
    assert sorted(set(problems)) == [], "\n".join(sorted(set(problems)))


def test_the_pc_relations_can_fail():
    ok = {"id": 4756591049703600, "idstr": "4756591049703600", "mid": "4756591049703600", "mblogid": "LnKbSEIlG",
          "created_at": "Sun Apr 10 06:25:41 +0800 2022"}  # the mymblog recording's second item
    assert _pc_relations("m", ok) == []
    assert len(_pc_relations("m", {**ok, "id": "4756591049703600", "mblogid": "LnKbSEIlH",
                                   "created_at": "2022-04-10 06:25"})) == 3


STABLOG_LONGTEXT = (CORPUS / "stablog" / "weibo_com_ajax_longtext_2026-08.json",
                    CORPUS / "stablog" / "weibo_com_ajax_longtext_markdown_2026.json")


def test_pc_longtext_matches_the_committed_recordings(fake_weibo, account):
    """weibo.com ajax/statuses/longtext against the two answers stablog keeps (plain and Markdown), which are in
    this checkout whatever becomes of the weiback-rs one."""
    uid, _ = account
    fake = _get_or_skip(fake_weibo, f"/ajax/statuses/mymblog?uid={uid}&page=1&feature=0")
    items = [m for m in (fake.get("data") or {}).get("list") or [] if isinstance(m, dict)]
    assert items, "the fake's mymblog page lists no post"
    fake_lt = _get_or_skip(fake_weibo, f"/ajax/statuses/longtext?id={items[0].get('mblogid')}")
    problems: list[str] = []
    for path in STABLOG_LONGTEXT:
        real = json.loads(path.read_text(encoding="utf-8"))
        _compare(f"longtext[{path.name}]", real, fake_lt, ("ok", "data"), problems)
        _compare(f"longtext[{path.name}].data", real["data"], fake_lt.get("data") or {}, ("longTextContent",),
                 problems)
    assert sorted(set(problems)) == [], "\n".join(sorted(set(problems)))


# ------------------------------------------------------------------ getIndex card_group (PROVENANCE.md)

HOT = CORPUS / "Weibo_PublicOpinion_AnalysisSystem" / "m_weibo_cn_getindex_realtimehot_2025-08-14.json"


def test_search_envelope_matches_the_recorded_card_group_page(fake_weibo_factory):
    """The fake's search page (getIndex 100103) against the real hot-search list of 2025-08-14: the `card_type: 11`
    card holding `card_group`, the topic card (`card_type: 4` with `desc`) in it, and `cardlistInfo` with
    `page: null` on the last page (the recording is a last page; the fake's one-page answer must be one too)."""
    server = fake_weibo_factory(page_search=500)
    sc = server.scenario
    now = server.clock.now()
    q = next(m.screen_name for m in sc.members if server.search(m.screen_name, now))
    fake = _get(server, "/api/container/getIndex?containerid=" + urllib.parse.quote(f"100103type=61&q={q}&t=0", safe="")
                + "&page_type=searchall")
    real = json.loads(HOT.read_text(encoding="utf-8"))
    problems: list[str] = []
    _compare("hot", real, fake, ("ok", "data"), problems)
    _compare("hot.data", real["data"], fake["data"], ("cards", "cardlistInfo", "scheme"), problems)
    real_info, fake_info = real["data"]["cardlistInfo"], fake["data"]["cardlistInfo"]
    _compare("hot.cardlistInfo", real_info, fake_info, ("containerid", "v_p", "total", "page", "page_size",
                                                        "title_top"), problems)
    real_group = real["data"]["cards"][0]
    fake_group = next(c for c in fake["data"]["cards"] if c.get("card_type") == 11 and any(
        g.get("card_type") == 4 for g in c.get("card_group") or []))
    _compare("hot.card", real_group, fake_group, ("card_type", "card_group", "itemid"), problems)
    real_topic = real_group["card_group"][0]
    fake_topic = next(g for g in fake_group["card_group"] if g.get("card_type") == 4)
    _compare("hot.card.topic", real_topic, fake_topic, ("card_type", "desc"), problems)
    assert sorted(set(problems)) == [], "\n".join(sorted(set(problems)))
