"""`wzmon alerts test|send|list|digest` on a real database, and alerts written by the real case engine."""
from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from alerts_support import T0
from matrix.storage.db import session_scope
from matrix.storage.models import Alert, AlertAttempt, CaseEvent, Post

DING_SECRET = "SECcli0123456789abcdef0123456789"


@pytest.fixture
def cli_env(monkeypatch, smtp_server):
    monkeypatch.delenv("WZMON_ALERTS_CONFIG", raising=False)
    monkeypatch.setenv("WZMON_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("WZMON_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("WZMON_SMTP_FROM", "wzmon@test.local")
    monkeypatch.setenv("WZMON_BOARD_URL", "http://board.test")
    monkeypatch.setenv("WZMON_ALERTS_QUIET_HOURS", "")
    monkeypatch.setenv("WZMON_ALERTS_WORKING_DAYS_ONLY", "0")
    monkeypatch.setenv("WZMON_ALERTS_DIGEST_HOUR", "")  # real clock: no automatic digest in `send`
    monkeypatch.setenv("WZ_CLI_DING", DING_SECRET)


def wzmon(db_url, *args):
    from matrix.cli.root import main

    return CliRunner().invoke(main, ["--db", db_url, "alerts", *args], catch_exceptions=False)


def test_alerts_test_says_what_failed_per_contact(db_url, engine, make_account, receiver, smtp_server, cli_env):
    make_account("5001", "银川公安", [
        {"channel": "email", "address": "ga@test.cn"},
        {"channel": "dingtalk", "address": receiver.dingtalk_url("cli-robot-token-0001", DING_SECRET), "secret": "env:WZ_CLI_DING"},
        {"channel": "dingtalk", "address": receiver.dingtalk_url("cli-robot-token-0002", "SECother"), "secret": "env:WZ_CLI_DING"},
        {"channel": "webhook", "address": f"{receiver.base}/status/404"},
    ])
    result = wzmon(db_url, "test", "--account", "@银川公安")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "ok      email ga@test.cn"
    assert lines[1].startswith("ok      dingtalk http://127.0.0.1:") and "access_token=cli-…" in lines[1]
    assert lines[2].startswith("FAILED  dingtalk") and "310000 sign not match" in lines[2]
    assert lines[3].startswith("FAILED  webhook") and "HTTP 404" in lines[3]
    assert "2 of 4 contacts of @银川公安 failed" in result.output
    assert "cli-robot-token-0001" not in result.output and DING_SECRET not in result.output
    assert len(smtp_server.to("ga@test.cn")) == 1 and len(receiver.got("dingtalk")) == 1
    with session_scope(engine) as s:  # one-shot: nothing left for the sender to retry later
        assert {a.status for a in s.scalars(select(Alert))} == {"sent", "dead"}
        assert len(s.scalars(select(AlertAttempt)).all()) == 4
    assert "no account 'nobody'" in wzmon(db_url, "test", "--account", "nobody").output


def test_send_list_and_digest_commands(db_url, engine, make_account, queue_alerts, smtp_server, cli_env, monkeypatch):
    uid = make_account("5002", "银川教育", [{"channel": "email", "address": "jy@test.cn"}])
    queue_alerts(uid, 2)
    result = wzmon(db_url, "send")
    assert result.exit_code == 0 and result.output.startswith("2 sent, 0 to retry, 0 dead")
    assert wzmon(db_url, "send").output.startswith("0 sent")
    listing = wzmon(db_url, "list", "--status", "sent").output
    assert listing.count(" sent ") == 2 and "jy@test.cn" in listing
    first = wzmon(db_url, "digest", "--account", "银川教育")
    assert "1 digests queued; 1 sent" in first.output
    again = wzmon(db_url, "digest", "--account", "银川教育")
    assert "0 digests queued; nothing to send" in again.output
    assert sum(1 for _r, m in smtp_server.messages if m["Subject"].startswith("【每日汇总】@银川教育")) == 1
    monkeypatch.setenv("WZMON_ALERTS_QUIET_HOURS", "25:00-8")
    bad = wzmon(db_url, "send")
    assert bad.exit_code == 1 and "not a time like 09:00" in bad.output


def test_case_engine_events_queue_alerts_that_arrive_once(engine, config, make_account, smtp_server):
    """Through matrix.casework.cases: a citizen's post opens a case; later evaluations reach warning,
    overdue, 催办 and 通报, and each level's alert is delivered exactly once."""
    cases = pytest.importorskip("matrix.casework.cases")
    from matrix.alerts.sender import Sender
    from matrix.rules.policy import load_policy

    policy = load_policy()
    cfg = config.with_(office_contacts=({"channel": "email", "address": "duban@office.test"},))
    from matrix.alerts import outbox

    outbox.configure(cfg)
    make_account("1000000001", "问政银川", [{"channel": "email", "address": "wzyc@test.cn"}], role="coordinator")
    make_account("5003", "银川市公安局", [{"channel": "email", "address": "police@test.cn"}])
    opened = T0 - timedelta(days=30)
    with session_scope(engine) as s:
        post = Post(id="4990000000000001", item_type="post", user_id="77", screen_name="市民老李",
                    text="@银川市公安局 小区门口天天有人飙车，晚上睡不着，请管一管！", created_at=opened,
                    mentions=["银川市公安局"], post_kind="投诉", sentiment_label="negative")
        s.add(post)
        s.flush()
        cases.process_items(s, [post], policy, opened)
    sender = Sender(engine, cfg)
    levels_seen = []
    steps = [opened + timedelta(hours=h) for h in range(1, 144, 2)] + [opened + timedelta(days=d) for d in range(6, 31)]
    for now in steps:
        with session_scope(engine) as s:
            cases.evaluate(s, policy, now)
        sender.run_once(now)
        with session_scope(engine) as s:
            levels_seen = [e.detail.get("level") for e in s.scalars(select(CaseEvent).where(
                CaseEvent.type.in_(["warning", "overdue", "escalated"])).order_by(CaseEvent.id))]
    assert "warning" in levels_seen and "overdue" in levels_seen and "通报" in levels_seen
    assert len(set(levels_seen)) == len(levels_seen)
    with session_scope(engine) as s:
        rows = s.scalars(select(Alert).order_by(Alert.id)).all()
    member = [a.level for a in rows if a.account_uid == "5003"]
    assert member == levels_seen  # one alert per level reached, in order
    assert [a.level for a in rows if a.account_uid is None] == ["通报"]
    assert all(a.status == "sent" for a in rows)
    police = smtp_server.to("police@test.cn")
    assert len(police) == len(levels_seen)
    assert len({m["X-Wzmon-Alert-Id"] for m in police}) == len(police)
    assert "飙车" in police[0].get_content() and "案件" in police[0]["Subject"]
    assert len(smtp_server.to("duban@office.test")) == 1
