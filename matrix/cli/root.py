"""The `wzmon` command: one root group; each package contributes its own commands (`COMMANDS`)."""
from __future__ import annotations

import logging
import os
import sys
from importlib.metadata import entry_points

import click

from matrix.storage.db import DatabaseError, resolve_url

# Packages contribute commands through the "wzmon.commands" entry points (pyproject.toml).
ENTRY_POINT_GROUP = "wzmon.commands"


class WzmonGroup(click.Group):
    """Turns user-facing errors into one plain line instead of a traceback."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201
        try:
            return super().invoke(ctx)
        except DatabaseError as exc:
            raise click.ClickException(str(exc)) from exc
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=WzmonGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--db",
    "db",
    envvar="WZMON_DB",
    default=None,
    metavar="URL",
    help="Database URL (any SQLAlchemy URL; env WZMON_DB; default sqlite:///wzmon.db).",
)
@click.option(
    "--now",
    "now",
    envvar="WZMON_NOW",
    default=None,
    metavar="TIME",
    help="Start the clock at TIME (e.g. 2026-12-22T10:00, Asia/Shanghai) and let it run from there: every "
    "deadline, poll, alert and board view then sees that time (env WZMON_NOW).",
)
@click.option("-v", "--verbose", count=True, help="More log lines (-vv for debug).")
@click.version_option(package_name="wzmon")
@click.pass_context
def main(ctx: click.Context, db: str | None, now: str | None, verbose: int) -> None:
    """wzmon: watch how fast government Weibo accounts answer the public."""
    if now:
        from crawler.clock import NOW_ENV, ClockSettingError, parse_now

        try:
            parse_now(now)
        except ClockSettingError as exc:
            raise click.BadParameter(str(exc), param_hint="'--now'") from None
        os.environ[NOW_ENV] = now  # one clock for this process and the board or poller it starts
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from matrix.logging_setup import apply_log_format

    apply_log_format()
    ctx.ensure_object(dict)
    ctx.obj["db"] = resolve_url(db)


def _register() -> None:
    """Add every package's COMMANDS, in the order of their entry-point names."""
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        for command in ep.load():
            main.add_command(command)


_register()

if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    main()
