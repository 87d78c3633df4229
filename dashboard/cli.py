"""Commands this package adds to the wzmon CLI: `wzmon dashboard` and `wzmon users add|list`."""
from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys

import click

from dashboard import auth, server


def _db(ctx: click.Context) -> str:
    from matrix.storage.db import resolve_url

    return (ctx.obj or {}).get("db") or resolve_url(None)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("dashboard")
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535), help="Port to serve on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (0.0.0.0 = all interfaces).")
@click.option("--users", "users", type=click.Path(dir_okay=False), envvar="WZMON_USERS", default=None,
              help="Users file (TOML/YAML, env WZMON_USERS). Without it the board runs as a demo with no sign-in.")
@click.option("--policy", "policy", metavar="FILE", envvar="WZMON_POLICY", default=None,
              help="Policy TOML used by office actions (env WZMON_POLICY; default: the shipped policy).")
@click.pass_context
def dashboard_cmd(ctx: click.Context, port: int, host: str, users: str | None, policy: str | None) -> None:
    """Serve the office's board (Streamlit) on HOST:PORT until Ctrl-C.

    \b
    Example:
      wzmon dashboard --users users.toml
    """
    from matrix.storage.db import DatabaseError, open_db, safe_url

    url = _db(ctx)
    try:
        open_db(url)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc
    if users:
        try:
            auth.load_users(users)
        except auth.UsersFileError as exc:
            raise click.ClickException(str(exc)) from exc
    elif not _is_loopback(host):
        raise click.ClickException(
            f"refusing to serve the board on {host} without sign-in: give --users FILE "
            "(create it with `wzmon users add NAME --role office --users FILE`) or bind 127.0.0.1"
        )
    try:
        proc = server.launch(url, port=port, host=host, users=users, policy=policy)
    except server.PortInUseError as exc:
        raise click.ClickException(str(exc)) from exc
    base = server.url_for(host, port)
    click.echo(f"wzmon board: {base}  (database {safe_url(url)}; "
               f"{'sign-in from ' + users if users else '未配置登录 (demo): no sign-in'})  Ctrl-C to stop")
    def _stop(signum: int, _frame: object) -> None:  # SIGTERM: take the board down with us
        proc.terminate()
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        code = proc.wait()
    except SystemExit:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if code not in (0, -signal.SIGINT, 130):
        raise click.ClickException(f"the board stopped with exit code {code}")


@click.group("users")
def users_group() -> None:
    """Board users: office (sees all accounts) or member (sees only its own accounts)."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(auth.ROLES), required=True, help="office = all accounts; member = its own.")
@click.option("--accounts", default="", help="Member's accounts: uids or screen names, comma-separated.")
@click.option("--users", "users", type=click.Path(dir_okay=False), envvar="WZMON_USERS", required=True,
              help="Users file to create or update (TOML, or YAML by extension; env WZMON_USERS).")
@click.option("--password-env", metavar="VAR", default=None,
              help="Read the password from this environment variable instead of prompting.")
@click.option("--display-name", default="", help="Name shown on the board.")
@click.option("--email", default="", help="E-mail matched when signing in through OIDC (st.login).")
@click.option("--no-password", is_flag=True, help="OIDC-only user (needs --email).")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, accounts: str, users: str, password_env: str | None,
              display_name: str, email: str, no_password: bool) -> None:
    """Add or replace user NAME with a bcrypt-hashed password.

    \b
    Example:
      wzmon users add duban --role office --users users.toml
    """
    items = [a.strip().lstrip("@") for a in accounts.split(",") if a.strip()]
    if role == "office" and items:
        raise click.ClickException("an office user sees every account: drop --accounts, or use --role member")
    if items:
        items = _resolve_accounts(ctx, items)
    if no_password:
        if not email:
            raise click.ClickException("--no-password makes an OIDC-only user: give --email too")
        password = None
    elif password_env:
        password = os.environ.get(password_env)
        if not password:
            raise click.ClickException(f"environment variable {password_env} is empty or not set")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        auth.add_user(users, name, role=role, password=password, accounts=items, display_name=display_name, email=email)
    except auth.UsersFileError as exc:
        raise click.ClickException(str(exc)) from exc
    scope = "all accounts" if role == "office" else ", ".join(items)
    click.echo(f"user {name} ({role}: {scope}) written to {users}")


def _resolve_accounts(ctx: click.Context, items: list[str]) -> list[str]:
    """Screen names become uids; every account must be in the roster when the database is reachable."""
    from matrix.reading.queries import account_uid
    from matrix.storage.db import DatabaseError, open_db, session_scope

    try:
        engine = open_db(_db(ctx))
    except DatabaseError as exc:
        click.echo(f"warning: cannot check accounts against the roster ({exc}); stored as given", err=True)
        return items
    out = []
    with session_scope(engine) as s:
        for item in items:
            uid = account_uid(s, item)
            if uid is None:
                raise click.ClickException(f"account {item!r} is not in the roster (give a uid or a screen name)")
            out.append(uid)
    return out


@users_group.command("list")
@click.option("--users", "users", type=click.Path(dir_okay=False), envvar="WZMON_USERS", required=True,
              help="Users file (env WZMON_USERS).")
def users_list(users: str) -> None:
    """List users and what they may see (never the hashes).

    \b
    Example:
      wzmon users list --users users.toml
    """
    try:
        config = auth.load_users(users)
    except auth.UsersFileError as exc:
        raise click.ClickException(str(exc)) from exc
    for name in sorted(config.users):
        u = config.user(name)
        assert u is not None
        click.echo(f"{name}\t{u.role}\t{'all' if u.is_office else ','.join(u.accounts)}\t{u.email}")


COMMANDS: list[click.Command] = [dashboard_cmd, users_group]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(dashboard_cmd())
