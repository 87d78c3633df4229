"""The corpus files beyond m.weibo.cn getIndex (PROVENANCE.md): weibo.cn pages, m.weibo.cn statuses/show and
/detail pages, 2017 s.weibo.com search in its two layouts, weibo.com v6 comment/repost/feed answers, refusal pages.

Every expected value below was read by hand from the raw file (an attribute, a link, a shown time), never copied
from the parser's output. Where a page shows only a relative time, the test gives the fetch time and checks the
time relative to it; where the page carries `date="<epoch ms>"` the exact instant is checked.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.exceptions import UnreadableFileError
from crawler.ids import mid_to_bid
from crawler.importer import parse_file

CORPUS = Path(__file__).parent / "corpus"
NB, WS, SC = CORPUS / "nonebot-bison", CORPUS / "weiboSpider", CORPUS / "SpiderClub-weibospider"
SH = timezone(timedelta(hours=8))
JUNE_2020 = datetime(2020, 6, 18, 23, 0, tzinfo=SH)  # weiboSpider recorded its profile pages on 2020-06-18


def _ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=SH).isoformat()


def _parse_cli(path: Path) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "matrix.cli.root", "parse", str(path)], capture_output=True, text=True,
                         timeout=120, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


# ------------------------------------------------------------------ weibo.cn


def test_weibo_cn_profile_first_page():
    f = parse_file(WS / "weibo_cn_profile_1669879400.html", fetched_at=JUNE_2020)
    assert f.kind == "weibo_cn_profile" and f.warnings == []
    posts = f.posts
    assert len(posts) == 10  # ten div.c#M_… blocks in the file
    first = posts[0]
    assert first.bid == "J74OAhxtL" and mid_to_bid(first.id) == "J74OAhxtL"
    # <span class="ct">06月17日 18:12&nbsp;来自绿洲APP</span>, fetched in June 2020
    assert first.created_at.isoformat() == "2020-06-17T18:12:00+08:00" and first.client == "绿洲APP"
    assert (first.user_id, first.screen_name) == ("1669879400", "Dear-迪丽热巴")
    assert (first.attitudes_count, first.reposts_count, first.comments_count) == (523801, 1000000, 393530)
    assert first.text == "#一起热爱就现在#给你们康康我眼前的画面[嘻嘻] 绿洲" and first.topics == ["一起热爱就现在"]
    assert posts[1].created_at.isoformat() == "2020-06-15T10:09:00+08:00" and posts[1].client == ""
    # 赞[0] 转发[0] 评论[0] on J5ykphxc8 are real zeros
    zero = next(p for p in posts if p.bid == "J5ykphxc8")
    assert (zero.attitudes_count, zero.reposts_count, zero.comments_count) == (0, 0, 0)


def test_weibo_cn_profile_full_dates_and_reposts():
    page2 = parse_file(WS / "weibo_cn_profile_1669879400_page2.html", fetched_at=JUNE_2020).posts
    # <span class="ct">2020-06-03 00:00&nbsp;来自生日动态</span>
    assert page2[0].bid == "J4PGk4yMw" and page2[0].created_at.isoformat() == "2020-06-03T00:00:00+08:00"
    assert page2[0].client == "生日动态" and page2[0].screen_name == "Dear-迪丽热巴"  # from <title>…的微博</title>
    page3 = parse_file(WS / "weibo_cn_profile_1669879400_page3.html", fetched_at=JUNE_2020).posts
    rt = next(p for p in page3 if p.bid == "J24zxbSsA")
    # 转发了 电视剧幸福触手可及 的微博; the original's 原文评论 link is weibo.cn/comment/J24pYpDpY
    assert rt.item_type == "repost" and mid_to_bid(rt.reposted_id) == "J24pYpDpY"
    assert rt.text.startswith("#幸福触手可及定档0519# 唯有热爱，不负韶华")  # the 转发理由, not the original's text
    # its own links 赞[480418] 转发[57012] 评论[40966]; the original's 赞[129675] is a span.cmt and not counted
    assert (rt.attitudes_count, rt.reposts_count, rt.comments_count) == (480418, 57012, 40966)
    assert rt.created_at.isoformat() == "2020-05-15T20:23:00+08:00"


def test_weibo_cn_comment_page_recorded_in_2025():
    f = parse_file(WS / "weibo_cn_comment_J5cVGuUNq.html", fetched_at=datetime(2025, 9, 20, 20, 0, tzinfo=SH))
    assert f.kind == "comment_html" and len(f.items) == 12  # twelve div.c#C_… blocks
    first = f.items[0]
    assert first.id == "4512413737386822" and mid_to_bid(first.post_id) == "J5cVGuUNq"
    # <a href="/luxchina">LUX力士</a>: the uid comes from the 举报 link's fuid=2184967550
    assert (first.user_id, first.screen_name, first.text) == ("2184967550", "LUX力士", "大家和迪迪一起保护动物[心]")  # <img alt=[心]>
    assert first.like_count == 18737 and first.created_at.isoformat() == "2020-06-05T11:12:14+08:00"
    year_less = next(c for c in f.items if c.region == "来自河南")  # 01月10日 12:43&nbsp;来自来自河南
    assert year_less.created_at.isoformat() == "2025-01-10T12:43:00+08:00"


# ------------------------------------------------------------------ m.weibo.cn statuses/show and /detail pages


@pytest.mark.parametrize("name,pid,bid,created", [
    ("weibo_show_4645748019299849_2023.json", "4645748019299849", "Kjc77D1jz", "2021-06-08T09:35:04+08:00"),
    ("weibo_show_4645748019299849.json", "4645748019299849", "Kjc77D1jz", "2021-06-08T09:35:04+08:00"),
    ("weibo_show_4649031014551911.json", "4649031014551911", "Kkzwhj69V", "2021-06-17T11:00:31+08:00"),
])
def test_statuses_show(name, pid, bid, created):
    rows = _parse_cli(NB / name)
    assert len(rows) == 1
    row = rows[0]
    assert (row["id"], row["bid"], row["created_at"]) == (pid, bid, created)
    assert (row["user_id"], row["screen_name"]) == ("6279793937", "明日方舟Arknights")
    assert row["is_long_text"] is True and "<a" not in row["text"] and "<span" not in row["text"]
    assert row["source_url"] == f"https://weibo.com/6279793937/{bid}"


@pytest.mark.parametrize("name,pid,created", [
    ("weibo_detail_page_4649031014551911.html", "4649031014551911", "2021-06-17T11:00:31+08:00"),
    ("weibo_detail_page_4645748019299849_2022-02.html", "4645748019299849", "2021-06-08T09:35:04+08:00"),
    ("weibo_detail_page_4645748019299849_2022-04.html", "4645748019299849", "2021-06-08T09:35:04+08:00"),
])
def test_m_weibo_cn_detail_pages(name, pid, created):
    f = parse_file(NB / name)
    assert f.kind == "detail_html" and [p.id for p in f.posts] == [pid]
    post = f.posts[0]
    assert post.created_at.isoformat() == created and post.user_id == "6279793937"
    assert post.screen_name == "明日方舟Arknights" and post.is_long_text is True


# ------------------------------------------------------------------ s.weibo.com before 2018


def test_s_weibo_com_2017_inline_layout():
    f = parse_file(SC / "s_weibo_search_inline_2017-05-11.html", fetched_at=datetime(2017, 5, 11, 10, 19, tzinfo=SH))
    assert f.kind == "search_html_2017" and len(f.posts) == 20 and f.warnings == []
    first = f.posts[0]
    # <div mid="4106162368327071" action-type="feed_list_item">, <a … href="http://weibo.com/2878821573/F2AjiyWfB…"
    # date="1494468860000" node-type="feed_list_item_date">4分钟前</a>, nick-name="明星娱乐小马甲"
    assert (first.id, first.user_id, first.bid) == ("4106162368327071", "2878821573", "F2AjiyWfB")
    assert first.created_at.isoformat() == _ms(1494468860000) == "2017-05-11T10:14:20+08:00"
    assert first.screen_name == "明星娱乐小马甲"
    assert first.text.startswith("陈羽凡公司发文\n一是为陈羽凡的行为道歉\n二是谴责卓伟")
    assert f.posts[-1].id == "4106154999054390" and f.posts[-1].created_at.isoformat() == _ms(1494467103000)


def test_s_weibo_com_2017_pagelet_layout():
    f = parse_file(SC / "s_weibo_search_pagelet_2017-05-11.html")
    assert f.kind == "search_html_2017" and len(f.posts) == 19
    first = f.posts[0]
    # inside STK.pageletM.view({"pid":"pl_weibo_direct",…}): href weibo.com/5836024019/EEVor8KVw,
    # title="2017-04-17 15:01" date="1492412515000", nick-name="财气网"
    assert (first.id, first.user_id, first.bid, first.screen_name) == (
        "4097537432087014", "5836024019", "EEVor8KVw", "财气网")
    assert first.created_at.isoformat() == _ms(1492412515000) == "2017-04-17T15:01:55+08:00"


# ------------------------------------------------------------------ weibo.com v6 answers


def test_weibo_com_v6_comment_list():
    fetched = datetime(2017, 5, 15, 15, 0, tzinfo=SH)
    f = parse_file(SC / "weibo_com_aj_comment_big_2017-05-15.json", fetched_at=fetched, parent_id="4107630000000000")
    assert f.kind == "pc_v6_comments" and len(f.items) == 19  # nineteen div[comment_id] in data.html
    first = f.items[0]
    assert (first.id, first.user_id, first.screen_name) == ("4107673492051317", "2477026804", "查無此人啊o0")
    assert first.text == "回复@厦丶:热评第一智障[微笑]不要乱传播伪科学好么" and first.mentions == ["厦丶"]
    assert first.created_at == fetched - timedelta(minutes=10)  # <div class="WB_from S_txt2">10分钟前 </div>
    assert first.post_id == "4107630000000000"
    older = parse_file(SC / "weibo_com_aj_comment_big_2017-05-13.json", fetched_at=datetime(2017, 5, 13, 12, 0,
                                                                                            tzinfo=SH))
    assert len(older.items) == 17 and older.items[0].created_at.isoformat() == "2017-05-12T10:14:00+08:00"


def test_weibo_com_v6_comment_list_mixed_times_and_root_comment_form():
    fetched = datetime(2017, 5, 14, 15, 30, tzinfo=SH)
    mixed = parse_file(SC / "weibo_com_aj_comment_big_2017-05-14.json", fetched_at=fetched).items
    # shown: 5月13日 22:18 / 33分钟前 / 今天 14:52
    assert [c.created_at.isoformat() for c in mixed[:3]] == [
        "2017-05-13T22:18:00+08:00", (fetched - timedelta(minutes=33)).isoformat(), "2017-05-14T14:52:00+08:00"]
    drag = parse_file(SC / "weibo_com_aj_comment_drag_2017-05-14.json", fetched_at=fetched)
    assert len(drag.items) == 15 and drag.items[0].id == "4107286299670091"
    assert drag.items[0].created_at.isoformat() == "2017-05-14T12:40:00+08:00"  # 今天 12:40
    assert drag.items[1].screen_name == "我是李东啊" and drag.items[1].text == "口技"


def test_weibo_com_v6_repost_lists():
    f = parse_file(SC / "weibo_com_aj_repost_big.json", parent_id="4107043030226377")
    assert f.kind == "pc_v6_reposts" and len(f.posts) == 20
    first = f.posts[0]
    # mid="4107950002427181", <a … title="2017-05-16 08:37" date="1494895065000" href="/1796500312/F3kOAabq5">
    assert (first.id, first.user_id, first.bid, first.screen_name) == (
        "4107950002427181", "1796500312", "F3kOAabq5", "Joah711")
    assert first.created_at.isoformat() == _ms(1494895065000) == "2017-05-16T08:37:45+08:00"
    assert first.text.startswith("哈哈哈哈哈//@扒皮王:科普了//@黄磊子:感谢最右[憧憬]")
    assert first.mentions[:2] == ["扒皮王", "黄磊子"] and first.reposted_id == "4107043030226377"
    emo = parse_file(SC / "weibo_com_aj_repost_big_emoticons.json").posts
    assert len(emo) == 20 and emo[-1].id == "4108086119741790"
    assert emo[-1].created_at.isoformat() == _ms(1494927518000) and emo[-1].user_id == "2792640303"


def test_weibo_com_v6_profile_feeds():
    f = parse_file(SC / "weibo_com_profile_feed_async_1163218074.json")
    assert f.kind == "pc_v6_feed" and len(f.posts) == 15
    first = f.posts[0]
    # <a date="1493630875000" href="/1163218074/F16SkhU26?…" title="2017-05-01 17:27"> 5月1日 17:27</a>
    # 来自 <a action-type="app_source">微博 weibo.com</a>
    assert (first.id, first.user_id, first.bid) == ("4102647604266970", "1163218074", "F16SkhU26")
    assert first.created_at.isoformat() == "2017-05-01T17:27:55+08:00" and first.client == "微博 weibo.com"
    assert first.screen_name == "余丰慧" and first.text.startswith("#慧眼财经# 发布了头条文章")
    assert "慧眼财经" in first.topics
    page = parse_file(SC / "weibo_com_profile_page_2811342974.html")
    assert page.kind == "pc_v6_profile" and len(page.posts) == 15
    assert (page.posts[0].id, page.posts[0].bid) == ("4104440569042430", "F1RwcBWlE")
    assert page.posts[0].created_at.isoformat() == _ms(1494058351000)
    assert page.posts[-1].id == "4100324924487737"


# ------------------------------------------------------------------ pages with nothing to import


@pytest.mark.parametrize("name,reason", [
    ("refusal_busy.html", "网络繁忙"),
    ("refusal_banned.html", "帐号存在异常"),
    ("refusal_access_denied.html", "访问受限"),
    ("refusal_login_error_gbk.html", "login page"),
    ("weibo_com_profile_page_1854706423.html", "without a feed pagelet"),
])
def test_refusal_and_empty_pages_are_named(name, reason):
    with pytest.raises(UnreadableFileError, match=reason):
        parse_file(SC / name)


def test_one_bad_item_is_named_and_the_rest_kept(tmp_path):
    raw = json.loads((SC / "weibo_com_aj_repost_big.json").read_text(encoding="utf-8"))
    # the second repost's time link loses its date, title and text: nothing left to read its time from
    raw["data"]["html"] = re.sub(r'<a[^>]*date="1494895056000"[^>]*>[^<]*</a>', '<a href="/5860569791/F3kOwiFsc"></a>',
                                 raw["data"]["html"])
    bad = tmp_path / "reposts.json"
    bad.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    f = parse_file(bad)
    assert len(f.posts) == 19
    assert len(f.warnings) == 1 and "4107949964449256" in f.warnings[0] and "WB_from date" in f.warnings[0]
    assert str(bad) in f.warnings[0]
