"""Every refusal and breakage the fake server can inject, over real HTTP."""
from __future__ import annotations

import json

import httpx
import pytest

from crawler.fake_weibo import FaultError

CONFIG = "/api/config"


def _get(fw, path=CONFIG, timeout=5.0, **kw):
    """One pooled client per server (building an httpx client costs more than the request)."""
    client = getattr(fw, "_test_client", None)
    if client is None:
        client = fw._test_client = httpx.Client(base_url=fw.base_url)
    return client.get(path, timeout=timeout, **kw)


@pytest.mark.parametrize("code", ["432", "418", "403"])
def test_status_refusals(fake_weibo, code):
    fake_weibo.faults.add(code, count=1)
    assert _get(fake_weibo).status_code == int(code)
    assert _get(fake_weibo).status_code == 200  # count exhausted
    assert fake_weibo.stats["faults"] == {code: 1}


def test_captcha_passport_empty_html(fake_weibo):
    fake_weibo.faults.add("captcha", count=1)
    body = _get(fake_weibo).json()
    assert body["ok"] == -100 and "captcha" in body["url"]
    fake_weibo.faults.add("passport", count=1)
    r = _get(fake_weibo)
    assert r.status_code == 302 and r.headers["location"].startswith("https://passport.weibo.com/")
    fake_weibo.faults.add("empty", count=1)
    assert _get(fake_weibo).json() == {"ok": 0, "msg": "这里还没有内容"}
    fake_weibo.faults.add("html", count=1)
    r = _get(fake_weibo)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)


def test_truncated_body_and_disconnect_fail_the_transfer(fake_weibo):
    uid = fake_weibo.scenario.members[0].uid
    path = f"/api/container/getIndex?containerid=107603{uid}"
    fake_weibo.faults.add("truncated", path="containerid=107603", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        _get(fake_weibo, path)
    fake_weibo.faults.add("disconnect", path="containerid=107603", count=1)
    with pytest.raises(httpx.TransportError):
        _get(fake_weibo, path)
    assert _get(fake_weibo, path).json()["ok"] == 1


def test_broken_json_arrives_complete_but_unparseable(fake_weibo):
    fake_weibo.faults.add("broken_json", count=1)
    r = _get(fake_weibo)
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        r.json()


def test_slow_response_outlasts_client_timeout(fake_weibo):
    fake_weibo.faults.add("slow", count=1, seconds=2)
    with pytest.raises(httpx.ReadTimeout):
        _get(fake_weibo, timeout=0.3)


def test_path_pattern_limits_faults(fake_weibo):
    fake_weibo.faults.add("432", path=r"^/comments/hotflow")
    assert _get(fake_weibo).status_code == 200
    assert _get(fake_weibo, "/comments/hotflow?id=1&mid=1").status_code == 432
    assert _get(fake_weibo, "/__sim/stats").status_code == 200  # control paths are never faulted


def test_probability_is_seeded(fake_weibo_factory):
    runs = []
    for _ in range(2):
        fw = fake_weibo_factory(fault_seed=5)
        fw.faults.add("418", probability=0.5)
        runs.append([_get(fw).status_code for _ in range(24)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 418}


def test_random_kind_draws_from_given_kinds(fake_weibo):
    fake_weibo.faults.add("random", count=12, kinds=["432", "empty"])
    seen = set()
    for _ in range(12):
        r = _get(fake_weibo)
        seen.add("432" if r.status_code == 432 else r.json()["msg"])
    assert seen <= {"432", "这里还没有内容"} and "432" in seen


def test_cookie_requirement_walls_cookieless_requests(fake_weibo):
    fake_weibo.faults.require_cookie(after=2)
    assert _get(fake_weibo).status_code == 200
    assert _get(fake_weibo).status_code == 200
    r = _get(fake_weibo)
    assert r.status_code == 302 and "passport.weibo.com" in r.headers["location"]
    assert _get(fake_weibo, headers={"Cookie": "SUB=_2A25abc; SUBP=x"}).status_code == 200
    fake_weibo.faults.require_cookie(after=0, wall="captcha")
    assert _get(fake_weibo).json()["ok"] == -100


def test_faults_over_http_control(fake_weibo):
    with httpx.Client(base_url=fake_weibo.base_url) as c:
        state = c.post("/__sim/faults", json={"add": [{"kind": "403", "path": "api/config", "count": 2}]}).json()
        assert state["rules"][0]["kind"] == "403"
        assert c.get(CONFIG).status_code == 403
        c.post("/__sim/faults", json={"clear": True})
        assert c.get(CONFIG).status_code == 200
        bad = c.post("/__sim/faults", json={"kind": "teapot"})
        assert bad.status_code == 400 and "unknown fault kind" in bad.json()["msg"]
        c.post("/__sim/faults", json={"require_cookie_after": 0})
        assert c.get(CONFIG).status_code == 302


def test_bad_rules_are_refused_with_reasons(fake_weibo):
    with pytest.raises(FaultError, match="probability"):
        fake_weibo.faults.add("432", probability=2)
    with pytest.raises(FaultError, match="regular expression"):
        fake_weibo.faults.add("432", path="(")
