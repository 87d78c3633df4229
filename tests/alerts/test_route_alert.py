"""A Weibo route closed longer than the threshold reaches the office through the outbox exactly once per episode:
the route staying closed adds nothing, answering again and closing anew is a new episode."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from matrix.alerts.config import AlertsConfig
from matrix.alerts.outbox import enqueue_route_alerts
from matrix.storage.db import open_db, session_scope
from matrix.storage.models import Alert, CrawlerHealth

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


def test_repeated_poll_once_runs_keep_one_episode_and_one_alert(db_url, tmp_path) -> None:
    """Cron-style `wzmon poll --once` runs against a fake Weibo whose m.weibo.cn refuses (real HTTP): each run takes
    over the episode the previous ones stored (matrix.storage.route_health.open_closures), so the office hears once."""
    from click.testing import CliRunner

    from crawler.fake_weibo.clock import SimClock
    from crawler.fake_weibo.scenario import Scenario
    from crawler.fake_weibo.server import serve_in_thread
    from matrix.cli.root import main

    end = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    scenario = Scenario(seed=7, accounts=2, days=2, history_days=1, end=end)
    server = serve_in_thread(scenario, clock=SimClock.fixed(end), refuse=("mobile",), search_html_needs_login=False)
    try:
        roster = tmp_path / "roster.csv"
        roster.write_text(scenario.roster_csv(), encoding="utf-8")
        assert CliRunner().invoke(main, ["--db", db_url, "accounts", "import", str(roster)]).exit_code == 0
        engine = open_db(db_url)
        alerts = 0
        for run in range(3):
            at = end + timedelta(hours=2 * run)
            out = CliRunner().invoke(main, ["--db", db_url, "poll", "--once", "--base-url", server.base_url,
                                            "--rpm", "6000"], env={"WZMON_NOW": at.isoformat()})
            assert out.exit_code == 0, out.output
            with session_scope(engine) as s:
                alerts += enqueue_route_alerts(s, at + timedelta(minutes=61), OFFICE)
        assert server.doors.describe()["refused"]["mobile"] >= 1
    finally:
        server.stop()
    with session_scope(engine) as s:
        closed = list(s.scalars(select(CrawlerHealth).where(CrawlerHealth.source_key == "route-mobile")))
        assert [h.state for h in closed] == ["route_closed"]
    assert alerts == 1 and len(route_alerts(engine)) == 1
