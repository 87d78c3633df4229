"""`wzmon fake-weibo`: run the local Weibo-shaped server for the demo or by hand."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import click

from crawler.clock import now_utc

from .clock import CST, SimClock
from .doors import ROUTES
from .faults import RANDOM_KINDS
from .scenario import Scenario
from .server import FakeWeiboError, serve_in_thread

API_PATHS = r"^/(api/|comments/|statuses/|weibo)"


def live_clock(scenario: Scenario, live_days: float = 1.0, speed: float = 1440.0) -> SimClock:
    """A running clock starting `live_days` before the scenario's end: history is already visible,
    the last `live_days` play at `speed` (1440 = a day per real minute)."""
    return SimClock(scenario.end - timedelta(days=live_days), speed)


@click.command("fake-weibo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port (0 = any free port).")
@click.option("--seed", default=1, show_default=True, type=int, help="Scenario seed (same seed, same traffic).")
@click.option("--accounts", default=20, show_default=True, type=click.IntRange(1, 2000), help="Member accounts.")
@click.option("--days", default=7.0, show_default=True, type=click.FloatRange(min=0.01), help="Window length in days.")
@click.option("--history-days", default=7.0, show_default=True, type=click.FloatRange(min=0), help="Older traffic.")
@click.option("--speed", default=1440.0, show_default=True, type=click.FloatRange(min=0.001),
              help="Simulated seconds per real second (1440 = one day per minute).")
@click.option("--live-days", default=1.0, show_default=True, type=click.FloatRange(min=0),
              help="How much of the window plays live; everything older is visible at start.")
@click.option("--end", "end", default=None, metavar="ISO",
              help="When the window ends (default: now, to the minute, +08:00).")
@click.option("--manual", is_flag=True, help="Freeze the clock; move it with POST /__sim/clock.")
@click.option("--fault-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Chance that an API request is refused or broken (432/418/403/captcha/HTML/truncated...).")
@click.option("--refuse", "refuse", multiple=True, type=click.Choice(ROUTES),
              help="Close a route the way Weibo does (mobile: 432, pc: ok -100 login, search: 302 to sign-in, "
                   "visitor: 432); repeatable.")
@click.option("--roster", "roster", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the roster CSV (uid,screen_name,name,department,category,role,contacts) here.")
def fake_weibo_cmd(host: str, port: int, seed: int, accounts: int, days: float, history_days: float, speed: float,
                   live_days: float, end: str | None, manual: bool, fault_rate: float, roster: Path | None,
                   refuse: tuple[str, ...] = ()) -> None:
    """Serve a simulated 问政银川 matrix in Weibo's shapes (m.weibo.cn JSON, s.weibo.com HTML) until Ctrl-C.

    \b
    Example:
      wzmon fake-weibo --port 8765 --roster roster.csv
    """
    if end:
        try:
            end_at = datetime.fromisoformat(end)
        except ValueError as exc:
            raise click.ClickException(f"--end {end!r} is not an ISO date-time like 2024-06-14T17:00+08:00") from exc
        if end_at.tzinfo is None:
            end_at = end_at.replace(tzinfo=CST)
    else:
        end_at = now_utc().astimezone(CST).replace(second=0, microsecond=0)
    scenario = Scenario(seed=seed, accounts=accounts, days=days, history_days=history_days, end=end_at)
    clock = SimClock.fixed(scenario.end) if manual else live_clock(scenario, live_days, speed)
    try:
        server = serve_in_thread(scenario, port=port, clock=clock, host=host, fault_seed=seed,
                                 refuse=refuse)
    except FakeWeiboError as exc:
        raise click.ClickException(str(exc)) from exc
    if fault_rate > 0:
        server.faults.add("random", path=API_PATHS, probability=fault_rate, kinds=RANDOM_KINDS)
    if roster:
        try:
            roster.write_text(scenario.roster_csv(), encoding="utf-8")
        except OSError as exc:
            server.stop()
            raise click.ClickException(f"cannot write roster {roster}: {exc.strerror or exc}") from exc
    s = scenario.summary()
    click.echo(f"fake weibo on {server.base_url}  (m.weibo.cn paths and s.weibo.com /weibo)")
    click.echo(f"  {s['accounts']} accounts, {s['citizens']} citizens, {s['statuses']} posts, {s['comments']} comments")
    click.echo(f"  window {scenario.window_start.isoformat()} .. {scenario.end.isoformat()}; "
               f"sim now {clock.now().isoformat()} x{0 if manual else speed:g}")
    click.echo(f"  truth {server.base_url}/__sim/truth  roster {server.base_url}/__sim/roster.csv  "
               f"clock/faults/doors/stats under /__sim/")
    if refuse:
        click.echo(f"  refusing: {', '.join(server.doors.closed())}")
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        click.echo("fake weibo stopped", err=True)
