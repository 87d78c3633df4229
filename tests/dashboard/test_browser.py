"""End to end in Debian chromium: the real Streamlit server, real sign-in, real clicks, real downloads.

SQLite only (the AppTest suite covers PostgreSQL). Screenshots of every page land in
tests/artifacts/screenshots/ (gitignored).
"""
from __future__ import annotations

from contextlib import contextmanager

import csv
import io
import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import select

from dashboard import auth, server
from dashboard_seed import A, A_SECRET, B, B_SECRET, EVIL_TEXT, Seeded, block_crawler, seed
from matrix.storage.db import dispose_engines, get_engine, open_db, session_scope
from matrix.storage.models import Case, CaseEvent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium is not installed"),
]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
PASSWORDS = {"office": "office-pass-1", "police": "police-pass-1"}
NAV = ["总览", "超期", "负面", "账号排行", "趋势", "案件详情", "采集状态", "告警", "导出"]


class Board:
    def __init__(self, url: str, base: str, seeded: Seeded, db_url: str) -> None:
        self.url, self.base, self.seeded, self.db_url = url, base, seeded, db_url


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    tmp = tmp_path_factory.mktemp("board")
    db_url = f"sqlite:///{tmp / 'wzmon.db'}"
    engine = open_db(db_url, create=True)
    seeded = seed(engine)
    block_crawler(engine)
    dispose_engines()
    users = tmp / "users.toml"
    auth.add_user(users, "office", role="office", password=PASSWORDS["office"], display_name="问政办值班", rounds=4)
    auth.add_user(users, "police", role="member", password=PASSWORDS["police"], accounts=[A], rounds=4)
    with running_board(db_url, users, tmp) as base:
        yield Board(db_url, base, seeded, db_url)


@contextmanager
def running_board(db_url: str, users: Path, tmp: Path, port: int | None = None,
                  extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """`wzmon dashboard` in a subprocess on 127.0.0.1 (its log in TMP/server.log); yields its base URL."""
    port = port or server.free_port()
    base = server.url_for("127.0.0.1", port)
    with (tmp / "server.log").open("wb") as log:
        proc = server.launch(db_url, port=port, users=users, stdout=log, stderr=subprocess.STDOUT,
                             **({"extra_env": extra_env} if extra_env else {}))
        try:
            server.wait_ready(base, proc, timeout=60)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, tmp_path: Path):  # noqa: ANN001, ANN201
    context = browser.new_context(viewport={"width": 1500, "height": 1500}, accept_downloads=True, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    pg = context.new_page()
    pg.set_default_timeout(30000)
    yield pg
    context.close()


def idle(pg) -> None:  # noqa: ANN001
    """Wait until the script run is over: a heading is up and no running indicator or skeleton for a while."""
    pg.wait_for_selector("h1", timeout=30000)
    quiet = 0
    for _ in range(400):
        pg.wait_for_timeout(150)
        busy = pg.locator("[data-testid='stStatusWidget']").count() + pg.locator("[data-testid='stSkeleton']").count()
        quiet = 0 if busy else quiet + 1
        if quiet >= 4:
            return
    raise AssertionError("the board kept running")


def shot(pg, name: str) -> None:  # noqa: ANN001
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(pg, base: str, name: str, path: str = "") -> None:  # noqa: ANN001
    pg.goto(base + path)
    idle(pg)
    assert "登录" in pg.locator("h1").first.inner_text()
    pg.get_by_label("用户名").fill(name)
    pg.get_by_label("密码").fill(PASSWORDS[name])
    pg.get_by_role("button", name="登录").click()
    pg.wait_for_function("() => !document.querySelector('h1') || !document.querySelector('h1').innerText.includes('登录')")
    idle(pg)


def nav(pg, title: str) -> None:  # noqa: ANN001
    pg.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
    pg.wait_for_function(
        "(t) => [...document.querySelectorAll('h1')].some(h => h.innerText.includes(t))",
        arg={"总览": "总览", "超期": "超期", "负面": "负面", "账号排行": "账号排行", "趋势": "趋势", "案件详情": "案件详情",
             "采集状态": "采集状态", "告警": "告警", "导出": "导出"}[title],
    )
    idle(pg)


def grid_text(pg, index: int = 0) -> str:  # noqa: ANN001
    """The text of a data grid (its accessible table mirrors the visible rows)."""
    grid = pg.locator("[data-testid='stDataFrame']").nth(index)
    grid.locator("table").first.wait_for(state="attached")
    return grid.evaluate(
        "(el) => [...el.querySelectorAll('tr')].map(r => [...r.querySelectorAll('th,td')].map(c => c.textContent).join('\\t')).join('\\n')"
    )


def column(grid: str, name: str) -> list[str]:
    lines = [line.split("\t") for line in grid.splitlines()]
    i = lines[0].index(name)
    return [cells[i] for cells in lines[1:] if len(cells) > i]


def click_first_row(pg, index: int = 0) -> None:  # noqa: ANN001
    box = pg.locator("[data-testid='stDataFrame']").nth(index).bounding_box()
    pg.mouse.click(box["x"] + 15, box["y"] + 35 + 17)  # the row-selection box of row 1 (header is 35 px)


def choose(pg, label: str, option: str) -> None:  # noqa: ANN001
    """Pick an option of a Streamlit selectbox (a react-aria combobox): type to filter, click the option."""
    box = pg.get_by_role("combobox", name=label)
    box.scroll_into_view_if_needed()
    for _ in range(3):
        box.click()
        box.fill(option[:2])
        opt = pg.get_by_role("option", name=option)
        try:
            opt.wait_for(state="visible", timeout=5000)
        except Exception:  # noqa: BLE001 - the list closed on a rerun: open it again
            continue
        opt.click()
        idle(pg)
        return
    raise AssertionError(f"option {option} of {label} never showed")


def download(pg, button_text: str) -> bytes:  # noqa: ANN001
    with pg.expect_download(timeout=60000) as info:
        pg.get_by_role("button", name=button_text).click()
    path = info.value.path()
    return Path(path).read_bytes()


def test_office_day(board: Board, page) -> None:  # noqa: ANN001
    pg = page
    sign_in(pg, board.base, "office")
    assert "总览" in pg.locator("h1").first.inner_text()
    body = pg.locator("body").inner_text()
    assert "采集被微博限制" in body  # the crawler banner
    assert "未配置登录" not in body
    # the overdue list is on the overview, longest overdue first
    overdue = grid_text(pg, 0)
    ids = set(column(overdue, "案件"))
    assert {str(c) for c in board.seeded.a_overdue + board.seeded.b_overdue} <= ids
    shot(pg, "office_01_overview")
    for i, title in enumerate(NAV[1:], 2):
        nav(pg, title)
        assert not pg.locator("[data-testid='stException']").count(), title
        shot(pg, f"office_{i:02d}_{title}")
    # open a case from the overdue list
    nav(pg, "超期")
    click_first_row(pg)
    pg.wait_for_selector("h3:has-text('案件 #')")
    idle(pg)
    heading = pg.locator("h3", has_text="案件 #").first.inner_text()
    case_id = int(heading.split("#")[1])
    assert "case=" in pg.url
    with session_scope(get_engine(board.url)) as s:
        assert s.get(Case, case_id).overdue
    shot(pg, "office_10_case_opened")
    # office action: close with a reason
    choose(pg, "操作", "确认办结")
    idle(pg)
    pg.get_by_role("button", name="执行").click()
    idle(pg)
    assert "请填写理由" in pg.locator("body").inner_text()
    pg.get_by_label("理由（必填）").fill("电话回访，市民确认已解决")
    pg.get_by_role("button", name="执行").click()
    pg.wait_for_selector("text=已执行")
    idle(pg)
    shot(pg, "office_11_case_closed")
    with session_scope(get_engine(board.url)) as s:
        ev = s.execute(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.type == "closed")).scalar_one()
        assert (ev.actor, ev.reason) == ("office", "电话回访，市民确认已解决")
        assert s.get(Case, case_id).status == "closed"
    dispose_engines()
    assert "已办结" in pg.locator("body").inner_text()
    # download a CSV of cases
    nav(pg, "导出")
    data = download(pg, "下载 wzmon-cases")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    accounts = {v for r in rows for k, v in r.items() if k and "account_uid" in k}
    assert {A, B} <= accounts
    shot(pg, "office_12_export")


def test_markup_in_posts_is_inert(board: Board, page) -> None:  # noqa: ANN001
    pg = page
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(pg, board.base, "office", f"/case?case={board.seeded.evil_case}")
    pg.wait_for_selector("h3:has-text('案件 #')")
    idle(pg)
    assert EVIL_TEXT in pg.locator("body").inner_text()  # shown verbatim
    assert pg.locator("a[href*='evil.example']").count() == 0
    assert pg.locator("[data-testid='stMain'] b").count() == 0  # no <b> from the citizen name or the banner
    assert pg.evaluate("() => window.__xss === undefined") and not dialogs
    shot(pg, "office_13_case_with_markup")


def test_member_sees_only_own_account(board: Board, page) -> None:  # noqa: ANN001
    pg = page
    sign_in(pg, board.base, "police")
    body = pg.locator("body").inner_text()
    assert "成员账号" in body
    overdue = grid_text(pg, 0)
    assert "银川公安" in overdue and "银川教育" not in overdue
    assert B_SECRET not in body
    shot(pg, "member_01_overview")
    for i, title in enumerate(NAV[1:], 2):
        nav(pg, title)
        text = pg.locator("body").inner_text()
        assert B_SECRET not in text and "银川教育" not in text and EVIL_TEXT[:12] not in text, title
        for j in range(pg.locator("[data-testid='stDataFrame']").count()):
            if pg.locator("[data-testid='stDataFrame']").nth(j).is_visible():
                assert "银川教育" not in grid_text(pg, j), title
        shot(pg, f"member_{i:02d}_{title}")
    # the case page has no office actions for a member
    nav(pg, "超期")
    click_first_row(pg)
    pg.wait_for_selector("h3:has-text('案件 #')")
    idle(pg)
    assert A_SECRET in pg.locator("body").inner_text() or "案件 #" in pg.locator("body").inner_text()
    assert pg.get_by_role("button", name="执行").count() == 0
    assert "仅限问政办" in pg.locator("body").inner_text()
    # the member's download holds only its own account
    nav(pg, "导出")
    data = download(pg, "下载 wzmon-cases")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows
    accounts = {v for r in rows for k, v in r.items() if k and "account_uid" in k}
    assert accounts == {A}
    assert B_SECRET not in data.decode("utf-8-sig")


def test_member_cannot_open_other_case_by_url(board: Board, page) -> None:  # noqa: ANN001
    pg = page
    sign_in(pg, board.base, "police", f"/case?case={board.seeded.b_secret_case}")
    assert "case=" in pg.url
    text = pg.locator("body").inner_text()
    assert "无权查看" in text and B_SECRET not in text
    shot(pg, "member_10_other_case_by_url")
    # nor by typing the number
    box = pg.get_by_label("案件编号")
    box.fill(str(board.seeded.b_cases[-1]))
    pg.get_by_role("button", name="打开").click()
    idle(pg)
    assert "无权查看" in pg.locator("body").inner_text()
    # its own case opens
    box = pg.get_by_label("案件编号")
    box.fill(str(board.seeded.a_secret_case))
    pg.get_by_role("button", name="打开").click()
    pg.wait_for_selector(f"text={A_SECRET}")


def test_sign_in_rejects_wrong_password(board: Board, page) -> None:  # noqa: ANN001
    pg = page
    pg.goto(board.base)
    idle(pg)
    pg.get_by_label("用户名").fill("office")
    pg.get_by_label("密码").fill("not-the-password")
    pg.get_by_role("button", name="登录").click()
    pg.wait_for_selector("text=用户名或密码错误")
    assert pg.locator("[data-testid='stDataFrame']").count() == 0
    shot(pg, "login_rejected")
