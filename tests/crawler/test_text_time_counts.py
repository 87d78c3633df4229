"""Time forms, counts, text cleaning and id conversion: the small parsers everything else rests on."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crawler.constants import SHANGHAI
from crawler.counts import parse_count, parse_count_or_zero
from crawler.exceptions import TimeFormatError
from crawler.ids import bid_to_mid, mid_to_bid
from crawler.text import clean_html
from crawler.timeparse import iso, parse_created_at, strip_suffix

# fetched at 2024-03-05 10:30:00 Shanghai (02:30 UTC): relative forms resolve against this
FETCHED = datetime(2024, 3, 5, 2, 30, tzinfo=timezone.utc)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text,expected", [
    ("Tue Jun 08 09:35:04 +0800 2021", sh(2021, 6, 8, 9, 35, 4)),
    ("Tue Jun 08 01:35:04 +0000 2021", sh(2021, 6, 8, 9, 35, 4)),
    ("刚刚", sh(2024, 3, 5, 10, 30)),
    ("5秒前", sh(2024, 3, 5, 10, 29, 55)),
    ("3分钟前", sh(2024, 3, 5, 10, 27)),
    ("2小时前", sh(2024, 3, 5, 8, 30)),
    ("今天 08:20", sh(2024, 3, 5, 8, 20)),
    ("昨天 23:59", sh(2024, 3, 4, 23, 59)),
    ("03-01", sh(2024, 3, 1)),
    ("12-31", sh(2023, 12, 31)),  # MM-DD in the future means last year
    ("03月01日 12:43", sh(2024, 3, 1, 12, 43)),
    ("11月30日 12:43", sh(2023, 11, 30, 12, 43)),
    ("2020-06-05 11:12:14", sh(2020, 6, 5, 11, 12, 14)),
    ("2020-06-05 11:12", sh(2020, 6, 5, 11, 12)),
    ("2020-06-05", sh(2020, 6, 5)),
    ("2023年06月05日 12:00", sh(2023, 6, 5, 12)),
    ("2小时前 来自河南", sh(2024, 3, 5, 8, 30)),
    ("03月01日 12:43\xa0来自iPhone客户端", sh(2024, 3, 1, 12, 43)),
    ("昨天 10:20 来自北京", sh(2024, 3, 4, 10, 20)),
    ("Tue Jun 08 09:35:04 +0800 2021 来自上海", sh(2021, 6, 8, 9, 35, 4)),
])
def test_every_time_form_resolves_in_shanghai(text: str, expected: datetime) -> None:
    got = parse_created_at(text, FETCHED)
    assert got == expected
    assert got.utcoffset() == timedelta(hours=8)


def test_relative_forms_follow_the_fetch_time_not_the_local_clock() -> None:
    later = FETCHED + timedelta(days=400)
    assert parse_created_at("3分钟前", later) - parse_created_at("3分钟前", FETCHED) == timedelta(days=400)


def test_fetch_time_near_midnight_utc_uses_the_shanghai_date() -> None:
    # 16:30 UTC on the 4th is 00:30 on the 5th in Shanghai: 今天 means the 5th
    fetched = datetime(2024, 3, 4, 16, 30, tzinfo=timezone.utc)
    assert parse_created_at("今天 00:10", fetched) == sh(2024, 3, 5, 0, 10)
    assert parse_created_at("昨天 23:00", fetched) == sh(2024, 3, 4, 23, 0)


@pytest.mark.parametrize("bad", ["", "明天 10:00", "13-45", "2021-02-30", "yesterday", "02月30日 10:00"])
def test_unknown_time_forms_raise_naming_the_string(bad: str) -> None:
    with pytest.raises(TimeFormatError) as info:
        parse_created_at(bad, FETCHED)
    assert repr(bad) in str(info.value) or bad == ""


def test_suffix_stripping_and_iso() -> None:
    assert strip_suffix("今天 10:20 来自河南") == "今天 10:20"
    assert iso(parse_created_at("2020-06-05 11:12:14", FETCHED)) == "2020-06-05T11:12:14+08:00"


@pytest.mark.parametrize("value,expected", [
    (5, 5), ("38", 38), ("100万+", 1_000_000), ("1.2万", 12_000), ("3亿", 300_000_000), ("1,024", 1024),
    ("12.3万", 123_000), ("转发 2", 2), ("评论", None), (None, None), ("", None), (True, None), (7.0, 7),
])
def test_counts(value, expected) -> None:
    assert parse_count(value) == expected


def test_button_labels_mean_zero() -> None:
    assert parse_count_or_zero("赞") == 0
    assert parse_count_or_zero("转发 12") == 12


def test_html_cleaning_keeps_what_a_reader_sees() -> None:
    html = ("回复<a href='/n/问政银川'>@问政银川</a>:路灯坏了<span class=\"url-icon\"><img alt=[哈哈] src=\"x.png\"></span> "
            "<a href=\"https://m.weibo.cn/search?containerid=231522\"><span class=\"url-icon\"><img src=\"t.png\"></span>"
            "<span class=\"surl-text\">#银川路灯#</span></a><br />第二行//<a href='/n/张三'>@张三</a>:转发"
            "...<a href=\"/status/4649031014551911\">全文</a>")
    clean = clean_html(html)
    assert clean.text == "回复@问政银川:路灯坏了[哈哈] #银川路灯#\n第二行//@张三:转发"
    assert clean.mentions == ["问政银川", "张三"]
    assert clean.topics == ["银川路灯"]
    assert clean.truncated


def test_html_cleaning_of_entities_plain_text_and_fold_buttons() -> None:
    assert clean_html("a &amp; b &lt;c&gt;").text == "a & b <c>"
    plain = clean_html("请@银川交警 处理 #上学堵车#")
    assert plain.mentions == ["银川交警"] and plain.topics == ["上学堵车"]
    pc = clean_html('全文在此<a action-type="fl_fold">收起<i>d</i></a>')
    assert pc.text == "全文在此" and not pc.truncated
    assert clean_html(None).text == "" and clean_html("").mentions == []


@pytest.mark.parametrize("mid,bid", [("4387933362623405", "HATy0b0sZ"), ("4649031014551911", mid_to_bid("4649031014551911"))])
def test_mid_bid_round_trip(mid: str, bid: str) -> None:
    assert mid_to_bid(mid) == bid
    assert bid_to_mid(bid) == mid


def test_bad_ids_are_refused() -> None:
    with pytest.raises(ValueError):
        mid_to_bid("12ab")
    with pytest.raises(ValueError):
        bid_to_mid("a-b")
