"""Every link wzmon sends or shows, built in one place from the board's own page paths.

The board registers its pages from `BOARD_PAGES` (dashboard/app.py), and alerts, digests and reports build their
links with `case_url` / `page_url` from the same table, so renaming a page renames every link with it. (Links to the original posts go to the real site:
`https://weibo.com/{uid}/{bid}`, built by the crawler as each post's `source_url`.)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlencode

__all__ = ["BOARD_PAGES", "BoardPage", "board_url", "case_url", "page_url"]


@dataclass(frozen=True)
class BoardPage:
    key: str
    title: str
    url_path: str  # the page's path on the board: {board}/{url_path}
    script: str  # dashboard/views/<script>
    icon: str
    default: bool = False


BOARD_PAGES: tuple[BoardPage, ...] = (
    BoardPage("overview", "总览", "overview", "overview.py", ":material/dashboard:", default=True),
    BoardPage("overdue", "超期", "overdue", "overdue.py", ":material/alarm:"),
    BoardPage("negative", "负面", "negative", "negative.py", ":material/sentiment_dissatisfied:"),
    BoardPage("rankings", "账号排行", "rankings", "rankings.py", ":material/leaderboard:"),
    BoardPage("inspection", "账号巡检", "inspection", "inspection.py", ":material/fact_check:"),
    BoardPage("trends", "趋势", "trends", "trends.py", ":material/trending_up:"),
    BoardPage("case", "案件详情", "case", "case.py", ":material/search:"),
    BoardPage("crawler", "采集状态", "crawler", "crawler.py", ":material/satellite_alt:"),
    BoardPage("alerts", "告警", "alerts", "alerts.py", ":material/notifications:"),
    BoardPage("export", "导出", "export", "export.py", ":material/download:"),
)
_BY_KEY = {p.key: p for p in BOARD_PAGES}


def board_url(base: str | None = None) -> str:
    """The board's base URL: the one given, else WZMON_BOARD_URL, else the local default."""
    return (base or os.environ.get("WZMON_BOARD_URL") or "http://127.0.0.1:8501").rstrip("/")


def page_url(base: str | None, key: str, **query: object) -> str:
    """{board}/{page path}[?query] for the page KEY of BOARD_PAGES (KeyError for a page the board does not have);
    the default page (总览) is the board's root."""
    page = _BY_KEY[key]
    q = {k: v for k, v in query.items() if v is not None}
    path = "" if page.default else page.url_path  # the board serves its default page at the root only
    return f"{board_url(base)}/{path}" + (f"?{urlencode(q)}" if q else "")


def case_url(base: str | None, case_id: int) -> str:
    """The board's page of one case: what an alert about that case links to."""
    return page_url(base, "case", case=int(case_id))
