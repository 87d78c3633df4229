"""Parsers and the importer on saved responses (tests/crawler/data), and `wzmon parse`."""
from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import parse_cmd
from crawler.exceptions import MalformedError, UnreadableFileError
from crawler.importer import parse_file
from crawler.parsers import parse_hotflow, parse_index
from crawler.types import Comment, Post

DATA = Path(__file__).parent / "data"
FETCHED = datetime(2021, 6, 8, 3, 0, tzinfo=timezone.utc)  # 11:00 in Shanghai


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def test_timeline_page_posts() -> None:
    page = parse_index(load("timeline_getindex.json"), FETCHED)
    assert page.since_id == "4649030000000001"
    ids = [p.id for p in page.posts]
    assert ids == ["4600000000000001", "4649031014551911", "4649031014550000", "4649031014540000"]
    pinned, long_post, repost, orphan = page.posts
    assert pinned.is_pinned and not long_post.is_pinned
    assert pinned.attitudes_count == 1_000_000 and pinned.text == "欢迎关注@问政银川 有事请留言[微笑]"
    assert long_post.is_long_text and not long_post.text_expanded and "全文" not in long_post.text
    assert long_post.reposts_count == 12_000 and long_post.comments_count == 38
    assert long_post.region == "宁夏" and long_post.client == "iPhone客户端"
    assert long_post.topics == ["银川路灯"] and long_post.mentions == ["银川市住建局"]
    assert long_post.source_url == "https://weibo.com/1234567890/Kkzwhj69V"
    assert long_post.created_at.isoformat() == "2021-06-08T09:35:04+08:00"
    assert repost.item_type == "repost" and repost.reposted_id == "4649000000000002"
    assert repost.text == "转发微博//@张三:路灯坏了好几天了@银川公安"  # the //@ chain stays
    assert repost.retweeted is not None and repost.retweeted.user_id == "5550001111"
    assert orphan.reposted_id == "4649000000000003" and orphan.retweeted is None  # deleted original


def test_rows_have_the_posts_columns() -> None:
    post = parse_index(load("timeline_getindex.json"), FETCHED).posts[2]
    row = post.to_row()
    assert row["id"] == "4649031014550000" and row["item_type"] == "repost" and row["parent_id"] is None
    assert row["reposted_id"] == "4649000000000002" and row["user_id"] == "1234567890"
    assert isinstance(row["created_at"], datetime) and row["created_at"].tzinfo is not None
    assert row["fetched_at"] == FETCHED


def test_long_text_replaces_the_truncated_text() -> None:
    post = parse_index(load("timeline_getindex.json"), FETCHED).posts[1]
    post.with_long_text(load("extend.json")["data"]["longTextContent"])
    assert post.text_expanded and post.text.endswith("感谢监督[赞]") and "\n" in post.text
    assert post.raw["longTextContent"].startswith("【通报】")


def test_search_cards_inside_card_group() -> None:
    page = parse_index(load("search_getindex.json"), FETCHED)
    assert [p.screen_name for p in page.posts] == ["李四", "王五"]
    assert page.posts[0].user_id == "6660001111" and page.posts[1].user_id == "6660002222"
    assert page.posts[0].mentions == ["问政银川"] and page.posts[0].text.endswith("[怒]")


def test_hotflow_comments_with_replies_and_relative_dates() -> None:
    page = parse_hotflow(load("hotflow.json"), FETCHED, "4649031014551911")
    assert page.max_id == 139000000000001
    flat = page.flat()
    assert [c.id for c in flat] == ["4649031014700001", "4649031014700002", "4649031014700003", "4649031014700004"]
    root, answer, thanks, last = flat
    assert root.replies == [answer, thanks] and root.post_id == "4649031014551911"
    assert answer.reply_to_id == "4649031014700001" and thanks.reply_to_id == "4649031014700002"
    assert answer.created_at.isoformat() == "2021-06-08T10:55:00+08:00"  # 5分钟前
    assert thanks.created_at.isoformat() == "2021-06-07T23:10:00+08:00"  # 昨天 23:10 来自北京
    assert last.created_at.isoformat() == "2021-06-08T11:00:00+08:00"  # 刚刚
    assert thanks.like_count == 1 and answer.mentions == ["银川市住建局"]
    row = answer.to_row()
    assert row["item_type"] == "comment" and row["parent_id"] == "4649031014551911"
    assert row["reply_to_id"] == "4649031014700001"


def test_unknown_shapes_are_malformed() -> None:
    with pytest.raises(MalformedError):
        parse_index({"ok": 1, "data": {"something": 1}}, FETCHED)
    with pytest.raises(MalformedError):
        parse_hotflow({"ok": 1, "data": {"data": "x"}}, FETCHED, None)
    with pytest.raises(MalformedError):
        Post.from_payload({"text": "no id"}, FETCHED)
    with pytest.raises(MalformedError):
        Comment.from_payload({"id": "1", "created_at": "someday"}, FETCHED)


@pytest.mark.parametrize("name,kind,count", [
    ("timeline_getindex.json", "getIndex", 4), ("search_getindex.json", "getIndex", 2),
    ("hotflow.json", "hotflow", 4), ("reposts.json", "reposts", 1), ("extend.json", "extend", 0),
    ("search_page.html", "search_html", 2), ("weibo_cn_comments.html", "comment_html", 2),
])
def test_importer_detects_each_shape(name: str, kind: str, count: int) -> None:
    parsed = parse_file(DATA / name, fetched_at=FETCHED)
    assert parsed.kind == kind and len(parsed.items) == count
    assert parsed.raw.body == (DATA / name).read_bytes() and parsed.raw.fetched_at == FETCHED


def test_search_html_posts() -> None:
    first, forward = parse_file(DATA / "search_page.html", fetched_at=FETCHED).posts
    assert first.id == "4649031014900001" and first.bid == "KkzwhABCD" and first.user_id == "6660001111"
    assert first.is_long_text and first.text.endswith("请关注 #上学堵车#") and "展开" not in first.text
    assert first.mentions == ["问政银川", "银川交警"] and first.topics == ["上学堵车"]
    assert first.created_at.isoformat() == "2021-06-08T08:15:00+08:00"
    assert (first.reposts_count, first.comments_count, first.attitudes_count) == (2, 0, 11_000)
    assert first.client == "iPhone 13"
    assert forward.item_type == "repost" and forward.retweeted.bid == "KkzwhABCE"
    assert forward.retweeted.created_at.isoformat() == "2021-06-07T21:00:00+08:00"
    assert forward.created_at.isoformat() == "2021-06-08T10:48:00+08:00"  # 12分钟前
    assert forward.text == "已转办 请@银川交警 核实处理//@李四:学校门口堵车"


def test_weibo_cn_comment_page() -> None:
    parsed = parse_file(DATA / "weibo_cn_comments.html", fetched_at=FETCHED)
    a, b = parsed.items
    assert a.post_id == "4649031014551911"  # from div#M_Kkzwhj69V
    assert (a.user_id, a.screen_name, a.text, a.like_count) == ("6660001111", "李四", "路灯还是没修好[怒]", 3)
    assert a.created_at.isoformat() == "2021-06-08T10:43:00+08:00"
    assert b.user_id is None and b.screen_name == "张三" and b.mentions == ["李四"]


def test_relative_dates_in_files_resolve_against_the_file_time(tmp_path: Path) -> None:
    path = tmp_path / "hotflow_4649031014551911.json"
    shutil.copy(DATA / "hotflow.json", path)
    stamp = FETCHED.timestamp()
    os.utime(path, (stamp, stamp))
    parsed = parse_file(path)
    assert parsed.items[1].created_at.isoformat() == "2021-06-08T10:55:00+08:00"
    assert {c.post_id for c in parsed.items} == {"4649031014551911"}  # parent from the file name


@pytest.mark.parametrize("name,why", [
    ("login_answer.json", "login/captcha"), ("truncated.json", "broken or cut short"),
    ("passport.html", "login page"), ("unknown.json", "not a Weibo answer we know"),
])
def test_unreadable_files_say_which_and_why(name: str, why: str) -> None:
    with pytest.raises(UnreadableFileError) as info:
        parse_file(DATA / name)
    assert name in str(info.value) and why in str(info.value)


def test_missing_empty_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="no such file"):
        parse_file(tmp_path / "nope.json")
    (tmp_path / "empty.json").write_bytes(b"")
    with pytest.raises(UnreadableFileError, match="is empty"):
        parse_file(tmp_path / "empty.json")
    (tmp_path / "x.bin").write_bytes(b"\x00\x01garbage")
    with pytest.raises(UnreadableFileError, match="neither JSON nor HTML"):
        parse_file(tmp_path / "x.bin")


def test_gzip_saved_files_are_read(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "timeline.json.gz"
    path.write_bytes(gzip.compress((DATA / "timeline_getindex.json").read_bytes()))
    assert len(parse_file(path).items) == 4


def test_parse_command_prints_json_lines() -> None:
    result = CliRunner().invoke(parse_cmd, [str(DATA / "timeline_getindex.json"), str(DATA / "search_page.html")])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == 6
    keys = {"id", "mid", "bid", "created_at", "user_id", "screen_name", "text", "mentions", "is_long_text",
            "reposted_id", "source_url"}
    assert all(keys <= set(line) for line in lines)
    assert lines[1]["created_at"] == "2021-06-08T09:35:04+08:00" and lines[1]["id"] == "4649031014551911"


def test_parse_command_names_the_bad_file_without_a_traceback() -> None:
    result = CliRunner().invoke(parse_cmd, [str(DATA / "reposts.json"), str(DATA / "truncated.json")])
    assert result.exit_code == 1
    assert "truncated.json" in result.output and "Traceback" not in result.output
    assert json.loads(result.output.splitlines()[0])["id"] == "4649031014800001"


def test_weibo_com_status_reads_text_raw_not_the_html_with_its_expand_button() -> None:
    # the weibo.com ajax form of a truncated long post (as in the mymblog recording of PROVENANCE.md): `text` shows a
    # super-topic as an icon link and ends in "...<span class="expand">展开</span>"; `text_raw` is the site's plain
    # text, padded with zero-width spaces
    status = {
        "idstr": "4756042041263725", "mblogid": "LnvUo5iKF", "created_at": "Fri Apr 08 18:04:08 +0800 2022",
        "user": {"id": 1915103510, "screen_name": "蒼梦五夜AoTerios"}, "isLongText": True,
        "text": '<a target="_blank" href="https://weibo.com/p/100808fb9b9095ff03a9c13211bb1daf41f0e2"><img '
                'class="icon-link" src="https://h5.sinaimg.cn/upload/100/959/2020/05/09/timeline_card_small_super_'
                'default.png"/>上海抗疫求助超话</a> <br />求助描述:疫情一开始，在 \u200b\u200b\u200b ...'
                '<span class="expand">展开</span>',
        "text_raw": "#上海抗疫求助[超话]# \n求助描述:疫情一开始，在 \u200b\u200b\u200b",
    }
    post = Post.from_payload(status)
    assert post.text == "#上海抗疫求助[超话]#\n求助描述:疫情一开始，在"
    assert post.is_long_text and post.topics == ["上海抗疫求助[超话]"]
