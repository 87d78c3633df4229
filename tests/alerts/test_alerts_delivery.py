"""Delivery through real SMTP and real HTTP robots: once each, retries, restarts, bad contacts, limits."""
from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from alerts_support import T0
from matrix.alerts.channels import dingtalk
from matrix.alerts.sender import Sender
from matrix.storage.db import session_scope
from matrix.storage.models import Alert, AlertAttempt

DING_TOKEN = "d1a9f00dd1a9f00dd1a9f00dd1a9f00dd1a9f00d"
DING_SECRET = "SECd1a9f00d5ec12e7aaaaaaaaaaaaaaaaaaaa"
FS_TOKEN = "f5f5f5f5-aaaa-bbbb-cccc-0123456789ab"
FS_SECRET = "feishu-sign-secret-42"
HOOK_SECRET = "generic-hook-secret-99"


def alerts(engine) -> list[Alert]:
    with session_scope(engine) as s:
        return s.scalars(select(Alert).order_by(Alert.id)).all()


def attempts(engine) -> list[AlertAttempt]:
    with session_scope(engine) as s:
        return s.scalars(select(AlertAttempt).order_by(AlertAttempt.id)).all()




@pytest.fixture
def robots(receiver, monkeypatch):
    monkeypatch.setenv("WZ_DING_SECRET", DING_SECRET)
    monkeypatch.setenv("WZ_FS_SECRET", FS_SECRET)
    monkeypatch.setenv("WZ_HOOK_SECRET", HOOK_SECRET)
    return [
        {"channel": "email", "address": "ops@police.test"},
        {"channel": "dingtalk", "address": receiver.dingtalk_url(DING_TOKEN, DING_SECRET), "secret": "env:WZ_DING_SECRET"},
        {"channel": "wecom", "address": receiver.wecom_url("wecom-key-1234567890")},
        {"channel": "feishu", "address": receiver.feishu_url(FS_TOKEN, FS_SECRET), "secret": "env:WZ_FS_SECRET"},
        {"channel": "webhook", "address": receiver.hook_url("ops", HOOK_SECRET), "secret": "env:WZ_HOOK_SECRET"},
    ]


def test_each_alert_arrives_once_on_every_channel_and_a_restart_sends_nothing(
        engine, config, make_account, queue_alerts, robots, receiver, smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    uid = make_account("3001", "银川公安", robots)
    queue_alerts(uid, 3)
    report = Sender(engine, config, worker="a").run_once(T0)
    assert (report.sent, report.failed, report.dead) == (15, 0, 0)
    assert len(smtp_server.to("ops@police.test")) == 3
    for kind in ("dingtalk", "wecom", "feishu", "webhook"):
        assert len(receiver.got(kind)) == 3, kind
    assert receiver.rejected == []
    # the signed robots got what the message says
    md = receiver.got("dingtalk")[0]["markdown"]
    assert md["title"].startswith("【超期】@银川公安") and "/case?case=" in md["text"]  # the board's case page (dashboard: url_path "case")
    assert sorted(p["alert_id"] for p in receiver.got("webhook")) == [a.id for a in alerts(engine) if a.channel == "webhook"]
    assert all(a.status == "sent" and a.attempts == 1 and a.sent_at == T0 for a in alerts(engine))
    assert all(t.ok for t in attempts(engine)) and len(attempts(engine)) == 15
    # a second pass and a restarted sender (new worker, later clock) send nothing again
    assert Sender(engine, config, worker="a").run_once(T0 + timedelta(minutes=5)).sent == 0
    assert Sender(engine, config, worker="b").run_once(T0 + timedelta(hours=3)).sent == 0
    assert len(smtp_server.messages) == 3 and len(receiver.received) == 12
    # no secret or token anywhere: DB rows, logs
    everything = " ".join(str(getattr(a, c.name)) for a in alerts(engine) for c in Alert.__table__.columns)
    everything += " ".join(t.error for t in attempts(engine)) + caplog.text
    for secret in (DING_TOKEN, DING_SECRET, FS_TOKEN, FS_SECRET, HOOK_SECRET, "wecom-key-1234567890"):
        assert secret not in everything


def test_smtp_down_then_up_every_alert_arrives_once(engine, config, make_account, queue_alerts, smtp_server):
    uid = make_account("3002", "银川教育", [{"channel": "email", "address": "edu@test.cn"}])
    queue_alerts(uid, 4)
    smtp_server.stop()
    sender = Sender(engine, config, worker="a")
    report = sender.run_once(T0)
    assert (report.sent, report.failed) == (0, 4)
    rows = alerts(engine)
    assert all(a.status == "failed" and "cannot connect" in a.last_error and a.next_attempt_at == T0 + timedelta(seconds=60)
               for a in rows)
    # not due yet: nothing is tried
    assert sender.run_once(T0 + timedelta(seconds=30)).failed == 0
    # still down at the retry: backoff doubles
    assert sender.run_once(T0 + timedelta(seconds=61)).failed == 4
    assert all(a.next_attempt_at == T0 + timedelta(seconds=61 + 120) for a in alerts(engine))
    smtp_server.start()
    # a restarted sender picks the retries up
    report = Sender(engine, config, worker="b").run_once(T0 + timedelta(seconds=200))
    assert report.sent == 4
    assert sorted(smtp_server.alert_ids()) == [a.id for a in rows]  # each exactly once
    assert all(a.status == "sent" and a.attempts == 3 for a in alerts(engine))
    log = attempts(engine)
    assert [t.ok for t in log].count(False) == 8 and [t.ok for t in log].count(True) == 4
    assert Sender(engine, config, worker="c").run_once(T0 + timedelta(hours=1)).sent == 0
    assert len(smtp_server.messages) == 4


def test_bad_contacts_die_with_their_error_and_block_nothing(
        engine, config, make_account, queue_alerts, receiver, smtp_server, monkeypatch):
    monkeypatch.setenv("WZ_WRONG_SECRET", "SECnot-the-robots-secret")
    contacts = [
        {"channel": "email", "address": "not-an-email"},  # written into the DB without the roster check
        {"channel": "webhook", "address": f"{receiver.base}/status/400"},
        {"channel": "dingtalk", "address": receiver.dingtalk_url("tok-wrong-secret-0001", DING_SECRET), "secret": "env:WZ_WRONG_SECRET"},
        {"channel": "dingtalk", "address": receiver.dingtalk_url("tok-missing-secret-01", DING_SECRET), "secret": "env:WZ_UNSET_VAR"},
        {"channel": "pager", "address": "12345"},
        {"channel": "email", "address": "good@test.cn"},
    ]
    uid = make_account("3003", "银川住建", contacts)
    queue_alerts(uid, 2)
    report = Sender(engine, config).run_once(T0)
    assert report.sent == 2 and len(smtp_server.to("good@test.cn")) == 2
    rows = alerts(engine)
    assert all(a.status in ("sent", "dead", "failed") and (a.status == "sent") == (a.last_error == "") for a in rows)
    errors = {a.address: (a.status, a.last_error) for a in rows if a.channel != "dingtalk"}
    assert errors["not-an-email"][0] == "dead" and "not an email address" in errors["not-an-email"][1]
    assert errors[f"{receiver.base}/status/400"][0] == "dead" and "HTTP 400" in errors[f"{receiver.base}/status/400"][1]
    pager = errors["12345"]
    assert pager[0] == "dead" and "unknown channel 'pager'" in pager[1]
    robots = [(a.status, a.last_error) for a in rows if a.channel == "dingtalk"]
    assert robots.count(("dead", "dingtalk http://127.0.0.1:%d/robot/send?access_token=tok-…: robot refused the message: "
                               "310000 sign not match" % receiver.server.server_address[1])) == 2
    unset = [r for r in robots if "WZ_UNSET_VAR" in r[1]]
    assert len(unset) == 2 and {r[0] for r in unset} == {"failed"}  # configuration an operator can fix: retried
    # the dead ones are not retried later
    assert Sender(engine, config).run_once(T0 + timedelta(hours=2)).dead == 0
    assert ("dingtalk", "tok-wrong-secret-0001", "sign") in receiver.rejected


def test_dingtalk_rate_limit_is_twenty_per_minute_per_robot(engine, config, make_account, queue_alerts, receiver, monkeypatch):
    monkeypatch.setenv("WZ_DING_SECRET", DING_SECRET)
    robot = {"channel": "dingtalk", "address": receiver.dingtalk_url(DING_TOKEN, DING_SECRET), "secret": "env:WZ_DING_SECRET"}
    other = {"channel": "dingtalk", "address": receiver.dingtalk_url("another-robot-token-77", None)}
    a = make_account("3004", "银川交警", [robot])
    b = make_account("3005", "兴庆区", [robot])  # the same robot serves two accounts: one budget
    c = make_account("3006", "金凤区", [other])
    queue_alerts(a, 15)
    queue_alerts(b, 10)
    queue_alerts(c, 3)
    sender = Sender(engine, config)
    first = sender.run_once(T0)
    assert first.sent == 23 and first.rate_limited == 5
    assert len(receiver.got("dingtalk", DING_TOKEN)) == 20 and len(receiver.got("dingtalk", "another-robot-token-77")) == 3
    # a second sender in the same minute also sees the budget spent
    assert Sender(engine, config, worker="x").run_once(T0 + timedelta(seconds=30)).sent == 0
    assert len(receiver.got("dingtalk", DING_TOKEN)) == 20
    later = sender.run_once(T0 + timedelta(seconds=61))
    assert later.sent == 5 and later.rate_limited == 0
    assert len(receiver.got("dingtalk", DING_TOKEN)) == 25
    assert all(x.status == "sent" for x in alerts(engine))


def test_two_senders_at_once_never_send_an_alert_twice(engine, config, make_account, queue_alerts, receiver):
    uid = make_account("3007", "银川城管", [{"channel": "webhook", "address": receiver.hook_url("race")},
                                             {"channel": "wecom", "address": receiver.wecom_url("race-key-000000")}])
    queue_alerts(uid, 20)
    reports = []
    barrier = threading.Barrier(3)

    def run(name):
        sender = Sender(engine, config.with_(rate_limits={}), worker=name)
        barrier.wait()
        reports.append(sender.run_once(T0))

    threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.sent for r in reports) == 40
    assert sum(r.lost_claims for r in reports) + 40 == sum(r.sent + r.lost_claims for r in reports)
    ids = Counter(p["alert_id"] for p in receiver.got("webhook"))
    assert len(ids) == 20 and set(ids.values()) == {1}
    assert len(receiver.got("wecom")) == 20
    assert len(attempts(engine)) == 40


def test_sender_killed_mid_send_is_taken_over_after_the_lease_only(engine, config, make_account, queue_alerts, receiver):
    uid = make_account("3008", "银川卫健", [{"channel": "webhook", "address": receiver.hook_url("lease")}])
    queue_alerts(uid, 2)
    dying = Sender(engine, config, worker="dying")
    first = alerts(engine)[0].id
    assert dying._claim(first, T0) == T0  # claimed, then the process died before sending
    other = Sender(engine, config, worker="other")
    assert other.run_once(T0 + timedelta(seconds=10)).sent == 1  # only the unclaimed one
    assert other.run_once(T0 + timedelta(seconds=config.lease_seconds - 1)).sent == 0  # lease still running
    report = other.run_once(T0 + timedelta(seconds=config.lease_seconds + 1))
    assert report.reclaimed == 1 and report.sent == 1
    assert sorted(Counter(p["alert_id"] for p in receiver.got("webhook")).values()) == [1, 1]
    log = [t for t in attempts(engine) if t.alert_id == first]
    assert [t.ok for t in log] == [False, True] and "stopped before recording the outcome" in log[0].error


def test_retries_stop_at_max_attempts(engine, config, make_account, queue_alerts, receiver):
    uid = make_account("3009", "银川水务", [{"channel": "wecom", "address": receiver.wecom_url("flaky-key-12345")}])
    queue_alerts(uid, 1)
    receiver.fail_with = 503
    cfg = config.with_(max_attempts=3)
    sender = Sender(engine, cfg)
    now = T0
    statuses = []
    for _ in range(5):
        sender.run_once(now)
        a = alerts(engine)[0]
        statuses.append(a.status)
        now = (a.next_attempt_at or now) + timedelta(seconds=1)
    assert statuses[:3] == ["failed", "failed", "dead"] and statuses[3:] == ["dead", "dead"]
    assert alerts(engine)[0].attempts == 3 and "HTTP 503" in alerts(engine)[0].last_error
    assert len(attempts(engine)) == 3


def test_receiver_checks_dingtalk_signatures_like_dingtalk(receiver):
    url = receiver.dingtalk_url("ding-sig-check-token", DING_SECRET)
    body = {"msgtype": "text", "text": {"content": "x"}}
    import time

    now_ms = int(time.time() * 1000)
    ok = httpx.post(dingtalk.signed_url(url, DING_SECRET, now_ms), json=body).json()
    old = httpx.post(dingtalk.signed_url(url, DING_SECRET, now_ms - 3601 * 1000), json=body).json()
    bad = httpx.post(dingtalk.signed_url(url, "SECwrong", now_ms), json=body).json()
    assert ok["errcode"] == 0 and old["errcode"] == 310000 and bad["errcode"] == 310000
    assert [r[2] for r in receiver.rejected] == ["timestamp", "sign"]
