"""Roster import: every bad row named by file, line and field, nothing written on error, history kept."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from matrix.cli.root import main
from matrix.storage.db import open_db, session_scope
from matrix.storage.models import Account, AccountHistory

HEADER = "uid,screen_name,name,department,category,role,contacts\n"


def _import(db_url: str, path) -> tuple[int, str]:  # noqa: ANN001
    res = CliRunner().invoke(main, ["--db", db_url, "accounts", "import", str(path)])
    return res.exit_code, res.output


def test_bad_rows_are_each_named_and_nothing_is_imported(db_url, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(
        HEADER
        + "1000000001,问政银川,问政银川,网信办,综合,coordinator,email:duban@example.gov.cn\n"
        + "12ab,银川公安,银川市公安局,公安局,公安,member,\n"
        + "1000000003,银川教育,教育局,教育局,教育,boss,\n"
        + "1000000004,银川卫健,卫健委,卫健委,卫健,member,email:not-an-address\n",
        encoding="utf-8",
    )
    code, out = _import(db_url, roster)
    assert code == 1
    assert "3 problems; nothing was imported" in out
    assert f"{roster}:3: field 'uid'" in out
    assert f"{roster}:4: field 'role'" in out
    assert f"{roster}:5: field 'contacts'" in out
    assert "Traceback" not in out
    with session_scope(open_db(db_url)) as s:
        assert s.scalars(select(Account)).all() == []


def test_missing_file_is_a_plain_error(db_url, tmp_path):
    code, out = _import(db_url, tmp_path / "nope.csv")
    assert code == 1 and "no such file" in out and "Traceback" not in out


def test_yaml_contacts_follow_the_alert_rules_and_changes_keep_history(db_url, tmp_path):
    roster = tmp_path / "roster.yaml"
    roster.write_text(
        "accounts:\n"
        "  - uid: '1000000001'\n    screen_name: 问政银川\n    role: coordinator\n"
        "    contacts:\n      - {channel: email, address: duban@example.gov.cn}\n"
        "  - uid: '1000000002'\n    screen_name: 银川公安\n    category: 公安\n"
        "    contacts:\n      - {channel: email, address: ops@example.gov.cn, password: hunter2}\n",
        encoding="utf-8",
    )
    code, out = _import(db_url, roster)
    assert code == 1 and f"{roster}:" in out and "field 'contacts'" in out and "hunter2" not in out

    roster.write_text(roster.read_text(encoding="utf-8").replace(", password: hunter2", ""), encoding="utf-8")
    code, out = _import(db_url, roster)
    assert code == 0, out
    assert "2 created, 0 updated, 0 unchanged" in out
    roster.write_text(roster.read_text(encoding="utf-8").replace("category: 公安", "category: 交警"), encoding="utf-8")
    code, out = _import(db_url, roster)
    assert code == 0 and "0 created, 1 updated, 1 unchanged" in out, out
    with session_scope(open_db(db_url)) as s:
        police = s.get(Account, "1000000002")
        assert police.category == "交警"
        assert police.contacts == [{"channel": "email", "address": "ops@example.gov.cn"}]
        history = s.scalars(select(AccountHistory).where(AccountHistory.uid == "1000000002")
                            .order_by(AccountHistory.id)).all()
        assert [h.change for h in history] == ["created", "updated"]
        assert history[1].before["category"] == "公安" and history[1].after["category"] == "交警"
