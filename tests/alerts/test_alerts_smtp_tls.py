"""Email over a real local SMTP server with STARTTLS and with SSL, logging in with a secret password."""
from __future__ import annotations

import pytest

from alerts_support import SmtpServer, free_port
from matrix.alerts.channels import Message, email
from matrix.alerts.config import AlertsConfig, SmtpConfig
from matrix.alerts.errors import DeliveryError

PASSWORD = "smtp-pass-7f3e9a1c"


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_and_login_with_password_from_env_or_file(mode, tls_files, tls_server_context, tmp_path, monkeypatch):
    cert, _key = tls_files
    server = SmtpServer(port=free_port(), users={"wzmon": PASSWORD}, tls=tls_server_context, mode=mode)
    server.start()
    try:
        if mode == "ssl":
            monkeypatch.setenv("WZ_SMTP_PW", PASSWORD)
            ref = "env:WZ_SMTP_PW"
        else:
            f = tmp_path / "smtp.pw"
            f.write_text(PASSWORD + "\n")
            ref = f"file:{f}"
        smtp = SmtpConfig(host="127.0.0.1", port=server.port, security=mode, user="wzmon", password_ref=ref,
                          sender="问政监测 <wzmon@test.local>", ca_file=str(cert), timeout=5)
        cfg = AlertsConfig(smtp=smtp)
        msg = Message(subject="【超期】@银川公安 案件#7 已超期 5小时", text="正文：路灯坏了", alert_id=7, dedupe_key="case:7:overdue:x")
        email.send({"channel": "email", "address": "ops@police.test"}, msg, cfg)
        got = server.to("ops@police.test")
        assert len(got) == 1
        assert got[0]["Subject"] == msg.subject and got[0]["X-Wzmon-Alert-Id"] == "7"
        assert "路灯坏了" in got[0].get_content()

        # a wrong password: a login error that names the user, never the password
        monkeypatch.setenv("WZ_SMTP_BAD", "wrong-password-123")
        bad = AlertsConfig(smtp=SmtpConfig(**{**smtp.__dict__, "password_ref": "env:WZ_SMTP_BAD"}))
        with pytest.raises(DeliveryError) as info:
            email.send({"channel": "email", "address": "ops@police.test"}, msg, bad)
        assert "login as wzmon refused" in str(info.value) and not info.value.permanent
        assert "wrong-password-123" not in str(info.value)
        # without our CA the server's certificate is refused
        untrusted = AlertsConfig(smtp=SmtpConfig(**{**smtp.__dict__, "ca_file": ""}))
        with pytest.raises(DeliveryError, match="TLS|certificate"):
            email.send({"channel": "email", "address": "ops@police.test"}, msg, untrusted)
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_refused_mailbox_is_permanent(smtp_server):
    smtp_server.refuse.add("gone@test.cn")
    cfg = AlertsConfig(smtp=SmtpConfig(host="127.0.0.1", port=smtp_server.port, security="plain", sender="w@test.local"))
    with pytest.raises(DeliveryError) as info:
        email.send({"channel": "email", "address": "gone@test.cn"}, Message(subject="s", text="t"), cfg)
    assert info.value.permanent and "550" in str(info.value)
