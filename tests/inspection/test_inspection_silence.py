"""Silence watch: days since each member's last own post, the 10/14-day levels, one alert per level and episode,
per-category limits in the policy file, and the monthly inspection report (SQLite and PostgreSQL)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from inspection_world import A, B, C, CONTACTS, CST, D, E, F, NAMES, NOW, OWN_POSTS, build
from matrix.alerts.config import AlertsConfig
from matrix.storage.db import open_db, session_scope
from matrix.casework.inspection import inspect_month, render_csv, render_markdown, silence_in_period, silence_now, watch_silence
from matrix.storage.models import Account, Alert, Post
from matrix.rules.policy import PolicyError, load_policy

OFFICE = ({"channel": "email", "address": "duban@example.gov.cn"},)


@pytest.fixture(scope="module")
def policy():
    return load_policy()


@pytest.fixture
def engine(db_url):
    e = open_db(db_url)
    build(e)
    return e


def last_post(uid: str, before: datetime = NOW) -> datetime:
    return max(at for _p, u, _k, at, _t in OWN_POSTS if u == uid and at < before)


def test_days_since_last_post_and_levels(engine, policy):
    with session_scope(engine) as s:
        rows = {r.account_uid: r for r in silence_now(s, policy, NOW)}
    assert C not in rows, "the coordinator is not a member account"
    for uid in (A, B, D):
        assert rows[uid].days_silent == round((NOW - last_post(uid)).total_seconds() / 86400, 1)
        assert rows[uid].last_post_at == last_post(uid)
    # the default policy: warning after 10 calendar days, breach after 14 (国办秘函〔2019〕19号: 2 weeks)
    assert rows[A].level == ""  # 3 days
    assert rows[B].level == "warning"  # 11 days, and a repost counts as an update
    assert rows[D].level == "breach"  # 15 days; its comment yesterday is not an update
    assert rows[D].breach_at == last_post(D) + timedelta(days=14)
    assert rows[E].level == "no_posts" and rows[E].days_silent is None
    assert rows[F].level == "unknown", "a timeline never read says nothing about silence"


def test_alerts_once_per_level_and_episode(engine, policy):
    cfg = AlertsConfig(office_contacts=OFFICE)
    with session_scope(engine) as s:
        queued = watch_silence(s, policy, NOW, cfg)
    # B warning and D breach, each to the member's contact and the office's
    assert queued == 4
    with session_scope(engine) as s:
        assert watch_silence(s, policy, NOW + timedelta(hours=6), cfg) == 0, "the same episode alerts once"
        rows = s.scalars(select(Alert).order_by(Alert.id)).all()
        got = {(r.account_uid, r.level, r.address.split("@")[-1]) for r in rows}
        assert {(B, "silence_warning"), (D, "silence_breach"), (None, "silence_warning"), (None, "silence_breach")} \
            == {(a, lvl) for a, lvl, _ in got}
        d_alert = next(r for r in rows if r.account_uid == D)
        assert "单项否决" in d_alert.subject and "15" in d_alert.subject and "国办秘函〔2019〕19号" in d_alert.body
        assert "/inspection" in d_alert.body
    # three days and an hour on, B's silence passes 14 days: its breach is a new alert, D's stays the one it had
    later = NOW + timedelta(days=3, hours=1)
    with session_scope(engine) as s:
        assert watch_silence(s, policy, later, cfg) == 2
    # D posts again: the episode ends; 14 days after that post a new breach is alerted again, once
    new_post = later + timedelta(hours=1)
    with session_scope(engine) as s:
        s.add(Post(id="5100000000000099", mid="5100000000000099", item_type="post", user_id=D, screen_name=NAMES[D],
                   text="恢复供水", created_at=new_post, mentions=[], topics=[]))
    with session_scope(engine) as s:
        assert watch_silence(s, policy, new_post + timedelta(days=1), cfg) == 0
        assert watch_silence(s, policy, new_post + timedelta(days=15), cfg) >= 2
        d_levels = [r.dedupe_key for r in s.scalars(select(Alert).where(Alert.account_uid == D))]
    assert len([k for k in d_levels if ":breach:" in k]) == 2 and len(set(d_levels)) == len(d_levels)


def test_member_without_contacts_is_marked_dead(engine, policy):
    with session_scope(engine) as s:
        for a in s.scalars(select(Account)):
            if a.uid == D:
                a.contacts = []
    with session_scope(engine) as s:
        watch_silence(s, policy, NOW, AlertsConfig())
        row = s.scalars(select(Alert).where(Alert.account_uid == D)).one()
    assert row.status == "dead" and "no contacts" in row.last_error


def test_category_limits_from_the_policy_file(engine, tmp_path):
    text = (Path(load_policy().source).read_text(encoding="utf-8").replace('version = "default-2025.1"', 'version = "office-ins-1"')
            + '\n[inspection]\n# 国办秘函〔2019〕19号\nsilence_warning = "10 calendar days"\nsilence_breach = "14 calendar days"\n'
              'comment_cases = false\n[inspection.categories."政法"]\nsilence_warning = "1 calendar day"\n'
              'silence_breach = "2 calendar days"\n')
    path = tmp_path / "office.toml"
    path.write_text(text, encoding="utf-8")
    pol = load_policy(path)
    assert pol.inspection.comment_cases is False
    with session_scope(engine) as s:
        rows = {r.account_uid: r for r in silence_now(s, pol, NOW)}
    assert rows[A].level == "breach" and rows[A].breach_limit == "2 calendar days"  # 3 days > 2 for 政法
    assert rows[B].level == "warning"  # other categories keep the general limits


@pytest.mark.parametrize("body, words", [
    ('[inspection]\nsilence_breach = "soon"\n', "inspection.silence_breach"),
    ('[inspection]\nsilence_warning = "20 calendar days"\n', "must not come after the breach"),
    ('[inspection]\nquiet = 3\n', "unknown key"),
    ('[inspection]\ncomment_cases = "yes"\n', "expected true or false"),
    ('[inspection.categories."公安"]\nsilence_breach = "none"\n', "none"),
])
def test_policy_mistakes_are_named(tmp_path, body, words):
    path = tmp_path / "bad.toml"
    path.write_text('version = "t"\n[defaults]\nforward = "4 working hours"\nfirst_response = "1 working day"\n'
                    'next_reply = "1 working day"\nclosure = "5 working days"\n' + body, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert words in str(info.value) and str(path) in str(info.value)


def test_shipped_policy_keeps_its_recorded_bytes_and_has_the_national_defaults(policy):
    # the shipped file is recorded as default-2025.1: the inspection limits come from code, not from new bytes
    assert policy.version == "default-2025.1" and "[inspection]" not in policy.text
    assert str(policy.inspection.silence_warning) == "10 calendar days"
    assert str(policy.inspection.silence_breach) == "14 calendar days"
    assert policy.inspection.comment_cases is True and "2周内无信息更新" in policy.inspection.rule


def test_month_silence(engine, policy):
    start, end = datetime(2026, 11, 1, tzinfo=CST), datetime(2026, 12, 1, tzinfo=CST)
    with session_scope(engine) as s:
        m = silence_in_period(s, policy, start, end)
    # D: 30 Oct 09:00 -> 18 Nov 10:00 is a 19-day gap: breached from 13 Nov 09:00
    assert m[D].breached and m[D].breached_since == datetime(2026, 11, 13, 9, 0, tzinfo=CST)
    assert m[D].longest_silence_days == 19.0
    assert m[D].days_since_last_post == round((end - last_post(D, end)).total_seconds() / 86400, 1)
    # A: 40 days before NOW (24 Oct) to 3 days before (30 Nov): silent past 14 days within November
    assert m[A].breached and m[A].longest_silence_days == round((last_post(A) - (NOW - timedelta(days=40))).total_seconds() / 86400, 1)
    # B: 3 Nov 10:00 (30 days before NOW) to 22 Nov (the repost): 19 days, breached within November too
    assert m[B].breached
    # E's timeline was first read in December: November cannot be judged for it
    assert not m[E].breached and m[E].last_post_at is None


def test_inspection_report(engine, policy, db_url, tmp_path):
    with session_scope(engine) as s:
        rep = inspect_month(s, policy, "2026-12", NOW)
    by = {r.account_uid: r for r in rep.rows}
    assert set(by) == {A, B, D, E, F}, "every member account is named, the coordinator is not"
    assert by[D].verdict == "单项否决" and by[D].silence_breach and by[D].days_since_last_post == 15.0
    assert by[E].verdict == "单项否决" and by[E].days_since_last_post is None
    assert by[B].verdict == "关注" and not by[B].silence_breach and by[B].days_since_last_post == 11.0
    assert by[A].verdict == "正常" and by[A].days_since_last_post == 3.0
    assert by[F].verdict == "未采集"
    assert [r.verdict for r in rep.rows][:2] == ["单项否决", "单项否决"], "单项否决 named first"
    md = render_markdown(rep)
    veto = md.split("## 单项否决")[1].split("##")[0]
    assert "@银川水务" in veto and "@银川文旅" in veto and "@银川公安" not in veto
    assert md.index("@银川水务") < md.index("@银川教育")
    rows = list(csv.DictReader(io.StringIO(render_csv(rep))))
    assert {r["screen_name"] for r in rows} == {NAMES[u] for u in (A, B, D, E, F)}
    assert next(r for r in rows if r["account_uid"] == D)["silence_breach"] == "是"
    # the command writes the same, as of a time given
    from matrix.cli.root import main

    out = CliRunner().invoke(main, ["--db", db_url, "report", "inspect", "--month", "2026-12", "--as-of",
                                    NOW.strftime("%Y-%m-%dT%H:%M"), "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "2 without an update" in out.output and "@银川水务" in out.output
    assert (tmp_path / "inspection-2026-12.md").read_text(encoding="utf-8") == md
    assert (tmp_path / "inspection-2026-12.csv").read_text(encoding="utf-8-sig") == render_csv(rep)
    bad = CliRunner().invoke(main, ["--db", db_url, "report", "inspect", "--month", "2027-01", "--as-of",
                                    NOW.strftime("%Y-%m-%dT%H:%M"), "--out", str(tmp_path)])
    assert bad.exit_code == 1 and "has not begun" in bad.output


def test_member_scope(engine, policy):
    with session_scope(engine) as s:
        rep = inspect_month(s, policy, "2026-11", NOW, account_uids=[A])
        none = inspect_month(s, policy, "2026-11", NOW, account_uids=[])
    assert [r.account_uid for r in rep.rows] == [A] and none.rows == []


def test_weekly_tongbao_counts_silent_accounts(engine, policy):
    from matrix.reading.report import build_report, render_markdown as tongbao, week_period

    with session_scope(engine) as s:
        w48 = build_report(s, week_period("2026-W48"), now=NOW, policy=policy)
        w49 = build_report(s, week_period("2026-W49"), now=NOW, policy=policy)
    # W48 (23-29 Nov): A had not posted since 24 Oct; B posted on 22 Nov; D on 18 Nov (14 days end on 2 Dec)
    assert [r[0] for r in w48.silent] == [A]
    # W49 up to NOW: D passed 14 days on 2 Dec; A was still silent in the first hours of 30 Nov; E never posted
    assert {r[0] for r in w49.silent} == {A, D, E}
    md = tongbao(w49, week_period("2026-W49"))
    part = md.split("## 账号更新情况")[1].split("##")[0]
    assert "@银川水务" in part and "@银川文旅" in part and "@银川教育" not in part and "/inspection" in part
    assert "本期成员账号均在2周内有信息更新" not in part
