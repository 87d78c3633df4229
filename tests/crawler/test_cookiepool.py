"""Cookie pool: files, folder and environment; own budgets; out of use on a login wall; never the value shown."""
from __future__ import annotations

import json

import pytest

from crawler.client import CookieError
from crawler.cookiepool import CookiePool, fingerprint

A = "SUB=_2A25secretAAAA; SUBP=0033aaaa"
B = "SUB=_2A25secretBBBB; SUBP=0033bbbb"
C = "SUB=_2A25secretCCCC; SUBP=0033cccc"


@pytest.fixture
def clean_env(monkeypatch):
    for k in ("WZMON_WEIBO_COOKIE", "WZMON_WEIBO_COOKIE_FILE", "WZMON_WEIBO_COOKIE_DIR"):
        monkeypatch.delenv(k, raising=False)
    return monkeypatch


def test_pool_from_folder_file_and_env(tmp_path, clean_env):
    d = tmp_path / "cookies"
    d.mkdir()
    (d / "office1.txt").write_text(A)
    (d / "office2.json").write_text(json.dumps([{"name": "SUB", "value": "_2A25secretBBBB", "domain": ".weibo.com"},
                                                {"name": "SUBP", "value": "0033bbbb", "domain": ".weibo.com"}]))
    (d / "notes.md").write_text("not a cookie")
    clean_env.setenv("WZMON_WEIBO_COOKIE", C)
    pool = CookiePool.from_sources(directory=d)
    assert [c.label for c in pool.cookies] == ["office1.txt", "office2.json", f"$WZMON_WEIBO_COOKIE ({fingerprint(C)})"]
    assert [c.header() for c in pool.cookies] == [A, B, C]
    text = repr(pool) + repr(pool.cookies) + "\n".join(pool.report())
    assert "secret" not in text


def test_each_cookie_has_its_own_budget_and_leaves_on_login_wall(tmp_path, clean_env):
    pool = CookiePool([("a", A), ("b", B)], per_minute=1, burst=2)
    got = [pool.take() for _ in range(5)]
    assert [c.label if c else None for c in got] == ["a", "b", "a", "b", None]  # 2 each, then both spent
    pool.login_wanted(pool.cookies[0], "ok:-100 on /api/config")
    assert [c.label for c in pool.usable()] == ["b"]
    assert pool.report()[0] == "a\t?\tlogin_wanted (ok:-100 on /api/config)\t2 requests"


def test_unreadable_cookie_file_is_named(tmp_path, clean_env):
    with pytest.raises(CookieError, match="missing.txt"):
        CookiePool.from_sources([tmp_path / "missing.txt"])
    with pytest.raises(CookieError, match="not a folder"):
        CookiePool.from_sources(directory=tmp_path / "nope")
