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
