"""`wzmon export`: research exports with a data dictionary (datapackage.json) and provenance."""
from __future__ import annotations

import os

import click

from matrix.export.access import (
    PASSWORD_ENV,
    ROLE_ENV,
    check_password,
    load_user,
    users_file,
)
from matrix.export.errors import ExportError
from matrix.export.schema import TABLES
from matrix.export.writers import FORMATS


@click.command("export")
@click.argument("tables", nargs=-1, required=True, type=click.Choice(list(TABLES)))
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="csv", show_default=True, help="File format.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Folder for <table>.<ext> and datapackage.json.")
@click.option("--since", help="Period start, inclusive (2024-03-01 or 2024-03-01T08:00; Beijing time unless an offset is given).")
@click.option("--until", help="Period end, exclusive; a bare date includes that whole day.")
@click.option("--account", "accounts", multiple=True, help="Account uid or screen name (repeatable).")
@click.option("--department", help="Only accounts of this department.")
@click.option("--kind", "kinds", multiple=True, help="Request kind: 投诉 咨询 求助 建议 表扬 其他 (repeatable).")
@click.option("--sentiment", "sentiments", multiple=True, type=click.Choice(["negative", "neutral", "positive"]), help="Sentiment (repeatable).")
@click.option("--status", "statuses", multiple=True,
              type=click.Choice(["awaiting_forward", "open", "responded", "closed", "invalid", "merged"]), help="Case status (repeatable).")
@click.option("--raw", is_flag=True, help="Exact text: no apostrophe in front of cells starting with = + - @ tab CR (unsafe in spreadsheets).")
@click.option("--identified", is_flag=True, help=f"Real citizen uids and names; needs {ROLE_ENV}=office or --as-user with an office user.")
@click.option("--as-user", "as_user", metavar="NAME", help="Act as this dashboard user (role and accounts from the users file).")
@click.pass_context
def export(ctx: click.Context, tables: tuple[str, ...], fmt: str, out_dir: str, since: str | None, until: str | None,
           accounts: tuple[str, ...], department: str | None, kinds: tuple[str, ...], sentiments: tuple[str, ...],
           statuses: tuple[str, ...], raw: bool, identified: bool, as_user: str | None) -> None:
    """Export TABLES (posts cases events accounts rankings) for research.

    Writes OUT/<table>.<format> and OUT/datapackage.json (Frictionless Table Schema, descriptions in
    Chinese and English, keys, provenance). CSV is UTF-8 with BOM; ids are text; times are ISO 8601
    +08:00 with a *_unix column. Citizens are pseudonymised with the project key
    (env WZMON_PSEUDONYM_KEY or ~/.config/wzmon/pseudonym.key) unless --identified.

    \b
    Example:
      wzmon export posts cases --since 2026-11-01 --out export/
    """
    from matrix.export.api import export_table, parse_when
    from matrix.export.query import ExportFilters
    from matrix.storage.db import open_db

    try:
        role, scope, actor = os.environ.get(ROLE_ENV) or None, None, None
        if as_user:
            user = load_user(as_user)
            password = os.environ.get(PASSWORD_ENV) or click.prompt(f"password for {as_user}", hide_input=True, err=True)
            check_password(user, password)
            role, actor = user.role, user.name
            if role != "office":
                scope = user.account_uids
        if identified and role != "office":
            raise click.ClickException(
                f"--identified needs the office role: set {ROLE_ENV}=office, or use --as-user NAME with an office user "
                f"from the dashboard users file ({users_file()})"
            )
        filters = ExportFilters(
            since=parse_when(since), until=parse_when(until, end=True), accounts=list(accounts), department=department,
            kinds=list(kinds), sentiments=list(sentiments), statuses=list(statuses), account_uids=scope,
        )
        engine = open_db(ctx.obj["db"])
        for table in tables:
            result = export_table(engine, table, fmt, out_dir=out_dir, filters=filters, raw=raw, identified=identified,
                                  role=role, actor=actor, progress=True)
            ignored = result.provenance["query"]["ignored_filters"]
            note = f" (filters that do not apply to {table}: {', '.join(ignored)})" if ignored else ""
            click.echo(f"{result.rows:,} rows -> {result.path}{note}", err=True)
        click.echo(f"data dictionary and provenance -> {result.package_path}", err=True)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from exc


COMMANDS: list[click.Command] = [export]
