"""weibo.com ajax answers recorded from the real site (PROVENANCE.md): `ajax/statuses/mymblog` (NBuddha, April
2022), `ajax/statuses/longtext` and `ajax/favorites/all_fav` (weiback-rs, May 2023), read by `parse_mymblog`,
`parse_pc_longtext`, `parse_pc_status_list` and by `wzmon parse`.

Every expected value was read by hand from the raw JSON (`idstr`, `created_at`, `user`, `isLongText`,
`retweeted_status.idstr`, `text_raw`, `source`, `region_name`, the counts), never copied from the parser's output.

The mymblog and favorites files come from repository snapshots which, by the terms of the tool that fetched them,
developers do not commit: whoever may commit them places them where PROVENANCE.md names them; until then their tests
skip, saying so. The longtext answer was later copied by the file look-up (`read_file`), which may be committed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from crawler.importer import parse_file
from crawler.pc_parsers import parse_mymblog, parse_pc_longtext, parse_pc_show, parse_pc_status_list

CORPUS = Path(__file__).parent / "corpus"
MYMBLOG = CORPUS / "NBuddha" / "weibo_com_ajax_mymblog_2339808364_2022-04.json"
LONGTEXT = CORPUS / "weiback-rs" / "weibo_com_ajax_longtext_2023-05.json"
FAVS = CORPUS / "weiback-rs" / "weibo_com_ajax_favorites_2023-05-31.json"


def _needs(*paths: Path) -> pytest.MarkDecorator:
    """Skip unless every recording in PATHS is in this checkout (PROVENANCE.md says which are and why)."""
    missing = [p.relative_to(CORPUS).as_posix() for p in paths if not p.exists()]
    return pytest.mark.skipif(bool(missing), reason=f"recordings not in this checkout (see PROVENANCE.md): {missing}")


# mymblog, read by hand: each list item's idstr, mblogid, created_at and retweeted_status.idstr
MYMBLOG_ITEMS = [
    ("4455061574402587", "In6oZitjt", "Mon Dec 30 04:55:13 +0800 2019", None),  # pinned (isTop 1, mblogtype 2)
    ("4756591049703600", "LnKbSEIlG", "Sun Apr 10 06:25:41 +0800 2022", "4756400783232375"),
    ("4756590916272346", "LnKbFqjIS", "Sun Apr 10 06:25:10 +0800 2022", "4755201699613699"),
    ("4756390893326507", "LnEZ3dXnl", "Sat Apr 09 17:10:21 +0800 2022", "4756304176349518"),
    ("4756390712709880", "LnEYLbmXK", "Sat Apr 09 17:09:38 +0800 2022", "4756365464308938"),
    ("4756296098122833", "LnCw9y57r", "Sat Apr 09 10:53:40 +0800 2022", "4756042041263725"),
    ("4756295896796158", "LnCvPsvZs", "Sat Apr 09 10:52:52 +0800 2022", "4756091574946384"),
    ("4756281032967245", "LnC7RcrUN", "Sat Apr 09 09:53:48 +0800 2022", "4756068792008917"),
    ("4756071060607893", "LnwFc2y8J", "Fri Apr 08 19:59:27 +0800 2022", "4755965931161112"),
    ("4756069492984400", "LnwCFcwnu", "Fri Apr 08 19:53:13 +0800 2022", "4755961766219888"),
    ("4756069400708730", "LnwCw2Yn8", "Fri Apr 08 19:52:51 +0800 2022", "4755953319415644"),
]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@_needs(MYMBLOG)
def test_mymblog_as_the_site_sent_it():
    page = parse_mymblog(_load(MYMBLOG), None)
    assert page.warnings == []
    assert page.since_id is None  # "since_id": "" — the last page
    assert [(p.id, p.bid) for p in page.posts] == [(i, b) for i, b, _, _ in MYMBLOG_ITEMS]
    for post, (_id, _bid, created, reposted) in zip(page.posts, MYMBLOG_ITEMS):
        assert post.created_at == datetime.strptime(created, "%a %b %d %H:%M:%S %z %Y")
        assert post.created_at.utcoffset() == timedelta(hours=8)
        assert (post.user_id, post.screen_name) == ("2339808364", "恩匹希桑")
        assert post.reposted_id == reposted
        assert post.is_long_text is False  # every list item has "isLongText": false
        assert post.client == "iPhone XR"
        assert post.source_url == f"https://weibo.com/2339808364/{_bid}"
    first = page.posts[0]
    assert first.is_pinned is True
    assert all(not p.is_pinned for p in page.posts[1:])
    # text_raw "女菩萨只是…\n英雄！留下你的足记！\n立贴为誓 永久有效！ \u200b\u200b" — the padding goes, the lines stay
    assert first.text == "女菩萨只是我们增进友谊的桥梁！\n英雄！留下你的足记！\n立贴为誓 永久有效！"
    assert (first.reposts_count, first.comments_count, first.attitudes_count) == (85, 4022, 13920)
    second = page.posts[1]  # text: //<a href=/n/PatchouliTS阿CC>@PatchouliTS阿CC</a>:转发微博
    assert second.text == "//@PatchouliTS阿CC:转发微博" and second.mentions == ["PatchouliTS阿CC"]
    assert (second.reposts_count, second.comments_count, second.attitudes_count) == (4, 3, 34)


@_needs(MYMBLOG)
def test_mymblog_reposted_originals_keep_their_own_author_and_long_text_flag():
    page = parse_mymblog(_load(MYMBLOG), None)
    originals = {p.reposted_id: p.retweeted for p in page.posts if p.retweeted is not None}
    # retweeted_status of LnCw9y57r: 蒼梦五夜AoTerios (1915103510), "isLongText": true, Fri Apr 08 18:04:08 2022
    plea = originals["4756042041263725"]
    assert (plea.user_id, plea.screen_name, plea.is_long_text) == ("1915103510", "蒼梦五夜AoTerios", True)
    assert plea.created_at.isoformat() == "2022-04-08T18:04:08+08:00"
    assert plea.text.startswith("#上海抗疫求助[超话]#")
    # retweeted_status of LnwCFcwnu: 刺青Poi (3562078490), isLongText true; of LnKbSEIlG: 怎么可以不喜欢芝士, false
    assert (originals["4755961766219888"].screen_name, originals["4755961766219888"].is_long_text) == ("刺青Poi", True)
    assert (originals["4756400783232375"].user_id, originals["4756400783232375"].is_long_text) == ("5686765221",
                                                                                                  False)


@_needs(MYMBLOG)
def test_mymblog_one_broken_item_keeps_its_neighbours():
    payload = _load(MYMBLOG)
    payload["data"]["list"][3]["created_at"] = "sometime in April"
    page = parse_mymblog(payload, None)
    assert [p.id for p in page.posts] == [i for n, (i, _, _, _) in enumerate(MYMBLOG_ITEMS) if n != 3]
    assert len(page.warnings) == 1
    assert "weibo.com mymblog" in page.warnings[0] and "4756390893326507" in page.warnings[0]


@_needs(LONGTEXT)
def test_longtext_as_the_site_sent_it():
    payload = _load(LONGTEXT)
    assert (payload["ok"], payload["http_code"]) == (1, 200)
    text = parse_pc_longtext(payload)
    assert text.startswith("5月27日台大毕业典礼上NVIDIA公司创始人黄仁勋演讲全文：\n\n你们所处的年代很复杂")
    assert text.endswith("致力于有意义的生活，冲刺你们人生的事业。")
    assert len(text) == 3143 and "<" not in text
    parsed = parse_file(LONGTEXT)
    assert parsed.kind == "extend" and parsed.long_text.endswith("冲刺你们人生的事业。")


@_needs(FAVS)
def test_favorites_list_in_the_weibo_com_item_shape():
    page = parse_pc_status_list(_load(FAVS), None)
    assert page.warnings == [] and len(page.posts) == 17  # 17 objects in "data"
    first = page.posts[0]
    assert (first.id, first.bid, first.user_id, first.screen_name) == ("4907530030158189", "N39Td0F9r", "1401527553",
                                                                       "tombkeeper")
    assert first.created_at.isoformat() == "2023-05-31T18:43:19+08:00"
    assert first.reposted_id == "4907521834488434" and first.retweeted.is_long_text is True
    assert first.region == "北京"  # "region_name": "发布于 北京"
    assert (first.reposts_count, first.comments_count, first.attitudes_count) == (36, 19, 45)
    # "source": "<a … href=\"https://app.weibo.com/t/feed/Z5q8X\" …>moto edge X30</a>"
    assert page.posts[1].client == "moto edge X30" and page.posts[1].region == "上海"
    long_ids = [p.id for p in page.posts if p.is_long_text]
    assert long_ids == ["4907521834488434", "4907485959291191"]  # the two items with "isLongText": true
    # one item of the same shape, as ajax/statuses/show answers it (the status at top level)
    alone = parse_pc_show(_load(FAVS)["data"][4], None)
    assert (alone.id, alone.bid, alone.is_long_text) == ("4907521834488434", "N39FZiPE6", True)
    assert alone.text.startswith("#应届毕业生就业有多难# 虽然我从去年就开始说这个")


@_needs(MYMBLOG, FAVS)
def test_wzmon_parse_reads_the_ajax_files():
    out = subprocess.run([sys.executable, "-m", "matrix.cli.root", "parse", str(MYMBLOG), str(FAVS)], capture_output=True,
                         text=True, timeout=120, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 11 + 17
    assert rows[0]["created_at"] == "2019-12-30T04:55:13+08:00" and rows[0]["bid"] == "In6oZitjt"
    assert rows[11]["id"] == "4907530030158189" and rows[11]["reposted_id"] == "4907521834488434"
