"""The outbox: one row per (case, level, contact) ever, office copies, no secret stored, the message."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

from sqlalchemy import select

from alerts_support import T0, add_case, add_event
from matrix.alerts import outbox
from matrix.storage.db import session_scope
from matrix.storage.models import Alert

TOKEN = "feedfacecafebeef0123456789abcdef"


def test_one_alert_per_case_level_contact_ever(engine, config, make_account, receiver):
    uid = make_account("2001", "银川公安", [
        {"channel": "email", "address": "ops@police.test"},
        {"channel": "dingtalk", "address": receiver.dingtalk_url(TOKEN, "SECabc"), "secret": "env:DING_SECRET"},
    ])
    cfg = config.with_(office_contacts=({"channel": "email", "address": "duban@office.test"},))
    with session_scope(engine) as s:
        case = add_case(s, uid)
        assert outbox.enqueue_for_event(s, case, add_event(s, case, "overdue"), config=cfg) == 2
        # the engine re-evaluating, or writing the same level again, adds nothing
        assert outbox.enqueue_for_event(s, case, add_event(s, case, "overdue", at=T0 + timedelta(hours=1)), config=cfg) == 0
        assert outbox.enqueue_for_event(s, case, add_event(s, case, "escalated", "催办"), config=cfg) == 2
        # 通报 also goes to the office (office_levels default: 通报)
        assert outbox.enqueue_for_event(s, case, add_event(s, case, "escalated", "通报"), config=cfg) == 3
        assert outbox.enqueue_for_event(s, case, add_event(s, case, "escalated", "通报"), config=cfg) == 0
        # events that call for no alert
        other = add_event(s, case, "opened")
        assert outbox.enqueue_for_event(s, case, other, config=cfg) == 0
        case_id = case.id
    with session_scope(engine) as s:
        rows = s.scalars(select(Alert).order_by(Alert.id)).all()
    assert [(a.level, a.channel, a.account_uid) for a in rows] == [
        ("overdue", "email", uid), ("overdue", "dingtalk", uid),
        ("催办", "email", uid), ("催办", "dingtalk", uid),
        ("通报", "email", uid), ("通报", "dingtalk", uid), ("通报", "email", None),
    ]
    assert all(a.status == "pending" and a.case_id == case_id for a in rows)
    assert len({a.dedupe_key for a in rows}) == len(rows)
    for a in rows:  # the access token is not stored anywhere in the outbox
        assert TOKEN not in " ".join(str(v) for v in (a.address, a.dedupe_key, a.subject, a.body, a.contact_key))
    assert "抄送" in rows[-1].body


def test_message_is_short_chinese_with_link_post_wait_and_deadline(engine, config, make_account):
    uid = make_account("2002", "银川教育", [{"channel": "email", "address": "edu@test.cn"}])
    long_text = "我家孩子就读的学校食堂" + "饭菜质量差" * 40
    with session_scope(engine) as s:
        case = add_case(s, uid, text=long_text, opened=T0 - timedelta(days=2, hours=3), due=T0 - timedelta(hours=5))
        outbox.enqueue_for_event(s, case, add_event(s, case, "overdue"))
        alert = s.scalars(select(Alert)).one()
        case_id = case.id
    assert alert.subject == f"【超期】@银川教育 案件#{case_id} 已超期 5小时"
    lines = alert.body.splitlines()
    assert lines[0].startswith(f"【超期】@银川教育：案件 #{case_id}")
    assert "网民 @市民小王 已等待 2天3小时" in alert.body and "工作时间 20小时" in alert.body
    post_line = next(line for line in lines if line.startswith("诉求："))
    assert post_line.endswith("…") and len(post_line) <= len("诉求：") + config.post_chars
    # deadline shown in Yinchuan time: T0 - 5h = 2026-11-23 05:00 +08:00
    assert "首次回应时限：11-23 05:00（已超期 5小时）" in alert.body
    link = lines[-1].removeprefix("查看处理：")
    assert unquote(link) == f"http://board.test/case?case={case_id}"  # the board's case page path
    assert len(alert.body) < 300


def test_account_without_contacts_shows_up_dead_not_silent(engine, config, make_account):
    uid = make_account("2003", "银川民政", [])
    with session_scope(engine) as s:
        case = add_case(s, uid)
        assert outbox.enqueue_for_event(s, case, add_event(s, case, "warning")) == 0
        assert outbox.enqueue_for_event(s, case, add_event(s, case, "warning")) == 0
        rows = s.scalars(select(Alert)).all()
    assert len(rows) == 1 and rows[0].status == "dead" and "no contacts" in rows[0].last_error


def test_two_writers_racing_insert_one_row(engine, config, make_account):
    """Two transactions queue the same level for the same case: the dedupe key keeps one row."""
    uid = make_account("2004", "银川住建", [{"channel": "email", "address": "zj@test.cn"}])
    with session_scope(engine) as s:
        case_id = add_case(s, uid).id
    with session_scope(engine) as s1, session_scope(engine) as s2:
        from matrix.storage.models import Case

        c1 = s1.get(Case, case_id)
        assert outbox.enqueue_for_event(s1, c1, add_event(s1, c1, "overdue")) == 1
        s1.commit()
        c2 = s2.get(Case, case_id)
        assert outbox.enqueue_for_event(s2, c2, add_event(s2, c2, "overdue")) == 0
    with session_scope(engine) as s:
        assert len(s.scalars(select(Alert)).all()) == 1
