"""Citizens' requests in the comments under members' own posts open cases for that member (SQLite and PostgreSQL):
the reply to the comment (reply_id) or a comment naming the citizen answers it; rankings, `wzmon cases` and the
exports count @-mention cases and comment cases apart and together; the poller reads the comments of members'
recent posts."""
from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from matrix.casework.cases import process_items
from matrix.storage.db import open_db, session_scope
from matrix.storage.models import Account, Case, CaseEvent, Post
from matrix.rules.policy import load_policy
from matrix.timeutil import SHANGHAI

COORD, MEMBER, OTHER = "8000000001", "8000000002", "8000000003"
# a Monday with no holiday near: the default policy answers in 1 working day (close of business next working day)
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=SHANGHAI)
OWN = "5200000000000001"  # the member's own post


def item(pid: str, uid: str, name: str, kind: str, at: datetime, text: str, *, parent: str | None = None,
         reply_to: str | None = None, post_kind: str | None = None, sentiment: str = "neutral",
         mentions: list[str] | None = None) -> Post:
    return Post(id=pid, mid=pid, item_type=kind, user_id=uid, screen_name=name, text=text, created_at=at,
                parent_id=parent, reply_to_id=reply_to, mentions=mentions or [], topics=[], post_kind=post_kind,
                sentiment_label=sentiment)


def feed(engine, policy, items: list[Post], now: datetime) -> set[int]:
    with session_scope(engine) as s:
        for i in items:
            s.add(i)
        s.flush()
        return process_items(s, items, policy, now)


@pytest.fixture(scope="module")
def policy():
    return load_policy()


@pytest.fixture
def engine(db_url):
    e = open_db(db_url)
    with session_scope(e) as s:
        s.add_all([Account(uid=COORD, screen_name="问政银川", role="coordinator"),
                   Account(uid=MEMBER, screen_name="银川供热", department="供热", category="公用", role="member"),
                   Account(uid=OTHER, screen_name="银川交警", department="公安", category="政法", role="member")])
        s.add(item(OWN, MEMBER, "银川供热", "post", T0, "今冬供暖试运行通知"))
    return e


def cases(engine) -> dict[str, Case]:
    with session_scope(engine) as s:
        out = {c.post_id: c for c in s.scalars(select(Case))}
        s.expunge_all()
    return out


def test_request_in_comments_opens_a_case_and_the_reply_answers_it(engine, policy):
    t = T0 + timedelta(hours=1)
    feed(engine, policy, [
        item("5200000000000011", "7001", "市民甲", "comment", t, "请问我们小区什么时候开始供暖？", parent=OWN, post_kind="咨询"),
        item("5200000000000012", "7002", "市民乙", "comment", t, "辛苦了，点赞", parent=OWN, post_kind="表扬",
             sentiment="positive"),
        item("5200000000000015", "7004", "市民丁", "comment", t, "沙发", parent=OWN, post_kind="其他"),
        item("5200000000000013", "7003", "市民丙", "comment", t, "暖气不热，投诉！", parent=OWN, post_kind="投诉",
             sentiment="negative", reply_to="5200000000000011"),  # a reply to another comment: not a new request
    ], t)
    c = cases(engine)
    assert set(c) == {"5200000000000011"}, "only a citizen's own top-level request opens a case (not chat or thanks)"
    case = c["5200000000000011"]
    assert (case.origin, case.account_uid, case.status, case.kind) == ("comment", MEMBER, "open", "咨询")
    # the same clocks as any case: first response by close of business on the next working day (Tuesday 17:30)
    assert case.first_response_due == datetime(2026, 11, 17, 17, 30, tzinfo=SHANGHAI)
    answer = T0 + timedelta(hours=5)
    feed(engine, policy, [item("5200000000000014", MEMBER, "银川供热", "comment", answer,
                               "回复@市民甲:您好，11月20日起正式供暖", parent=OWN, reply_to="5200000000000011",
                               mentions=["市民甲"])], answer)
    case = cases(engine)["5200000000000011"]
    assert case.status == "responded" and case.first_response_at == answer
    assert case.first_response_id == "5200000000000014"


def test_a_comment_naming_the_citizen_answers_and_closes(engine, policy):
    t = T0 + timedelta(hours=2)
    feed(engine, policy, [item("5200000000000021", "7004", "市民丁", "comment", t, "楼道暖气漏水了，帮忙看看",
                               parent=OWN, post_kind="求助")], t)
    # late: after the Tuesday 17:30 deadline, and without reply_id, naming the citizen; a closing phrase closes
    late = datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI)
    feed(engine, policy, [item("5200000000000022", MEMBER, "银川供热", "comment", late, "@市民丁 已处理，维修人员已上门",
                               parent=OWN, mentions=["市民丁"])], late)
    case = cases(engine)["5200000000000021"]
    assert case.status == "closed" and case.first_response_at == late and case.closed_at == late
    with session_scope(engine) as s:
        types = [e.type for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))]
    assert types[0] == "opened" and "first_response" in types and "closed" in types


def test_switched_off_and_not_under_a_member_post(engine, policy, tmp_path):
    text = policy.text.replace('version = "default-2025.1"', 'version = "no-comment-cases"') + \
        '\n[inspection]\n# this office counts only @-mentions\ncomment_cases = false\n'
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    off = load_policy(tmp_path / "p.toml")
    t = T0 + timedelta(hours=3)
    feed(engine, off, [item("5200000000000031", "7005", "市民戊", "comment", t, "请问几号供暖？", parent=OWN,
                            post_kind="咨询")], t)
    citizen_post = item("5200000000000032", "7006", "市民己", "post", t, "今天天气不错")
    feed(engine, policy, [citizen_post, item("5200000000000033", "7007", "市民庚", "comment", t, "请问几号供暖？",
                                             parent="5200000000000032", post_kind="咨询")], t)
    assert cases(engine) == {}


def test_rankings_cases_command_and_exports_count_both(engine, policy, db_url, tmp_path, monkeypatch):
    t = T0 + timedelta(hours=1)
    feed(engine, policy, [
        item("5200000000000041", "7008", "市民辛", "post", t, "@银川供热 家里暖气不热", post_kind="投诉",
             sentiment="negative", mentions=["银川供热"]),
        item("5200000000000042", "7009", "市民壬", "comment", t, "请问供暖费怎么交？", parent=OWN, post_kind="咨询"),
        item("5200000000000043", "7010", "市民癸", "comment", t, "暖气管道有异响，请派人检查", parent=OWN, post_kind="求助"),
    ], t)
    answer = T0 + timedelta(hours=4)
    feed(engine, policy, [item("5200000000000044", MEMBER, "银川供热", "comment", answer, "回复@市民壬:可在供热公司APP缴纳",
                               parent=OWN, reply_to="5200000000000042", mentions=["市民壬"])], answer)
    from matrix.reading.rankings import period_rankings

    with session_scope(engine) as s:
        data = period_rankings(s, T0, T0 + timedelta(days=7), now=T0 + timedelta(days=3), policy=policy)
    row = next(r for r in data.ranks if r.account_uid == MEMBER)
    assert (row.cases, row.mention_cases, row.comment_cases, row.comment_on_time) == (3, 1, 2, 1)
    assert (data.total.mention_cases, data.total.comment_cases) == (1, 2)

    from matrix.cli.root import main

    out = CliRunner().invoke(main, ["--db", db_url, "cases", "--origin", "comment", "--format", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(out.output.splitlines()))
    assert sorted(r["post_id"] for r in rows) == ["5200000000000042", "5200000000000043"]
    assert {r["origin"] for r in rows} == {"comment"}
    monkeypatch.setenv("WZMON_PSEUDONYM_KEY", "test-key-0123456789abcdef")
    out = CliRunner().invoke(main, ["--db", db_url, "export", "cases", "rankings", "--since", "2026-11-16",
                                    "--until", "2026-11-22", "--out", str(tmp_path / "ex")])
    assert out.exit_code == 0, out.output
    exported = list(csv.DictReader((tmp_path / "ex" / "cases.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert sorted(r["origin"] for r in exported) == ["comment", "comment", "mention"]
    ranked = list(csv.DictReader((tmp_path / "ex" / "rankings.csv").read_text(encoding="utf-8-sig").splitlines()))
    mine = next(r for r in ranked if r["account_uid"] == MEMBER)
    assert (mine["cases"], mine["mention_cases"], mine["comment_cases"], mine["comment_on_time"]) == ("3", "1", "2", "1")


def test_poller_reads_the_comments_of_members_recent_posts(engine, policy):
    from matrix.polling.ingest import Ingestor
    from matrix.polling.pollstore import DbPollStore

    old = "5200000000000051"
    with session_scope(engine) as s:
        s.add(item(old, MEMBER, "银川供热", "post", T0 - timedelta(days=10), "去年的通知"))
        s.add(item("5200000000000052", "7011", "市民子", "post", T0, "@银川供热 你好", mentions=["银川供热"]))
    store = DbPollStore(Ingestor(engine, policy, scorer=None), now=lambda: T0 + timedelta(days=1))
    keys = {s.key: s for s in store.sources()}
    assert f"comments:{OWN}" in keys, "a member post younger than the policy's comment window (7 days)"
    assert f"comments:{old}" not in keys
    assert "comments:5200000000000052" not in keys, "a citizen's post is no member post"
    # a comment case under the post makes its first-response deadline the source's urgency
    t = T0 + timedelta(hours=1)
    feed(engine, policy, [item("5200000000000053", "7012", "市民丑", "comment", t, "请问何时供暖？", parent=OWN,
                               post_kind="咨询")], t)
    keys = {s.key: s for s in store.sources()}
    assert keys[f"comments:{OWN}"].due_at == datetime(2026, 11, 17, 17, 30, tzinfo=SHANGHAI)
    assert "comments:5200000000000053" not in keys, "a comment case is read through its post's comments"
