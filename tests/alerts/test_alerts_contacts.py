"""Roster contact cells: parsing, validation errors a user can act on, redaction, config loading."""
from __future__ import annotations

import pytest

from matrix.alerts import secrets
from matrix.alerts.config import load_config
from matrix.alerts.contacts import contact_key, parse_contacts, redact_address
from matrix.alerts.errors import AlertsConfigError, ContactError, SecretError

DING = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123456789abcdef"


def test_parses_every_channel_and_both_separators():
    cell = (f"email:ops@police.yinchuan.gov.cn；dingtalk:{DING}#secret=env:DING_POLICE;\n"
            "wecom：https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd-1234; "
            "feishu:https://open.feishu.cn/open-apis/bot/v2/hook/6f1c2d#secret=file:/etc/wzmon/fs;"
            "webhook:env:OPS_HOOK_URL")
    contacts = parse_contacts(cell)
    assert [c["channel"] for c in contacts] == ["email", "dingtalk", "wecom", "feishu", "webhook"]
    assert contacts[1] == {"channel": "dingtalk", "address": DING, "secret": "env:DING_POLICE"}
    assert contacts[3]["secret"] == "file:/etc/wzmon/fs"
    assert contacts[4]["address"] == "env:OPS_HOOK_URL"
    assert parse_contacts("") == [] and parse_contacts(None) == [] and parse_contacts(" ; ") == []


@pytest.mark.parametrize(
    "cell, words",
    [
        ("email:ops-at-police.gov.cn", ["contact 1", "not an email address"]),
        ("email:a@b.cn; sms:13800000000", ["contact 2", "unknown channel 'sms'", "email, dingtalk"]),
        ("ops@police.gov.cn", ["channel:address"]),
        (f"dingtalk:{DING}#secret=SEC0123456789abcdef", ["written inline", "env:NAME"]),
        ("wecom:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1#secret=env:X", ["takes no signing secret"]),
        ("dingtalk:http://oapi.dingtalk.com/robot/send?access_token=abc", ["use https"]),
        ("dingtalk:https://oapi.dingtalk.com/robot/send", ["access_token"]),
        ("feishu:https://open.feishu.cn/open-apis/bot/v2/", ["hook/<token>"]),
        ("email:", ["has no address"]),
    ],
)
def test_bad_cells_say_what_is_wrong(cell, words):
    with pytest.raises(ValueError) as info:
        parse_contacts(cell)
    assert isinstance(info.value, ContactError)
    for word in words:
        assert word in str(info.value)
    assert "SEC0123456789abcdef" not in str(info.value)
    assert "0123456789abcdef0123456789abcdef" not in str(info.value)


def test_redaction_keeps_no_token_but_tells_robots_apart():
    shown = redact_address("dingtalk", DING)
    assert "0123456789abcdef0123456789abcdef" not in shown and shown.startswith("https://oapi.dingtalk.com/robot/send?access_token=0123")
    fs = redact_address("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/6f1c2d9e-aaaa-bbbb")
    assert "6f1c2d9e-aaaa-bbbb" not in fs and "/hook/6f1c" in fs
    assert redact_address("email", "a@b.cn") == "a@b.cn"
    assert redact_address("webhook", "https://user:pw@h.example/x?t=1") == "https://***@h.example/x?t=1"
    assert contact_key({"channel": "dingtalk", "address": DING}) != contact_key({"channel": "dingtalk", "address": DING + "0"})


def test_secret_references_resolve_and_are_scrubbed(tmp_path, monkeypatch):
    monkeypatch.setenv("WZ_TEST_SECRET", "s3cr3t-value-xyz")
    assert secrets.resolve("env:WZ_TEST_SECRET") == "s3cr3t-value-xyz"
    assert secrets.scrub("failed with s3cr3t-value-xyz in it") == "failed with *** in it"
    f = tmp_path / "sec"
    f.write_text("from-a-file-123\n")
    assert secrets.resolve(f"file:{f}") == "from-a-file-123"
    with pytest.raises(SecretError, match="WZ_NOT_SET is not set"):
        secrets.resolve("env:WZ_NOT_SET")
    with pytest.raises(SecretError, match="does not exist"):
        secrets.resolve(f"file:{tmp_path / 'missing'}")
    with pytest.raises(SecretError, match="inside the wzmon repository"):
        secrets.resolve(f"file:{secrets._REPO_ROOT / 'pyproject.toml'}")


def test_config_file_and_env(tmp_path):
    path = tmp_path / "alerts.toml"
    path.write_text(
        '[alerts]\nboard_url = "https://board.example/"\nquiet_hours = "21:30-07:00"\ndigest_hour = "08:15"\n'
        'office_levels = ["催办", "通报"]\noffice_contacts = "email:duban@example.gov.cn"\n'
        '[alerts.rate_limits]\ndingtalk = 10\n'
        '[alerts.smtp]\nhost = "smtp.example.gov.cn"\nsecurity = "ssl"\nuser = "wz"\npassword = "env:SMTP_PW"\n',
        encoding="utf-8",
    )
    cfg = load_config(path, env={})
    assert cfg.board_url == "https://board.example"
    assert cfg.quiet_hours == (21 * 60 + 30, 7 * 60) and cfg.digest_minute == 8 * 60 + 15
    assert cfg.office_levels == ("催办", "通报") and cfg.office_contacts[0]["address"] == "duban@example.gov.cn"
    assert cfg.rate_limits["dingtalk"] == 10 and cfg.rate_limits["wecom"] == 20
    assert (cfg.smtp.host, cfg.smtp.port, cfg.smtp.security, cfg.smtp.password_ref) == ("smtp.example.gov.cn", 465, "ssl", "env:SMTP_PW")
    env = {"WZMON_ALERTS_CONFIG": str(path), "WZMON_SMTP_HOST": "127.0.0.1", "WZMON_SMTP_PORT": "2525",
           "WZMON_SMTP_STARTTLS": "1", "WZMON_SMTP_PASSWORD_FILE": "/run/secrets/smtp", "WZMON_SMTP_FROM": "x@y.cn"}
    cfg = load_config(env=env)
    assert (cfg.smtp.host, cfg.smtp.port, cfg.smtp.security, cfg.smtp.password_ref, cfg.smtp.sender) == (
        "127.0.0.1", 2525, "starttls", "file:/run/secrets/smtp", "x@y.cn")

    path.write_text('[alerts.smtp]\npassword = "hunter2-inline"\n', encoding="utf-8")
    with pytest.raises(AlertsConfigError) as info:
        load_config(path, env={})
    assert "must be a reference" in str(info.value) and "hunter2-inline" not in str(info.value)
    path.write_text('[alerts]\nquiet_hour = "22:00-08:00"\n', encoding="utf-8")
    with pytest.raises(AlertsConfigError, match="unknown key"):
        load_config(path, env={})
