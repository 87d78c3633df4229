"""The weekly 通报 (Markdown + CSV) and the `wzmon report` / `wzmon case` commands, on the hand-built week."""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from casework_data import END, NOW, START, insert
from casework_helpers import bj
from matrix.cli.root import main
from matrix.storage.models import Case, CaseEvent
from matrix.reading.rankings import account_rankings, period_rankings
from matrix.reading.report import (
    CSV_FIELDS, ReportError, last_full_week, render_csv, render_markdown, span_period, week_period, write_report,
)


def test_periods():
    w = week_period("2025-W47")
    assert (w.start, w.end, w.label) == (START, END, "2025-W47")
    assert last_full_week(NOW) == w  # NOW is Wednesday of week 48
    s = span_period("2025-11-17", "2025-11-23")  # --until's day is included
    assert (s.start, s.end) == (START, END)
    for bad in ("2025-47", "2025-W54"):
        with pytest.raises(ReportError):
            week_period(bad)
    with pytest.raises(ReportError, match="after"):
        span_period("2025-11-20", "2025-11-19")


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_markdown_and_csv_carry_the_rankings(world, tmp_path):
    insert(world)
    period = week_period("2025-W47")
    with world.session() as s:
        data = period_rankings(s, period.start, period.end, now=NOW, policy=world.policy)
        ranks = account_rankings(s, period.start, period.end, now=NOW, policy=world.policy)
    assert data.ranks == ranks  # the report's numbers are the rankings' numbers
    md = render_markdown(data, period)
    assert md.startswith("# 问政银川微博矩阵响应情况通报（2025年第47周）")
    assert "2025-11-17 00:00 至 2025-11-24 00:00" in md
    assert f"受理诉求 {data.total.cases} 件" in md
    for i, r in enumerate(ranks, start=1):
        row = next(line for line in md.splitlines() if line.startswith(f"| {i} | @{r.screen_name} |"))
        assert f"| {r.cases} | {r.responded} |" in row
        assert f"{r.days_overdue:.1f}" in row
    late_section = md.split("## 超期账号点名")[1].split("## 超期诉求清单")[0]
    for r in ranks:
        named = f"@{r.screen_name}" in late_section
        assert named == (r.overdue_count > 0), r.account_uid
        if named:
            assert f"超期诉求 {r.overdue_count} 件，合计超期 {r.days_overdue:.1f} 个工作日" in late_section
    case_list = md.split("## 超期诉求清单")[1]
    for c in data.late_cases:  # each late case, linked to its page on the board
        assert f"| [{c.case_id}](http://127.0.0.1:8501/case?case={c.case_id}) |" in case_list
    rows = read_csv(render_csv(data))
    assert [r["account_uid"] for r in rows] == [r.account_uid for r in ranks]
    assert list(rows[0]) == CSV_FIELDS
    for row, r in zip(rows, ranks):
        assert int(row["cases"]) == r.cases and int(row["overdue_count"]) == r.overdue_count
        assert float(row["on_time_response_rate"]) == pytest.approx(r.on_time_response_rate, abs=1e-4)
        assert float(row["days_overdue"]) == pytest.approx(r.days_overdue, abs=1e-4)
        if r.median_response_working_minutes is None:
            assert row["median_response_working_minutes"] == ""
    paths = write_report(data, period, tmp_path / "out")
    assert sorted(p.name for p in paths) == ["rankings-2025-W47.csv", "tongbao-2025-W47.md"]


def test_empty_period_says_so(world):
    period = week_period("2025-W40")
    with world.session() as s:
        data = period_rankings(s, period.start, period.end, now=NOW, policy=world.policy)
    md = render_markdown(data, period)
    assert "受理诉求 0 件" in md and "本期无超期账号" in md and "本期无超期诉求" in md
    assert read_csv(render_csv(data)) == []


def test_report_command_writes_both_files(world, db_url, tmp_path):
    insert(world)
    out = tmp_path / "reports"
    res = CliRunner().invoke(main, ["--db", db_url, "report", "--week", "2025-W47", "--out", str(out),
                                    "--as-of", "2025-11-26T10:00"])
    assert res.exit_code == 0, res.output
    with world.session() as s:
        ranks = account_rankings(s, START, END, now=NOW, policy=world.policy)
    rows = read_csv((out / "rankings-2025-W47.csv").read_text(encoding="utf-8"))
    assert [(r["account_uid"], int(r["cases"]), float(r["days_overdue"])) for r in rows] == [
        (r.account_uid, r.cases, pytest.approx(r.days_overdue, abs=1e-4)) for r in ranks
    ]
    assert "2025年第47周" in (out / "tongbao-2025-W47.md").read_text(encoding="utf-8")
    only_md = CliRunner().invoke(main, ["--db", db_url, "report", "--since", "2025-11-17", "--until", "2025-11-23",
                                        "--out", str(out), "--format", "md"])
    assert only_md.exit_code == 0, only_md.output
    assert (out / "tongbao-2025-11-17_2025-11-23.md").exists()
    assert not (out / "rankings-2025-11-17_2025-11-23.csv").exists()
    for args, words in [(["--week", "2025-47"], "ISO week"), (["--since", "2025-11-17"], "go together"),
                        (["--format", "pdf"], "choose from")]:
        bad = CliRunner().invoke(main, ["--db", db_url, "report", *args, "--out", str(out)])
        assert bad.exit_code != 0 and words in bad.output and "Traceback" not in bad.output


def test_case_commands_record_actor_and_reason(world, db_url):
    with world.session() as s:
        case_id = world.open_case(s, bj(2025, 11, 17, 10)).id
    run = CliRunner()
    res = run.invoke(main, ["--db", db_url, "case", "close", str(case_id), "--actor", "王科员", "--reason", "已电话回访"])
    assert res.exit_code == 0, res.output
    assert f"case {case_id}: closed by 王科员" in res.output
    again = run.invoke(main, ["--db", db_url, "case", "close", str(case_id), "--actor", "王科员", "--reason", "x"])
    assert again.exit_code != 0 and "already closed" in again.output and "Traceback" not in again.output
    missing = run.invoke(main, ["--db", db_url, "case", "reopen", str(case_id), "--actor", "王科员"])
    assert missing.exit_code != 0 and "--reason" in missing.output
    res = run.invoke(main, ["--db", db_url, "case", "reopen", str(case_id), "--actor", "王科员", "--reason", "未修好"])
    assert res.exit_code == 0, res.output
    res = run.invoke(main, ["--db", db_url, "case", "reassign", str(case_id), "银川教育", "--actor", "赵主任",
                            "--reason", "职责调整"])
    assert res.exit_code == 0, res.output
    shown = run.invoke(main, ["--db", db_url, "case", "show", str(case_id), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["account_uid"] == "2002" and data["status"] == "open"
    office = [(e["type"], e["actor"], e["reason"]) for e in data["events"] if e["actor"] != "system"]
    assert office == [("closed", "王科员", "已电话回访"), ("reopened", "王科员", "未修好"), ("reassigned", "赵主任", "职责调整")]
    text = run.invoke(main, ["--db", db_url, "case", "show", str(case_id)])
    assert text.exit_code == 0 and "reassigned" in text.output and "职责调整" in text.output
    nope = run.invoke(main, ["--db", db_url, "case", "show", "999"])
    assert nope.exit_code != 0 and "no case 999" in nope.output
    with world.session() as s:
        stored = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.type == "reassigned")).one()
        assert stored.detail["to"] == "2002"
        assert s.get(Case, case_id).account_uid == "2002"
