"""`wzmon report` (the weekly 通报) and `wzmon case ...` (office actions on one case, with an audit trail)."""
from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import click
from sqlalchemy import select

from matrix.casework import actions
from matrix.cli.output import cell, write_table
from matrix.reading.report import (
    FORMATS,
    ReportError,
    build_report,
    last_full_week,
    render_markdown,
    span_period,
    week_period,
    write_report,
)
from matrix.storage.db import open_db, session_scope
from matrix.storage.models import Account, Case, CaseEvent
from matrix.timeutil import SHANGHAI, iso_local, utcnow

POLICY_HELP = "Policy file (TOML) to judge by; env WZMON_POLICY; default: the shipped policy."


def _policy(path: str | None) -> Any:
    from matrix.rules.policy import PolicyError, load_policy

    try:
        return load_policy(path)
    except (PolicyError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


def _engine(ctx: click.Context):  # noqa: ANN202
    return open_db((ctx.obj or {}).get("db"))


def _when(text: str | None, what: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.ClickException(f"{what} {text!r} is not a date and time like 2026-11-23T09:00") from None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


# ----------------------------------------------------------------------------------------- report


@click.group("report", invoke_without_command=True)
@click.option("--week", metavar="YYYY-Www", help="ISO week (Monday to Sunday, Beijing time), e.g. 2026-W47.")
@click.option("--since", metavar="DATE", help="Start date (YYYY-MM-DD, or a date and time), Beijing time.")
@click.option("--until", metavar="DATE", help="End date, included when a bare date (YYYY-MM-DD).")
@click.option("--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write the files into.")
@click.option("--format", "formats", default="md,csv", show_default=True, help="Comma-separated: md, csv.")
@click.option("--department", help="Only accounts of this department.")
@click.option("--as-of", "as_of", metavar="DATETIME",
              help="Count lateness of unanswered cases up to this time (default: now), for a reproducible report.")
@click.option("--policy", "policy_path", envvar="WZMON_POLICY", help=POLICY_HELP)
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the Markdown instead of writing files.")
@click.pass_context
def report_cmd(ctx: click.Context, week: str | None, since: str | None, until: str | None, out_dir: str,
               formats: str, department: str | None, as_of: str | None, policy_path: str | None,
               to_stdout: bool) -> None:
    """Write the 通报 for a week or a period: Markdown (to publish) and CSV (the ranking numbers).

    Without --week or --since/--until: the last full week. `wzmon report inspect` writes the monthly
    inspection of the member accounts instead.

    \b
    Example:
      wzmon report --week 2026-W47 --out reports/
    """
    if ctx.invoked_subcommand is not None:
        return
    if week and (since or until):
        raise click.ClickException("give either --week or --since/--until, not both")
    if bool(since) != bool(until):
        raise click.ClickException("--since and --until go together (e.g. --since 2026-11-16 --until 2026-11-22)")
    fmts = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise click.ClickException(f"--format {formats!r}: choose from {', '.join(FORMATS)} (comma-separated)")
    now = _when(as_of, "--as-of") or utcnow()
    try:
        period = week_period(week) if week else span_period(since, until) if since else last_full_week(now)
    except ReportError as exc:
        raise click.ClickException(str(exc)) from exc
    policy = _policy(policy_path)
    engine = _engine(ctx)
    with session_scope(engine) as session:
        data = build_report(session, period, now=now, policy=policy, department=department)
    if to_stdout:
        click.echo(render_markdown(data, period))
        return
    try:
        paths = write_report(data, period, Path(out_dir), fmts)
    except OSError as exc:
        raise click.ClickException(f"cannot write the report into {out_dir}: {exc.strerror or exc}") from exc
    t = data.total
    click.echo(f"{period.title}: {t.cases} cases, {len(data.ranks)} accounts, {t.overdue_count} late")
    for p in paths:
        click.echo(str(p))


@report_cmd.command("inspect")
@click.option("--month", metavar="YYYY-MM", help="The month to inspect, Beijing time (default: the current month).")
@click.option("--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write inspection-<month>.md and .csv into.")
@click.option("--as-of", "as_of", metavar="DATETIME",
              help="Judge as of this time (default: now); a month not over yet counts up to it.")
@click.option("--account", "accounts", multiple=True, metavar="NAME",
              help="Only this member account (screen name or uid; repeat for more).")
@click.option("--policy", "policy_path", envvar="WZMON_POLICY", help=POLICY_HELP)
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the Markdown instead of writing files.")
@click.pass_context
def report_inspect_cmd(ctx: click.Context, month: str | None, out_dir: str, as_of: str | None,
                       accounts: tuple[str, ...], policy_path: str | None, to_stdout: bool) -> None:
    """Inspect the member accounts the way the national 政务新媒体 check does (国办秘函〔2019〕19号).

    Per member account: days since its last own post and whether it went without an update for longer
    than the policy's limit (two weeks: 单项否决) in the month, requests in the comments under its posts
    answered on time, and dead links in its posts. Accounts failing the silence rule are named first.
    Writes a 通报-style Markdown and a CSV.

    \b
    Example:
      wzmon report inspect --month 2026-11 --out reports/
    """
    from matrix.casework.inspection import InspectionError, inspect_month
    from matrix.casework.inspection import render_markdown as inspect_md
    from matrix.casework.inspection import write_report as write_inspection

    now = _when(as_of, "--as-of") or utcnow()
    policy = _policy(policy_path)
    engine = _engine(ctx)
    with session_scope(engine) as session:
        scope = None
        if accounts:
            roster = {a.screen_name: a.uid for a in session.scalars(select(Account))}
            uids = set(roster.values())
            scope = []
            for name in accounts:
                uid = roster.get(name) or (name if name in uids else None)
                if uid is None:
                    raise click.ClickException(f"no account {name} in the roster (see `wzmon accounts list`)")
                scope.append(uid)
        try:
            rep = inspect_month(session, policy, month or f"{now.astimezone(SHANGHAI):%Y-%m}", now, scope)
        except InspectionError as exc:
            raise click.ClickException(str(exc)) from exc
    if to_stdout:
        click.echo(inspect_md(rep))
        return
    try:
        paths = write_inspection(rep, Path(out_dir))
    except OSError as exc:
        raise click.ClickException(f"cannot write the report into {out_dir}: {exc.strerror or exc}") from exc
    vetoed = [r for r in rep.rows if r.verdict == "单项否决"]
    click.echo(f"{rep.month}: {len(rep.rows)} member accounts, {len(vetoed)} without an update for over "
               f"{rep.breach_limit} (单项否决)" + (": " + ", ".join("@" + r.screen_name for r in vetoed) if vetoed else ""))
    for r in rep.rows:
        days = "—" if r.days_since_last_post is None else f"{r.days_since_last_post:g}"
        click.echo(f"  {r.verdict:<4}  @{r.screen_name}  {days} days since its last post; comment cases "
                   f"{r.comment_on_time}/{r.comment_cases} on time; dead links {r.dead_links}")
    for p in paths:
        click.echo(str(p))


# ----------------------------------------------------------------------------------------- case


@click.group("case")
def case_group() -> None:
    """Look at one case and take office actions on it (each recorded with actor and reason)."""


CASE_FIELDS = [
    "id", "post_id", "status", "account_uid", "kind", "citizen_name", "opened_at", "forwarded_at",
    "first_response_at", "closed_at", "forward_due", "first_response_due", "next_reply_due", "closure_due",
    "extension_working_days", "first_response_working_minutes", "overdue", "overdue_level", "merged_into",
    "sentiment_label", "policy_version",
]
def _default_actor() -> str:
    """The person at the terminal, so a typed action is never refused for a missing name."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a bare container)
        return "office"


EVENT_FIELDS = ["at", "type", "actor", "account_uid", "working_minutes", "reason", "detail"]


@case_group.command("show")
@click.argument("case_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def show_cmd(ctx: click.Context, case_id: int, fmt: str) -> None:
    """Show a case and its full event log (the audit trail).

    \b
    Example:
      wzmon case show 5
    """
    with session_scope(_engine(ctx)) as session:
        case = session.get(Case, case_id)
        if case is None:
            raise click.ClickException(f"there is no case {case_id}")
        account = session.get(Account, case.account_uid) if case.account_uid else None
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.at, CaseEvent.id)
        ).all()
        data = {f: getattr(case, f) for f in CASE_FIELDS}
        data["account"] = account.screen_name if account else ""
        pending = actions.pending_extension(session, case)
        rows = [{f: getattr(e, f) for f in EVENT_FIELDS} for e in events]
    if fmt == "json":
        out = {k: (iso_local(v) if isinstance(v, datetime) else v) for k, v in data.items()}
        out["pending_extension"] = bool(pending)
        out["events"] = [{k: (iso_local(v) if isinstance(v, datetime) else v) for k, v in r.items()} for r in rows]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    for key in ["id", "status", "account", *CASE_FIELDS[3:]]:
        value = data.get(key)
        if value in (None, "") and key not in ("status", "overdue"):
            continue
        click.echo(f"{key:32} {cell(value)}")
    if pending is not None:
        click.echo(f"{'pending_extension':32} {pending.detail.get('days')} working days, asked {iso_local(pending.at)}")
    click.echo("")
    write_table(rows, EVENT_FIELDS, out=sys.stdout, max_width=50)


def _run_action(ctx: click.Context, policy_path: str | None, do: Callable[..., CaseEvent], *args: Any,
                **kwargs: Any) -> None:
    policy = _policy(policy_path)
    engine = _engine(ctx)
    try:
        with session_scope(engine) as session:
            event = do(session, *args, policy=policy, now=utcnow(), **kwargs)
            case = session.get(Case, event.case_id)
            line = (f"case {case.id}: {event.type} by {event.actor} at {iso_local(event.at)}; "
                    f"now {case.status}" + (f", {case.overdue_level}" if case.overdue_level else ""))
            if event.type == "extension_granted":
                line += f"; closure due {iso_local(case.closure_due)}"
    except actions.ActionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(line)


def _who_why(f: Callable) -> Callable:
    f = click.option("--policy", "policy_path", envvar="WZMON_POLICY", help=POLICY_HELP)(f)
    f = click.option("--reason", required=True, help="Why (kept in the audit log).")(f)
    f = click.option("--actor", default=_default_actor, envvar="WZMON_ACTOR", show_default="your login name",
                     help="Who acts, recorded on the case (env WZMON_ACTOR).")(f)
    return f


@case_group.command("close")
@click.argument("case_id", type=int)
@_who_why
@click.pass_context
def close_cmd(ctx: click.Context, case_id: int, actor: str, reason: str, policy_path: str | None) -> None:
    """Confirm a case closed (办结).

    \b
    Example:
      wzmon case close 5 --reason 已电话联系市民并处理
    """
    _run_action(ctx, policy_path, actions.close, case_id, actor=actor, reason=reason)


@case_group.command("reopen")
@click.argument("case_id", type=int)
@_who_why
@click.pass_context
def reopen_cmd(ctx: click.Context, case_id: int, actor: str, reason: str, policy_path: str | None) -> None:
    """Reopen a closed or 无效诉求 case.

    \b
    Example:
      wzmon case reopen 5 --reason 市民反映未解决
    """
    _run_action(ctx, policy_path, actions.reopen, case_id, actor=actor, reason=reason)


@case_group.command("reassign")
@click.argument("case_id", type=int)
@click.argument("to_account")
@_who_why
@click.pass_context
def reassign_cmd(ctx: click.Context, case_id: int, to_account: str, actor: str, reason: str,
                 policy_path: str | None) -> None:
    """Give a case to another account (uid or screen name).

    \b
    Example:
      wzmon case reassign 5 银川公安 --reason 属地管理
    """
    _run_action(ctx, policy_path, actions.reassign, case_id, to_account, actor=actor, reason=reason)


@case_group.command("merge")
@click.argument("case_id", type=int)
@click.argument("into_id", type=int)
@_who_why
@click.pass_context
def merge_cmd(ctx: click.Context, case_id: int, into_id: int, actor: str, reason: str,
              policy_path: str | None) -> None:
    """Merge duplicate CASE_ID into INTO_ID.

    \b
    Example:
      wzmon case merge 7 5 --reason 同一诉求
    """
    _run_action(ctx, policy_path, actions.merge, case_id, into_id, actor=actor, reason=reason)


@case_group.command("invalid")
@click.argument("case_id", type=int)
@_who_why
@click.pass_context
def invalid_cmd(ctx: click.Context, case_id: int, actor: str, reason: str, policy_path: str | None) -> None:
    """Mark a case 无效诉求 (not a real request).

    \b
    Example:
      wzmon case invalid 5 --reason 广告，非诉求
    """
    _run_action(ctx, policy_path, actions.mark_invalid, case_id, actor=actor, reason=reason)


@case_group.command("extend")
@click.argument("case_id", type=int)
@click.option("--days", type=int, required=True, help="Working days asked for.")
@_who_why
@click.pass_context
def extend_cmd(ctx: click.Context, case_id: int, days: int, actor: str, reason: str,
               policy_path: str | None) -> None:
    """Record an extension request (before the policy's cut-off on the deadline day).

    \b
    Example:
      wzmon case extend 5 --days 3 --reason 需现场核查
    """
    _run_action(ctx, policy_path, actions.request_extension, case_id, days, actor=actor, reason=reason)


@case_group.command("grant-extension")
@click.argument("case_id", type=int)
@click.option("--days", type=int, default=None, help="Working days to grant (default: as requested).")
@_who_why
@click.pass_context
def grant_cmd(ctx: click.Context, case_id: int, days: int | None, actor: str, reason: str,
              policy_path: str | None) -> None:
    """Grant the waiting extension request (or grant --days directly).

    \b
    Example:
      wzmon case grant-extension 5 --reason 同意延期
    """
    _run_action(ctx, policy_path, actions.grant_extension, case_id, days, actor=actor, reason=reason)


@case_group.command("refuse-extension")
@click.argument("case_id", type=int)
@_who_why
@click.pass_context
def refuse_cmd(ctx: click.Context, case_id: int, actor: str, reason: str, policy_path: str | None) -> None:
    """Refuse the waiting extension request.

    \b
    Example:
      wzmon case refuse-extension 5 --reason 理由不充分
    """
    _run_action(ctx, policy_path, actions.refuse_extension, case_id, actor=actor, reason=reason)


@case_group.command("rework")
@click.argument("case_id", type=int)
@_who_why
@click.pass_context
def rework_cmd(ctx: click.Context, case_id: int, actor: str, reason: str, policy_path: str | None) -> None:
    """Send a case back for rework (发回重办): open again, clocks restart.

    \b
    Example:
      wzmon case rework 5 --reason 答复不合格
    """
    _run_action(ctx, policy_path, actions.send_back_for_rework, case_id, actor=actor, reason=reason)


COMMANDS: list[click.Command] = [report_cmd, case_group]
