"""Core `wzmon` commands: init, accounts, policy, poll, run, import, cases, recompute, demo."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from sqlalchemy import func, select

from matrix.cli.demo import demo_cmd
from matrix.cli.options import load_policy_or_fail, parse_when, policy_option
from matrix.cli.output import write_rows
from matrix.storage.db import (
    current_revision,
    get_engine,
    open_db,
    safe_url,
    session_scope,
    upgrade,
)
from matrix.timeutil import utcnow

CASE_COLUMNS = (
    "case_id", "post_id", "account_uid", "kind", "status", "opened_at", "forwarded_at", "first_response_at",
    "closed_at", "first_response_due", "closure_due", "first_response_working_minutes", "overdue",
    "overdue_level", "policy_version", "provisional", "pending", "origin",
)


# ------------------------------------------------------------------------------------------------ init
@click.command("init")
@policy_option
@click.pass_context
def init_cmd(ctx: click.Context, policy_path: str | None) -> None:
    """Create the database (or bring its schema up to date).

    \b
    Example:
      wzmon --db sqlite:///wzmon.db init
    """
    from matrix.casework.cases import ensure_policy_version

    url = ctx.obj["db"]
    engine = open_db(url, create=True)
    policy = load_policy_or_fail(policy_path)
    with session_scope(engine) as s:
        ensure_policy_version(s, policy)
    click.echo(f"Database ready: {safe_url(url)} (schema {current_revision(engine)}, policy {policy.version})")


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Migrate the schema to the current version, keeping every row.

    \b
    Example:
      wzmon --db postgresql+psycopg://wzmon@db/wzmon db upgrade
    """
    engine = get_engine(ctx.obj["db"])
    before = None
    try:
        before = current_revision(engine)
    except Exception:  # noqa: BLE001 - a new database has no revision yet
        before = None
    upgrade(engine)
    click.echo(f"Schema {before or '(empty)'} -> {current_revision(engine)} on {safe_url(ctx.obj['db'])}")


# ------------------------------------------------------------------------------------------------ accounts
@click.group("accounts")
def accounts_group() -> None:
    """The roster of matrix accounts."""


@accounts_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--resolve", is_flag=True, help="Look up missing uids from screen names on Weibo.")
@click.option("--actor", default=lambda: os.environ.get("USER", ""), help="Who is importing (kept in history).")
@click.pass_context
def accounts_import(ctx: click.Context, file: str, resolve: bool, actor: str) -> None:
    """Import or update accounts from a CSV or YAML roster FILE.

    Columns: uid, screen_name, name, department, category, role (coordinator|member), contacts,
    active_from, active_to. Every row is checked first; one bad row imports nothing.

    \b
    Example:
      wzmon accounts import roster.csv
    """
    from matrix.casework.roster import RosterError, import_roster, read_roster

    engine = open_db(ctx.obj["db"])
    try:
        rows = read_roster(file)
        resolver = None
        if resolve:
            from crawler.client import WeiboClient

            resolver = WeiboClient(**client_settings()).resolve_screen_name
        with session_scope(engine) as s:
            res = import_roster(s, rows, source=file, actor=actor, resolve=resolver)
    except RosterError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{file}: {res.created} created, {res.updated} updated, {res.unchanged} unchanged")


@accounts_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.pass_context
def accounts_list(ctx: click.Context, fmt: str) -> None:
    """List the roster.

    \b
    Example:
      wzmon accounts list --format csv
    """
    from matrix.storage.models import Account

    engine = open_db(ctx.obj["db"])
    with session_scope(engine) as s:
        rows = [
            {"uid": a.uid, "screen_name": a.screen_name, "name": a.name, "department": a.department,
             "category": a.category, "role": a.role, "contacts": len(a.contacts or [])}
            for a in s.scalars(select(Account).order_by(Account.role, Account.screen_name))
        ]
    write_rows(rows, ["uid", "screen_name", "name", "department", "category", "role", "contacts"], fmt)


# ------------------------------------------------------------------------------------------------ policy
@click.group("policy")
def policy_group() -> None:
    """The management rules (policy file)."""


@policy_group.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
def policy_check(file: str | None) -> None:
    """Validate a policy FILE (default: the shipped one) and print its limits.

    \b
    Example:
      wzmon policy check my-policy.toml
    """
    policy = load_policy_or_fail(file)
    click.echo(f"{file or 'default policy'}: version {policy.version}, sha256 {policy.sha256[:12]}, valid")
    from matrix.rules.policy import KINDS

    rows = []
    for kind in KINDS:
        lim = policy.limits(kind)
        rows.append({"kind": kind, "opens case": kind in policy.open_kinds,
                     **{k: str(getattr(lim, k) or "none") for k in ("forward", "first_response", "next_reply", "closure")}})
    write_rows(rows, ["kind", "opens case", "forward", "first_response", "next_reply", "closure"], "table")
    ins = policy.inspection
    click.echo(f"inspection: warn after {ins.silence_warning} without an own post, breach after {ins.silence_breach} "
               f"({ins.rule}); comment cases {'on' if ins.comment_cases else 'off'} "
               f"({' '.join(ins.comment_kinds)}; comments read for {ins.comment_window}); "
               f"links checked at most every {ins.link_check_interval}")
    for cat, warning, breach in ins.category_silence:
        click.echo(f"  category {cat}: warn after {warning}, breach after {breach}")
    year = utcnow().year
    missing = [y for y in (year, year + 1) if not policy.calendar.covers(y)]
    if missing:
        click.echo(f"warning: the working calendar does not know {', '.join(map(str, missing))}: deadlines that "
                   "fall there cannot be computed until that year's holidays and 调休 days are listed under "
                   "[calendar] extra_holidays / extra_workdays (or chinesecalendar is upgraded)", err=True)


@click.command("recompute")
@policy_option
@click.option("--now", "now_text", metavar="TIME", help="Judge as of this time (default: now).")
@click.pass_context
def recompute_cmd(ctx: click.Context, policy_path: str | None, now_text: str | None) -> None:
    """Re-judge every open case under a (changed) policy; each change is recorded as an event.

    \b
    Example:
      wzmon recompute --policy new.toml
    """
    from matrix.casework.cases import recompute

    engine = open_db(ctx.obj["db"])
    policy = load_policy_or_fail(policy_path)
    try:
        with session_scope(engine) as s:
            res = recompute(s, policy, parse_when(now_text))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Recomputed {res.cases} open cases under policy {res.policy_version}: "
               f"{res.changed} changed ({res.seconds:.2f} s)")


# ------------------------------------------------------------------------------------------------ cases
@click.command("cases")
@click.option("--status", multiple=True, help="Only these statuses (open, responded, closed, awaiting_forward ...).")
@click.option("--overdue", "only_overdue", is_flag=True, help="Only cases overdue now.")
@click.option("--account", multiple=True, help="Only cases of this account (uid or screen name).")
@click.option("--origin", type=click.Choice(["mention", "comment"]),
              help="Only cases opened from posts @-mentioning an account, or from comments under members' own posts.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.option("--limit", type=int, default=None, help="At most this many rows (newest first).")
@click.pass_context
def cases_cmd(ctx: click.Context, status: tuple[str, ...], only_overdue: bool, account: tuple[str, ...],
              origin: str | None, fmt: str, limit: int | None) -> None:
    """List cases with their deadlines and whether they are overdue.

    \b
    Example:
      wzmon cases --overdue --format csv
    """
    from matrix.storage.models import Account, Case

    engine = open_db(ctx.obj["db"])
    with session_scope(engine) as s:
        q = select(Case).order_by(Case.opened_at.desc(), Case.id.desc())
        if status:
            q = q.where(Case.status.in_(status))
        if only_overdue:
            q = q.where(Case.overdue.is_(True))
        if origin:
            q = q.where(Case.origin == origin)
        if account:
            uids = set(s.scalars(select(Account.uid).where(
                Account.uid.in_(account) | Account.screen_name.in_([a.lstrip("@") for a in account]))))
            unknown = [a for a in account if a not in uids and not s.scalar(
                select(func.count()).select_from(Account).where(Account.screen_name == a.lstrip("@")))]
            if unknown:
                raise click.ClickException(f"no account {', '.join(unknown)} in the roster (see `wzmon accounts list`)")
            q = q.where(Case.account_uid.in_(uids))
        if limit:
            q = q.limit(limit)
        rows = [case_row(c) for c in s.scalars(q)]
    if fmt == "table":
        cols = ["case_id", "account_uid", "kind", "origin", "status", "opened_at", "first_response_due", "overdue", "overdue_level",
                "provisional", "pending"]
        write_rows(rows, cols, "table")
        click.echo(f"{len(rows)} case(s)", err=True)
    else:
        write_rows(rows, CASE_COLUMNS, fmt)


def case_row(c) -> dict:  # noqa: ANN001 - Case
    return {
        "case_id": c.id, "post_id": c.post_id, "account_uid": c.account_uid, "kind": c.kind,
        "origin": c.origin or "mention", "status": c.status,
        "opened_at": c.opened_at, "forwarded_at": c.forwarded_at, "first_response_at": c.first_response_at,
        "closed_at": c.closed_at, "first_response_due": c.first_response_due, "closure_due": c.closure_due,
        "first_response_working_minutes": c.first_response_working_minutes, "overdue": bool(c.overdue),
        "overdue_level": c.overdue_level, "policy_version": c.policy_version,
        # deadlines counted on a provisional calendar year, and 时限待定 ones (see README, "year boundary")
        "provisional": (c.provisional_dues or "").replace(",", " "),
        "pending": pending_text(c.pending_dues),
    }


def pending_text(stored: str | None) -> str:
    """'时限待定 closure: <reason>; …' for the deadlines the calendar could not count, '' when none."""
    if not stored:
        return ""
    items = json.loads(stored)
    return "; ".join(f"时限待定 {clock}: {why}" for clock, why in sorted(items.items()))


# ------------------------------------------------------------------------------------------------ crawling
def client_settings(base_url: str | None = None, rpm: float | None = None, cookie_file: str | None = None) -> dict:
    """WeiboClient keyword arguments from options and environment (the cookie is never printed)."""
    from crawler.budget import RequestBudget

    base = base_url or os.environ.get("WZMON_WEIBO_BASE") or None
    settings: dict = {"budget": RequestBudget(per_minute=rpm or float(os.environ.get("WZMON_RPM", "30")), burst=3, jitter=0.2)}
    if base:
        settings["base_url"] = base.rstrip("/")
        settings["search_base_url"] = base.rstrip("/")
    cookie = None
    path = cookie_file or os.environ.get("WZMON_WEIBO_COOKIE_FILE")
    if path:
        try:
            cookie = Path(path).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise click.ClickException(f"cannot read cookie file {path}: {exc.strerror}") from exc
    cookie = cookie or os.environ.get("WZMON_WEIBO_COOKIE") or None
    if os.environ.get("WZMON_WEIBO_COOKIE_DIR") or os.environ.get("WZMON_WEIBO_VISITOR"):
        settings["credentials"] = _credentials(cookie_file, settings.get("base_url"))
    elif cookie:
        settings["cookie"] = cookie
    return settings


def _credentials(cookie_file: str | None, base: str | None):  # noqa: ANN202 - crawler.credentials.Credentials
    """Logged-in pool ($WZMON_WEIBO_COOKIE_DIR, --cookie-file, env) first; visitor cookie when $WZMON_WEIBO_VISITOR
    is set (1: passport.weibo.com, or the fake server's base URL; or a passport URL)."""
    from crawler.client import CookieError
    from crawler.cookiepool import CookiePool
    from crawler.credentials import Credentials
    from crawler.visitor import DEFAULT_PASSPORT_URL, VisitorCookie

    try:
        pool = CookiePool.from_sources([cookie_file] if cookie_file else [])
    except CookieError as exc:
        raise click.ClickException(str(exc)) from None
    flag = os.environ.get("WZMON_WEIBO_VISITOR", "")
    visitor = None
    if flag:
        visitor = VisitorCookie(flag if flag.startswith("http") else (base or DEFAULT_PASSPORT_URL))
    return Credentials(pool if len(pool) else None, visitor)


crawl_options = [
    click.option("--base-url", metavar="URL", help="Weibo base URL (env WZMON_WEIBO_BASE; e.g. the fake server)."),
    click.option("--rpm", type=float, help="Site-wide request budget per minute (env WZMON_RPM, default 30)."),
    click.option("--cookie-file", metavar="FILE", help="File holding the Weibo cookie (env WZMON_WEIBO_COOKIE_FILE "
                 "or WZMON_WEIBO_COOKIE); never logged."),
    policy_option,
]


def with_crawl_options(f):  # noqa: ANN001, ANN201
    for opt in reversed(crawl_options):
        f = opt(f)
    return f


@click.command("poll")
@click.option("--once", is_flag=True, required=True, help="One pass over every source, then exit.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="How to report the pass.")
@with_crawl_options
@click.pass_context
def poll_cmd(ctx: click.Context, once: bool, fmt: str, base_url: str | None, rpm: float | None,
             cookie_file: str | None, policy_path: str | None) -> None:
    """Poll every source once (mentions, timelines, open cases' comments and reposts) and report the pass.

    \b
    Example:
      wzmon poll --once --format json
    """
    import logging

    from matrix.polling.pollstore import build_poller

    if logging.getLogger().getEffectiveLevel() >= logging.WARNING:  # no -v: the report below says it all, once
        logging.getLogger("wzmon.crawler").setLevel(logging.ERROR)
    engine = open_db(ctx.obj["db"])
    settings = client_settings(base_url, rpm, cookie_file)
    poller = build_poller(engine, load_policy_or_fail(policy_path), settings)
    report = poller.poll_once()
    touched = len(getattr(getattr(poller, "poller", poller).store, "cases_touched", ()))
    summary = poll_summary(report, touched, base_url or os.environ.get("WZMON_WEIBO_BASE"))
    if settings.get("credentials") is not None:
        summary["cookies"] = settings["credentials"].report()
        summary["lines"] += ["Cookies (name, account, state, requests):"] + [f"  {ln}" for ln in summary["cookies"]]
    if not summary["sources_polled"] and not summary["sources_failed"]:
        from matrix.storage.models import Account

        with session_scope(engine) as s:
            accounts = s.scalar(select(func.count()).select_from(Account)) or 0
        if accounts:
            summary["lines"] = [f"No source was due: the {accounts} accounts' sources are all cooling down after "
                                "errors (see `wzmon status`)."]
    if fmt == "json":
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        for line in summary["lines"]:
            click.echo(line)
    if summary["unreachable"]:
        raise click.ClickException(summary["unreachable"])
    if report.stopped:
        ctx.exit(2)


_CAUSE_HINT = {
    "DNS": "the host name does not resolve",
    "refused": "nothing answers at that address",
    "timeout": "the site did not answer in time",
    "login wanted": "renew the cookie (WZMON_WEIBO_COOKIE_FILE)",
    "no route": "its other routes are closed for now and the one left (s.weibo.com search, or a member's own "
                "feed) wants a login cookie not in use: add one (WZMON_WEIBO_COOKIE_FILE, see wzmon cookies)",
    "blocked": "Weibo refuses requests for now; the poller cools down",
    "malformed": "an answer the parser does not understand (kept in raw_responses)",
}


def poll_summary(report, cases_touched: int, base: str | None) -> dict:  # noqa: ANN001 - PollReport
    """What one pass did, for a person (lines) and for machines (the rest): sources, pages, new items, cases
    touched, and errors grouped by cause, one line each."""
    groups: dict[str, list[str]] = {}
    for key, cause in report.causes.items():
        groups.setdefault(cause, []).append(key)
    for key in report.errors:
        if key not in report.causes:
            groups.setdefault("other", []).append(key)
    tried = len(report.polled) + len(report.errors)
    lines = [f"Polled {len(report.polled)} of {tried} sources: {report.pages} pages, {report.requests} requests, "
             f"{report.new_items} new items, {cases_touched} cases touched."]
    waiting = getattr(report, "waiting", None) or []
    if not tried and not waiting:
        lines = ["No sources to poll: import a roster first (wzmon accounts import roster.csv)."]
    for cause, keys in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        example = report.errors[keys[0]]
        hint = _CAUSE_HINT.get(cause, "")
        lines.append(f"  {cause}: {len(keys)} source(s), e.g. {keys[0]}: {example[:160]}" + (f" ({hint})" if hint else ""))
    if waiting:
        lines.append(f"  waiting: {len(waiting)} source(s) whose routes are all closed for now, e.g. {waiting[0]} "
                     "(no request sent; `wzmon status` shows the closed routes and what to do)")
    warned = getattr(report, "parse_warnings", None) or {}
    if warned:
        worst = max(warned, key=lambda k: warned[k])
        lines.append(f"  unreadable items: {sum(warned.values())} on {len(warned)} source(s), e.g. {worst}: "
                     f"{warned[worst]} (the rest of their pages was kept; the latest warnings: `wzmon status`)")
    if report.stopped:
        lines.append(f"Stopped early: {'Weibo wants a login' if report.stopped == 'login_required' else 'Weibo refuses requests'}; "
                     "see `wzmon status`.")
    unreachable = ""
    if tried and not report.polled and set(groups) <= {"DNS", "refused", "timeout", "network"}:
        where = base or "https://m.weibo.cn"
        unreachable = (f"Weibo cannot be reached at {where} ({', '.join(sorted(groups))} for all {tried} sources): "
                       "check the network, or set WZMON_WEIBO_BASE to the site to poll")
    return {"sources_polled": len(report.polled), "sources_failed": len(report.errors), "pages": report.pages,
            "requests": report.requests, "new_items": report.new_items, "cases_touched": cases_touched,
            "errors": {cause: {"sources": len(keys), "example": report.errors[keys[0]]} for cause, keys in groups.items()},
            "stopped": report.stopped, "unreachable": unreachable, "parse_warnings": dict(warned),
            "sources_waiting": len(waiting), "lines": lines}


@click.command("run")
@with_crawl_options
@click.option("--tick-minutes", type=float, default=5, show_default=True, help="How often the SLA clock runs.")
@click.option("--poller-id", metavar="NAME", envvar="WZMON_POLLER_ID", help="This poller's name in leases and "
              "`wzmon status` (default host:pid). Run several `wzmon run` side by side: they share sources and budget.")
@click.option("--lease-seconds", type=float, default=120, show_default=True,
              help="A dead poller's sources go to the others after this long.")
@click.option("--interval", "interval_seconds", type=float, default=60, show_default=True, help="Seconds between passes.")
@click.option("--no-leases", is_flag=True, help="Single poller, in-process budget (no lease or budget rows).")
@click.pass_context
def run_cmd(ctx: click.Context, base_url: str | None, rpm: float | None, cookie_file: str | None,
            policy_path: str | None, tick_minutes: float, poller_id: str | None, lease_seconds: float,
            interval_seconds: float, no_leases: bool) -> None:
    """Run the scheduled poller until interrupted.

    \b
    Example:
      wzmon run --rpm 30
    """
    from matrix.polling.pollstore import run_forever

    engine = open_db(ctx.obj["db"])
    run_forever(engine, load_policy_or_fail(policy_path), client_settings(base_url, rpm, cookie_file), tick_minutes,
                interval_seconds, poller_id=poller_id, lease_seconds=lease_seconds, leased=not no_leases)


@click.command("import")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="How to report the summary.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
@click.option("--no-alerts", is_flag=True, help="A historical archive: record the cases' deadline levels but queue "
              "no alert for them (the levels stay recorded, so no later tick alerts them either).")
@policy_option
@click.pass_context
def import_cmd(ctx: click.Context, paths: tuple[str, ...], fmt: str, progress: bool | None, no_alerts: bool,
               policy_path: str | None) -> None:
    """Ingest saved Weibo responses: files, folders (read recursively) and globs, in every shape `wzmon parse` reads.

    Importing the same files again adds nothing. A file that cannot be read is named with its reason and the
    others are kept; the command then exits 1. Cases are judged as of now, and those past their deadlines are
    alerted as the poller would; `--no-alerts` records their levels without alerting (an old archive).

    \b
    Example:
      wzmon import saved/ 'archive/**/*.json'
      wzmon import archive-2025/ --no-alerts
    """
    from matrix.polling.importing import collect_files, import_files

    files, missing = collect_files(paths)
    if not files and missing:
        raise click.ClickException(f"nothing to import: {'; '.join(missing)}")
    engine = open_db(ctx.obj["db"])
    show = sys.stderr.isatty() if progress is None else progress
    summary = import_files(engine, load_policy_or_fail(policy_path), files, progress=show, alerts=not no_alerts)
    summary.failed.extend((m, "") for m in missing)
    if fmt == "json":
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        for path, why in summary.failed:
            click.echo(f"{path}: {why}" if why else path, err=True)
        for warning in summary.warnings:
            click.echo(f"warning: {warning}", err=True)
        click.echo(summary.line())
    if summary.failed:
        ctx.exit(1)


COMMANDS = [init_cmd, db_group, accounts_group, policy_group, poll_cmd, run_cmd, import_cmd, cases_cmd, recompute_cmd,
            demo_cmd]
