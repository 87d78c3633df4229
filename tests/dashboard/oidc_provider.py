"""A small but real OpenID Connect provider on 127.0.0.1, for the board's sign-in tests.

Authorization-code flow only: discovery, /authorize (auto-approves `auto_user`, or shows a tiny
form to pick one of `users`), /token (client authentication by client_secret_basic or
client_secret_post, single-use codes bound to client and redirect_uri, optional PKCE S256), an
RS256-signed id_token (iss, aud, sub, email, nonce, exp, iat, ...), /jwks, /userinfo (bearer token)
and /logout (end_session_endpoint, redirects to the registered post-logout URI).

    with OIDCProvider(client_id="board", client_secret="s3cret", redirect_uris=[...],
                      users={"a@example.cn": "甲"}) as op:
        op.issuer  # http://127.0.0.1:PORT

Standard library HTTP server plus `cryptography` for the RSA key; nothing is mocked.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64url(n: int) -> str:
    return _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    email: str
    nonce: str | None
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    expires: float


@dataclass
class OIDCProvider:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    users: dict[str, str] = field(default_factory=dict)  # e-mail -> display name
    auto_user: str | None = None  # approve this e-mail without asking; None = show the pick form
    token_lifetime: int = 3600
    log: list[str] = field(default_factory=list)  # requests served: "GET /authorize", ...

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = secrets.token_hex(8)
        self._codes: dict[str, _Grant] = {}
        self._access: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.issuer = ""

    # ------------------------------------------------------------------------- life cycle

    def start(self) -> "OIDCProvider":
        provider = self

        class Handler(_Handler):
            op = provider

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "OIDCProvider":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def metadata_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    # ------------------------------------------------------------------------- documents

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "userinfo_endpoint": self.issuer + "/userinfo",
            "jwks_uri": self.issuer + "/jwks",
            "end_session_endpoint": self.issuer + "/logout",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["iss", "aud", "sub", "exp", "iat", "nonce", "email", "email_verified", "name"],
        }

    def jwks(self) -> dict[str, Any]:
        pub = self._key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self._kid,
                          "n": _int_b64url(pub.n), "e": _int_b64url(pub.e)}]}

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self._kid}
        signing_input = (_b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                         + _b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()))
        signature = self._key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(signature)

    def claims_for(self, email: str) -> dict[str, Any]:
        return {"sub": "sub-" + hashlib.sha256(email.encode()).hexdigest()[:16], "email": email,
                "email_verified": True, "name": self.users.get(email, email)}

    # ------------------------------------------------------------------------- flow steps

    def issue_code(self, params: dict[str, str], email: str) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(
                client_id=params["client_id"], redirect_uri=params["redirect_uri"], email=email,
                nonce=params.get("nonce"), scope=params.get("scope", ""),
                code_challenge=params.get("code_challenge"), code_challenge_method=params.get("code_challenge_method"),
                expires=time.time() + 120,
            )
        return code

    def exchange(self, form: dict[str, str], basic: tuple[str, str] | None) -> tuple[int, dict[str, Any]]:
        client_id, client_secret = basic if basic else (form.get("client_id", ""), form.get("client_secret", ""))
        if client_id != self.client_id or not secrets.compare_digest(client_secret, self.client_secret):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # single use
        if grant is None or grant.expires < time.time() or grant.client_id != client_id:
            return 400, {"error": "invalid_grant", "error_description": "unknown, used or expired code"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri does not match"}
        if grant.code_challenge:
            verifier = form.get("code_verifier", "")
            if _b64url(hashlib.sha256(verifier.encode()).digest()) != grant.code_challenge:
                return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": client_id, "iat": now, "exp": now + self.token_lifetime,
                  "auth_time": now, **self.claims_for(grant.email)}
        if grant.nonce:
            claims["nonce"] = grant.nonce
        access = secrets.token_urlsafe(24)
        with self._lock:
            self._access[access] = {**self.claims_for(grant.email), "exp": now + self.token_lifetime}
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": self.token_lifetime,
                     "scope": grant.scope, "id_token": self.sign(claims)}

    def userinfo(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            info = self._access.get(token)
        if info is None or info["exp"] < time.time():
            return None
        return {k: v for k, v in info.items() if k != "exp"}


class _Handler(BaseHTTPRequestHandler):
    op: OIDCProvider
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass

    # ------------------------------------------------------------------------- replies

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, doc: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(doc, ensure_ascii=False).encode(), "application/json", extra)

    def _redirect(self, url: str) -> None:
        self._send(302, b"", "text/plain", {"Location": url})

    def _page(self, status: int, title: str, body: str) -> None:
        doc = f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>{body}"
        self._send(status, doc.encode(), "text/html; charset=utf-8")

    # ------------------------------------------------------------------------- routes

    def do_GET(self) -> None:  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query))
        self.op.log.append(f"GET {url.path}")
        if url.path == "/.well-known/openid-configuration":
            self._json(200, self.op.metadata())
        elif url.path == "/jwks":
            self._json(200, self.op.jwks())
        elif url.path == "/authorize":
            self._authorize(params)
        elif url.path == "/userinfo":
            self._userinfo()
        elif url.path == "/logout":
            target = params.get("post_logout_redirect_uri")
            if target and target in self.op.redirect_uris:
                self._redirect(target)
            else:
                self._page(200, "已退出", "")
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        self.op.log.append(f"POST {url.path}")
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode("utf-8")))
        if url.path == "/token":
            status, doc = self.op.exchange(form, self._basic())
            extra = {"WWW-Authenticate": 'Basic realm="token"'} if status == 401 else None
            self._json(status, doc, extra)
        elif url.path == "/userinfo":
            self._userinfo()
        else:
            self._json(404, {"error": "not_found"})

    def _basic(self) -> tuple[str, str] | None:
        value = self.headers.get("Authorization", "")
        if not value.lower().startswith("basic "):
            return None
        try:
            user, _, pw = base64.b64decode(value[6:]).decode("utf-8").partition(":")
        except ValueError:
            return None
        return urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(pw)

    def _authorize(self, params: dict[str, str]) -> None:
        op = self.op
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != op.client_id or redirect_uri not in op.redirect_uris:
            # never redirect to an unregistered URI
            self._page(400, "无效的客户端或回调地址", "")
            return
        def back(**q: str) -> None:
            if params.get("state"):
                q["state"] = params["state"]
            sep = "&" if "?" in redirect_uri else "?"
            self._redirect(redirect_uri + sep + urllib.parse.urlencode(q))

        if params.get("response_type") != "code":
            back(error="unsupported_response_type")
            return
        if "openid" not in params.get("scope", "").split():
            back(error="invalid_scope", error_description="openid scope required")
            return
        email = params.get("login_as") or op.auto_user
        if not email:
            hidden = "".join(
                f'<input type=hidden name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in params.items() if k != "login_as"
            )
            buttons = "".join(
                f'<p><button name=login_as value="{html.escape(e)}">{html.escape(e)}</button></p>' for e in op.users
            )
            self._page(200, "测试身份提供方 · 选择账号", f"<form method=get action=/authorize>{hidden}{buttons}</form>")
            return
        if email not in op.users and email != op.auto_user:
            back(error="access_denied", error_description="unknown test user")
            return
        back(code=op.issue_code(params, email))

    def _userinfo(self) -> None:
        value = self.headers.get("Authorization", "")
        info = self.op.userinfo(value[7:]) if value.lower().startswith("bearer ") else None
        if info is None:
            self._json(401, {"error": "invalid_token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        else:
            self._json(200, info)
