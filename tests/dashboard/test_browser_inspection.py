"""账号巡检 in Debian chromium: the office sees every member account's silence and dead links, a member only its own.

The data are the inspection tests' small matrix (tests/inspection/inspection_world.py) with the board's clock set
to its NOW, so every figure shown is worked out from that file.
"""
from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest

from dashboard import auth
from matrix.storage.db import dispose_engines, open_db, session_scope
from test_browser import CHROMIUM_ARGS, PASSWORDS, grid_text, idle, running_board, shot, sign_in

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inspection"))
from inspection_world import A, D, NAMES, NOW, build  # noqa: E402

from matrix.casework.inspection import record_links, store_link_result  # noqa: E402
from matrix.storage.models import Post  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium is not installed"),
]
DEAD = "https://t.cn/A6xyz"


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("inspection-board")
    db_url = f"sqlite:///{tmp / 'wzmon.db'}"
    engine = open_db(db_url, create=True)
    build(engine)
    with session_scope(engine) as s:
        posts = list(s.query(Post).filter(Post.user_id == D))
        assert record_links(s, posts, {A, D}) == 1
        store_link_result(s, DEAD, ok=False, status=404, final_url=DEAD, error="", at=NOW - timedelta(hours=2))
    dispose_engines()
    users = tmp / "users.toml"
    auth.add_user(users, "office", role="office", password=PASSWORDS["office"], rounds=4)
    auth.add_user(users, "police", role="member", password=PASSWORDS["police"], accounts=[A], rounds=4)
    with running_board(db_url, users, tmp, extra_env={"WZMON_NOW": NOW.isoformat()}) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):  # noqa: ANN001, ANN201
    context = browser.new_context(viewport={"width": 1500, "height": 1800}, locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = context.new_page()
    pg.set_default_timeout(30000)
    yield pg
    context.close()


def open_inspection(pg, base: str, user: str) -> str:  # noqa: ANN001
    sign_in(pg, base, user, "/inspection")
    pg.wait_for_function("() => [...document.querySelectorAll('h1')].some(h => h.innerText.includes('账号巡检'))")
    idle(pg)
    errors = pg.locator("[data-testid='stException']")
    assert not errors.count(), errors.first.inner_text()
    return pg.locator("body").inner_text()


def test_office_sees_every_member(board: str, page) -> None:  # noqa: ANN001
    body = open_inspection(page, board, "office")
    shot(page, "inspection_office")
    silence = grid_text(page, 0)
    for uid, name in NAMES.items():
        if name != "问政银川":
            assert name in silence, name
    water = next(line for line in silence.splitlines() if "银川水务" in line)
    assert "超过2周未更新" in water and "15" in water  # its last post was 15 days before NOW
    police = next(line for line in silence.splitlines() if "银川公安" in line)
    assert "正常" in police and "\t3" in police
    assert "问政银川" not in silence, "the coordinator is not inspected"
    links = grid_text(page, 1)
    assert DEAD in links and "HTTP 404" in links and "银川水务" in links
    assert "单项否决" in body and "@银川水务" in body


def test_member_sees_only_its_own(board: str, page) -> None:  # noqa: ANN001
    body = open_inspection(page, board, "police")
    shot(page, "inspection_member")
    silence = grid_text(page, 0)
    assert "银川公安" in silence
    for other in ("银川水务", "银川教育", "银川文旅"):
        assert other not in silence and other not in body
    assert DEAD not in body and "未发现失效链接" in body
