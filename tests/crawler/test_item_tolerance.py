"""One odd item never costs its neighbours: the item that cannot be read is named (file, item id, what is wrong) and
the rest of the page is kept. Also the weibo.cn time form with the client name after a no-break space
(`2020-06-05 11:12:14\\xa0网页`), which refused whole pages before."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from crawler.importer import parse_file
from crawler.timeparse import parse_created_at

DATA = Path(__file__).parent / "data"
SH = timezone(timedelta(hours=8))
# a third and a fourth comment added to the two of weibo_cn_comments.html: the first with the client name after a
# no-break space, as weibo.cn prints it, the second with a time in no form Weibo uses
EXTRA = ('<div class="c" id="C_4649100000000003"><a href="/u/2000000003">市民丙</a>:<span class="ctt">同问，什么时候修？</span>'
         '&nbsp;<span class="cc"><a href="#">赞[0]</a></span>&nbsp;<span class="ct">2020-06-05 11:12:14&nbsp;网页</span></div>'
         '<div class="c" id="C_4649100000000004"><a href="/u/2000000004">市民丁</a>:<span class="ctt">顶</span>'
         '&nbsp;<span class="ct">上辈子某天</span></div>')


def test_a_client_name_after_a_no_break_space():
    assert parse_created_at("2020-06-05 11:12:14\xa0网页") == datetime(2020, 6, 5, 11, 12, 14, tzinfo=SH)
    assert parse_created_at("06月05日 11:12\xa0来自iPhone客户端", datetime(2020, 6, 6, tzinfo=SH)) == \
        datetime(2020, 6, 5, 11, 12, tzinfo=SH)


def test_a_page_with_one_broken_item_keeps_the_others(tmp_path):
    html = (DATA / "weibo_cn_comments.html").read_text(encoding="utf-8")
    marker = html.rindex('<div class="c" id="C_')
    end = html.index("</div>", marker) + len("</div>")
    page = tmp_path / "weibo_cn_comments_4649031014551911.html"
    page.write_text(html[:end] + EXTRA + html[end:], encoding="utf-8")
    parsed = parse_file(page, fetched_at=datetime(2021, 6, 9, tzinfo=SH))
    ids = [c.id for c in parsed.items]
    assert len(ids) == 3 and "4649100000000003" in ids and "4649100000000004" not in ids
    assert parsed.items[ids.index("4649100000000003")].created_at == datetime(2020, 6, 5, 11, 12, 14, tzinfo=SH)
    assert len(parsed.warnings) == 1
    assert str(page) in parsed.warnings[0] and "4649100000000004" in parsed.warnings[0]
    assert "上辈子某天" in parsed.warnings[0]
    out = subprocess.run([sys.executable, "-m", "matrix.cli.root", "parse", str(page)], capture_output=True, text=True,
                         env=dict(os.environ), timeout=120)
    assert out.returncode == 0, out.stderr
    assert len([json.loads(line) for line in out.stdout.splitlines()]) == 3
    assert "warning:" in out.stderr and "4649100000000004" in out.stderr


def test_a_getindex_page_with_one_broken_post_keeps_the_others(tmp_path):
    payload = json.loads((DATA / "timeline_getindex.json").read_text(encoding="utf-8"))
    cards = [c for c in payload["data"]["cards"] if c.get("card_type") == 9]
    good = {p.id for p in parse_file(DATA / "timeline_getindex.json").items}  # the same page without the broken post
    broken = json.loads(json.dumps(cards[0]))
    broken["mblog"]["id"] = broken["mblog"]["mid"] = broken["mblog"]["idstr"] = "4999999999999999"
    broken["mblog"]["created_at"] = "not a time"
    payload["data"]["cards"].append(broken)
    page = tmp_path / "timeline.json"
    page.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    parsed = parse_file(page)
    assert {p.id for p in parsed.items} == good
    assert len(parsed.warnings) == 1 and "4999999999999999" in parsed.warnings[0]
