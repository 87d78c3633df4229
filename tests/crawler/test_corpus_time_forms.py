"""Every time form the recorded corpus shows (tests/crawler/corpus), resolved in Asia/Shanghai whatever the machine's
zone: each case is run with TZ set to zones far from +08:00, and the whole-file check runs `wzmon parse` in a
process whose TZ is America/Los_Angeles."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.timeparse import parse_created_at

SH = timezone(timedelta(hours=8))
CORPUS = Path(__file__).parent / "corpus"
ZONES = ["America/Los_Angeles", "Pacific/Kiritimati", "UTC", "Asia/Shanghai"]
# fetch times: 2017-05-14 15:30 Shanghai (= 07:30 UTC), 2025-09-20 20:00, and 2026-01-03 09:00 (New Year)
MAY_2017 = datetime(2017, 5, 14, 7, 30, tzinfo=timezone.utc)
SEP_2025 = datetime(2025, 9, 20, 20, 0, tzinfo=SH)
NEW_YEAR = datetime(2026, 1, 3, 9, 0, tzinfo=SH)

# (shown text as in the corpus file named, fetch time, expected Shanghai time)
CASES = [
    ("10分钟前", MAY_2017, "2017-05-14T15:20:00+08:00"),  # weibo_com_aj_comment_big_2017-05-15.json
    ("33分钟前", MAY_2017, "2017-05-14T14:57:00+08:00"),  # weibo_com_aj_comment_big_2017-05-14.json
    ("今天 14:52", MAY_2017, "2017-05-14T14:52:00+08:00"),  # ditto: 今天 is the Shanghai day, not the UTC one
    ("今天 01:04", MAY_2017, "2017-05-14T01:04:00+08:00"),  # weibo_com_aj_comment_drag_2017-05-14.json
    ("昨天 23:10", MAY_2017, "2017-05-13T23:10:00+08:00"),
    # fetched 01:00 in Shanghai, still the 13th in UTC and in Los Angeles: 今天/昨天 follow Shanghai's calendar
    ("今天 00:30", datetime(2017, 5, 13, 17, 0, tzinfo=timezone.utc), "2017-05-14T00:30:00+08:00"),
    ("昨天 22:00", datetime(2017, 5, 13, 17, 0, tzinfo=timezone.utc), "2017-05-13T22:00:00+08:00"),
    ("刚刚", MAY_2017, "2017-05-14T15:30:00+08:00"),
    ("5月12日 10:14", MAY_2017, "2017-05-12T10:14:00+08:00"),  # weibo_com_aj_comment_big_2017-05-13.json
    ("5月1日 17:27", MAY_2017, "2017-05-01T17:27:00+08:00"),  # weibo_com_profile_feed_async_1163218074.json
    ("06月17日 18:12\xa0来自绿洲APP", datetime(2020, 6, 18, 23, 0, tzinfo=SH), "2020-06-17T18:12:00+08:00"),
    ("2020-06-03 00:00\xa0来自生日动态", SEP_2025, "2020-06-03T00:00:00+08:00"),  # weibo_cn_profile …_page2
    ("2020-06-05 11:12:14\xa0网页", SEP_2025, "2020-06-05T11:12:14+08:00"),  # weibo_cn_comment_J5cVGuUNq.html
    ("2024-10-24 20:56:29\xa0来自来自安徽", SEP_2025, "2024-10-24T20:56:29+08:00"),
    ("01月10日 12:43\xa0来自来自河南", SEP_2025, "2025-01-10T12:43:00+08:00"),
    # year-less dates around New Year: a December date seen in early January is last year's
    ("12月31日 23:59", NEW_YEAR, "2025-12-31T23:59:00+08:00"),
    ("12-30", NEW_YEAR, "2025-12-30T00:00:00+08:00"),
    ("01-02", NEW_YEAR, "2026-01-02T00:00:00+08:00"),
    ("01月10日 12:43", datetime(2025, 1, 5, 9, 0, tzinfo=SH), "2024-01-10T12:43:00+08:00"),
    ("Tue Jun 08 09:35:04 +0800 2021", None, "2021-06-08T09:35:04+08:00"),  # m.weibo.cn / weibo.com created_at
    ("2017-05-16 08:37", None, "2017-05-16T08:37:00+08:00"),  # weibo.com v6 `title` of a time link
]


@pytest.fixture(params=ZONES)
def machine_zone(request, monkeypatch):
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("shown,fetched,expected", CASES)
def test_corpus_time_forms_in_any_machine_zone(machine_zone, shown, fetched, expected):
    got = parse_created_at(shown, fetched)
    assert got.isoformat() == expected, (machine_zone, shown)
    assert got.utcoffset() == timedelta(hours=8)


def test_epoch_millisecond_dates_in_any_machine_zone(machine_zone):
    # date="1494468860000" on the first item of s_weibo_search_inline_2017-05-11.html
    assert parse_created_at(1494468860000 / 1000).isoformat() == "2017-05-11T10:14:20+08:00"


def test_wzmon_parse_in_another_zone_keeps_shanghai_times():
    env = dict(os.environ, TZ="America/Los_Angeles")
    out = subprocess.run([sys.executable, "-m", "matrix.cli.root", "parse",
                          str(CORPUS / "SpiderClub-weibospider" / "weibo_com_aj_repost_big.json")],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    # date="1494895065000" and date="1494894911000" on the first and last reposts
    assert rows[0]["created_at"] == "2017-05-16T08:37:45+08:00"
    assert rows[-1]["created_at"] == "2017-05-16T08:35:11+08:00"
