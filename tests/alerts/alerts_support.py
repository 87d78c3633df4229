"""Real parts for the alerts tests: an SMTP server (aiosmtpd), a robot/webhook receiver that checks
signatures the way DingTalk and Feishu do, and rows created through matrix.storage.models.

A module of its own (not conftest) so tests can import it by a name no other test folder uses."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from matrix.storage.models import Case, CaseEvent, Post

# Monday 2026-11-23 10:00 in Yinchuan (a working day), in UTC
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------- SMTP
class _Collect:
    def __init__(self, box: "SmtpServer"):
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if address in self.box.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=email_policy.default)
        with self.box.lock:
            self.box.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


@dataclass
class SmtpServer:
    """aiosmtpd on 127.0.0.1 that can be stopped and started again on the same port."""

    port: int
    users: dict[str, str] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None
    mode: str = "plain"  # plain | starttls | ssl
    messages: list = field(default_factory=list)
    refuse: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None

    def _auth(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else auth_data.login
        password = auth_data.password.decode() if isinstance(auth_data.password, bytes) else auth_data.password
        ok = self.users.get(login) == password
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    def start(self) -> None:
        kwargs: dict = {"hostname": "127.0.0.1", "port": self.port}
        if self.users:
            # aiosmtpd only sees STARTTLS as TLS; on an implicit-SSL socket it would hide AUTH
            kwargs.update(authenticator=self._auth, auth_require_tls=self.mode == "starttls")
        if self.mode == "starttls":
            kwargs.update(tls_context=self.tls, require_starttls=True)
        elif self.mode == "ssl":
            kwargs.update(ssl_context=self.tls)
        self.controller = Controller(_Collect(self), **kwargs)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list:
        with self.lock:
            return [m for rcpts, m in self.messages if address in rcpts]

    def alert_ids(self) -> list[int]:
        with self.lock:
            return [int(m["X-Wzmon-Alert-Id"]) for _r, m in self.messages]


# --------------------------------------------------------------------------------------- receiver
class Receiver:
    """Robot endpoints on 127.0.0.1 that verify what the real services verify.

    DingTalk: `/robot/send?access_token=T&timestamp=ms&sign=...`; sign must equal
    base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")) and the timestamp be within one hour,
    else errcode 310000 (as DingTalk answers, with HTTP 200). Feishu: `/open-apis/bot/v2/hook/T`
    with timestamp (s) and sign in the JSON body; sign = base64(HMAC-SHA256(key=f"{ts}\\n{secret}",
    msg=b"")), else code 19021. WeCom: `/cgi-bin/webhook/send?key=K`. Generic: `/hook/<name>`
    checking X-Wzmon-Signature when a secret is set. `/status/<code>` answers that status.
    """

    def __init__(self):
        self.dingtalk: dict[str, str | None] = {}  # access_token -> secret
        self.feishu: dict[str, str | None] = {}
        self.wecom: set[str] = set()
        self.hooks: dict[str, str | None] = {}
        self.received: list[tuple[str, str, dict]] = []  # (kind, token, payload)
        self.rejected: list[tuple[str, str, str]] = []
        self.fail_with: int | None = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # noqa: ANN002
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, reply = receiver.handle(self.path, dict(self.headers), body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # addresses
    def dingtalk_url(self, token: str, secret: str | None = None) -> str:
        self.dingtalk[token] = secret
        return f"{self.base}/robot/send?access_token={token}"

    def feishu_url(self, token: str, secret: str | None = None) -> str:
        self.feishu[token] = secret
        return f"{self.base}/open-apis/bot/v2/hook/{token}"

    def wecom_url(self, key: str) -> str:
        self.wecom.add(key)
        return f"{self.base}/cgi-bin/webhook/send?key={key}"

    def hook_url(self, name: str, secret: str | None = None) -> str:
        self.hooks[name] = secret
        return f"{self.base}/hook/{name}"

    def got(self, kind: str | None = None, token: str | None = None) -> list[dict]:
        with self.lock:
            return [p for k, t, p in self.received if (kind is None or k == kind) and (token is None or t == token)]

    def _reject(self, kind: str, token: str, why: str) -> None:
        with self.lock:
            self.rejected.append((kind, token, why))

    def handle(self, path: str, headers: dict, body: bytes) -> tuple[int, dict]:
        if self.fail_with:
            return self.fail_with, {"error": "unavailable"}
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        payload = json.loads(body or b"{}")
        now = time.time()
        if parts.path.startswith("/status/"):
            return int(parts.path.rsplit("/", 1)[1]), {"error": "as asked"}
        if parts.path == "/robot/send":
            token = query.get("access_token", "")
            if token not in self.dingtalk:
                return 200, {"errcode": 300001, "errmsg": "token is not exist"}
            secret = self.dingtalk[token]
            if secret is not None:
                ts, sign = query.get("timestamp", ""), query.get("sign", "")
                if not ts.isdigit() or abs(now * 1000 - int(ts)) > 3600 * 1000:
                    self._reject("dingtalk", token, "timestamp")
                    return 200, {"errcode": 310000, "errmsg": "sign not match, timestamp is invalid"}
                expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()).decode()
                if not hmac.compare_digest(sign, expected):  # parse_qs already URL-decoded it
                    self._reject("dingtalk", token, "sign")
                    return 200, {"errcode": 310000, "errmsg": "sign not match"}
            if payload.get("msgtype") not in ("text", "markdown"):
                return 200, {"errcode": 40035, "errmsg": "msgtype missing"}
            with self.lock:
                self.received.append(("dingtalk", token, payload))
            return 200, {"errcode": 0, "errmsg": "ok"}
        if parts.path.startswith("/open-apis/bot/v2/hook/"):
            token = parts.path.rsplit("/", 1)[1]
            if token not in self.feishu:
                return 200, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
            secret = self.feishu[token]
            if secret is not None:
                ts = str(payload.get("timestamp", ""))
                if not ts.isdigit() or abs(now - int(ts)) > 3600:
                    self._reject("feishu", token, "timestamp")
                    return 200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
                key = f"{ts}\n{secret}".encode()
                expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
                if not hmac.compare_digest(str(payload.get("sign", "")), expected):
                    self._reject("feishu", token, "sign")
                    return 200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
            with self.lock:
                self.received.append(("feishu", token, payload))
            return 200, {"code": 0, "msg": "success", "data": {}}
        if parts.path == "/cgi-bin/webhook/send":
            key = query.get("key", "")
            if key not in self.wecom:
                return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
            with self.lock:
                self.received.append(("wecom", key, payload))
            return 200, {"errcode": 0, "errmsg": "ok"}
        if parts.path.startswith("/hook/"):
            name = parts.path.rsplit("/", 1)[1]
            if name not in self.hooks:
                return 404, {"error": "no such hook"}
            secret = self.hooks[name]
            if secret is not None:
                ts = headers.get("X-Wzmon-Timestamp", "")
                mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
                if headers.get("X-Wzmon-Signature") != "sha256=" + mac or abs(now - int(ts or 0)) > 300:
                    self._reject("webhook", name, "sign")
                    return 401, {"error": "bad signature"}
            with self.lock:
                self.received.append(("webhook", name, payload))
            return 200, {"ok": True}
        return 404, {"error": "unknown path"}


# ------------------------------------------------------------------------------------------ rows
_post_seq = iter(range(1, 10**6))


def add_case(session, account_uid: str | None, *, text: str = "小区门口的路灯坏了三个月，晚上出行很不安全，请尽快修理！",
             opened: datetime = T0 - timedelta(days=3), status: str = "open", due: datetime | None = T0 - timedelta(hours=5),
             overdue: bool = True) -> Case:
    n = next(_post_seq)
    post = Post(id=f"49{n:014d}", item_type="post", screen_name="市民小王", text=text, created_at=opened, user_id="1000")
    session.add(post)
    session.flush()
    case = Case(post_id=post.id, citizen_uid="1000", citizen_name="市民小王", account_uid=account_uid, status=status,
                opened_at=opened, first_response_due=due, overdue=overdue,
                overdue_level="overdue" if overdue else "")
    session.add(case)
    session.flush()
    return case


def add_event(session, case: Case, type_: str, level: str | None = None, at: datetime = T0) -> CaseEvent:
    detail = {"level": level or type_, "deadline": "first_response",
              "due": case.first_response_due.isoformat() if case.first_response_due else None}
    event = CaseEvent(case_id=case.id, at=at, type=type_, actor="system", account_uid=case.account_uid,
                      detail=detail, working_minutes=1200, calendar_minutes=4320)
    session.add(event)
    session.flush()
    return event

