"""A Weibo route closed longer than the threshold reaches the office through the outbox exactly once per episode:
the route staying closed adds nothing, answering again and closing anew is a new episode."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from matrix.alerts.config import AlertsConfig
from matrix.alerts.outbox import enqueue_route_alerts
from matrix.db import open_db, session_scope
from matrix.models import Alert, CrawlerHealth

T0 = datetime(2026, 12, 21, 1, 0, tzinfo=timezone.utc)
OFFICE = AlertsConfig(office_contacts=({"channel": "email", "address": "duban@example.gov.cn"},))


def health(engine, at: datetime, state: str, route: str = "mobile") -> None:  # noqa: ANN001
    # the rows crawler.poller writes through DbPollStore.record_health (route_closed when a door closes, ok after)
    with session_scope(engine) as s:
        s.add(CrawlerHealth(at=at, source_key=f"route-{route}", state=state, http_status=432 if state != "ok" else None,
                            message="m.weibo.cn is refusing (432 or a login wall): renew the cookie (wzmon login)"))


def route_alerts(engine) -> list[Alert]:  # noqa: ANN001
    with session_scope(engine) as s:
        rows = list(s.scalars(select(Alert).where(Alert.level == "route").order_by(Alert.id)))
        s.expunge_all()
    return rows


def test_one_alert_per_closed_route_episode(db_url) -> None:
    engine = open_db(db_url)
    health(engine, T0, "route_closed")
    with session_scope(engine) as s:
        assert enqueue_route_alerts(s, T0 + timedelta(minutes=59), OFFICE) == 0  # not yet an hour
        assert enqueue_route_alerts(s, T0 + timedelta(minutes=61), OFFICE) == 1
        assert enqueue_route_alerts(s, T0 + timedelta(hours=5), OFFICE) == 0  # still the same episode
    [first] = route_alerts(engine)
    assert "mobile" in first.subject and "wzmon login" in first.body and first.channel == "email"
    health(engine, T0 + timedelta(hours=6), "ok")
    with session_scope(engine) as s:
        assert enqueue_route_alerts(s, T0 + timedelta(hours=7), OFFICE) == 0  # answered again
    health(engine, T0 + timedelta(hours=8), "route_closed")
    with session_scope(engine) as s:
        assert enqueue_route_alerts(s, T0 + timedelta(hours=9, minutes=1), OFFICE) == 1  # a new episode
    assert len(route_alerts(engine)) == 2
    health(engine, T0 + timedelta(hours=10), "route_closed", route="search")  # the threshold is a config setting
    with session_scope(engine) as s:
        assert enqueue_route_alerts(s, T0 + timedelta(hours=10, minutes=20), OFFICE.with_(route_alert_minutes=15)) == 1
    with session_scope(engine) as s:  # no office contact configured: nothing to send, nothing queued
        assert enqueue_route_alerts(s, T0 + timedelta(hours=12), AlertsConfig()) == 0
