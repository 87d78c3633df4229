"""`wzmon alerts ...`: deliver the outbox, test an account's contacts, send digests, list alerts."""
from __future__ import annotations

import threading

import click
from sqlalchemy import or_, select, update

from matrix.alerts.config import AlertsConfig, load_config
from matrix.alerts.errors import AlertsError
from matrix.alerts.outbox import configure, enqueue_digests, enqueue_test
from matrix.alerts.sender import Sender
from matrix.storage.db import open_db, session_scope
from matrix.storage.models import Account, Alert
from matrix.timeutil import local, utcnow


def _config() -> AlertsConfig:
    try:
        cfg = load_config()
    except AlertsError as exc:
        raise click.ClickException(str(exc)) from None
    configure(cfg)
    return cfg


def find_account(session, name: str) -> Account:
    """The account called NAME (uid, screen name with or without @, or full name); ClickException otherwise."""
    wanted = name.strip().lstrip("@")
    rows = session.scalars(
        select(Account).where(or_(Account.uid == wanted, Account.screen_name == wanted, Account.name == wanted))
    ).all()
    if not rows:
        like = session.scalars(select(Account).where(Account.screen_name.contains(wanted)).limit(5)).all()
        hint = f" (did you mean {', '.join('@' + a.screen_name for a in like)}?)" if like else ""
        raise click.ClickException(f"no account {name!r} in the roster{hint}")
    if len(rows) > 1:
        raise click.ClickException(f"{name!r} matches {len(rows)} accounts ({', '.join(a.uid for a in rows)}): give the uid")
    return rows[0]


@click.group("alerts")
def alerts() -> None:
    """Overdue alerts: deliver the outbox to member accounts and the office."""


@alerts.command("send")
@click.option("--loop", is_flag=True, help="Keep running, a pass every --interval seconds.")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between passes with --loop.")
@click.pass_context
def send_cmd(ctx: click.Context, loop: bool, interval: float) -> None:
    """Deliver pending alerts (retries, quiet hours, rate limits and daily digests included).

    \b
    Example:
      wzmon alerts send --loop
    """
    cfg = _config()
    engine = open_db(ctx.obj["db"])
    sender = Sender(engine, cfg)
    if not loop:
        report = sender.run_once()
        click.echo(report.summary())
        for alert_id, status, error in report.outcomes:
            if error:
                click.echo(f"  alert {alert_id}: {status}: {error}")
        return
    click.echo(f"sending alerts every {interval:g}s (Ctrl-C to stop)")
    stop = threading.Event()
    try:
        while not stop.is_set():
            report = sender.run_once()
            if report.busy or report.held:
                click.echo(f"{local(utcnow()):%H:%M:%S} {report.summary()}")
            stop.wait(interval)
    except KeyboardInterrupt:
        click.echo("stopped")


@alerts.command("test")
@click.option("--account", "account_name", required=True, metavar="NAME", help="uid, @screen name or name.")
@click.pass_context
def test_cmd(ctx: click.Context, account_name: str) -> None:
    """Send a test message to every contact of one account and say what failed, per contact.

    \b
    Example:
      wzmon alerts test --account 银川公安
    """
    cfg = _config()
    engine = open_db(ctx.obj["db"])
    now = utcnow()
    with session_scope(engine) as session:
        account = find_account(session, account_name)
        label = f"@{account.screen_name}"
        if not account.contacts:
            raise click.ClickException(f"{label} has no contacts: fill the contacts column of the roster and import it")
        ids = enqueue_test(session, account, now, cfg)
    report = Sender(engine, cfg).run_once(now, ids=ids, ignore_window=True, digests=False)
    outcome = {alert_id: (status, error) for alert_id, status, error in report.outcomes}
    failures = 0
    with session_scope(engine) as session:
        for alert_id in ids:
            alert = session.get(Alert, alert_id)
            status, error = outcome.get(alert_id, ("", ""))
            where = f"{alert.channel} {alert.address}"
            if status == "sent":
                click.echo(f"ok      {where}")
                continue
            failures += 1
            if not status:
                error = "not sent now: the robot's per-minute limit is used up, try again in a minute"
            click.echo(f"FAILED  {where}: {error}")
        # a test is one shot: nothing left to be retried later, when nobody is watching
        session.execute(
            update(Alert).where(Alert.id.in_(ids), Alert.status.in_(("pending", "failed")))
            .values(status="dead", next_attempt_at=None)
        )
    if failures:
        raise click.ClickException(f"{failures} of {len(ids)} contacts of {label} failed")
    click.echo(f"all {len(ids)} contacts of {label} reached")


@alerts.command("digest")
@click.option("--account", "account_name", metavar="NAME", help="Only this account's digest.")
@click.option("--office", is_flag=True, help="Only the office digest.")
@click.pass_context
def digest_cmd(ctx: click.Context, account_name: str | None, office: bool) -> None:
    """Queue and send today's digest now (each digest goes out once per day, automatic or not).

    \b
    Example:
      wzmon alerts digest --office
    """
    cfg = _config()
    engine = open_db(ctx.obj["db"])
    now = utcnow()
    with session_scope(engine) as session:
        uids: list[str] | None = None
        if account_name:
            uids = [find_account(session, account_name).uid]
        elif office:
            uids = []
        if (office or not account_name) and not cfg.office_contacts:
            click.echo("no office contacts configured (office_contacts / WZMON_ALERTS_OFFICE): no office digest")
        queued = enqueue_digests(session, now, cfg, account_uids=uids, office=office or not account_name, anytime=True)
        day = local(now).strftime("%Y-%m-%d")
        ids = list(session.scalars(
            select(Alert.id).where(Alert.level == "digest", Alert.dedupe_key.like(f"digest:{day}:%"),
                                   Alert.status.in_(("pending", "failed")))
        ))
    if not ids:
        click.echo(f"{queued} digests queued; nothing to send (no open cases, no contacts, or already sent today)")
        return
    report = Sender(engine, cfg).run_once(now, ids=ids, ignore_window=True, digests=False)
    click.echo(f"{queued} digests queued; {report.summary()}")
    for alert_id, status, error in report.outcomes:
        if error:
            click.echo(f"  alert {alert_id}: {status}: {error}")


@alerts.command("list")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed", "dead", "cancelled"]), help="Only this status.")
@click.option("--account", "account_name", metavar="NAME", help="Only this account's alerts.")
@click.option("--limit", default=50, show_default=True)
@click.pass_context
def list_cmd(ctx: click.Context, status: str | None, account_name: str | None, limit: int) -> None:
    """The newest alerts with their delivery state and last error.

    \b
    Example:
      wzmon alerts list --status failed
    """
    engine = open_db(ctx.obj["db"])
    with session_scope(engine) as session:
        q = select(Alert).order_by(Alert.id.desc()).limit(limit)
        if status:
            q = q.where(Alert.status == status)
        if account_name:
            q = q.where(Alert.account_uid == find_account(session, account_name).uid)
        rows = session.scalars(q).all()
        if not rows:
            click.echo("no alerts")
            return
        for a in rows:
            case = f"#{a.case_id}" if a.case_id else "-"
            line = (f"{a.id:>6} {local(a.created_at):%m-%d %H:%M} {a.level:<7} {case:<7} {a.status:<8} "
                    f"x{a.attempts} {a.channel} {a.address}")
            if a.last_error and a.status != "sent":
                line += f"\n         {a.last_error[:200]}"
            click.echo(line)


COMMANDS = [alerts]
