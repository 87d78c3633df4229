"""`wzmon login`: the operator scans Weibo's QR code in a real browser; the cookie is stored with mode 600.

Playwright drives Debian's /usr/bin/chromium (never a downloaded browser). The cookie value is written to the
file and sent to the login check, never printed or logged.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
LOGIN_PATH = "/sso/signin?entry=miniblog&source=miniblog"


class LoginError(Exception):
    """The browser login did not give a logged-in cookie."""


def browser_login(login_url: str, *, headless: bool = False, timeout: float = 300.0) -> str:
    """Open the login page, wait until the browser holds a logged-in SUB cookie, return the Cookie header."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=headless)
            try:
                ctx = browser.new_context()
                page = ctx.new_page()
                page.goto(login_url)
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    jar = {c["name"]: c["value"] for c in ctx.cookies()}
                    sub = jar.get("SUB", "")
                    if sub and not sub.startswith("_2AkM"):  # a visitor SUB is not a login
                        return "; ".join(f"{k}={v}" for k, v in jar.items() if k in ("SUB", "SUBP", "SSOLoginState",
                                                                                       "ALF", "SCF"))
                    page.wait_for_timeout(250)
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise LoginError(f"the browser ({CHROMIUM}) failed on {login_url}: {str(exc).splitlines()[0][:200]}") from None
    raise LoginError(f"no login within {timeout:g}s on {login_url} (was the QR code scanned?)")


def store_cookie(path: str | os.PathLike, cookie: str) -> Path:
    """Write the cookie atomically with mode 600 (temporary file in the same folder, then rename)."""
    p = Path(path).expanduser()
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".cookie-", dir=p.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(cookie + "\n")
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
