"""The board at a year boundary, in Debian chromium: the demo played with the clock at 2026-12-22 10:00, the board
started on the same clock. 总览 and 采集状态 carry the calendar banner naming the command that fixes it, 总览 counts the
cases whose deadlines are provisional, and a case's page marks its provisional deadline."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from dashboard import auth
from matrix.storage.db import dispose_engines, open_db, session_scope
from matrix.storage.models import Case
from test_browser import CHROMIUM_ARGS, PASSWORDS, grid_text, nav, running_board, shot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium is not installed"),
]
NOW = "2026-12-22T10:00"


def test_calendar_banner_counts_and_badge_at_the_year_boundary(tmp_path):
    from playwright.sync_api import sync_playwright

    db_url = f"sqlite:///{tmp_path / 'wzmon.db'}"
    env = {**os.environ, "WZMON_NOW": NOW, "WZMON_CALENDAR": str(tmp_path / "calendar.toml")}
    demo = subprocess.run([sys.executable, "-m", "matrix.cli.root", "--db", db_url, "demo", "--no-dashboard",
                           "--play-seconds", "2"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr[-2000:]
    with session_scope(open_db(db_url)) as s:
        provisional = s.scalars(select(Case.id).where(Case.status.in_(["open", "awaiting_forward", "responded"]),
                                                     Case.provisional_dues != "")).all()
    dispose_engines()
    assert provisional
    users = tmp_path / "users.toml"
    auth.add_user(users, "office", role="office", password=PASSWORDS["office"], rounds=4)
    extra = {"WZMON_NOW": NOW, "WZMON_CALENDAR": env["WZMON_CALENDAR"]}
    with running_board(db_url, users, tmp_path, extra_env=extra) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        pg = browser.new_context(viewport={"width": 1500, "height": 1500}, locale="zh-CN").new_page()
        pg.set_default_timeout(30000)
        sign_in(pg, base, "office")
        body = pg.locator("body").inner_text()
        shot(pg, "calendar-overview")
        assert "工作日历即将用尽" in body and "wzmon calendar import notice-2027.txt" in body
        metric = pg.locator("[data-testid='stMetric']", has_text="暂定时限").inner_text()
        assert str(len(provisional)) in metric, metric
        nav(pg, "采集状态")
        assert "工作日历即将用尽" in pg.locator("body").inner_text()
        pg.context.clear_cookies()
        sign_in(pg, base, "office", f"/case?case={provisional[0]}")
        shot(pg, "calendar-case")
        text = pg.locator("body").inner_text()
        assert f"案件 #{provisional[0]}" in text
        assert "暂定时限：办结时限 按法定节假日推算" in text
        facts = pg.locator("[data-testid='stDataFrame'], [data-testid='stTable']").first.inner_text()
        assert "（暂定）" in facts or "（暂定）" in grid_text(pg, 0)
        browser.close()
