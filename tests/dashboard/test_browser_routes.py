"""The board in Debian chromium after `wzmon demo --refuse mobile`: 总览 and 采集状态 carry one banner naming the
closed route (m.weibo.cn) and what to do, while the crawler banner for a blocked site stays away (the site is not
refusing: the other routes answered)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import auth
from test_browser import CHROMIUM_ARGS, PASSWORDS, nav, running_board, shot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium is not installed"),
]
NOW = "2026-12-22T10:00"


def test_closed_route_banner_on_overview_and_crawler_page(tmp_path):
    from playwright.sync_api import sync_playwright

    db_url = f"sqlite:///{tmp_path / 'wzmon.db'}"
    env = {**os.environ, "WZMON_NOW": NOW}
    demo = subprocess.run([sys.executable, "-m", "matrix.cli.root", "--db", db_url, "demo", "--no-dashboard",
                           "--refuse", "mobile", "--play-seconds", "2", "--accounts", "8", "--days", "2"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr[-2000:]
    users = tmp_path / "users.toml"
    auth.add_user(users, "office", role="office", password=PASSWORDS["office"], rounds=4)
    with running_board(db_url, users, tmp_path, extra_env={"WZMON_NOW": NOW}) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        pg = browser.new_context(viewport={"width": 1500, "height": 1500}, locale="zh-CN").new_page()
        pg.set_default_timeout(30000)
        sign_in(pg, base, "office")
        body = pg.locator("body").inner_text()
        shot(pg, "routes-overview")
        assert body.count("采集线路被微博关闭：移动端接口 m.weibo.cn") == 1, body[:2000]
        assert "wzmon login" in body and "采集被微博限制" not in body
        nav(pg, "采集状态")
        body = pg.locator("body").inner_text()
        assert body.count("采集线路被微博关闭：移动端接口 m.weibo.cn") == 1
        browser.close()
