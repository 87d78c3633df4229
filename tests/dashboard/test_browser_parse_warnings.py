"""采集状态 in Debian chromium: parse warnings per source and the latest warnings, for the office and for a member.

The pages stored are a real m.weibo.cn getIndex timeline of the corpus (nonebot-bison/weibo_ak_list_0.json,
PROVENANCE.md) with one post's `created_at` spoiled, read by the real parser and stored through the Ingestor as a poller
would, under member A's timeline (card 4, post 4648004356937383 spoiled) and member B's (card 6, post
4647211990255467). The expected ids are the cards' `mblog.id` read from the file.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from crawler.parsers import parse_index
from crawler.types import Page, RawResponse
from dashboard import auth
from dashboard_seed import A, B, NOW, seed
from matrix.storage.db import dispose_engines, open_db
from matrix.polling.ingest import Ingestor
from matrix.rules.policy import load_policy
from test_browser import CHROMIUM_ARGS, PASSWORDS, column, grid_text, idle, running_board, shot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium is not installed"),
]
TIMELINE = Path(__file__).resolve().parents[1] / "crawler" / "corpus" / "nonebot-bison" / "weibo_ak_list_0.json"
SPOILED = {A: (3, "4648004356937383"), B: (5, "4647211990255467")}  # card index, that card's mblog.id


def _page_with_one_bad_item(index: int) -> Page:
    payload = json.loads(TIMELINE.read_bytes())
    mblog = payload["data"]["cards"][index]["mblog"]
    assert mblog["id"] == dict(SPOILED.values())[index]
    mblog["created_at"] = "去年某天"
    parsed = parse_index(payload, NOW)
    raw = RawResponse("https://m.weibo.cn/api/container/getIndex?containerid=1076036279793937", 200,
                      "application/json", NOW, json.dumps(payload, ensure_ascii=False).encode("utf-8"))
    return Page(parsed.posts, raw, {}, True, warnings=parsed.warnings)


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("parse-warnings-board")
    db_url = f"sqlite:///{tmp / 'wzmon.db'}"
    engine = open_db(db_url, create=True)
    seed(engine)
    ingestor = Ingestor(engine, load_policy())
    for uid, (index, _) in SPOILED.items():
        assert ingestor.store_page(f"timeline:{uid}", _page_with_one_bad_item(index), {}).parse_warnings == 1
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
    context = browser.new_context(viewport={"width": 1600, "height": 2000}, locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = context.new_page()
    pg.set_default_timeout(30000)
    yield pg
    context.close()


def open_crawler(pg, base: str, user: str) -> str:  # noqa: ANN001
    sign_in(pg, base, user, "/crawler")
    pg.wait_for_function("() => [...document.querySelectorAll('h1')].some(h => h.innerText.includes('采集状态'))")
    idle(pg)
    errors = pg.locator("[data-testid='stException']")
    assert not errors.count(), errors.first.inner_text()
    return pg.locator("body").inner_text()


def _metric(pg, label: str) -> str:  # noqa: ANN001
    box = pg.locator("[data-testid='stMetric']", has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_office_sees_the_count_per_source_and_every_latest_warning(board: str, page) -> None:  # noqa: ANN001
    body = open_crawler(page, board, "office")
    shot(page, "crawler_parse_warnings_office")
    assert "最近的解析警告" in body
    assert _metric(page, "解析警告") == "2"
    status = grid_text(page, 0)
    counts = dict(zip(column(status, "采集源"), column(status, "解析警告")))
    assert counts[f"timeline:{A}"] == "1" and counts[f"timeline:{B}"] == "1"
    warnings = grid_text(page, 1)
    shown = column(warnings, "警告（条目、字段、原因）")
    assert len(shown) == 2
    for uid, (_, item) in SPOILED.items():
        line = next(w for w, k in zip(shown, column(warnings, "采集源")) if k == f"timeline:{uid}")
        assert item in line and "created_at" in line and "去年某天" in line and "getIndex" in line


def test_a_member_sees_only_its_own_sources_warnings(board: str, page) -> None:  # noqa: ANN001
    body = open_crawler(page, board, "police")
    shot(page, "crawler_parse_warnings_member")
    assert _metric(page, "解析警告") == "1"
    warnings = grid_text(page, 1)
    assert column(warnings, "采集源") == [f"timeline:{A}"]
    assert SPOILED[A][1] in warnings and SPOILED[B][1] not in body + warnings
