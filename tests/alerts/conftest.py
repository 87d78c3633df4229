"""Fixtures of the alerts tests (the parts themselves live in alerts_support.py)."""
from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest

from alerts_support import Receiver, SmtpServer, add_case, add_event, free_port
from matrix.alerts import outbox
from matrix.alerts.config import AlertsConfig, SmtpConfig
from matrix.storage.db import open_db, session_scope
from matrix.storage.models import Account

@pytest.fixture
def smtp_server():
    server = SmtpServer(port=free_port())
    server.start()
    yield server
    server.stop()



@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl), used as its own CA by the client."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key



@pytest.fixture
def tls_server_context(tls_files) -> ssl.SSLContext:
    cert, key = tls_files
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx



@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()



@pytest.fixture
def engine(db_url):
    return open_db(db_url)



@pytest.fixture
def config(smtp_server) -> AlertsConfig:
    """Sending always allowed (window tests set their own), SMTP to the local server."""
    cfg = AlertsConfig(
        board_url="http://board.test",
        quiet_hours=None,
        working_days_only=False,
        digest_minute=None,
        max_attempts=5,
        smtp=SmtpConfig(host="127.0.0.1", port=smtp_server.port, security="plain", sender="wzmon@test.local", timeout=5),
    )
    outbox.configure(cfg)
    yield cfg
    outbox.configure(None)



@pytest.fixture
def make_account(engine):
    def make(uid: str, screen_name: str, contacts: list[dict], role: str = "member") -> str:
        with session_scope(engine) as s:
            s.add(Account(uid=uid, screen_name=screen_name, name=screen_name, role=role, contacts=contacts))
        return uid

    return make



@pytest.fixture
def queue_alerts(engine, config):
    """queue_alerts(uid, n, level) -> case ids: n cases of the account, each with one level event queued."""

    def queue(account_uid: str, n: int = 1, level: str = "overdue") -> list[int]:
        ids = []
        with session_scope(engine) as s:
            for _ in range(n):
                case = add_case(s, account_uid)
                type_ = level if level in ("warning", "overdue") else "escalated"
                outbox.enqueue_for_event(s, case, add_event(s, case, type_, level))
                ids.append(case.id)
        return ids

    return queue

