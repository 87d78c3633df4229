"""`wzmon calendar show YEAR` and `wzmon calendar import notice.txt`: the working calendar an office can read and
complete itself when the State Council publishes next year's holidays.

The importing office pastes the notice as published; wzmon shows the days it read, asks to confirm, keeps them in
the versioned calendar file beside the policy, and re-judges every open case whose deadlines move, recording
each change on the case (as `wzmon recompute` does).
"""
from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import click

from matrix.cli.options import load_policy_or_fail, policy_option
from matrix.timeutil import utcnow

_WEEKDAYS = "一二三四五六日"


@click.group("calendar")
def calendar_group() -> None:
    """The working calendar behind every deadline: rest days, make-up working days, and where each comes from.

    \b
    Example:
      wzmon calendar show 2027
    """


@calendar_group.command("show")
@click.argument("year", type=click.IntRange(1970, 2100))
@policy_option
@click.option("--all-days", is_flag=True, help="Also list ordinary weekends and working days.")
def show_cmd(year: int, policy_path: str | None, all_days: bool) -> None:
    """Every rest day and make-up working day of YEAR, with its source (installed data / office file / provisional).

    \b
    Example:
      wzmon calendar show 2027
    """
    from matrix.rules.workcal import CalendarError

    cal = load_policy_or_fail(policy_path).calendar
    day = date(year, 1, 1)
    rows = []
    try:
        while day.year == year:
            working, name, source = cal.day_source(day)
            unusual = working == (day.weekday() >= 5)  # a working weekend day or a weekday off
            if all_days or unusual or (name and not working):
                rows.append((day, working, name, source))
            day += timedelta(days=1)
    except CalendarError as exc:
        raise click.ClickException(str(exc)) from None
    state = ("provisional" if cal.is_provisional_year(year) else "official")
    workdays = sum(1 for k in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)
                   if cal.is_workday(date(year, 1, 1) + timedelta(days=k)))
    click.echo(f"{year}: {state} calendar, {workdays} working days")
    for d, working, name, source in rows:
        click.echo(f"  {d}  周{_WEEKDAYS[d.weekday()]}  {'上班' if working else '放假'}  {name or '-':<8} {source}")
    if state == "provisional":
        click.echo(f"  (no 调休 make-up days are known for {year}; import its notice: wzmon calendar import notice.txt)")


@calendar_group.command("import")
@click.argument("notice_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--year", type=click.IntRange(2000, 2099), help="The notice's year, when its title does not say.")
@click.option("--yes", is_flag=True, help="Store without asking (for scripts).")
@policy_option
@click.option("--calendar-file", type=click.Path(dir_okay=False, path_type=Path), envvar="WZMON_CALENDAR",
              help="Where the imported notices are kept (default: calendar.toml beside the policy file; env WZMON_CALENDAR).")
@click.pass_context
def import_cmd(ctx: click.Context, notice_file: Path, year: int | None, yes: bool, policy_path: str | None,
               calendar_file: Path | None) -> None:
    """Read a State Council holiday notice (国务院办公厅关于YYYY年部分节假日安排的通知) as published, store its days
    in the calendar file and re-judge the open cases whose deadlines change.

    \b
    Example:
      wzmon calendar import notice-2027.txt --yes
    """
    from matrix.rules.notices import (
        CalendarFile,
        NoticeError,
        calendar_file_path,
        parse_notice,
    )
    from matrix.rules.policy import PolicyError, load_policy

    try:
        text = notice_file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise click.ClickException(f"{notice_file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{notice_file}: cannot be read as UTF-8 text ({exc.__class__.__name__})") from None
    try:
        notice = parse_notice(text, year=year, source=str(notice_file))
    except NoticeError as exc:
        raise click.ClickException(f"{exc}; nothing was written") from None
    target = calendar_file or calendar_file_path(policy_path)
    try:
        book = CalendarFile.load(target)
    except NoticeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{notice.title} ({notice_file}):")
    for d in sorted(notice.days()):
        working = d in notice.workdays
        label = notice.workdays[d] if working else notice.holidays[d]
        click.echo(f"  {d}  周{_WEEKDAYS[d.weekday()]}  {'上班' if working else '放假'}  {label}")
    click.echo(f"{len(notice.holidays)} rest days, {len(notice.workdays)} make-up working days in {notice.year}")
    if notice.year in book.notices:
        click.echo(f"(replaces the {notice.year} notice imported {book.imported_at.get(notice.year) or 'earlier'})")
    if not yes:
        if not sys.stdin.isatty():
            raise click.ClickException("not confirmed: run it again with --yes to store these days")
        click.confirm(f"Store these days in {target}?", abort=True)
    new_book = book.with_notice(notice, utcnow())
    try:  # the policy must accept the new days (no contradiction with its own [calendar] days) before writing
        new_book_path = target.with_name(target.name + ".check")
        new_book.path = new_book_path
        new_book.save()
        policy = load_policy(policy_path, calendar_file=new_book_path)
    except PolicyError as exc:
        raise click.ClickException(f"{exc}; nothing was written") from None
    finally:
        new_book_path.unlink(missing_ok=True)
    new_book.path = target
    new_book.save()
    click.echo(f"Stored in {target} (version {new_book.version}).")
    _rejudge(ctx, policy, f"calendar: {notice.title} imported ({target.name} v{new_book.version})")


def _rejudge(ctx: click.Context, policy, reason: str) -> None:  # noqa: ANN001 - Policy
    """Re-judge open cases under the new calendar, recording each change; no database yet is fine."""
    from matrix.casework.cases import recompute
    from matrix.storage.db import DatabaseError, open_db, session_scope

    try:
        engine = open_db(ctx.obj["db"])
    except DatabaseError as exc:
        click.echo(f"No cases re-judged ({exc}).")
        return
    with session_scope(engine) as s:
        res = recompute(s, policy, utcnow(), reason=reason)
    click.echo(f"Re-judged {res.cases} open cases: {res.changed} changed, each change recorded on its case.")


COMMANDS = [calendar_group]
