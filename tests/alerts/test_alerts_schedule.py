"""Quiet hours and working days hold alerts (never drop them); daily digests once per date."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from matrix.alerts.sender import Sender
from matrix.alerts.window import Window
from matrix.storage.db import session_scope
from matrix.storage.models import Alert, Case

SH = timezone(timedelta(hours=8))


def at(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def test_window_rules(config):
    cfg = config.with_(quiet_hours=(22 * 60, 8 * 60), working_days_only=True)
    w = Window(cfg)
    assert w.allowed(at(2026, 11, 23, 10))  # Monday
    assert "quiet hours 22:00-08:00" == w.why_closed(at(2026, 11, 23, 23, 30))
    assert w.why_closed(at(2026, 11, 24, 7, 59)).startswith("quiet")
    assert w.allowed(at(2026, 11, 24, 8, 0))
    assert "not a working day" in w.why_closed(at(2026, 11, 21, 10))  # Saturday
    assert "not a working day" in w.why_closed(at(2026, 10, 1, 10))  # National Day, a Thursday
    assert w.allowed(at(2026, 10, 10, 10))  # Saturday 调休 make-up working day in 2026 (chinesecalendar)
    assert w.next_open(at(2026, 11, 20, 22, 30)) == at(2026, 11, 23, 8, 0)  # Friday night -> Monday 08:00
    assert Window(cfg.with_(quiet_hours=(12 * 60, 13 * 60))).why_closed(at(2026, 11, 23, 12, 30)).startswith("quiet")


def test_alerts_are_held_through_the_night_and_the_weekend_then_sent(engine, config, make_account, queue_alerts, smtp_server):
    cfg = config.with_(quiet_hours=(22 * 60, 8 * 60), working_days_only=True)
    uid = make_account("4001", "银川文旅", [{"channel": "email", "address": "wl@test.cn"}])
    ids = queue_alerts(uid, 2)
    sender = Sender(engine, cfg)
    friday_night = sender.run_once(at(2026, 11, 20, 23, 0))
    assert friday_night.held == 2 and friday_night.sent == 0 and "quiet hours" in friday_night.closed_reason
    saturday = sender.run_once(at(2026, 11, 21, 11, 0))
    assert saturday.held == 2 and "not a working day" in saturday.closed_reason
    with session_scope(engine) as s:
        assert [a.status for a in s.scalars(select(Alert))] == ["pending", "pending"]
        assert s.scalars(select(Alert.attempts)).all() == [0, 0]
    # meanwhile one case was closed: its held alert is cancelled, not sent as news of a case already done
    with session_scope(engine) as s:
        closed = s.get(Case, ids[0])
        closed.status = "closed"
    monday = sender.run_once(at(2026, 11, 23, 8, 1))
    assert monday.sent == 1 and monday.cancelled == 1 and len(smtp_server.messages) == 1
    with session_scope(engine) as s:
        by_case = {a.case_id: (a.status, a.last_error, a.attempts) for a in s.scalars(select(Alert))}
    assert by_case[ids[0]] == ("cancelled", f"case #{ids[0]} was closed before the alert went out", 0)
    assert by_case[ids[1]][0] == "sent"


def test_daily_digest_per_account_and_office_once_a_day(engine, config, make_account, queue_alerts, smtp_server, receiver):
    cfg = config.with_(digest_minute=9 * 60, working_days_only=True,
                       office_contacts=({"channel": "webhook", "address": receiver.hook_url("office")},))
    a = make_account("4002", "银川公安", [{"channel": "email", "address": "ga@test.cn"}])
    b = make_account("4003", "银川教育", [{"channel": "email", "address": "jy@test.cn"}])
    make_account("4004", "银川无案", [{"channel": "email", "address": "none@test.cn"}])
    queue_alerts(a, 3)
    queue_alerts(b, 1)
    sender = Sender(engine, cfg)
    sender.run_once(at(2026, 11, 23, 8, 30))  # before the digest hour: only the case alerts
    assert len(smtp_server.messages) == 4
    first = sender.run_once(at(2026, 11, 23, 9, 0))
    assert first.digests == 3 and first.sent == 3
    digests = [m for _r, m in smtp_server.messages if m["Subject"].startswith("【每日汇总】")]
    assert sorted(m["To"] for m in digests) == ["ga@test.cn", "jy@test.cn"]
    ga = next(m for m in digests if m["To"] == "ga@test.cn")
    assert ga["Subject"] == "【每日汇总】@银川公安 11月23日：待办 3 件，超期 3 件"
    assert ga.get_content().count("· #") == 3
    office = receiver.got("webhook")
    assert len(office) == 1 and "@银川公安：待办 3 件，超期 3 件" in office[0]["text"]
    # later the same day, and a restarted sender: nothing new
    assert sender.run_once(at(2026, 11, 23, 15, 0)).digests == 0
    assert Sender(engine, cfg, worker="restarted").run_once(at(2026, 11, 23, 18, 0)).digests == 0
    # Saturday: no digest; Monday: a new one
    assert sender.run_once(at(2026, 11, 28, 9, 30)).digests == 0
    assert sender.run_once(at(2026, 11, 30, 9, 30)).digests == 3
    assert len(receiver.got("webhook")) == 2

