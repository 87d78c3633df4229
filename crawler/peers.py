"""What other Weibo crawlers write, read as records: an office whose login works only in one of those tools still gets
its cases from wzmon (`wzmon import`), and every item keeps its origin (`raw["origin"]`).

Shapes, from the writers' own code:

* dataabc/weibo-crawler (weibo.py `write_json` / `write_csv`): JSON `{"user": {...}, "weibo": [...]}`, each weibo with
  id, bid, user_id, screen_name, text, created_at (`%Y-%m-%dT%H:%M:%S`, China time) or full_created_at, at_users,
  topics, attitudes/comments/reposts_count and, for a repost, `retweet` (the original, same fields). CSV: one file per
  user named `<user_id>.csv` in a folder named after the screen name, Chinese headers (id, bid, 正文, …, 日期, 工具,
  点赞数, 评论数, 转发数, 话题, @用户, 完整日期, …, 是否原创, 源用户id, 源用户昵称, 源微博id, …); ids end with a tab.
* NanmiCoder/MediaCrawler (store/weibo, tools/async_file_writer.py): `<type>_contents_<date>.json|csv|jsonl` with
  note_id, content, create_time (epoch s), create_date_time, liked_count, comments_count, shared_count, note_url,
  user_id (newer versions: creator_hash), nickname; `<type>_comments_<date>.*` with comment_id, note_id, content,
  create_time, parent_comment_id, comment_like_count, user_id/creator_hash, nickname.
"""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.exceptions import MalformedError, TimeFormatError
from crawler.ids import mid_to_bid
from crawler.text import clean_html
from crawler.timeparse import parse_created_at
from crawler.types import Comment, Post

__all__ = ["DATAABC", "MEDIACRAWLER", "peer_records"]

DATAABC = "dataabc/weibo-crawler"
MEDIACRAWLER = "NanmiCoder/MediaCrawler"
_DIGITS = re.compile(r"^\d+$")
_CSV_DATAABC = {"id": "id", "bid": "bid", "正文": "text", "日期": "created_at", "完整日期": "full_created_at",
                "工具": "source", "点赞数": "attitudes_count", "评论数": "comments_count", "转发数": "reposts_count",
                "话题": "topics", "@用户": "at_users", "位置": "location", "源微博id": "retweet_id",
                "源用户id": "retweet_user_id", "源用户昵称": "retweet_screen_name", "源微博正文": "retweet_text",
                "源微博完整日期": "retweet_full_created_at", "源微博bid": "retweet_bid"}


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip().replace(",", ""))
    except (TypeError, ValueError):
        return None


def _id(value: Any) -> str:
    text = str(value if value is not None else "").strip()
    if not _DIGITS.match(text):
        raise MalformedError(f"id {value!r} is not a Weibo id")
    return text


def _time(*values: Any) -> datetime:
    for v in values:
        if v in (None, ""):
            continue
        if isinstance(v, (int, float)) or (isinstance(v, str) and _DIGITS.match(v.strip())):
            return parse_created_at(float(v))
        return parse_created_at(str(v))
    raise TimeFormatError("no creation time")


def _origin(tool: str, path: Path) -> dict:
    return {"origin": tool, "file": path.name}


def _dataabc_post(w: dict, user: dict, path: Path) -> Post:
    uid = str(w.get("user_id") or user.get("id") or "").strip() or None
    pid = _id(w.get("id"))
    text = clean_html(str(w.get("text") or ""))
    retweet = w.get("retweet") if isinstance(w.get("retweet"), dict) else None
    rid = str(w.get("retweet_id") or (retweet or {}).get("id") or "").strip() or None
    try:
        original = _dataabc_post(retweet, {}, path) if retweet else None
    except (MalformedError, TimeFormatError):  # the repost is kept with its link even when the original is thin
        original = None
    bid = str(w.get("bid") or "").strip() or mid_to_bid(pid)
    return Post(id=pid, mid=pid, bid=bid, created_at=_time(w.get("full_created_at"), w.get("created_at")), user_id=uid,
                screen_name=str(w.get("screen_name") or user.get("screen_name") or ""), text=text.text,
                mentions=text.mentions, topics=text.topics, reposted_id=rid, retweeted=original,
                item_type="repost" if rid else "post", client=str(w.get("source") or ""),
                attitudes_count=_int(w.get("attitudes_count")), comments_count=_int(w.get("comments_count")),
                reposts_count=_int(w.get("reposts_count")),
                source_url=f"https://weibo.com/{uid}/{bid}" if uid and bid else "",
                raw={**_origin(DATAABC, path), "id": pid})


def _mediacrawler_post(row: dict, path: Path) -> Post:
    pid = _id(row.get("note_id"))
    text = clean_html(str(row.get("content") or ""))
    uid = str(row.get("user_id") or row.get("creator_hash") or "").strip() or None
    return Post(id=pid, mid=pid, bid=mid_to_bid(pid), created_at=_time(row.get("create_time"), row.get("create_date_time")),
                user_id=uid, screen_name=str(row.get("nickname") or ""), text=text.text, mentions=text.mentions,
                topics=text.topics, attitudes_count=_int(row.get("liked_count")),
                comments_count=_int(row.get("comments_count")), reposts_count=_int(row.get("shared_count")),
                source_url=str(row.get("note_url") or f"https://m.weibo.cn/detail/{pid}"),
                raw={**_origin(MEDIACRAWLER, path), "id": pid})


def _mediacrawler_comment(row: dict, path: Path) -> Comment:
    cid = _id(row.get("comment_id"))
    post_id = _id(row.get("note_id"))
    text = clean_html(str(row.get("content") or ""))
    parent = str(row.get("parent_comment_id") or "").strip()
    return Comment(id=cid, post_id=post_id, created_at=_time(row.get("create_time"), row.get("create_date_time")),
                   user_id=str(row.get("user_id") or row.get("creator_hash") or "").strip() or None,
                   screen_name=str(row.get("nickname") or ""), text=text.text, mentions=text.mentions,
                   reply_to_id=parent if parent and parent != cid else None,
                   like_count=_int(row.get("comment_like_count")),
                   source_url=f"https://m.weibo.cn/detail/{post_id}#comment-{cid}", topics=text.topics,
                   raw={**_origin(MEDIACRAWLER, path), "id": cid, "mid": cid})


def _rows_of(path: Path, text: str) -> tuple[str, list[dict]] | None:
    """('json'|'jsonl'|'csv', rows) when the file is a table of records, else None."""
    head = text.lstrip()[:1]
    if head == "[":
        try:
            rows = json.loads(text)
        except ValueError:
            return None
        return ("json", rows) if isinstance(rows, list) and all(isinstance(r, dict) for r in rows) else None
    if head == "{" and "\n{" in text.strip():
        rows = []
        for line in text.splitlines():
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    return None
        return "jsonl", rows
    if path.suffix.lower() == ".csv" or (head and head not in "{[<"):
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames and len(reader.fieldnames) > 2:
            return "csv", [{(k or "").strip(): v for k, v in r.items()} for r in reader]
    return None


def peer_records(path: Path, text: str, payload: Any = None) -> tuple[str, list[Post | Comment], list[str]] | None:
    """(shape, records, warnings) when PATH is another crawler's output file, else None (not one of theirs).

    One row that cannot be read becomes a warning naming the file, the row and why; the others are kept."""
    warnings: list[str] = []
    items: list[Post | Comment] = []

    def each(rows: list, build, what: str) -> None:  # noqa: ANN001
        for n, row in enumerate(rows, 1):
            try:
                items.append(build(row))
            except (MalformedError, TimeFormatError, KeyError, TypeError, ValueError) as exc:
                warnings.append(f"{path}: {what} row {n}: {exc}")

    if isinstance(payload, dict) and isinstance(payload.get("weibo"), list):
        user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
        each([w for w in payload["weibo"] if isinstance(w, dict)], lambda w: _dataabc_post(w, user, path), DATAABC)
        return "dataabc_json", items, warnings
    table = _rows_of(path, text)
    if table is None or not table[1]:
        return None
    form, rows = table
    keys = set(rows[0])
    if "note_id" in keys and "comment_id" not in keys and "content" in keys:
        each(rows, lambda r: _mediacrawler_post(r, path), MEDIACRAWLER)
        return f"mediacrawler_contents_{form}", items, warnings
    if "comment_id" in keys and "note_id" in keys:
        each(rows, lambda r: _mediacrawler_comment(r, path), MEDIACRAWLER)
        return f"mediacrawler_comments_{form}", items, warnings
    if form == "csv" and {"id", "bid", "正文"} <= keys:
        uid = path.stem if _DIGITS.match(path.stem) else None  # <user_id>.csv in a folder named after the user
        name = path.parent.name if path.parent.name and not _DIGITS.match(path.parent.name) else ""

        def build(r: dict) -> Post:
            w = {_CSV_DATAABC[k]: v for k, v in r.items() if k in _CSV_DATAABC}
            w["user_id"], w["screen_name"] = uid, name
            if w.get("retweet_id"):
                w["retweet"] = {"id": w["retweet_id"], "user_id": w.get("retweet_user_id"),
                                "screen_name": w.get("retweet_screen_name"), "text": w.get("retweet_text"),
                                "full_created_at": w.get("retweet_full_created_at"), "bid": w.get("retweet_bid")}
            return _dataabc_post(w, {}, path)

        each(rows, build, DATAABC)
        return "dataabc_csv", items, warnings
    return None
