"""Fake passport.weibo.com visitor endpoints, so the visitor-cookie flow is tested over real HTTP.

Shapes (JSONP-wrapped, retcode 20000000) follow the visitor flow as the maintained crawlers call it
(genvisitor -> tid -> visitor?a=incarnate -> sub/subp; genvisitor2 gives sub/subp at once); see
tests/crawler/corpus/PROVENANCE.md ("visitor flow").
"""
from __future__ import annotations

import itertools
import json
from urllib.parse import parse_qs

_serial = itertools.count(1)


def _jsonp(cb: str, obj: dict) -> bytes:
    return f"window.{cb} && {cb}({json.dumps(obj, separators=(',', ':'))});".encode()


def serve_visitor(handler, path: str, qs: dict) -> None:
    """Answer /visitor/genvisitor, /visitor/genvisitor2 and /visitor/visitor?a=incarnate."""
    n = int(handler.headers.get("Content-Length") or 0)
    form = parse_qs(handler.rfile.read(n).decode("utf-8", "replace")) if n else {}
    arg = lambda k, d="": (form.get(k) or qs.get(k) or [d])[0]  # noqa: E731
    ctype = "application/javascript; charset=utf-8"
    fake = handler.server.fake
    fake.visitor_issued = getattr(fake, "visitor_issued", 0)
    if path == "/visitor/genvisitor":
        tid = f"fakeTid{next(_serial):06d}__{handler.server.server_address[1]}"
        body = {"retcode": 20000000, "msg": "succ", "data": {"tid": tid, "new_tid": True, "confidence": 95}}
        return handler._send(200, _jsonp(arg("cb", "gen_callback"), body), ctype)
    if path == "/visitor/visitor" and arg("a") == "incarnate":
        tid = arg("t")
        if not tid.startswith("fakeTid"):
            return handler._send(200, _jsonp(arg("cb", "cross_domain"),
                                             {"retcode": 50111299, "msg": "tid invalid", "data": {}}), ctype)
        fake.visitor_issued += 1
        sub, subp = f"_2AkMvisitor{fake.visitor_issued:04d}", f"0033WrSXqPxfM72-Ws9jqgMF55529P9D9W{fake.visitor_issued}"
        body = {"retcode": 20000000, "msg": "succ", "data": {"sub": sub, "subp": subp}}
        return handler._send(200, _jsonp(arg("cb", "cross_domain"), body), ctype,
                             {"Set-Cookie": f"SUB={sub}; path=/; domain=.weibo.com; httponly"})
    if path == "/visitor/genvisitor2":
        fake.visitor_issued += 1
        sub, subp = f"_2AkMvisitor{fake.visitor_issued:04d}", f"0033WrSXqPxfM72-Ws9jqgMF55529P9D9W{fake.visitor_issued}"
        body = {"retcode": 20000000, "msg": "succ", "data": {"sub": sub, "subp": subp, "tid": "fakeTid2"}}
        return handler._send(200, _jsonp(arg("cb", "visitor_gray_callback"), body), ctype)
    handler._html("<html><body><h1>404 Not Found</h1></body></html>", 404)


# --------------------------------------------------------------- QR login (wzmon login's local page)
_LOGIN_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>微博登录 (fake)</title></head><body>
<h1>扫码登录</h1>
<img id="qrcode" alt="QR code" width="180" height="180" src="data:image/svg+xml;utf8,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 3 3'%3E%3Cpath d='M0 0h1v1H0zM2 0h1v1H2zM1 1h1v1H1zM0 2h1v1H0z'/%3E%3C/svg%3E">
<p id="state">请使用微博客户端扫码登录</p>
<button id="scan-done" onclick="fetch('/sso/__scan',{method:'POST'})">scan done (simulation)</button>
<script>
setInterval(async () => {
  const r = await fetch('/sso/v2/qrcode/check?qrid=fakeqr');
  const j = await r.json();
  if (j.retcode === 20000000) { location.href = j.data.url; }
}, 300);
</script></body></html>"""


def serve_login(handler, method: str, path: str) -> None:
    """/sso/signin (the page), /sso/v2/qrcode/check (polled), /sso/__scan (the phone's scan), /sso/__finish."""
    fake = handler.server.fake
    if path.startswith("/__autoscan/"):  # a base URL for one-shot runs (CLI suite): the phone scans at once
        fake.qr_scanned, path = True, path[len("/__autoscan"):]
    if path == "/sso/signin":
        return handler._html(_LOGIN_PAGE)
    if path == "/sso/__scan":
        fake.qr_scanned = True
        return handler._json({"retcode": 20000000, "msg": "scanned"})
    if path == "/sso/v2/qrcode/check":
        fake.qr_checks = getattr(fake, "qr_checks", 0) + 1
        if getattr(fake, "qr_scanned", False):
            return handler._json({"retcode": 20000000, "msg": "succ", "data": {"url": "/sso/__finish"}})
        return handler._json({"retcode": 50114001, "msg": "未使用"})
    if path == "/sso/__finish":
        fake.qr_scanned = False
        return _finish(handler, next(_serial))
    if path == "/sso/done":
        return handler._html("<html><body><p id='done'>登录成功</p></body></html>")
    handler._html("<html><body><h1>404 Not Found</h1></body></html>", 404)


def _finish(handler, n: int) -> None:
    handler.send_response(302)
    handler.send_header("Location", "/sso/done")
    handler.send_header("Set-Cookie", f"SUB=_2A25fakeLogin{n:04d}; Path=/; HttpOnly")
    handler.send_header("Set-Cookie", f"SUBP=0033WrSXqPxfLogin{n:04d}; Path=/")
    handler.send_header("Content-Length", "0")
    handler.end_headers()
