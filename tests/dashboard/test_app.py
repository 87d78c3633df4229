"""The board's logic through Streamlit's AppTest on a seeded database (SQLite and PostgreSQL)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from dashboard_seed import APP, PASSWORDS
from dashboard import auth
from dashboard_seed import A, A_SECRET, B, B_SECRET, EVIL_TEXT, block_crawler
from matrix.storage.db import open_db, session_scope
from matrix.storage.models import Case, CaseEvent

PAGES = ["overview", "overdue", "negative", "rankings", "inspection", "trends", "case", "crawler", "alerts", "export"]


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def app(name: str | None = None) -> AppTest:
    """The app with NAME (a user of the users file) already signed in; None = nobody."""
    at = AppTest.from_file(APP, default_timeout=60)
    if name is not None:
        user = auth.load_users(os.environ["WZMON_USERS"]).user(name)
        assert user is not None
        at.session_state["wzmon_user"] = user
    return at


def goto(at: AppTest, page: str, **params: str) -> AppTest:
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page(f"views/{page}.py")
    return run(at)


def case_ids(at: AppTest, index: int = 0) -> set[int]:
    df = at.dataframe[index].value
    return {int(v) for v in df["case_id"].dropna()}


def everything_shown(at: AppTest) -> str:
    """All text the page shows, for leak checks: markdown, text, tables, metrics, captions."""
    parts = [str(e.value) for e in list(at.markdown) + list(at.text) + list(at.caption) + list(at.metric)]
    parts += [df.value.to_csv() for df in at.dataframe]
    parts += [str(e.value) for e in list(at.error) + list(at.warning) + list(at.info) + list(at.success)]
    parts += [t.value for t in at.title] + [s.value for s in at.subheader]
    return "\n".join(parts)


def test_demo_overview_shows_overdue_negative_and_accounts(board_env, monkeypatch: pytest.MonkeyPatch) -> None:
    _, seeded = board_env
    monkeypatch.delenv("WZMON_USERS")
    at = run(app())
    assert any("未配置登录 (demo)" in w.value for w in at.warning)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["本期新案件"] == "8"
    assert metrics["本期超期"] == str(len(seeded.a_overdue) + len(seeded.b_overdue) + 1)
    overdue = case_ids(at, 0)
    assert set(seeded.a_overdue) | set(seeded.b_overdue) <= overdue
    assert seeded.evil_case not in overdue  # only a warning so far
    negative = at.dataframe[1].value
    assert seeded.evil_case in set(negative["case_id"].dropna().astype(int))
    accounts = at.dataframe[2].value
    assert {"银川公安", "银川教育", "问政银川"} <= set(accounts["账号"])


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_office_and_member(board_env, page: str) -> None:
    for user in ("office", "police"):
        at = run(app(user))
        goto(at, page)
        assert at.title, f"{page} shows no title"


def test_member_sees_only_own_accounts_everywhere(board_env) -> None:
    _, seeded = board_env
    at = run(app("police"))
    assert case_ids(at, 0) == set(seeded.a_overdue)
    for page in PAGES:
        goto(at, page)
        shown = everything_shown(at)
        assert B_SECRET not in shown and "银川教育" not in shown and EVIL_TEXT[:20] not in shown, page
    # by query parameter: another account's case reads as missing
    goto(at, "case", case=str(seeded.b_secret_case))
    assert any("无权查看" in e.value for e in at.error)
    assert B_SECRET not in everything_shown(at)
    goto(at, "case", case=str(seeded.a_secret_case))
    assert A_SECRET in everything_shown(at)
    assert any("仅限问政办" in c.value for c in at.caption)  # no office actions for members


def test_member_with_other_account_sees_other_side(board_env) -> None:
    _, seeded = board_env
    at = run(app("edu"))
    assert case_ids(at, 0) == set(seeded.b_overdue)
    goto(at, "overdue")
    assert case_ids(at, 0) == set(seeded.b_overdue)
    assert A_SECRET not in everything_shown(at)


def test_post_markup_renders_as_text(board_env) -> None:
    _, seeded = board_env
    at = run(app("office"))
    goto(at, "case", case=str(seeded.evil_case))
    assert EVIL_TEXT in [t.value for t in at.text]  # verbatim in st.text (no markdown, no HTML)
    for md in at.markdown:
        assert "evil.example" not in md.value and "<script" not in md.value


def test_crawler_banner_on_every_page(board_env) -> None:
    url, _ = board_env
    at = run(app("office"))
    assert not any("采集" in e.value for e in at.error)
    block_crawler(open_db(url))
    import streamlit as st

    st.cache_data.clear()
    for user in ("office", "police"):
        at = run(app(user))
        for page in PAGES:
            goto(at, page)
            banners = [e.value for e in at.error if "采集被微博限制" in e.value]
            assert banners, page
            assert "<b>" not in banners[0]  # crawler message escaped


def test_sign_in_required_with_users_file(board_env) -> None:
    _, seeded = board_env
    at = run(app())
    assert at.title[0].value.endswith("登录")
    assert not at.dataframe and not at.metric  # nothing before sign-in
    at.text_input(key="login_name").input("police")
    at.text_input(key="login_password").input("wrong-password")
    at.button[0].click()
    run(at)
    assert any("用户名或密码错误" in e.value for e in at.error)
    assert not at.dataframe
    at.text_input(key="login_name").input("police")
    at.text_input(key="login_password").input(PASSWORDS["police"])
    at.button[0].click()
    run(at)
    assert at.title[0].value == "总览"
    assert case_ids(at, 0) == set(seeded.a_overdue)
    assert not any("demo" in w.value for w in at.warning)


def test_broken_users_file_stops_the_board(board_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "users.toml"
    bad.write_text('[users.x]\nrole = "boss"\npassword_hash = "$2b$04$abc"\n', encoding="utf-8")
    monkeypatch.setenv("WZMON_USERS", str(bad))
    at = run(app())
    assert any("登录配置有误" in e.value for e in at.error)
    assert "role must be one of" in " ".join(t.value for t in at.text)
    assert not at.dataframe


def test_overdue_filters(board_env) -> None:
    _, seeded = board_env
    at = run(app("office"))
    goto(at, "overdue")
    assert case_ids(at) == set(seeded.a_overdue) | set(seeded.b_overdue) | {8}
    at.multiselect(key="overdue_dept").set_value(["教育"])
    run(at)
    assert case_ids(at) == set(seeded.b_overdue)
    at.multiselect(key="overdue_dept").set_value([])
    at.multiselect(key="overdue_level").set_value(["催办"])
    run(at)
    with session_scope(open_db(board_env[0])) as s:
        expect = set(s.execute(select(Case.id).where(Case.overdue_level == "催办")).scalars())
    assert case_ids(at) == expect


def test_office_action_needs_reason_and_records_actor(board_env) -> None:
    url, seeded = board_env
    at = run(app("office"))
    goto(at, "case", case=str(seeded.a_secret_case))
    at.selectbox(key="act_name").set_value("close")
    run(at)
    at.button(key="FormSubmitter:case_action-执行").click()
    run(at)
    assert any("请填写理由" in e.value for e in at.error)
    with session_scope(open_db(url)) as s:
        assert s.execute(select(CaseEvent).where(CaseEvent.type == "closed")).first() is None
    at.text_area(key="act_reason").input("市民电话确认已解决")
    at.button(key="FormSubmitter:case_action-执行").click()
    run(at)
    assert any("已执行" in m.value for m in at.success), [e.value for e in at.error] + [t.value for t in at.text]
    with session_scope(open_db(url)) as s:
        ev = s.execute(select(CaseEvent).where(CaseEvent.type == "closed")).scalar_one()
        assert (ev.actor, ev.reason, ev.case_id) == ("office", "市民电话确认已解决", seeded.a_secret_case)
        assert s.get(Case, seeded.a_secret_case).status == "closed"


def test_office_reassign_moves_case_out_of_member_view(board_env) -> None:
    url, seeded = board_env
    at = run(app("office"))
    goto(at, "case", case=str(seeded.a_secret_case))
    at.selectbox(key="act_name").set_value("reassign")
    run(at)
    at.selectbox(key="act_to").set_value(B)
    at.text_area(key="act_reason").input("属教育局职责")
    at.button(key="FormSubmitter:case_action-执行").click()
    run(at)
    assert any("已执行" in m.value for m in at.success), [t.value for t in at.text]
    member = run(app("police"))
    goto(member, "case", case=str(seeded.a_secret_case))
    assert any("无权查看" in e.value for e in member.error)
    edu = run(app("edu"))
    goto(edu, "case", case=str(seeded.a_secret_case))
    assert A_SECRET in everything_shown(edu)


@pytest.mark.parametrize("now, banner, says", [
    ("2026-12-22T10:00", "工作日历即将用尽", "ends on 2026-12-31 (9 day(s) from now)"),
    ("2027-01-04T09:30", "工作日历已用尽", "ended on 2026-12-31 (4 day(s) ago)"),
])
def test_calendar_banner_before_and_after_the_official_calendar_ends(board_env, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     now: str, banner: str, says: str) -> None:
    """No notice for 2027 imported: before the year's end the board says the calendar runs out soon, after it
    that it has run out (not that it ends "0 days from now"), and both name the command that fixes it."""
    import streamlit as st

    monkeypatch.setenv("WZMON_NOW", now)
    monkeypatch.setenv("WZMON_CALENDAR", str(tmp_path / "calendar.toml"))
    st.cache_data.clear()
    at = run(app("office"))
    shown = [e.value.replace("\\", "") for e in at.warning if "工作日历" in e.value]  # as rendered: unescaped
    assert len(shown) == 1, [e.value for e in at.warning]
    assert shown[0].startswith(banner + "：") and says in shown[0]
    assert "wzmon calendar import notice-2027.txt" in shown[0]
