"""`wzmon demo`: a simulated week of the 问政 matrix, played through the real pipeline, then the board.

It starts the project's fake Weibo server (crawler.fake_weibo) on 127.0.0.1 with a generated matrix,
polls it over HTTP with the real crawler while simulated time runs (the last day in under a minute),
scores and tracks cases in the database, runs the SLA clock, and opens the Streamlit board.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import click
from sqlalchemy import func, select

from crawler.budget import RequestBudget
from crawler.fake_weibo.clock import SimClock
from crawler.fake_weibo.doors import ROUTES
from crawler.fake_weibo.scenario import Scenario
from crawler.fake_weibo.server import FakeWeiboError, serve_in_thread
from matrix.casework.roster import import_roster, read_roster
from matrix.cli.output import write_rows
from matrix.storage.db import dispose_engines, open_db, safe_url, session_scope
from matrix.storage.models import Account, Case, Post
from matrix.timeutil import SHANGHAI, local, utcnow


def _prepare_database(url: str, coordinator_uid: str) -> None:
    """Use URL for the demo; a database that holds anything but an earlier demo is left alone."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///")).expanduser()
        if path.exists() and path.stat().st_size > 0:
            engine = open_db(url, create=True)
            with session_scope(engine) as s:
                uids = set(s.scalars(select(Account.uid)))
                posts = s.scalar(select(func.count()).select_from(Post))
            dispose_engines()
            if posts and coordinator_uid not in uids:
                raise click.ClickException(
                    f"{path} already holds data that is not from the demo; run the demo on another file: "
                    "wzmon --db sqlite:///demo.db demo")
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        return
    engine = open_db(url, create=True)
    with session_scope(engine) as s:
        if s.scalar(select(func.count()).select_from(Post)):
            raise click.ClickException(f"{safe_url(url)} is not empty; the demo needs an empty database")


def play(url: str, scenario: Scenario, *, play_seconds: float, policy, echo=click.echo,  # noqa: ANN001
         weibo_port: int = 0, refuse: tuple[str, ...] = ()):  # noqa: ANN201 - FakeWeibo
    """Serve SCENARIO (with the REFUSE routes closed), import its roster, and poll it until its end; returns the
    running server."""
    from matrix.polling.pollstore import build_poller

    live_from = max(scenario.end - timedelta(days=1), scenario.window_start)
    clock = SimClock.fixed(live_from)
    try:
        # s.weibo.com answers as it does for an office whose login works (the fallback of m.weibo.cn search)
        server = serve_in_thread(scenario, port=weibo_port, clock=clock, comment_dates="full", refuse=refuse,
                                 search_html_needs_login=False)
    except FakeWeiboError as exc:
        raise click.ClickException(str(exc)) from exc
    echo(f"Fake Weibo serving {len(scenario.accounts)} accounts at {server.base_url} "
         f"(simulated time from {local(scenario.start):%Y-%m-%d %H:%M})"
         + (f"; refusing {', '.join(server.doors.closed())}" if refuse else ""))
    engine = open_db(url, create=True)
    roster_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"wzmon-demo-roster-{os.getpid()}.csv"
    roster_file.write_text(scenario.roster_csv(), encoding="utf-8")
    with session_scope(engine) as s:
        res = import_roster(s, read_roster(roster_file), source="demo roster", actor="demo")
    roster_file.unlink(missing_ok=True)
    echo(f"Roster: {res.created} accounts imported into {safe_url(url)}")
    client = {"base_url": server.base_url, "search_base_url": server.base_url,
              "budget": RequestBudget(per_minute=60_000, burst=50)}
    poller = build_poller(engine, policy, client, now=clock.now)
    t0 = time.monotonic()
    report = poller.poll_once(max_requests=100_000)  # catch up on the history before the live day
    echo(f"History collected: {report.requests} requests, {report.new_items} items "
         f"({time.monotonic() - t0:.1f} s)")
    speed = (scenario.end - live_from).total_seconds() / max(play_seconds, 1.0)
    clock.manual = False
    clock.speed = speed
    clock.until = scenario.end  # at hundreds of simulated minutes a second, a poll must not see past the end
    clock.set(live_from)
    echo(f"Playing {local(live_from):%m-%d %H:%M} → {local(scenario.end):%m-%d %H:%M} at {speed:.0f}× ...")
    last = 0.0
    while True:
        now = clock.now()
        if now >= scenario.end:
            break
        poller.poll_once(max_requests=100_000)
        if time.monotonic() - last > 5:
            last = time.monotonic()
            echo("  " + _progress(engine, now))
    clock.manual = True
    clock.set(scenario.end)
    poller.poll_once(max_requests=100_000)
    poller.tick()
    echo("  " + _progress(engine, scenario.end))
    return server


def _progress(engine, now: datetime) -> str:  # noqa: ANN001
    with session_scope(engine) as s:
        posts = s.scalar(select(func.count()).select_from(Post))
        cases = s.scalar(select(func.count()).select_from(Case))
        overdue = s.scalar(select(func.count()).select_from(Case).where(Case.overdue.is_(True)))
    return f"simulated {local(now):%m-%d %H:%M}: {posts} items, {cases} cases, {overdue} overdue"


def unanswered_past_due(scenario: Scenario, cases: dict[str, Case], policy) -> set[str]:  # noqa: ANN001
    """Post ids the scenario left unanswered (or unforwarded) past the policy's deadline at its end.

    Computed from the scenario's own record of what happened, not from the database's judgement.
    """
    category = {a.uid: a.category for a in scenario.accounts}
    out = set()
    for row in scenario.truth_at(scenario.end):
        case = cases.get(row["post_id"])
        if case is None or row["intent"] in ("own", "thanks") or row["responded_at"]:
            continue
        limits = policy.limits(case.kind, category.get(case.account_uid, ""))
        if row["intent"] in ("multi", "via") and not row["forwarded_at"]:
            limit, start = limits.forward, row["created_at"]
        else:
            limit, start = limits.first_response, row["forwarded_at"] or row["created_at"]
        if limit is not None and scenario.end > policy.deadline(datetime.fromisoformat(start), limit):
            out.add(row["post_id"])
    return out


def summarize(engine, scenario: Scenario, policy, echo=click.echo) -> int:  # noqa: ANN001
    """Print what the demo found next to what the scenario did; returns the number of overdue cases."""
    names = {a.uid: a.screen_name for a in scenario.accounts}
    with session_scope(engine) as s:
        cases = list(s.scalars(select(Case).order_by(Case.overdue_since)))
        by_status = Counter(c.status for c in cases)
        overdue = [c for c in cases if c.overdue]
        expected = unanswered_past_due(scenario, {c.post_id: c for c in cases}, policy)
    truth = Counter(r["intent"] for r in scenario.truth if r["intent"] != "own")
    shown = {c.post_id for c in overdue if c.origin != "comment"}  # comment cases: see summarize_inspection
    echo("")
    echo(f"Scenario: {sum(truth.values())} citizen threads " + ", ".join(f"{k} {v}" for k, v in sorted(truth.items())))
    echo(f"Cases: {len(cases)} (" + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) + f"); overdue now: {len(overdue)}")
    echo(f"The scenario left {len(expected)} requests unanswered past their deadline; the overdue list holds "
         f"{len(expected & shown)} of them" + (f" (MISSING: {sorted(expected - shown)})" if expected - shown else "")
         + f", plus {len(shown - expected)} overdue on closure or a follow-up.")
    rows = [{"case": c.id, "account": names.get(c.account_uid, c.account_uid), "kind": c.kind, "status": c.status,
             "level": c.overdue_level, "since": c.overdue_since} for c in overdue[:15]]
    if rows:
        write_rows(rows, ["case", "account", "kind", "status", "level", "since"], "table")
    summarize_inspection(engine, scenario, policy, echo)
    return len(overdue)


def summarize_inspection(engine, scenario: Scenario, policy, echo=click.echo) -> None:  # noqa: ANN001
    """What the inspection found (matrix.casework.inspection) next to what the scenario did: the silent members, and the
    citizens' requests in the comments under members' own posts."""
    from matrix.casework.inspection import silence_now

    with session_scope(engine) as s:
        silence = silence_now(s, policy, scenario.end)
        comment_cases = {c.post_id: c for c in s.scalars(select(Case).where(Case.origin == "comment"))}
    breached = [x for x in silence if x.level == "breach"]
    echo("")
    meant = ", ".join(f"@{x['screen_name']} (last post {local(datetime.fromisoformat(x['last_post_at'])):%m-%d})"
                      for x in scenario.silent) or "none"
    echo(f"Silence: the scenario silenced {meant}; wzmon finds {len(breached)} member(s) past "
         f"{policy.inspection.silence_breach}: " + (", ".join(f"@{x.screen_name} {x.days_silent:g} days"
                                                             for x in breached) or "none"))
    truth = scenario.comment_truth
    opened = [r for r in truth if r["comment_id"] in comment_cases]
    answered = [r for r in opened if comment_cases[r["comment_id"]].first_response_at is not None]
    late = sum(1 for c in comment_cases.values() if c.overdue)
    echo(f"Comment requests: {len(truth)} in the comments under members' posts "
         f"({', '.join(f'{k} {v}' for k, v in sorted(Counter(r['intent'] for r in truth).items()))}); "
         f"{len(opened)} opened as cases, {len(answered)} answered, {late} overdue now"
         + (f"; {len(comment_cases) - len(opened)} other comment case(s)" if len(comment_cases) > len(opened) else ""))


def start_dashboard(url: str, port: int, host: str) -> subprocess.Popen:
    """The board in its own process (`wzmon dashboard`), so matrix never imports dashboard."""
    env = {**os.environ, "WZMON_DB": url}
    cmd = [sys.executable, "-m", "matrix.cli.root", "--db", url, "dashboard", "--port", str(port), "--host", host]
    return subprocess.Popen(cmd, env=env)


@click.command("demo")
@click.option("--no-dashboard", is_flag=True, help="Play the scenario into the database and exit.")
@click.option("--port", default=8501, show_default=True, help="Port of the board.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the board listens on.")
@click.option("--weibo-port", default=0, help="Port of the fake Weibo server (default: any free port).")
@click.option("--seed", default=7, show_default=True, help="Scenario seed (same seed, same week).")
@click.option("--accounts", default=20, show_default=True, type=click.IntRange(1, 2000),
              help="Member accounts in the simulated matrix.")
@click.option("--days", default=7.0, show_default=True, type=click.FloatRange(0.05, 60),
              help="Days of traffic in the window.")
@click.option("--play-seconds", default=45.0, show_default=True, envvar="WZMON_DEMO_PLAY_SECONDS",
              help="Real seconds the live last day takes (env WZMON_DEMO_PLAY_SECONDS).")
@click.option("--policy", "policy_path", metavar="FILE", envvar="WZMON_POLICY", help="Policy TOML.")
@click.option("--refuse", "refuse", multiple=True, type=click.Choice(ROUTES),
              help="Play with this route of Weibo closed (mobile, pc, search, visitor); repeatable.")
@click.pass_context
def demo_cmd(ctx: click.Context, no_dashboard: bool, port: int, host: str, weibo_port: int, seed: int, accounts: int,
             days: float, play_seconds: float, policy_path: str | None, refuse: tuple[str, ...] = ()) -> None:
    """Play a simulated week of the matrix through the real pipeline, then open the board.

    \b
    Example:
      wzmon demo --no-dashboard
    """
    from matrix.cli.options import load_policy_or_fail

    url = ctx.obj["db"]
    policy = load_policy_or_fail(policy_path)
    end = utcnow().astimezone(SHANGHAI).replace(second=0, microsecond=0)
    # one member falls silent past the two weeks of 国办秘函〔2019〕19号, and citizens ask in the comments under
    # half of the members' own posts (see matrix.casework.inspection)
    scenario = Scenario(seed=seed, accounts=accounts, days=days, end=end, history_days=2, silent_members=1,
                        comment_requests=0.5)
    coordinator = next(a.uid for a in scenario.accounts if a.role == "coordinator")
    _prepare_database(url, coordinator)
    server = play(url, scenario, play_seconds=play_seconds, policy=policy, weibo_port=weibo_port, refuse=refuse)
    try:
        summarize(open_db(url), scenario, policy)
        if no_dashboard:
            return
        proc = start_dashboard(url, port, host)
        click.echo(f"\nBoard: http://{host}:{port}  (Ctrl-C stops the board and the fake server)")
        try:
            proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=10)
    finally:
        server.stop()
