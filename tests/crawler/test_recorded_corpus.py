"""Responses recorded from the real site (tests/crawler/corpus, PROVENANCE.md), read by `wzmon parse` and
`wzmon import` with expectations written by hand from the raw files: ids, times with their zone, authors, long-text
flags, repost links. And the corpus imported twice adds nothing the second time."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.exceptions import UnreadableFileError
from crawler.importer import parse_file
from crawler.parsers import parse_index

CORPUS = Path(__file__).parent / "corpus"
NB = CORPUS / "nonebot-bison"
SH = timezone(timedelta(hours=8))
AK = ("6279793937", "明日方舟Arknights")
# weibo_ak_list_0.json, read by hand: the ten cards' mblog id, created_at, isLongText
AK_LIST_0 = [
    ("4645748019299849", "Tue Jun 08 09:35:04 +0800 2021", True),
    ("4649031014551911", "Thu Jun 17 11:00:31 +0800 2021", True),
    ("4648806186747944", "Wed Jun 16 20:07:07 +0800 2021", False),  # a repost of 4645748019299849
    ("4648004356937383", "Mon Jun 14 15:00:57 +0800 2021", False),
    ("4647212359090479", "Sat Jun 12 10:33:49 +0800 2021", True),
    ("4647211990255467", "Sat Jun 12 10:32:21 +0800 2021", False),
    ("4646917039199914", "Fri Jun 11 15:00:20 +0800 2021", False),
    ("4646569834450357", "Thu Jun 10 16:00:40 +0800 2021", True),
    ("4646502071534367", "Thu Jun 10 11:31:23 +0800 2021", True),
    ("4646192191903210", "Wed Jun 09 15:00:03 +0800 2021", True),
]


def _parse_lines(path: Path) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "matrix.cli.root", "parse", str(path)], capture_output=True, text=True,
                         timeout=120, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_a_timeline_as_the_site_sent_it():
    rows = _parse_lines(NB / "weibo_ak_list_0.json")
    assert [r["id"] for r in rows] == [i for i, _, _ in AK_LIST_0]
    for row, (_id, created, long_text) in zip(rows, AK_LIST_0):
        assert row["created_at"] == datetime.strptime(created, "%a %b %d %H:%M:%S %z %Y").isoformat()
        assert row["created_at"].endswith("+08:00")
        assert (row["user_id"], row["screen_name"]) == AK
        assert row["is_long_text"] is long_text
    repost = rows[2]
    assert repost["reposted_id"] == "4645748019299849"
    assert repost["mentions"][:2] == ["黄防护服黄", "微博抽奖平台"]  # the two @ links at the start of its text
    assert "<a" not in repost["text"] and "@黄防护服黄" in repost["text"]


def test_the_same_timeline_polled_later_and_another_account():
    later = _parse_lines(NB / "weibo_ak_list_1.json")
    assert len(later) == 11 and later[1]["id"] == "4649106427873349"
    assert later[1]["created_at"] == "2021-06-17T16:00:11+08:00"
    ys = _parse_lines(NB / "weibo_ys_list_0.json")
    assert len(ys) == 11 and {(r["user_id"], r["screen_name"]) for r in ys} == {("1907518591", "余霜YSCandice")}
    assert ys[1]["id"] == "4655758022804664" and ys[1]["reposted_id"] == "4655757364823177"
    assert ys[0]["created_at"] == "2021-05-24T10:44:06+08:00" and ys[0]["is_long_text"] is True


def test_profile_long_text_and_an_empty_answer():
    profile = parse_file(NB / "weibo_ak_profile.json")
    assert profile.kind == "getIndex" and profile.items == []
    assert (profile.user.uid, profile.user.screen_name) == AK
    extend = parse_file(NB / "weibo_extend_4649031014551911.json")
    assert extend.kind == "extend" and extend.long_text.endswith("如若延迟则请关注官方发布的具体开服时间*")
    assert "<br" not in extend.long_text
    with pytest.raises(UnreadableFileError, match="empty answer"):
        parse_file(NB / "weibo_err_profile.json")


def test_the_corpus_imported_twice_adds_nothing_the_second_time(db_url, tmp_path):
    def run(path: Path) -> dict:
        out = subprocess.run([sys.executable, "-m", "matrix.cli.root", "--db", db_url, "import", str(path), "--format",
                              "json"], capture_output=True, text=True, timeout=300, env=dict(os.environ))
        assert "Traceback" not in out.stderr
        return json.loads(out.stdout)

    first = run(NB)
    # 10 + 11 + 11 posts, the second timeline's 11 all in the first but its new one, plus the original post that
    # the 余霜 repost carries in `retweeted_status` (4655757364823177, not in the timeline itself); the show and
    # /detail files are of posts 4645748019299849 and 4649031014551911, both in the first timeline
    assert first["new"] == 10 + 1 + 11 + 1
    assert [Path(f["path"]).name for f in first["failed"]] == ["weibo_err_profile.json"]
    whole = run(CORPUS)
    assert whole["new"] > 0
    assert sorted(Path(f["path"]).name for f in whole["failed"]) == sorted([
        "weibo_err_profile.json", "refusal_access_denied.html", "refusal_banned.html", "refusal_busy.html",
        "refusal_login_error_gbk.html", "weibo_com_profile_page_1854706423.html"])
    again = run(CORPUS)
    assert again["new"] == 0 and again["items"] == whole["items"]


STABLOG = CORPUS / "stablog"


def test_weibo_com_longtext_as_the_site_sent_it_plain_and_markdown():
    # weibo.com ajax/statuses/longtext, kept by YaoZeyuan/stablog as its API notes' examples (2026): read by hand,
    # a 168-character plain text of post 4069372986738497 (`url_struct[].actionlog.ext` names the mid) ending in
    # a t.cn link, and a Markdown article (`isMarkdown: true`) whose text is `# title`, `## headings`, blank lines.
    plain = parse_file(STABLOG / "weibo_com_ajax_longtext_2026-08.json")
    assert plain.kind == "extend" and plain.items == []
    assert plain.long_text.startswith("中国再发野生动物园老虎伤人事件，有传言称“南非野生动物园极少有动物袭击人")
    assert plain.long_text.endswith("南非野生动物园的真正游客规定见敝球当年的报道。http://t.cn/RxlaENw")
    assert "<" not in plain.long_text and "\n" not in plain.long_text
    md = parse_file(STABLOG / "weibo_com_ajax_longtext_markdown_2026.json")
    assert md.kind == "extend"
    assert md.long_text.startswith("# 3天做个浏览器插件，月入几万美金：一个独立开发者的真实路径拆解\n")
    assert "\n## 起点：从自己的痛点出发\n" in md.long_text
    assert "Saeed 用3天证明了一件事：最好的产品往往来自最朴素的需求，最好的时机就是你发现问题的那一刻。" in md.long_text
    assert md.long_text.rstrip().endswith("#How I AI##副业赚钱##自由职业#")
    rows = _parse_lines(STABLOG / "weibo_com_ajax_longtext_2026-08.json")
    assert len(rows) == 1 and rows[0]["long_text"].endswith("http://t.cn/RxlaENw")


HOT = CORPUS / "Weibo_PublicOpinion_AnalysisSystem" / "m_weibo_cn_getindex_realtimehot_2025-08-14.json"


def test_a_card_group_page_with_no_post_in_it():
    # m.weibo.cn getIndex of the hot-search list (containerid 106003type=25&…&filter_type=realtimehot), recorded
    # 2025-08-14 (`qtime:1755138793` in every itemid, `starttime: 1755138793`), kept by a GPL-2.0 project as a debug
    # file. Read by hand: five `card_type: 11` cards whose `card_group`s hold 51, 21, 12, 1 and 1 cards of types 4
    # (a hot topic: `desc`, `scheme`), 6 (查看更多…), 101 (a title row); not one `card_type: 9`/`mblog`; and
    # `cardlistInfo.page: null`, the real site's "no further page".
    f = parse_file(HOT)
    assert f.kind == "getIndex" and f.items == [] and f.warnings == [] and f.user is None
    payload = json.loads(HOT.read_text(encoding="utf-8"))
    cards = payload["data"]["cards"]
    assert [(c["card_type"], len(c["card_group"])) for c in cards] == [(11, 51), (11, 21), (11, 12), (11, 1), (11, 1)]
    assert cards[0]["card_group"][0]["desc"] == "两山理念改变中国影响世界"  # the pinned topic, no desc_extr
    assert cards[1]["title"] == "实时上升热点" and cards[2]["card_group"][0]["title"] == " 文娱热搜 "
    page = parse_index(payload, None)
    assert page.posts == [] and page.page is None and page.since_id is None and page.warnings == []
    assert payload["data"]["cardlistInfo"]["page"] is None and payload["data"]["cardlistInfo"]["total"] == 20


def test_a_post_nested_in_the_recorded_card_group_is_found_among_the_topic_cards():
    # search pages nest `card_type: 9` cards in a `card_group` next to topic cards (card_type 4) like the ones
    # above: one real timeline card (weibo_ak_list_0.json's second, post 4649031014551911) put into the hot list's
    # second group is the only post read, and a broken copy of it costs only itself
    payload = json.loads(HOT.read_text(encoding="utf-8"))
    timeline = json.loads((NB / "weibo_ak_list_0.json").read_text(encoding="utf-8"))
    card = next(c for c in timeline["data"]["cards"] if c.get("mblog", {}).get("id") == "4649031014551911")
    broken = json.loads(json.dumps(card))
    broken["mblog"]["id"] = broken["mblog"]["mid"] = "4649031014551912"
    broken["mblog"]["created_at"] = "sometime in June"
    payload["data"]["cards"][1]["card_group"][3:3] = [card, broken]
    page = parse_index(payload, None)
    assert [(p.id, p.user_id, p.screen_name) for p in page.posts] == [("4649031014551911",) + AK]
    assert page.posts[0].created_at.isoformat() == "2021-06-17T11:00:31+08:00" and page.posts[0].is_long_text
    assert len(page.warnings) == 1 and "4649031014551912" in page.warnings[0]


def test_wzmon_parse_reads_the_card_group_page_and_writes_no_row():
    out = subprocess.run([sys.executable, "-m", "matrix.cli.root", "parse", str(HOT)], capture_output=True, text=True,
                         timeout=120, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "" and "Traceback" not in out.stderr
