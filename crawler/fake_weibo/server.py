"""The fake Weibo HTTP server: m.weibo.cn JSON, s.weibo.com HTML and `/__sim/*` control, on one host.

`serve_in_thread(scenario, port=0, clock=None) -> FakeWeibo` starts it on 127.0.0.1 in a daemon thread.
Only items created at or before the simulated `now` (and not yet deleted) are visible; the `Date`
header carries simulated time so relative dates ("3分钟前") resolve against it.

Paging conventions served (documented here because the real site leaves some of them implicit):
- timeline: `cardlistInfo.since_id` (int) = id of the last post on the page, present only while older
  posts remain; `since_id=N` returns posts with id < N; past the end `cards` is empty (ok 1). The
  pinned post comes first on the first page only.
- search (type=61 / type=401): `page` 1..50, newest first, 10 per page, `cardlistInfo.page` = next page
  or null; a page with no results (or past 50) is `{"ok":0,"msg":"这里还没有内容"}`.
- hotflow: root comments newest first, `max_id` = id (int) of the page's last root while more remain,
  else 0; replies in `comments` (false when none). No comments: ok 1, empty `data`, max_id 0.
- repostTimeline: `data.max` = number of pages; a page beyond it has empty `data`.
"""
from __future__ import annotations

import copy
import email.utils
import errno
import json
import logging
import socket
import struct
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

from . import payloads, pc_api, render
from .clock import CST, SimClock
from .doors import DoorError, Doors
from .faults import FaultError, FaultRule, Faults, spoil_first_item
from .ids import bid_to_mid
from .scenario import Scenario, Status

log = logging.getLogger(__name__)

PAGE_TIMELINE = 10
PAGE_SEARCH = 10
PAGE_REPOSTS = 10
SEARCH_PAGE_CAP = 50
EMPTY = {"ok": 0, "msg": "这里还没有内容"}


class FakeWeiboError(OSError):
    """The fake server could not start (the message names host and port)."""


class Stats:
    """Requests served per endpoint, responses per status, faults per kind (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self.requests: dict[str, int] = {}
            self.statuses: dict[str, int] = {}
            self.faults: dict[str, int] = {}
            self.total = 0

    def hit(self, endpoint: str) -> None:
        with self._lock:
            self.requests[endpoint] = self.requests.get(endpoint, 0) + 1
            self.total += 1

    def status(self, code: int) -> None:
        with self._lock:
            self.statuses[str(code)] = self.statuses.get(str(code), 0) + 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] = self.faults.get(kind, 0) + 1

    def snapshot(self) -> dict:
        with self._lock:
            return {"total": self.total, "requests": dict(self.requests), "statuses": dict(self.statuses),
                    "faults": dict(self.faults)}


def _endpoint(path: str, qs: dict) -> str:
    if path.startswith("/__sim/"):
        return "sim"
    if path.startswith("/ajax/"):
        return "pc_" + path.rsplit("/", 1)[-1]
    if path.startswith("/visitor/"):
        return "visitor"
    if path.startswith(("/sso/", "/__autoscan/sso/")):
        return "login"
    if path == "/api/container/getIndex":
        cid = qs.get("containerid", [""])[0]
        if cid.startswith("107603"):
            return "timeline"
        if cid.startswith("100505") or qs.get("type", [""])[0] == "uid":
            return "profile"
        if cid.startswith("100103"):
            return "search"
        return "getIndex"
    return {"/comments/hotflow": "hotflow", "/api/statuses/repostTimeline": "reposts", "/statuses/extend": "extend",
            "/statuses/show": "show", "/api/config": "config", "/weibo": "search_html"}.get(
        path, "resolve" if path.startswith("/n/") else "user_page" if path.startswith("/u/") else "other")


from .passport import serve_login, serve_visitor  # noqa: E402


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx/1.24"
    sys_version = ""
    timeout = 30
    server: "_Server"

    # ------------------------------------------------------------------ plumbing
    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), format % args)

    def date_time_string(self, timestamp: float | None = None) -> str:
        return email.utils.formatdate(self.server.fake.clock.now().timestamp(), usegmt=True)

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle/delayed-ACK stalls
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def handle_one_request(self) -> None:
        if self.server.fake.stopping.is_set():
            self.close_connection = True
            return
        super().handle_one_request()

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _send(self, code: int, body: bytes, ctype: str, headers: dict | None = None, fault: str | None = None) -> None:
        fake = self.server.fake
        fake._stats.status(code)
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("X-Sim-Now", fake.clock.now().isoformat())
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if fault == "disconnect":  # part of the body, then an abortive close (TCP reset), no FIN
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: max(1, len(body) // 2)])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if fault == "truncated":
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if fault == "broken_json":
            body = body[: max(1, len(body) // 2)]
        self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n" + (body if self.command != "HEAD" else b""))
        self.flush_headers()  # headers and body in one write

    def _json(self, obj, code: int = 200, fault: str | None = None, headers: dict | None = None) -> None:
        if fault == "bad_item":
            obj = copy.deepcopy(obj)
            spoil_first_item(obj)
        self._send(code, json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8",
                   headers, fault)

    def _html(self, text: str, code: int = 200, fault: str | None = None) -> None:
        self._send(code, text.encode("utf-8"), "text/html; charset=utf-8", None, fault)

    def _redirect(self, location: str) -> None:
        self._send(302, b"", "text/html; charset=utf-8", {"Location": location})

    def _body(self) -> dict:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise FaultError(f"request body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise FaultError("request body must be a JSON object")
        return data

    # ------------------------------------------------------------------ dispatch
    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        qs = parse_qs(parts.query, keep_blank_values=True)
        endpoint = _endpoint(path, qs)
        fake._stats.hit(endpoint)
        try:
            if endpoint == "sim":
                return self._sim(method, path, qs)
            door = fake.doors.refusing(path)
            if door:
                return self._closed_door(door)
            fault = fake.faults.pick(self.path, "SUB=" in (self.headers.get("Cookie") or ""))
            kind = None
            if isinstance(fault, str):
                kind = fault
            elif isinstance(fault, FaultRule):
                kind = fake.faults.resolve_kind(fault)
                if kind == "slow":
                    fake._stats.fault("slow")
                    fake.stopping.wait(fault.seconds)
                    kind = None
            if kind in ("432", "418", "403", "captcha", "passport", "empty", "html", "login_page"):
                fake._stats.fault(kind)
                return self._refuse(kind, path)
            if kind:
                fake._stats.fault(kind)
            return self._serve(endpoint, path, qs, kind)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except (FaultError, DoorError) as exc:
            self._json({"ok": 0, "msg": str(exc)}, 400)
        except Exception as exc:  # noqa: BLE001 - a server bug must show as a 500, not a silent hang-up
            log.exception("fake weibo failed on %s", self.path)
            self._json({"ok": 0, "msg": f"fake server error: {exc.__class__.__name__}: {exc}"}, 500)

    def _refuse(self, kind: str, path: str) -> None:
        if kind in ("432", "418", "403"):
            body = "<html><head><title>{0}</title></head><body><center><h1>{0}</h1></center><hr><center>nginx</center>" \
                   "</body></html>".format(kind)
            self._send(int(kind), body.encode(), "text/html", {"Retry-After": "60"} if kind == "432" else None)
        elif kind == "captcha":
            self._json({"ok": -100, "url": "https://m.weibo.cn/captcha?r=" + quote(path)})
        elif kind == "passport":
            self._redirect("https://passport.weibo.com/visitor/visitor?entry=miniblog&a=enter&url="
                           + quote("https://m.weibo.cn" + self.path, safe=""))
        elif kind == "empty":
            self._json(EMPTY)
        elif kind == "login_page":
            self._html("<!DOCTYPE html><html><head><meta charset='utf-8'><title>微博通行证</title></head><body>"
                       "<form action='https://passport.weibo.com/sso/signin' method='post'><p>请登录</p></form>"
                       "</body></html>")
        elif kind == "html":
            self._html("<!DOCTYPE html><html><head><meta charset='utf-8'><title>微博-出错了</title></head>"
                       "<body><div class='h5-4box'><p class='h5-4con'>请求过于频繁，请稍后再试</p></div></body></html>")

    def _closed_door(self, route: str) -> None:
        if route == "pc":
            self._json({"ok": -100, "url": "https://weibo.com/login.php?url="
                        + quote("https://weibo.com" + self.path, safe="")})
        elif route == "search":
            self._redirect("https://passport.weibo.com/sso/signin?entry=miniblog&source=miniblog&url="
                           + quote("https://s.weibo.com" + self.path, safe=""))
        else:  # mobile, visitor: the anti-bot status
            self._refuse("432", self.path)

    def _serve(self, endpoint: str, path: str, qs: dict, fault: str | None) -> None:
        if endpoint.startswith("pc_"):
            return pc_api.serve(self, path, qs, fault)
        handler = {
            "timeline": self._timeline, "profile": self._profile, "search": self._search, "getIndex": self._bad_cid,
            "hotflow": self._hotflow, "reposts": self._reposts, "extend": self._extend, "show": self._show,
            "config": self._config, "search_html": self._search_html, "resolve": self._resolve,
            "user_page": self._user_page,
        }.get(endpoint)
        if endpoint == "visitor":
            return serve_visitor(self, path, qs)
        if endpoint == "login":
            return serve_login(self, self.command, path)
        if handler is None:
            return self._html("<html><body><h1>404 Not Found</h1></body></html>", 404)
        handler(path, qs, fault)

    # ------------------------------------------------------------------ m.weibo.cn
    def _arg(self, qs: dict, name: str, default: str = "") -> str:
        return (qs.get(name) or [default])[0]

    def _int_arg(self, qs: dict, name: str, default: int) -> int | None:
        raw = self._arg(qs, name, "")
        if raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            return None

    def _bad_cid(self, path: str, qs: dict, fault: str | None) -> None:
        self._json(EMPTY, fault=fault)

    def _timeline(self, path: str, qs: dict, fault: str | None) -> None:
        fake, sc = self.server.fake, self.server.fake.scenario
        uid = self._arg(qs, "containerid")[6:]
        since = self._int_arg(qs, "since_id", 0)
        if uid not in sc.users or since is None:
            return self._json(EMPTY, fault=fault)
        self._json(payloads.timeline(sc, uid, fake.clock.now(), since, fake.page_timeline), fault=fault)

    def _profile(self, path: str, qs: dict, fault: str | None) -> None:
        fake, sc = self.server.fake, self.server.fake.scenario
        cid = self._arg(qs, "containerid")
        uid = cid[6:] if cid.startswith("100505") else self._arg(qs, "value")
        acc = sc.users.get(uid)
        if acc is None:
            return self._json(EMPTY, fault=fault)
        now = fake.clock.now()
        info = render.user_json(acc, uid)
        info["statuses_count"] = sum(1 for s in sc.timelines.get(uid, ()) if s.visible(now))
        self._json({"ok": 1, "data": {"isStarStyle": 0, "userInfo": info, "tabsInfo": {"selectedTab": 1, "tabs": [
            {"id": 1, "tabKey": "profile", "title": "主页", "containerid": f"230283{uid}"},
            {"id": 2, "tabKey": "weibo", "title": "微博", "containerid": f"107603{uid}"}]},
            "scheme": f"sinaweibo://userinfo?uid={uid}", "showAppTips": 1}}, fault=fault)

    def _search(self, path: str, qs: dict, fault: str | None) -> None:
        fake, sc = self.server.fake, self.server.fake.scenario
        cid = self._arg(qs, "containerid")
        inner = parse_qs(cid[6:], keep_blank_values=True)
        q = (inner.get("q") or [""])[0].strip()
        stype = (inner.get("type") or ["61"])[0]
        page = self._int_arg(qs, "page", 1)
        if not q or page is None or page < 1 or page > SEARCH_PAGE_CAP:
            return self._json(EMPTY, fault=fault)
        now = fake.clock.now()
        uid = None
        if stype == "401":
            ext = self._arg(qs, "container_ext")
            uid = ext.split("profile_uid:", 1)[1].split("|")[0] if "profile_uid:" in ext else None
        hits = fake.search(q, now, uid=uid)
        size = fake.page_search
        items = hits[(page - 1) * size: page * size]
        if not items:
            return self._json(EMPTY, fault=fault)
        nxt = page + 1 if len(hits) > page * size and page < SEARCH_PAGE_CAP else None
        self._json(payloads.search(sc, cid, q, items, page, nxt, len(hits), size, now), fault=fault)

    def _visible_status(self, key: str) -> Status | None:
        fake, sc = self.server.fake, self.server.fake.scenario
        if key and not key.isdigit():
            try:
                key = bid_to_mid(key)
            except ValueError:
                return None
        st = sc.statuses.get(key)
        return st if st is not None and st.visible(fake.clock.now()) else None

    def _hotflow(self, path: str, qs: dict, fault: str | None) -> None:
        fake, sc = self.server.fake, self.server.fake.scenario
        st = self._visible_status(self._arg(qs, "mid") or self._arg(qs, "id"))
        max_id = self._int_arg(qs, "max_id", 0)
        if st is None or max_id is None:
            return self._json({"ok": 0, "msg": "微博不存在或暂无查看权限!"}, fault=fault)
        self._json(payloads.hotflow(sc, st, fake.clock.now(), max_id, fake.page_comments, fake.comment_dates),
                   fault=fault)

    def _reposts(self, path: str, qs: dict, fault: str | None) -> None:
        fake, sc = self.server.fake, self.server.fake.scenario
        st = self._visible_status(self._arg(qs, "id"))
        page = self._int_arg(qs, "page", 1)
        if st is None or page is None:
            return self._json({"ok": 0, "msg": "微博不存在或暂无查看权限!"}, fault=fault)
        self._json(payloads.reposts(sc, st, fake.clock.now(), page, fake.page_reposts), fault=fault)

    def _extend(self, path: str, qs: dict, fault: str | None) -> None:
        fake, sc = self.server.fake, self.server.fake.scenario
        st = self._visible_status(self._arg(qs, "id"))
        if st is None:
            return self._json({"ok": 0, "msg": "微博不存在或暂无查看权限!"}, fault=fault)
        now = fake.clock.now()
        self._json({"ok": 1, "data": {"ok": 1, "longTextContent": render.text_html(st.text),
                                      "reposts_count": sc.repost_count(st.id, now),
                                      "comments_count": sc.comment_count(st.id, now),
                                      "attitudes_count": st.attitudes}}, fault=fault)

    def _show(self, path: str, qs: dict, fault: str | None) -> None:
        fake, sc = self.server.fake, self.server.fake.scenario
        st = self._visible_status(self._arg(qs, "id"))
        if st is None:
            return self._json({"ok": 0, "msg": "微博不存在或暂无查看权限!", "errno": "20101"}, fault=fault)
        self._json({"ok": 1, "data": render.mblog(st, sc, fake.clock.now(), full_text=True)}, fault=fault)

    def _config(self, path: str, qs: dict, fault: str | None) -> None:
        cookie = self.headers.get("Cookie") or ""
        login = "SUB=" in cookie and "SUB=_2AkM" not in cookie  # a visitor SUB (_2AkM...) is not a login
        data = {"login": login, "st": "6b0f7a", "preferQuickapp": 0}
        if login:
            data["uid"] = self.server.fake.scenario.coordinator.uid
        self._json({"ok": 1, "data": data}, fault=fault)

    def _resolve(self, path: str, qs: dict, fault: str | None) -> None:
        name = path[len("/n/"):]
        acc = self.server.fake.scenario.by_name.get(name)
        if acc is None:
            return self._html("<html><body><p>用户不存在</p></body></html>", 404)
        self._redirect(f"/u/{acc.uid}")

    def _user_page(self, path: str, qs: dict, fault: str | None) -> None:
        uid = path[len("/u/"):].split("/")[0]
        acc = self.server.fake.scenario.users.get(uid)
        if acc is None:
            return self._html("<html><body><p>用户不存在</p></body></html>", 404)
        self._html(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{acc.screen_name}的微博</title></head>"
                   f"<body><div id='app' data-uid='{acc.uid}'></div></body></html>", fault=fault)

    # ------------------------------------------------------------------ s.weibo.com
    def _search_html(self, path: str, qs: dict, fault: str | None) -> None:
        fake = self.server.fake
        cookie = self.headers.get("Cookie") or ""
        kind = "none" if "SUB=" not in cookie else "visitor" if "SUB=_2AkM" in cookie else "login"
        fake.search_html_cookies[kind] += 1  # which kind of cookie s.weibo.com was sent (never the value)
        if fake.search_html_needs_login and kind != "login":  # a visitor SUB is not a login here either
            return self._redirect("https://passport.weibo.com/visitor/visitor?entry=miniblog&a=enter&url="
                                  + quote("https://s.weibo.com" + self.path, safe=""))
        q = self._arg(qs, "q").strip()
        page = self._int_arg(qs, "page", 1) or 1
        now = fake.clock.now()
        lo = hi = None
        scope = self._arg(qs, "timescope")
        if scope.startswith("custom:"):
            try:
                a, b = scope[len("custom:"):].split(":")
                lo = datetime.strptime(a, "%Y-%m-%d-%H").replace(tzinfo=CST)
                hi = datetime.strptime(b, "%Y-%m-%d-%H").replace(tzinfo=CST) + timedelta(hours=1)
            except ValueError:
                return self._html(render.search_html(fake.scenario, q, page, [], False, now), fault=fault)
        hits = fake.search(q, now) if q else []
        if lo is not None:
            hits = [s for s in hits if lo <= s.created_at < hi]
        size = fake.page_search
        items = hits[(page - 1) * size: page * size] if 1 <= page <= SEARCH_PAGE_CAP else []
        has_next = len(hits) > page * size and page < SEARCH_PAGE_CAP
        self._html(render.search_html(fake.scenario, q, page, items, has_next, now), fault=fault)

    # ------------------------------------------------------------------ control
    def _sim(self, method: str, path: str, qs: dict) -> None:
        fake = self.server.fake
        name = path[len("/__sim/"):]
        if name == "truth":
            visible = self._arg(qs, "visible") in ("1", "true")
            return self._json(fake.scenario.truth_at(fake.clock.now()) if visible else fake.scenario.truth)
        if name == "roster.csv":
            return self._send(200, fake.scenario.roster_csv().encode("utf-8"), "text/csv; charset=utf-8")
        if name == "accounts":
            return self._json([a.as_dict() for a in fake.scenario.accounts])
        if name == "scenario":
            return self._json(fake.scenario.summary())
        if name == "clock":
            if method == "POST":
                body = self._body()
                try:
                    fake.configure_clock(body)
                except (ValueError, TypeError) as exc:
                    return self._json({"ok": 0, "msg": str(exc)}, 400)
            return self._json(fake.clock.describe())
        if name == "faults":
            if method == "POST":
                fake.faults.configure(self._body())
            return self._json(fake.faults.describe())
        if name == "doors":
            if method == "POST":
                fake.doors.configure(self._body())
            return self._json(fake.doors.describe())
        if name == "stats":
            if method == "POST" and self._body().get("reset"):
                fake._stats.reset()
            return self._json(fake._stats.snapshot())
        self._json({"ok": 0, "msg": f"unknown control path {path}; use truth, roster.csv, accounts, scenario, "
                                    "clock, faults, doors, stats"}, 404)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, fake: "FakeWeibo") -> None:
        self.fake = fake
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(addr, _Handler)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def close_all(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class FakeWeibo:
    """A running fake server. `.base_url` serves both m.weibo.cn paths and s.weibo.com's `/weibo`."""

    def __init__(self, scenario: Scenario, clock: SimClock, host: str, port: int, *, fault_seed: int = 0,
                 page_timeline: int = PAGE_TIMELINE, page_search: int = PAGE_SEARCH, page_comments: int = 5,
                 page_reposts: int = PAGE_REPOSTS, comment_dates: str = "mixed",
                 search_html_needs_login: bool = True, refuse: tuple[str, ...] = (),
                 pc_inline_replies: int = pc_api.INLINE_REPLIES) -> None:
        if comment_dates not in ("mixed", "full", "relative"):
            raise ValueError(f"comment_dates must be mixed, full or relative, got {comment_dates!r}")
        self.scenario = scenario
        self.clock = clock
        self.faults = Faults(fault_seed)
        self.doors = Doors(refuse)  # closed routes (doors.py): `--refuse mobile|pc|search|visitor`
        self._stats = Stats()
        self.stopping = threading.Event()
        self.page_timeline, self.page_search = page_timeline, page_search
        self.page_comments, self.page_reposts = page_comments, page_reposts
        self.comment_dates = comment_dates
        self.search_html_needs_login = search_html_needs_login
        self.search_html_cookies = {"login": 0, "visitor": 0, "none": 0}
        self.pc_inline_replies = pc_inline_replies
        try:
            self._httpd = _Server((host, port), self)
        except OSError as exc:
            err = FakeWeiboError(f"fake Weibo server cannot listen on {host}:{port}: {exc.strerror or exc}"
                                 + (" (port already in use; pick another with --port)"
                                    if exc.errno == errno.EADDRINUSE else ""))
            err.errno = exc.errno
            raise err from exc
        self.host, self.port = self._httpd.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-weibo-{self.port}", daemon=True)
        self._thread.start()

    # --------------------------------------------------------------- API
    @property
    def stats(self) -> dict:
        """Snapshot: {"total", "requests": {endpoint: n}, "statuses": {code: n}, "faults": {kind: n}}."""
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        self._stats.reset()

    def url(self, path: str) -> str:
        return self.base_url + path

    def search(self, q: str, now: datetime, uid: str | None = None) -> list[Status]:
        """Visible posts matching `q` (an `@name` uses the mention index), newest first."""
        sc = self.scenario
        if q.startswith("@") and " " not in q:
            pool = sc.mentions.get(q[1:], [])
        else:
            pool = [s for s in sc.ordered if q in s.text]
        return [s for s in pool if s.visible(now) and not s.pinned and (uid is None or s.author_uid == uid)]

    def configure_clock(self, body: dict) -> dict:
        """Apply {"set": iso} / {"advance_minutes": n} / {"speed": x} / {"manual": bool}."""
        if "manual" in body:
            now = self.clock.now()
            self.clock.manual = bool(body["manual"])
            self.clock.set(now)
        if "speed" in body:
            speed = float(body["speed"])
            if speed <= 0:
                raise ValueError(f"speed must be positive, got {speed}")
            now = self.clock.now()
            self.clock.speed = speed
            self.clock.set(now)
        if "set" in body:
            at = datetime.fromisoformat(str(body["set"]))
            self.clock.set(at)
        if "advance_minutes" in body:
            self.clock.advance(minutes=float(body["advance_minutes"]))
        return self.clock.describe()

    def stop(self) -> None:
        """Stop serving; open connections are cut; safe to call twice."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_all()
        self._thread.join(timeout=5)

    def __enter__(self) -> "FakeWeibo":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<FakeWeibo {self.base_url} now={self.clock.now().isoformat()}>"


def serve_in_thread(scenario: Scenario | None = None, port: int = 0, clock: SimClock | None = None,
                    host: str = "127.0.0.1", **options) -> FakeWeibo:
    """Start a fake server in a daemon thread (default: `Scenario()` and a manual clock at its end).

    Options: fault_seed, page_timeline, page_search, page_comments (default 5), page_reposts,
    comment_dates ("mixed" | "full" | "relative"), search_html_needs_login (default True),
    refuse (routes to keep closed, see doors.py; DoorError names an unknown one), pc_inline_replies.
    Raises FakeWeiboError (an OSError) naming host:port when it cannot listen.
    """
    scenario = scenario or Scenario()
    clock = clock or SimClock.fixed(scenario.end)
    return FakeWeibo(scenario, clock, host, port, **options)
