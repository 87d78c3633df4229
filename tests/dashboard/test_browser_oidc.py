"""OIDC sign-in end to end: Streamlit's real `st.login` (Authlib) against a real local OpenID provider.

The provider (tests/dashboard/oidc_provider.py) runs on 127.0.0.1; the board gets an `[auth]` secrets
file through STREAMLIT_SECRETS_FILES (a temporary file, never in the repository) and a users file
whose entries are matched by e-mail and have no password. Debian chromium clicks through
单点登录 → the provider's pick form → /oauth2callback → the board. Screenshots land in
tests/artifacts/screenshots/oidc_*.png.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Iterator

import pytest

from dashboard import auth, server
from dashboard_seed import A, A_SECRET, B_SECRET, Seeded, seed
from matrix.storage.db import dispose_engines, open_db
from oidc_provider import OIDCProvider
from test_browser import browser, grid_text, idle, nav, running_board, shot  # noqa: F401 - browser: fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium is not installed"),
]
pytest.importorskip("authlib", reason="st.login needs Authlib")

OFFICE, MEMBER, STRANGER = "office@example.cn", "police@example.cn", "stranger@example.cn"


class OIDCBoard:
    def __init__(self, base: str, seeded: Seeded, provider: OIDCProvider) -> None:
        self.base, self.seeded, self.provider = base, seeded, provider


@pytest.fixture(scope="module")
def oidc_board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OIDCBoard]:
    tmp = tmp_path_factory.mktemp("oidc_board")
    db_url = f"sqlite:///{tmp / 'wzmon.db'}"
    seeded = seed(open_db(db_url, create=True))
    dispose_engines()
    users = tmp / "users.toml"
    auth.add_user(users, "office", role="office", password=None, email=OFFICE, display_name="问政办值班")
    auth.add_user(users, "police", role="member", password=None, accounts=[A], email=MEMBER)
    with users.open("a", encoding="utf-8") as f:
        f.write('\n[oidc]\nenabled = true\n')
    assert auth.load_users(users).oidc_enabled

    port = server.free_port()
    base = server.url_for("127.0.0.1", port)  # the browser must use the redirect_uri's origin
    provider = OIDCProvider(
        client_id="wzmon-board", client_secret=secrets.token_urlsafe(24),
        redirect_uris=[f"{base}/oauth2callback"],
        users={OFFICE: "问政办值班", MEMBER: "公安值班", STRANGER: "路人"},
    ).start()
    secrets_file = tmp / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "{base}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{provider.client_id}"\n'
        f'client_secret = "{provider.client_secret}"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n',
        encoding="utf-8",
    )
    os.chmod(secrets_file, 0o600)
    try:
        with running_board(db_url, users, tmp, port=port, extra_env={"STREAMLIT_SECRETS_FILES": str(secrets_file)}):
            yield OIDCBoard(base, seeded, provider)
    finally:
        provider.stop()


@pytest.fixture
def page(browser):  # noqa: ANN001, ANN201
    context = browser.new_context(viewport={"width": 1500, "height": 1500}, locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = context.new_page()
    pg.set_default_timeout(30000)
    yield pg
    context.close()


def sso(pg, board: OIDCBoard, email: str) -> None:  # noqa: ANN001
    """From the board's sign-in form through the provider's pick form and back to the board."""
    pg.goto(board.base)
    idle(pg)
    assert "登录" in pg.locator("h1").first.inner_text()
    with pg.expect_navigation(url=lambda u: u.startswith(board.provider.issuer + "/authorize")):
        pg.get_by_role("button", name="单点登录 (OIDC)").click()
    assert "选择账号" in pg.locator("h1").inner_text()
    pg.get_by_role("button", name=email).click()
    pg.wait_for_url(lambda u: u.startswith(board.base) and "oauth2callback" not in u)


def signed_in(pg) -> str:  # noqa: ANN001
    pg.wait_for_function("() => [...document.querySelectorAll('h1')].some(h => h.innerText.includes('总览'))")
    idle(pg)
    return pg.locator("body").inner_text()


def sign_out(pg, board: OIDCBoard) -> None:  # noqa: ANN001
    pg.locator("[data-testid='stSidebar']").get_by_role("button", name="退出登录").click()
    pg.get_by_role("button", name="单点登录 (OIDC)").wait_for()  # the sign-in form is back
    idle(pg)
    assert "登录" in pg.locator("h1").first.inner_text()


def test_sso_member_then_office(oidc_board: OIDCBoard, page) -> None:  # noqa: ANN001
    pg, board = page, oidc_board
    served = len(board.provider.log)
    sso(pg, board, MEMBER)
    body = signed_in(pg)
    # the real flow ran: discovery, authorize, token exchange (server to server), keys
    log = board.provider.log[served:]
    for step in ("GET /.well-known/openid-configuration", "GET /authorize", "POST /token", "GET /jwks"):
        assert step in log, (step, log)
    assert "成员账号" in body and "police" in body
    assert "银川公安" in grid_text(pg, 0) and "银川教育" not in grid_text(pg, 0)
    assert B_SECRET not in body and "银川教育" not in body
    shot(pg, "oidc_01_member_overview")
    nav(pg, "超期")
    text = pg.locator("body").inner_text()
    assert "银川教育" not in text and B_SECRET not in text
    # another account's case by URL is refused; its own opens (the sign-in cookie carries over)
    pg.goto(f"{board.base}/case?case={board.seeded.b_secret_case}")
    idle(pg)
    text = pg.locator("body").inner_text()
    assert "无权查看" in text and B_SECRET not in text and "成员账号" in text
    shot(pg, "oidc_02_member_other_case_refused")
    pg.goto(f"{board.base}/case?case={board.seeded.a_secret_case}")
    pg.wait_for_selector(f"text={A_SECRET}")
    idle(pg)
    assert pg.get_by_role("button", name="执行").count() == 0  # no office actions for a member

    served = len(board.provider.log)
    sign_out(pg, board)
    assert "GET /logout" in board.provider.log[served:]  # Streamlit's logout went through the provider
    assert "成员账号" not in pg.locator("body").inner_text()
    shot(pg, "oidc_03_signed_out")
    # a fresh visit after signing out asks again (the Streamlit auth cookie is gone)
    pg.goto(board.base)
    idle(pg)
    assert "登录" in pg.locator("h1").first.inner_text()

    sso(pg, board, OFFICE)
    body = signed_in(pg)
    assert "问政办（全部账号）" in body and "问政办值班" in body
    overdue = grid_text(pg, 0)
    assert "银川公安" in overdue and "银川教育" in overdue
    shot(pg, "oidc_04_office_overview")
    pg.goto(f"{board.base}/case?case={board.seeded.b_secret_case}")
    pg.wait_for_selector(f"text={B_SECRET}")
    idle(pg)
    shot(pg, "oidc_05_office_other_case")


def test_sso_unknown_email_is_refused(oidc_board: OIDCBoard, page) -> None:  # noqa: ANN001
    pg, board = page, oidc_board
    sso(pg, board, STRANGER)
    pg.wait_for_selector("text=未在用户文件中登记")
    idle(pg)
    idle_text = pg.locator("body").inner_text()
    assert "无权查看" in idle_text and STRANGER in idle_text
    assert pg.locator("a[href^='mailto:']").count() == 0  # the provider's e-mail is shown as plain text
    assert pg.locator("[data-testid='stDataFrame']").count() == 0
    assert "总览" not in [h.inner_text() for h in pg.locator("h1").all()]
    shot(pg, "oidc_06_unknown_email_refused")
    # it can sign out of the provider account and gets the sign-in form back
    served = len(board.provider.log)
    pg.get_by_role("button", name="退出单点登录").click()
    pg.get_by_role("button", name="单点登录 (OIDC)").wait_for()  # the sign-in form is back
    idle(pg)
    assert "GET /logout" in board.provider.log[served:]
    assert "未在用户文件中登记" not in pg.locator("body").inner_text()
    assert pg.get_by_label("用户名").count() == 1
