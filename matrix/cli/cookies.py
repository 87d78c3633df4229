"""`wzmon cookies`: the Weibo cookies the poller would use and what became of them, so an operator knows which one to
renew before collection suffers. Cookies are named by label and fingerprint, never by value (matrix.storage.cookie_state)."""
from __future__ import annotations

import json
import os
from datetime import datetime

import click

from matrix.storage.db import open_db, session_scope
from matrix.timeutil import iso_local


def _since(row, detail: dict, out: bool) -> str:  # noqa: ANN001 - CrawlerHealth | None
    """Since when the cookie is in its state (local time): out of use since the wall, in use since the row."""
    if row is None:
        return ""
    if out and detail.get("since"):
        return iso_local(datetime.fromisoformat(detail["since"]))
    return iso_local(row.at)


def cookie_rows(pool, stored: dict) -> list[dict]:  # noqa: ANN001 - crawler.cookiepool.CookiePool
    """One dict a pooled cookie: label, fingerprint, budget, requests used (stored), state, reason, since."""
    from matrix.storage.cookie_state import OUT_OF_USE, cookie_key

    rows = []
    for c in pool.cookies:
        row = stored.get(cookie_key(c))
        detail = (row.detail or {}) if row is not None else {}
        out = row is not None and row.state == OUT_OF_USE
        rows.append({"label": c.label, "fingerprint": c.fingerprint,
                     "budget": {"per_minute": c.budget.per_minute, "burst": c.budget.burst},
                     "requests_used": int(detail.get("requests_total") or 0),
                     "state": "out of use" if out else "in use" if row is not None else "not used yet",
                     "reason": (detail.get("reason") or row.message) if out else "",
                     "since": _since(row, detail, out)})
    return rows


def visitor_row(stored: dict) -> dict:
    """The visitor cookie: whether it is configured (WZMON_WEIBO_VISITOR) and what the last runs did with it."""
    from matrix.storage.cookie_state import VISITOR_KEY

    flag = os.environ.get("WZMON_WEIBO_VISITOR", "")
    row = stored.get(VISITOR_KEY)
    detail = (row.detail or {}) if row is not None else {}
    return {"configured": bool(flag), "passport": flag if flag.startswith("http") else ("default" if flag else ""),
            "requests_used": int(detail.get("requests_total") or 0), "renewals": int(detail.get("renewals") or 0),
            "last_reason": detail.get("last_reason") or "", "last_seen": iso_local(row.at) if row else ""}


@click.command("cookies")
@click.option("--cookie-file", metavar="FILE", help="A cookie file besides $WZMON_WEIBO_COOKIE_DIR / _FILE / "
              "$WZMON_WEIBO_COOKIE (as `wzmon poll` takes them).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def cookies_cmd(ctx: click.Context, cookie_file: str | None, fmt: str) -> None:
    """List the Weibo cookies in the pool (label and fingerprint, never the value): budget, requests used, in use or
    out of use (why, since when), and the visitor cookie's state. The pool is found as `wzmon poll` finds it
    ($WZMON_WEIBO_COOKIE_DIR, $WZMON_WEIBO_COOKIE_FILE, $WZMON_WEIBO_COOKIE).

    \b
    Example:
      wzmon cookies --format json
    """
    from crawler.client import CookieError
    from crawler.cookiepool import CookiePool
    from matrix.storage.cookie_state import stored_states

    try:
        pool = CookiePool.from_sources([cookie_file] if cookie_file else [])
    except CookieError as exc:
        raise click.ClickException(str(exc)) from None
    with session_scope(open_db(ctx.obj["db"])) as s:
        stored = stored_states(s)
        rows, visitor = cookie_rows(pool, stored), visitor_row(stored)
    if fmt == "json":
        click.echo(json.dumps({"cookies": rows, "visitor": visitor}, ensure_ascii=False))
        return
    if not rows:
        click.echo("No logged-in cookie configured: set WZMON_WEIBO_COOKIE_DIR (a folder of cookie files), "
                   "WZMON_WEIBO_COOKIE_FILE or --cookie-file; `wzmon login` makes one.")
    else:
        click.echo("Cookies (label, fingerprint, budget, requests used, state):")
        for r in rows:
            state = r["state"] + (f" since {r['since']}" if r["since"] else "") + (f": {r['reason']}" if r["reason"]
                                                                                  else "")
            click.echo(f"  {r['label']}\t{r['fingerprint']}\t{r['budget']['per_minute']:g}/min\t"
                       f"{r['requests_used']} requests\t{state}")
    if visitor["configured"]:
        click.echo(f"Visitor cookie: on ({visitor['passport']} passport), {visitor['requests_used']} requests, "
                   f"renewed {visitor['renewals']}x" + (f" (last: {visitor['last_reason']})"
                                                       if visitor["last_reason"] else ""))
    else:
        click.echo("Visitor cookie: off (set WZMON_WEIBO_VISITOR=1 to read public pages without a login)")
