"""`wzmon login` as a subprocess: chromium (headless) on the fake server's QR login page, then the scan."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's /usr/bin/chromium")
def test_login_stores_cookie_mode_600_and_names_the_account(fake_weibo, tmp_path):
    target = tmp_path / "conf" / "weibo.cookie"
    wzmon = [sys.executable, "-m", "matrix.cli.root"]
    proc = subprocess.Popen([*wzmon, "login", "--headless", "--base-url", fake_weibo.base_url,
                             "--cookie-file", str(target), "--timeout", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while getattr(fake_weibo, "qr_checks", 0) == 0:  # the page is up and polling, as the real one does
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the login page never polled qrcode/check"
            time.sleep(0.1)
        assert not target.exists()  # nothing stored before the scan
        urllib.request.urlopen(urllib.request.Request(fake_weibo.base_url + "/sso/__scan", method="POST"))
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    cookie = target.read_text().strip()
    assert cookie.startswith("SUB=_2A25fakeLogin") and "SUBP=" in cookie
    assert f"logged in as uid {fake_weibo.scenario.coordinator.uid}" in out
    assert "_2A25fakeLogin" not in out + err  # the value is never shown


def test_login_without_scan_times_out_clearly(fake_weibo, tmp_path):
    target = tmp_path / "weibo.cookie"
    r = subprocess.run([sys.executable, "-m", "matrix.cli.root", "login", "--headless", "--base-url", fake_weibo.base_url,
                        "--cookie-file", str(target), "--timeout", "2"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "no login within 2s" in r.stderr and not target.exists()
