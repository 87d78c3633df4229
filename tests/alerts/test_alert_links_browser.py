"""Every link in what wzmon sends, followed as a person would (issue: every case link landed on 总览).

Alerts go through the real local SMTP server and webhook receivers; digests are queued and sent the same way; the
weekly 通报 is rendered. Every URL in them is extracted and opened in Debian chromium on a running board: signed
in as the member who received it (sign-in first, then the page the link names), as the office, and as another
member, who is refused with a plain message and sees nothing of the case.
"""
from __future__ import annotations

import re
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from alerts_support import T0
from dashboard import auth, server
from matrix.alerts import outbox
from matrix.alerts.sender import Sender
from matrix.storage.db import dispose_engines, session_scope

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium is not installed")]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboard"))
from test_browser import CHROMIUM_ARGS, idle, running_board  # noqa: E402

PASSWORDS = {"office": "office-pass-1", "police": "police-pass-1", "edu": "edu-pass-1"}
URL = re.compile(r"https?://[^\s)\]\"'<>]+")
HOOK_SECRET = "generic-hook-secret-99"
DING_TOKEN, DING_SECRET = "d1a9f00dd1a9f00dd1a9f00dd1a9f00dd1a9f00d", "SECd1a9f00d5ec12e7aaaaaaaaaaaaaaaaaaaa"
FS_TOKEN, FS_SECRET = "f5f5f5f5-aaaa-bbbb-cccc-0123456789ab", "feishu-sign-secret-42"


def _urls(text: str, base: str) -> set[str]:
    return {u.rstrip(".,;，。") for u in URL.findall(text) if u.startswith(base)}


def _sign_in(browser, base: str, name: str, url: str) -> str:  # noqa: ANN001
    """Open URL signed out (a new browser profile): the sign-in form first, then, signed in, the page URL names."""
    context = browser.new_context(viewport={"width": 1400, "height": 1200}, locale="zh-CN")
    try:
        pg = context.new_page()
        pg.set_default_timeout(30000)
        return _signed_in_text(pg, name, url)
    finally:
        context.close()


def _signed_in_text(pg, name: str, url: str) -> str:  # noqa: ANN001
    pg.goto(url)
    idle(pg)
    assert "登录" in pg.locator("h1").first.inner_text(), f"{url} did not ask {name} to sign in"
    pg.get_by_label("用户名").fill(name)
    pg.get_by_label("密码").fill(PASSWORDS[name])
    pg.get_by_role("button", name="登录").click()
    pg.wait_for_function("() => !document.querySelector('h1') || !document.querySelector('h1').innerText.includes('登录')")
    idle(pg)
    return pg.locator("body").inner_text()


def test_every_link_in_alerts_digests_and_reports_opens_what_it_names(
        db_url, engine, config, make_account, queue_alerts, receiver, smtp_server, monkeypatch, tmp_path):
    if not db_url.startswith("sqlite"):
        pytest.skip("the board runs on SQLite here; the links are the same on PostgreSQL (tests/alerts)")
    port = server.free_port()
    base = server.url_for("127.0.0.1", port)
    from dataclasses import replace

    config = replace(config, board_url=base, office_contacts=({"channel": "email", "address": "duban@office.test"},))
    outbox.configure(config)
    monkeypatch.setenv("WZ_HOOK_SECRET", HOOK_SECRET)
    monkeypatch.setenv("WZ_DING_SECRET", DING_SECRET)
    monkeypatch.setenv("WZ_FS_SECRET", FS_SECRET)
    police = make_account("3001", "银川公安", [
        {"channel": "email", "address": "ops@police.test"},
        {"channel": "dingtalk", "address": receiver.dingtalk_url(DING_TOKEN, DING_SECRET), "secret": "env:WZ_DING_SECRET"},
        {"channel": "wecom", "address": receiver.wecom_url("wecom-key-1234567890")},
        {"channel": "feishu", "address": receiver.feishu_url(FS_TOKEN, FS_SECRET), "secret": "env:WZ_FS_SECRET"},
        {"channel": "webhook", "address": receiver.hook_url("ops", HOOK_SECRET), "secret": "env:WZ_HOOK_SECRET"}])
    edu = make_account("3002", "银川市教育局", [{"channel": "email", "address": "ops@edu.test"}])
    police_cases = queue_alerts(police, 2)
    edu_cases = queue_alerts(edu, 1)
    with session_scope(engine) as s:
        assert outbox.enqueue_digests(s, T0, config, anytime=True) > 0
    report = Sender(engine, config, worker="links").run_once(T0 + timedelta(minutes=1))
    assert report.failed == 0 and report.sent > 0

    # what each receiver got, as text
    police_mail = "\n".join(part.get_payload(decode=True).decode("utf-8") for m in smtp_server.to("ops@police.test")
                            for part in m.walk() if part.get_content_type() in ("text/plain", "text/html"))
    office_mail = "\n".join(part.get_payload(decode=True).decode("utf-8") for m in smtp_server.to("duban@office.test")
                            for part in m.walk() if part.get_content_type() in ("text/plain", "text/html"))
    def strings(value):  # noqa: ANN001, ANN202 - every string in a webhook payload, as sent
        if isinstance(value, dict):
            return "\n".join(strings(v) for v in value.values())
        if isinstance(value, list):
            return "\n".join(strings(v) for v in value)
        return str(value)

    wanted = {f"{base}/case?case={c}" for c in police_cases}
    police_links = _urls(police_mail, base)
    assert wanted <= police_links, ("email", police_links)
    for channel in ("dingtalk", "wecom", "feishu", "webhook"):  # every robot's message links every case it names
        got = _urls(strings(receiver.got(channel)), base)
        assert wanted <= got, (channel, got)
        police_links |= got
    case_links = {u for u in police_links if "/case?" in u}
    assert _urls(office_mail, base), office_mail  # the office digest links the board

    from matrix.reading.report import build_report, render_markdown, span_period

    with session_scope(engine) as s:
        period = span_period(f"{(T0 - timedelta(days=6)):%Y-%m-%d}", f"{(T0 + timedelta(days=1)):%Y-%m-%d}")
        md = render_markdown(build_report(s, period, now=T0), period, board=base)
    report_links = _urls(md, base)
    dispose_engines()

    users = tmp_path / "users.toml"
    auth.add_user(users, "office", role="office", password=PASSWORDS["office"], rounds=4)
    auth.add_user(users, "police", role="member", password=PASSWORDS["police"], accounts=[police], rounds=4)
    auth.add_user(users, "edu", role="member", password=PASSWORDS["edu"], accounts=[edu], rounds=4)
    from playwright.sync_api import sync_playwright

    with running_board(db_url, users, tmp_path, port=port) as started, sync_playwright() as p:
        assert started == base
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        for url in sorted(case_links):
            case_id = url.rsplit("=", 1)[1]
            mine = _sign_in(browser, base, "police", url)
            assert f"案件 #{case_id}" in mine and "路灯坏了三个月" in mine, url
            office = _sign_in(browser, base, "office", url)
            assert f"案件 #{case_id}" in office, url
            other = _sign_in(browser, base, "edu", url)
            assert f"没有案件 {case_id}，或您无权查看" in other and "路灯坏了三个月" not in other, url
        for url in sorted((police_links - case_links) | _urls(office_mail, base)):
            body = _sign_in(browser, base, "office", url)
            assert "问政监测看板 · 登录" not in body and "Page not found" not in body, url
        for url in sorted(u for u in report_links if "/case?" in u):
            case_id = url.rsplit("=", 1)[1]
            assert f"案件 #{case_id}" in _sign_in(browser, base, "office", url), url
        assert any(f"case={c}" in u for u in report_links for c in police_cases + edu_cases), report_links
        browser.close()
