"""Routes of Weibo the poller found closed (crawler.routes records `route_closed` / `ok` under `route-<name>`),
read back for `wzmon status` and the office alert: a route counts once closed `ROUTE_ALERT_MINUTES` or longer; and
handed back to the poller at start-up (`open_closures`), so each run of `wzmon poll --once` goes on with the episode
the previous run found instead of opening (and alerting) a new one."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.routes import Closure
from matrix.storage.models import CrawlerHealth
from matrix.timeutil import as_utc

ROUTE_ALERT_MINUTES = 60.0


def latest_health(session: Session, prefix: str) -> dict[str, CrawlerHealth]:
    """The latest crawler-health row of each key starting with PREFIX (`route-`, `cookie-`), by key."""
    latest: dict[str, CrawlerHealth] = {}
    for ev in session.scalars(select(CrawlerHealth).where(CrawlerHealth.source_key.like(f"{prefix}%"))
                              .order_by(CrawlerHealth.at, CrawlerHealth.id)):
        latest[ev.source_key] = ev
    return latest


def open_closures(session: Session, now: datetime) -> list[Closure]:
    """The episodes still open (latest row `route_closed`), as the crawler's RouteBook keeps them: since the
    episode began, next probe at the row's cool-down (or now)."""
    out = []
    for key, ev in latest_health(session, "route-").items():
        if ev.state != "route_closed":
            continue
        detail = ev.detail or {}
        try:
            since = as_utc(datetime.fromisoformat(detail["since"])) if detail.get("since") else as_utc(ev.at)
        except (TypeError, ValueError):
            since = as_utc(ev.at)
        probe_at = as_utc(ev.cooldown_until) if ev.cooldown_until is not None else as_utc(now)
        out.append(Closure(key[len("route-"):], since, probe_at, int(detail.get("streak") or 1),
                           str(detail.get("cause") or ""), ev.message or ""))
    return out


def closed_routes(session: Session, now: datetime, minutes: float = ROUTE_ALERT_MINUTES) -> list[dict]:
    """Routes whose latest event is `route_closed`, closed `minutes` or longer: [{"route", "since", "message"}]."""
    latest = latest_health(session, "route-")
    now = as_utc(now)
    return [{"route": key[len("route-"):], "since": as_utc(ev.at), "message": ev.message}
            for key, ev in latest.items()
            if ev.state == "route_closed" and now - as_utc(ev.at) >= timedelta(minutes=minutes)]
