"""The working calendar past the last published year: the statutory rule, the State Council's notices read in their own
words, one clock never blocking another, and `wzmon calendar` typed as an office would type it.

Expectations come from the published sources: the 2025 and 2026 notices (fixtures in notices/, with their source in
each file's header) and chinesecalendar's official days for those years; the statutory rule from 《全国年节及纪念日放假办法》
as revised in 2024.
"""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import chinese_calendar
import pytest

from matrix.rules.holidays import statutory_holidays
from matrix.rules.notices import CalendarFile, NoticeError, parse_notice
from matrix.rules.workcal import WorkingCalendar

NOTICES = Path(__file__).parent / "notices"
SH = timezone(timedelta(hours=8))
WZMON = [sys.executable, "-m", "matrix.cli.root"]


def wzmon(*args: str, env: dict | None = None, cwd: Path | None = None, stdin: str | None = None):
    return subprocess.run([*WZMON, *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          cwd=cwd, input=stdin, timeout=300)


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_derived_statutory_day_is_an_official_rest_day(year):
    derived = statutory_holidays(year)
    assert len(derived) >= 12  # 元旦1 + 春节4 + 清明1 + 劳动2 + 端午1 + 中秋1 + 国庆3 (fewer only if two coincide)
    for day, name in derived.items():
        assert not chinese_calendar.is_workday(day), f"{day} ({name}) is a working day in the official {year} calendar"


def test_statutory_days_of_2027_from_the_lunar_calendar():
    # 2027: 春节 (正月初一) falls on 6 February, 端午 on 9 June, 中秋 on 15 September; 清明 on 5 April.
    days = statutory_holidays(2027)
    assert [d for d, n in days.items() if n == "春节"] == [date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7),
                                                          date(2027, 2, 8)]
    assert days[date(2027, 4, 5)] == "清明节" and days[date(2027, 6, 9)] == "端午节"
    assert days[date(2027, 9, 15)] == "中秋节"
    assert [d for d, n in days.items() if n == "国庆节"] == [date(2027, 10, d) for d in (1, 2, 3)]
    with pytest.raises(ValueError):
        statutory_holidays(2024)  # the rule was different before its 2024 revision


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_published_notice_gives_exactly_the_official_days(year):
    notice = parse_notice((NOTICES / f"{year}.txt").read_text(encoding="utf-8"), source=f"{year}.txt")
    assert notice.year == year and f"{year}年部分节假日安排" in notice.title
    assert set(notice.holidays) == {d for d in chinese_calendar.holidays if d.year == year}
    assert set(notice.workdays) == {d for d in chinese_calendar.workdays if d.year == year}


def test_a_notice_in_its_own_words_as_the_issue_quotes_it():
    text = ("国务院办公厅关于2026年部分节假日安排的通知\n"
            "二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。"
            "2月14日（周六）、2月28日（周六）上班。\n")
    n = parse_notice(text)
    assert sorted(n.holidays) == [date(2026, 2, 15) + timedelta(days=k) for k in range(9)]
    assert sorted(n.workdays) == [date(2026, 2, 14), date(2026, 2, 28)]


@pytest.mark.parametrize("line, needle", [
    ("二、春节：2月15日（农历腊月二十八、周一）至23日（农历正月初七、周一）放假调休，共9天。", "is a 周日, the notice says 周一"),
    ("二、春节：2月15日（周日）至23日（周一）放假调休，共8天。", "is 9 days, the notice says 共8天"),
    ("二、春节：放假安排另行通知。", "no holiday found in this line"),
    ("四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月8日（周五）上班。", "not a weekend day"),
])
def test_a_notice_that_does_not_parse_names_the_line(line, needle):
    text = f"国务院办公厅关于2026年部分节假日安排的通知\n一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。\n{line}\n"
    with pytest.raises(NoticeError) as info:
        parse_notice(text, source="n.txt")
    assert "n.txt:3" in str(info.value) and needle in str(info.value)


def test_one_clock_never_blocks_another():
    """Near the end of the lunar tables the closure clock (15 working days) runs past 2099 and cannot be counted; the
    first-response clock (2 working days) still is, and the case is judged on it."""
    from matrix.casework.cases import clock_lus, level_order
    from matrix.rules.policy import load_policy

    policy = load_policy()
    cal = policy.calendar
    limits = policy.limits("投诉")
    opened = cal.lus(datetime(2099, 12, 14, 9, 0, tzinfo=SH))
    now = cal.lus(datetime(2099, 12, 21, 9, 0, tzinfo=SH))
    order = level_order(policy)
    r = clock_lus(policy, limits, "open", opened, opened, opened, None, None, None, 0, now, order)
    first, closure, pending = r[1], r[3], r[9]
    assert first is not None and cal.from_lus(first) < datetime(2099, 12, 31, tzinfo=SH)
    assert closure is None and "closure" in pending and "2100" in pending["closure"]
    # judged on the clock that could be counted: a day of working time late, then some
    assert order.rank(r[4]) >= order.rank("overdue") and r[5] == "first_response"


def test_office_days_that_contradict_an_imported_notice_name_both(tmp_path):
    from matrix.rules.policy import PolicyError, load_policy

    notice = parse_notice((NOTICES / "2026.txt").read_text(encoding="utf-8"), source="2026.txt")
    book = CalendarFile(tmp_path / "calendar.toml").with_notice(notice, datetime(2026, 12, 1, tzinfo=SH))
    book.save()
    policy = tmp_path / "policy.toml"
    policy.write_text(Path(load_policy().source).read_text(encoding="utf-8").replace(
        "extra_workdays = []", "extra_workdays = [2026-02-16]", 1), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(policy, calendar_file=tmp_path / "calendar.toml")
    msg = str(info.value)
    assert "2026-02-16" in msg and str(policy) in msg and "2026年部分节假日安排" in msg


def test_a_broken_calendar_file_is_a_clear_error(tmp_path):
    from matrix.rules.policy import PolicyError, load_policy

    (tmp_path / "calendar.toml").write_text("version = [\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(None, calendar_file=tmp_path / "calendar.toml")


def test_imported_days_replace_the_provisional_ones_and_keep_versions(tmp_path):
    path = tmp_path / "calendar.toml"
    notice = parse_notice((NOTICES / "2027-test.txt").read_text(encoding="utf-8"), source="2027-test.txt")
    book = CalendarFile(path).with_notice(notice, datetime(2026, 12, 20, tzinfo=SH))
    book.save()
    book.with_notice(notice, datetime(2026, 12, 21, tzinfo=SH)).save()
    again = CalendarFile.load(path)
    assert again.version == 2 and (tmp_path / "calendar.v1.toml").exists()
    days, sources, names = again.days()
    cal = WorkingCalendar(notice_days=days, notice_sources=sources, notice_names=names)
    assert cal.covers(2027) and not cal.is_provisional_year(2027) and cal.is_provisional_year(2028)
    assert cal.is_workday(date(2027, 2, 20))  # a make-up Saturday of the notice
    assert not cal.is_workday(date(2027, 2, 12))  # 正月初七, off by the notice, not by the statutory rule
    assert cal.last_official_year() == 2027


# ------------------------------------------------------------------------------------ commands, typed as a person


def test_calendar_show_names_each_days_source():
    out = wzmon("calendar", "show", "2026")
    assert out.returncode == 0, out.stderr
    assert "2026-02-14  周六  上班" in out.stdout and "installed data: chinesecalendar" in out.stdout
    prov = wzmon("calendar", "show", "2027")
    assert prov.returncode == 0 and "2027: provisional calendar" in prov.stdout
    assert "2027-02-05  周五  放假  春节" in prov.stdout and "provisional" in prov.stdout
    bad = wzmon("calendar", "show", "2300")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_calendar_import_of_a_bad_notice_writes_nothing(tmp_path):
    notice = tmp_path / "n.txt"
    notice.write_text("国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：1月1日（周四）放假1天。\n", encoding="utf-8")
    out = wzmon("calendar", "import", str(notice), "--yes", env={"WZMON_CALENDAR": str(tmp_path / "cal.toml")})
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "n.txt:2" in out.stderr and "nothing was written" in out.stderr
    assert not (tmp_path / "cal.toml").exists()
    missing = wzmon("calendar", "import", str(tmp_path / "nope.txt"), "--yes")
    assert missing.returncode == 1 and "no such file" in missing.stderr
    unconfirmed = wzmon("calendar", "import", str(NOTICES / "2027-test.txt"),
                        env={"WZMON_CALENDAR": str(tmp_path / "cal.toml")}, stdin="")
    assert unconfirmed.returncode == 1 and "--yes" in unconfirmed.stderr and not (tmp_path / "cal.toml").exists()


def test_bad_now_is_one_line():
    out = wzmon("--now", "next tuesday", "calendar", "show", "2026")
    assert out.returncode == 2 and "is not a date-time" in out.stderr and "Traceback" not in out.stderr


# ------------------------------------------------------------- the demo scenario across the year boundary, end to end


def _active_cases(db_url: str) -> list:
    from sqlalchemy import select

    from matrix.storage.db import dispose_engines, open_db, session_scope
    from matrix.storage.models import Case
    from matrix.storage.rollup import ACTIVE_STATUSES

    with session_scope(open_db(db_url)) as s:
        rows = list(s.scalars(select(Case).where(Case.status.in_(ACTIVE_STATUSES))))
        s.expunge_all()
    dispose_engines()
    return rows


def _recorded_calendar_changes(db_url: str) -> int:
    from sqlalchemy import func, select

    from matrix.storage.db import dispose_engines, open_db, session_scope
    from matrix.storage.models import CaseEvent

    with session_scope(open_db(db_url)) as s:
        n = s.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.type == "recomputed", CaseEvent.reason.like("calendar:%")))
    dispose_engines()
    return n


@pytest.mark.slow
@pytest.mark.parametrize("now", ["2026-12-22T10:00", "2027-02-10T10:00", "2027-03-01T10:00", "2027-10-08T10:00"])
def test_demo_across_the_year_boundary_spring_festival_and_golden_week(db_url, tmp_path, now):
    """With the clock set past the last published year (and across Spring Festival and Golden Week of a year nobody
    published), the demo leaves no request past its deadline off the overdue list and no open case without its
    deadlines; the deadlines counted across the unpublished year are provisional until its notice is imported."""
    if now != "2026-12-22T10:00" and not db_url.startswith("sqlite"):
        pytest.skip("the later clocks run on SQLite; PostgreSQL takes the year boundary and the import")
    env = {"WZMON_NOW": now, "WZMON_CALENDAR": str(tmp_path / "calendar.toml")}
    out = wzmon("--db", db_url, "demo", "--no-dashboard", "--play-seconds", "3", env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("The scenario left"))
    left = int(line.split("left ")[1].split()[0])
    held = int(line.split("holds ")[1].split()[0])
    assert left > 0 and held == left and "MISSING" not in line, line
    active = _active_cases(db_url)
    assert active
    for c in active:
        assert c.pending_dues is None, (c.id, c.pending_dues)
        assert c.closure_due is not None, c.id
        if c.status == "awaiting_forward":
            assert c.forward_due is not None, c.id
        if c.status == "open" and c.response_clock_at is not None:
            assert c.first_response_due is not None, c.id
    provisional = [c for c in active if c.provisional_dues]
    assert provisional, "a deadline counted across an unpublished year must be marked provisional"
    for c in active:
        due_local = c.closure_due.replace(tzinfo=timezone.utc).astimezone(SH)
        if due_local.year >= 2027:
            assert "closure" in c.provisional_dues.split(","), (c.id, c.closure_due)
    if now != "2026-12-22T10:00":
        return
    exported = wzmon("--db", db_url, "export", "cases", "--format", "csv", "--out", str(tmp_path / "export"), env=env,
                     cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    import csv

    rows = list(csv.DictReader((tmp_path / "export" / "cases.csv").open(encoding="utf-8-sig")))
    flagged = {r["id"] for r in rows if "closure" in r["provisional_dues"].split(",")}
    assert {str(c.id) for c in provisional if "closure" in c.provisional_dues} <= flagged
    imported = wzmon("--db", db_url, "calendar", "import", str(NOTICES / "2027-test.txt"), "--yes", env=env,
                     cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "Re-judged" in imported.stdout
    after = _active_cases(db_url)
    assert not [c.id for c in after if c.provisional_dues], "2027 is known now: nothing provisional is left"
    assert _recorded_calendar_changes(db_url) >= len(provisional)
    status = wzmon("--db", db_url, "status", env=env, cwd=tmp_path)
    assert "official to 2027-12-31" in status.stdout and "0 open case(s) with provisional deadlines" in status.stdout


def test_a_running_process_takes_up_an_imported_notice(tmp_path):
    from matrix.rules.policy import Limit, load_policy

    path = tmp_path / "calendar.toml"
    policy = load_policy(None, calendar_file=path)
    assert policy.calendar.is_provisional_year(2027) and not policy.refresh_calendar()
    start = datetime(2027, 2, 11, 9, 0, tzinfo=SH)  # a Thursday: a working day by the statutory rule alone
    assert policy.deadline(start, Limit(1, "days", "working")) == datetime(2027, 2, 12, 17, 30, tzinfo=SH)
    notice = parse_notice((NOTICES / "2027-test.txt").read_text(encoding="utf-8"), source="2027-test.txt")
    CalendarFile(path).with_notice(notice, datetime(2026, 12, 20, tzinfo=SH)).save()
    assert policy.refresh_calendar() and not policy.calendar.is_provisional_year(2027)
    # the notice gives 2月5日–12日 off: received on Monday 15 February, due the next working day
    assert policy.deadline(start, Limit(1, "days", "working")) == datetime(2027, 2, 16, 17, 30, tzinfo=SH)
    assert not policy.refresh_calendar()


def test_status_names_deadlines_the_calendar_cannot_count(db_url, tmp_path):
    """`wzmon status` exits 5 with the reason when an open case has a 时限待定 deadline, and warns before the official
    calendar ends."""
    from sqlalchemy import update

    from matrix.storage.db import dispose_engines, open_db, session_scope
    from matrix.storage.models import Case

    env = {"WZMON_NOW": "2026-12-22T10:00", "WZMON_CALENDAR": str(tmp_path / "calendar.toml")}
    assert wzmon("--db", db_url, "demo", "--no-dashboard", "--play-seconds", "2", env=env,
                 cwd=tmp_path).returncode == 0
    ok = wzmon("--db", db_url, "status", env=env, cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "WARNING: the official holiday calendar ends on 2026-12-31" in ok.stdout
    assert "wzmon calendar import" in ok.stdout
    victim = _active_cases(db_url)[0].id
    with session_scope(open_db(db_url)) as s:  # as the clock leaves a deadline it cannot count (see the test above)
        s.execute(update(Case).where(Case.id == victim).values(
            pending_dues='{"closure": "no working calendar for 2100"}'))
    dispose_engines()
    bad = wzmon("--db", db_url, "status", "--format", "json", env=env, cwd=tmp_path)
    assert bad.returncode == 5, bad.stdout + bad.stderr
    assert "时限待定" in bad.stdout and "no working calendar for 2100" in bad.stdout
    cases = wzmon("--db", db_url, "cases", "--format", "csv", env=env, cwd=tmp_path)
    assert "时限待定 closure: no working calendar for 2100" in cases.stdout


@pytest.mark.parametrize("now, says", [
    (datetime(2026, 10, 31, 9, 0, tzinfo=SH), None),  # 61 days before the end: nothing to say yet
    (datetime(2026, 12, 22, 10, 0, tzinfo=SH), "ends on 2026-12-31 (9 day(s) from now)"),
    (datetime(2026, 12, 31, 23, 30, tzinfo=SH), "ends today (2026-12-31)"),
    (datetime(2027, 1, 4, 9, 30, tzinfo=SH), "ended on 2026-12-31 (4 day(s) ago)"),  # not "0 days from now"
])
def test_the_calendar_warning_reads_right_on_both_sides_of_the_year_boundary(tmp_path, now, says):
    from matrix.rules.notices import calendar_outlook
    from matrix.rules.policy import load_policy

    outlook = calendar_outlook(load_policy(None, calendar_file=tmp_path / "calendar.toml"), now)
    assert outlook["last_official_year"] == 2026
    if says is None:
        assert outlook["warning"] == ""
        return
    assert f"the official holiday calendar {says}: deadlines in 2027 are provisional" in outlook["warning"]
    assert "`wzmon calendar import notice-2027.txt`" in outlook["warning"]
