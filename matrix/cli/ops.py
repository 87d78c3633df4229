"""Operations commands: `wzmon status` (healthz for cron and monitoring) and `wzmon db copy`.

`wzmon status` exit codes: 0 healthy; 1 stalled (no successful poll within --stale-minutes, or
never polled); 2 blocked (Weibo refuses requests, cooling down); 3 login required (renew the
cookie); 4 the database cannot be read; 5 some open case has a deadline the working calendar cannot
count (时限待定); 6 a route of Weibo (m.weibo.cn, weibo.com/ajax, s.weibo.com search) has been closed longer
than `ROUTE_ALERT_MINUTES` while collection goes on through the other. A cron line or a monitoring check needs
nothing else. Besides the exit code it warns
from 60 days before the officially known holiday calendar ends.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta

import click
from sqlalchemy import func, select

from matrix.storage.db import DatabaseError, open_db, safe_url, session_scope
from matrix.storage.models import (
    CrawlerHealth,
    PollCursor,
    PollerProcess,
    PollLease,
    SiteBudget,
)
from matrix.storage.parsewarnings import latest_parse_warnings, parse_warning_counts
from matrix.storage.route_health import ROUTE_ALERT_MINUTES, closed_routes
from matrix.timeutil import as_utc, iso_local, utcnow

OK, STALLED, BLOCKED, LOGIN, NO_DB, CALENDAR, ROUTE_CLOSED = 0, 1, 2, 3, 4, 5, 6
SITE_STATES = ("blocked", "login_required")


def _ago(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "never"
    minutes = (now - at).total_seconds() / 60
    if minutes < 0:
        return "just now"
    if minutes < 120:
        return f"{minutes:.0f} min ago"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h ago"
    return f"{minutes / 1440:.1f} days ago"


def poller_health(engine, now: datetime | None = None, stale_minutes: float = 15.0,  # noqa: ANN001
                  heartbeat_minutes: float = 10.0, route_minutes: float = ROUTE_ALERT_MINUTES) -> dict:
    """The poller's state from poll_cursors, crawler_health, pollers and site_budgets, with a verdict.

    Returns {"status": ok|stalled|blocked|login_required, "exit_code", "reason", "last_success",
    "sources", "failing_sources", "pollers": [...], "leases_held", "site_pause_until", ...}.
    """
    now = as_utc(now) or utcnow()
    with session_scope(engine) as s:
        last_success = as_utc(s.scalar(select(func.max(PollCursor.last_polled_at)).where(PollCursor.last_error == "")))
        sources = s.scalar(select(func.count()).select_from(PollCursor)) or 0
        failing = s.scalar(select(func.count()).select_from(PollCursor).where(PollCursor.consecutive_errors > 0)) or 0
        items = s.scalar(select(func.coalesce(func.sum(PollCursor.items_total), 0))) or 0
        site = s.execute(select(CrawlerHealth).where(CrawlerHealth.state.in_(SITE_STATES))
                         .order_by(CrawlerHealth.at.desc(), CrawlerHealth.id.desc()).limit(1)).scalar_one_or_none()
        recovered_at = None
        if site is not None:
            recovered_at = as_utc(s.scalar(select(func.max(CrawlerHealth.at)).where(
                CrawlerHealth.state == "ok", CrawlerHealth.source_key == "", CrawlerHealth.at >= site.at)))
        pollers = [{"poller_id": p.poller_id, "host": p.host, "pid": p.pid, "state": p.state,
                    "heartbeat_at": as_utc(p.heartbeat_at), "passes": p.passes, "requests": p.requests_total,
                    "items": p.items_total, "last_error": p.last_error}
                   for p in s.scalars(select(PollerProcess).order_by(PollerProcess.poller_id))]
        leases = s.scalar(select(func.count()).select_from(PollLease).where(
            PollLease.owner != "", PollLease.expires_at > now)) or 0
        pause = max([b.paused_until for b in s.scalars(select(SiteBudget))], default=0.0)
        warned = parse_warning_counts(s)
        latest = latest_parse_warnings(s, limit=3)
        routes = closed_routes(s, now, route_minutes)
    for p in pollers:
        p["alive"] = p["state"] == "running" and p["heartbeat_at"] is not None and \
            now - p["heartbeat_at"] <= timedelta(minutes=heartbeat_minutes)
    out = {
        "checked_at": now, "last_success": last_success, "sources": sources, "failing_sources": failing,
        "items_total": int(items), "stale_minutes": stale_minutes, "pollers": pollers,
        "pollers_alive": sum(1 for p in pollers if p["alive"]), "leases_held": leases,
        "site_pause_until": datetime.fromtimestamp(pause, tz=now.tzinfo) if pause and pause > now.timestamp() else None,
        "site_event": None, "closed_routes": routes,
        "parse_warnings": {"total": sum(warned.values()), "sources": sum(1 for n in warned.values() if n),
                           "latest": [{"at": as_utc(at), "source_key": key, "warning": w} for at, key, w, _ in latest]},
    }
    site_open = site is not None and recovered_at is None and (last_success is None or as_utc(site.at) >= last_success)
    if site is not None:
        out["site_event"] = {"state": site.state, "at": as_utc(site.at), "message": site.message,
                             "cooldown_until": as_utc(site.cooldown_until), "open": site_open}
    stalled = last_success is None or now - last_success > timedelta(minutes=stale_minutes)
    if site_open and site.state == "login_required":
        out.update(status="login_required", exit_code=LOGIN,
                   reason=f"Weibo asks for a login or captcha since {iso_local(site.at)}: renew the cookie "
                          "(WZMON_WEIBO_COOKIE_FILE) and restart the pollers")
    elif site_open:
        until = as_utc(site.cooldown_until)
        out.update(status="blocked", exit_code=BLOCKED,
                   reason=f"Weibo refused requests at {iso_local(site.at)} (HTTP {site.http_status or '?'}); pollers "
                          f"are cooling down{' until ' + iso_local(until) if until else ''}")
    elif stalled:
        out.update(status="stalled", exit_code=STALLED,
                   reason=("no poll has succeeded yet" if last_success is None else
                           f"no successful poll for {_ago(last_success, now)} (limit {stale_minutes:g} min)")
                   + ("" if out["pollers_alive"] or not pollers else "; no poller has sent a heartbeat lately"))
    elif routes:
        out.update(status="route_closed", exit_code=ROUTE_CLOSED,
                   reason="; ".join(f"route {r['route']} closed since {iso_local(r['since'])}: {r['message']}"
                                    for r in routes)[:1000])
    else:
        out.update(status="ok", exit_code=OK, reason=f"last successful poll {_ago(last_success, now)}")
    return out


def calendar_health(engine, policy, now: datetime) -> dict:  # noqa: ANN001
    """Open cases whose deadlines rest on a provisional calendar year or could not be counted at all (时限待定),
    and the warning before the official calendar runs out."""
    from matrix.rules.notices import calendar_outlook
    from matrix.storage.models import Case
    from matrix.storage.rollup import ACTIVE_STATUSES

    with session_scope(engine) as s:
        active = Case.status.in_(ACTIVE_STATUSES)
        pending = s.scalar(select(func.count()).select_from(Case).where(active, Case.pending_dues.is_not(None))) or 0
        provisional = s.scalar(select(func.count()).select_from(Case).where(active, Case.provisional_dues != "")) or 0
        example = s.scalar(select(Case.pending_dues).where(active, Case.pending_dues.is_not(None)).limit(1))
    out = {"pending_cases": pending, "provisional_cases": provisional, **calendar_outlook(policy, now)}
    if pending:
        why = next(iter(json.loads(example).values()), "") if example else ""
        out["reason"] = f"{pending} open case(s) have a deadline the calendar cannot count (时限待定): {why}"
    return out


def _jsonable(value):  # noqa: ANN001, ANN202
    if isinstance(value, datetime):
        return iso_local(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


@click.command("status")
@click.option("--stale-minutes", type=float, default=15, show_default=True, envvar="WZMON_STALE_MINUTES",
              help="Stalled when no poll succeeded for this long (env WZMON_STALE_MINUTES).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--now", "now_text", metavar="TIME", help="Judge as of this time (default: now).")
@click.option("--policy", "policy_path", metavar="FILE", envvar="WZMON_POLICY",
              help="Policy TOML whose calendar is checked (env WZMON_POLICY).")
@click.pass_context
def status_cmd(ctx: click.Context, stale_minutes: float, fmt: str, now_text: str | None,
               policy_path: str | None) -> None:
    """Is the poller healthy? Exit 0 ok, 1 stalled, 2 blocked, 3 login required, 4 no database,
    5 deadlines the calendar cannot count (时限待定), 6 a route of Weibo closed for an hour or more.

    \b
    Example:
      wzmon status --format json
    """
    from matrix.cli.options import load_policy_or_fail, parse_when

    policy = load_policy_or_fail(None if not ctx.params.get("policy_path") else ctx.params["policy_path"])
    try:
        engine = open_db(ctx.obj["db"])
        now = parse_when(now_text)
        report = poller_health(engine, now, stale_minutes)
        report["calendar"] = calendar_health(engine, policy, now)
    except DatabaseError as exc:
        if fmt == "json":
            click.echo(json.dumps({"status": "no_database", "exit_code": NO_DB, "reason": str(exc)}, ensure_ascii=False))
        else:
            click.echo(f"wzmon status: NO DATABASE — {exc}", err=True)
        sys.exit(NO_DB)
    cal = report["calendar"]
    if cal.get("reason"):
        if report["exit_code"] == OK:
            report.update(status="calendar", exit_code=CALENDAR, reason=cal["reason"])
        else:
            report["reason"] += f"; also {cal['reason']}"
    if fmt == "json":
        click.echo(json.dumps(_jsonable(report), ensure_ascii=False))
    else:
        now = report["checked_at"]
        click.echo(f"wzmon status: {report['status'].upper()} — {report['reason']}")
        click.echo(f"  database      {safe_url(ctx.obj['db'])}")
        click.echo(f"  last success  {iso_local(report['last_success']) or 'never'} ({_ago(report['last_success'], now)})")
        click.echo(f"  sources       {report['sources']} ({report['failing_sources']} failing), "
                   f"{report['items_total']} items, {report['leases_held']} leased now")
        if report["site_pause_until"]:
            click.echo(f"  budget        paused until {iso_local(report['site_pause_until'])}")
        pw = report["parse_warnings"]
        click.echo(f"  unreadable    {pw['total']} item(s) on {pw['sources']} source(s) could not be parsed "
                   "(the rest of their pages was kept)")
        for w in pw["latest"]:
            click.echo(f"    {iso_local(w['at'])} {w['source_key']}: {w['warning'][:200]}")
        click.echo(f"  calendar      official to {cal['last_official_year']}-12-31; {cal['provisional_cases']} open "
                   f"case(s) with provisional deadlines, {cal['pending_cases']} with 时限待定")
        if cal["warning"]:
            click.echo(f"  WARNING: {cal['warning']}")
        for p in report["pollers"]:
            click.echo(f"  poller {p['poller_id']:<14} {'alive' if p['alive'] else p['state'] if p['state'] != 'running' else 'silent'}"
                       f", heartbeat {_ago(p['heartbeat_at'], now)}, {p['passes']} passes, {p['requests']} requests"
                       + (f", last error: {p['last_error'][:120]}" if p["last_error"] else ""))
    sys.exit(report["exit_code"])


@click.command("copy")
@click.option("--from", "src", required=True, metavar="URL", help="Source database (e.g. sqlite:///wzmon.db).")
@click.option("--to", "dst", required=True, metavar="URL", help="Target database (e.g. postgresql+psycopg://...).")
@click.option("--force", is_flag=True, help="Delete the target's rows first if it is not empty.")
@click.option("--batch", type=int, default=2000, show_default=True, help="Rows per insert.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
def db_copy_cmd(src: str, dst: str, force: bool, batch: int, progress: bool | None) -> None:
    """Copy every table of one wzmon database into another (a pilot's SQLite into PostgreSQL).

    \b
    Example:
      wzmon db copy --from sqlite:///wzmon.db --to postgresql+psycopg://wzmon@db/wzmon
    """
    from matrix.storage.db import resolve_url
    from matrix.storage.dbcopy import CopyError, copy_database

    src, dst = resolve_url(src), resolve_url(dst)
    show = sys.stderr.isatty() if progress is None else progress
    bars: dict = {}

    def on_progress(table: str, done: int, total: int) -> None:
        if not show:
            return
        from tqdm import tqdm

        bar = bars.get(table)
        if bar is None:
            for other in bars.values():
                other.close()
            bar = bars[table] = tqdm(total=total, desc=f"{table:<16}", unit="row", file=sys.stderr, leave=True)
        bar.n = done
        bar.refresh()

    try:
        res = copy_database(src, dst, force=force, batch=batch, progress=on_progress)
    except CopyError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        for bar in bars.values():
            bar.close()
    for name, (a, b) in res.tables.items():
        click.echo(f"  {name:<18} {a:>10} -> {b:<10} {'ok' if a == b else 'MISMATCH'}")
    click.echo(f"Copied {res.rows} rows from {safe_url(src)} to {safe_url(dst)}; row counts verified"
               + (f"; {len(res.sequences)} sequences reset" if res.sequences else ""))


def _attach_db_copy() -> None:
    """`copy` joins the existing `wzmon db` group (matrix.cli.core)."""
    from matrix.cli.core import db_group

    if "copy" not in db_group.commands:
        db_group.add_command(db_copy_cmd)


_attach_db_copy()

from matrix.cli.cookies import cookies_cmd  # noqa: E402 - its own module, listed with the operations commands

COMMANDS: list[click.Command] = [status_cmd, cookies_cmd]
