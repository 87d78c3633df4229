"""What became of each Weibo cookie, kept between runs: the crawler's pool lives in one process, so matrix (which owns
storage) writes each cookie's state to crawler health under `cookie-<fingerprint>` (never the value), a new row when
the state changes and the requests used added to the latest row otherwise; `wzmon cookies` reads it back, and a
new poller takes the cookies stored as out of use out of use again (`restore_cookie_states`).
"""
from __future__ import annotations

import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from matrix.storage.db import session_scope
from matrix.storage.models import CrawlerHealth
from matrix.storage.route_health import latest_health
from matrix.timeutil import as_utc

IN_USE, OUT_OF_USE = "cookie_in_use", "cookie_out"
VISITOR_KEY = "cookie-visitor"
_reported: "weakref.WeakKeyDictionary[Any, int]" = weakref.WeakKeyDictionary()  # requests already stored


def cookie_key(cookie: Any) -> str:
    """The crawler-health key of a pooled cookie (crawler.cookiepool.PooledCookie)."""
    return f"cookie-{cookie.fingerprint}"


def stored_states(session: Session) -> dict[str, CrawlerHealth]:
    """The latest `cookie-*` row of each cookie (and of the visitor cookie), by key."""
    return latest_health(session, "cookie-")


def _store(session: Session, latest: dict[str, CrawlerHealth], key: str, state: str, message: str, used: int,
           detail: dict, now: datetime) -> None:
    row = latest.get(key)
    total = int((row.detail or {}).get("requests_total") or 0) + used if row is not None else used
    if row is not None and row.state == state:
        row.detail = {**(row.detail or {}), **detail, "requests_total": total}
        return
    session.add(CrawlerHealth(at=now, source_key=key, state=state, message=message[:2000],
                              detail={**detail, "requests_total": total}))


def record_cookie_states(engine: Engine, credentials: Any, now: datetime) -> None:
    """Store each cookie's state after a pass (crawler.credentials.Credentials; None: nothing to store)."""
    if credentials is None:
        return
    now = as_utc(now)
    with session_scope(engine) as s:
        latest = stored_states(s)
        for c in (credentials.pool.cookies if credentials.pool is not None else []):
            used = c.requests - _reported.get(c, 0)
            _reported[c] = c.requests
            out = c.state != "active"
            since = as_utc(c.since) if out and c.since else now
            _store(s, latest, cookie_key(c), OUT_OF_USE if out else IN_USE, c.reason if out else "in use", used,
                   {"label": c.label, "account": c.account, "reason": c.reason, "since": since.isoformat()}, now)
        v = credentials.visitor
        if v is not None:
            used = credentials.sent["visitor"] - _reported.get(credentials, 0)
            _reported[credentials] = credentials.sent["visitor"]
            _store(s, latest, VISITOR_KEY, IN_USE, "visitor cookie", used,
                   {"label": "visitor", "renewals": v.renewals, "last_reason": v.last_reason}, now)


def restore_cookie_states(engine: Engine, credentials: Any) -> None:
    """Take out of use again the pooled cookies an earlier run found wanting a login (a renewed cookie has a new
    fingerprint and starts in use)."""
    if credentials is None or credentials.pool is None:
        return
    with session_scope(engine) as s:
        latest = stored_states(s)
        for c in credentials.pool.cookies:
            row = latest.get(cookie_key(c))
            if row is not None and row.state == OUT_OF_USE:
                detail = row.detail or {}
                since = datetime.fromisoformat(detail["since"]) if detail.get("since") else as_utc(row.at)
                credentials.pool.login_wanted(c, detail.get("reason") or row.message, since)
                _reported[c] = c.requests
