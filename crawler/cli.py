"""Commands this package adds to the wzmon CLI."""
from __future__ import annotations

import json

import click

from crawler.exceptions import UnreadableFileError

COMMANDS: list[click.Command] = []


@click.command("parse")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@click.option("--kind", is_flag=True, help="Also print each file's detected shape to stderr.")
def parse_cmd(files: tuple[str, ...], kind: bool) -> None:
    """Print the posts (and comments) found in saved Weibo responses as JSON lines; no database.

    Reads getIndex / hotflow / buildComments / statuses/extend / statuses/show / repostTimeline JSON,
    s.weibo.com search HTML and weibo.cn comment HTML.

    \b
    Example:
      wzmon parse saved/getIndex.json
    """
    from crawler.importer import item_json, parse_file

    failures = []
    for path in files:
        try:
            parsed = parse_file(path)
        except UnreadableFileError as exc:
            failures.append(str(exc))
            click.echo(f"error: {exc}", err=True)
            continue
        if kind:
            click.echo(f"{path}: {parsed.kind}, {len(parsed.items)} records", err=True)
        if parsed.long_text is not None:
            click.echo(json.dumps({"file": path, "long_text": parsed.long_text}, ensure_ascii=False))
        for item in parsed.items:
            click.echo(json.dumps(item_json(item), ensure_ascii=False))
        for warning in parsed.warnings:  # an item that could not be read; the others were printed
            click.echo(f"warning: {warning}", err=True)
    if failures:
        raise click.ClickException(f"{len(failures)} of {len(files)} files could not be read: " + "; ".join(failures))


COMMANDS.append(parse_cmd)


from crawler.fake_weibo.cli import fake_weibo_cmd  # noqa: E402 - the fake server's command

COMMANDS.append(fake_weibo_cmd)


@click.command("login")
@click.option("--base-url", default="https://passport.weibo.com", show_default=True, metavar="URL",
              help="Where the login page is (a fake server's URL in tests).")
@click.option("--check-url", default=None, metavar="URL",
              help="Where to check the login (api/config); default m.weibo.cn, or --base-url when that is local.")
@click.option("--cookie-file", required=True, metavar="FILE", envvar="WZMON_WEIBO_COOKIE_FILE",
              help="File to store the cookie in (mode 600); env WZMON_WEIBO_COOKIE_FILE.")
@click.option("--headless", is_flag=True, help="No browser window (tests); the operator needs the window.")
@click.option("--timeout", default=300.0, show_default=True, type=click.FloatRange(min=1), help="Seconds to wait.")
def login_cmd(base_url: str, check_url: str | None, cookie_file: str, headless: bool, timeout: float) -> None:
    """Log in to Weibo in a browser (scan the QR code), store the cookie, say for which account it is.

    \b
    Example:
      wzmon login --cookie-file ~/.config/wzmon/weibo.cookie
    """
    from crawler.client import WeiboClient
    from crawler.exceptions import WeiboError
    from crawler.login import LOGIN_PATH, LoginError, browser_login, store_cookie

    base = base_url.rstrip("/")
    local = base.startswith(("http://127.", "http://localhost"))
    try:
        cookie = browser_login(base + LOGIN_PATH, headless=headless, timeout=timeout)
    except LoginError as exc:
        raise click.ClickException(str(exc)) from None
    path = store_cookie(cookie_file, cookie)
    click.echo(f"cookie stored in {path} (mode 600)")
    check = check_url or (base if local else "https://m.weibo.cn")
    try:
        with WeiboClient(check, check, cookie=cookie) as client:
            state = client.login_state()
    except WeiboError as exc:
        raise click.ClickException(f"the login check at {check} failed: {exc}") from None
    if not state.logged_in:
        raise click.ClickException(f"{check} says the stored cookie is not logged in; run wzmon login again")
    click.echo(f"logged in as uid {state.uid}")


COMMANDS.append(login_cmd)
