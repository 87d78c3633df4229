"""Routes of Weibo the poller found closed (crawler.routes records `route_closed` / `ok` under `route-<name>`),
read back for `wzmon status` and the office alert: a route counts once closed `ROUTE_ALERT_MINUTES` or longer."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from matrix.models import CrawlerHealth
from matrix.timeutil import as_utc

ROUTE_ALERT_MINUTES = 60.0


def closed_routes(session: Session, now: datetime, minutes: float = ROUTE_ALERT_MINUTES) -> list[dict]:
    """Routes whose latest event is `route_closed`, closed `minutes` or longer: [{"route", "since", "message"}]."""
    latest: dict[str, CrawlerHealth] = {}
    for ev in session.scalars(select(CrawlerHealth).where(CrawlerHealth.source_key.like("route-%"))
                              .order_by(CrawlerHealth.at, CrawlerHealth.id)):
        latest[ev.source_key] = ev
    now = as_utc(now)
    return [{"route": key[len("route-"):], "since": as_utc(ev.at), "message": ev.message}
            for key, ev in latest.items()
            if ev.state == "route_closed" and now - as_utc(ev.at) >= timedelta(minutes=minutes)]
