"""The generated scenario: deterministic by seed, internally consistent with its own truth."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx

from crawler.fake_weibo import Scenario, bid_to_mid, mid_to_bid, serve_in_thread
from crawler.fake_weibo.workhours import add_workdays, is_workday

SMALL = {"accounts": 6, "days": 3, "history_days": 1, "citizens": 15}


def test_same_seed_same_world_different_seed_different():
    a, b, c = Scenario(seed=11, **SMALL), Scenario(seed=11, **SMALL), Scenario(seed=12, **SMALL)
    assert a.truth == b.truth and a.roster_rows() == b.roster_rows()
    assert [(s.id, s.text) for s in a.ordered] == [(s.id, s.text) for s in b.ordered]
    assert a.truth != c.truth


def test_same_seed_same_bytes_over_http():
    bodies = []
    for _ in range(2):
        fw = serve_in_thread(Scenario(seed=11, **SMALL))
        try:
            uid = fw.scenario.members[0].uid
            with httpx.Client(base_url=fw.base_url) as c:
                bodies.append((c.get("/api/container/getIndex", params={"containerid": f"107603{uid}"}).content,
                               c.get("/__sim/truth").content))
        finally:
            fw.stop()
    assert bodies[0] == bodies[1]


def test_accounts_and_roster():
    sc = Scenario(seed=3, accounts=132)
    assert sc.coordinator.screen_name == "问政银川" and sc.coordinator.role == "coordinator"
    assert len(sc.members) == 132 and len({a.screen_name for a in sc.accounts}) == 133
    assert all(re.fullmatch(r"\d{10}", a.uid) for a in sc.accounts)
    assert {"银川公安", "银川市教育局", "兴庆区政府", "银川交警"} <= {m.screen_name for m in sc.members}
    acts = sorted((m.activity for m in sc.members), reverse=True)
    assert acts[0] > 5 * acts[len(acts) // 2]  # heavy-tailed
    row = sc.roster_rows()[1]
    assert row["contacts"] == f"email:ops-{row['uid']}@example.gov.cn" and row["role"] == "member"


def test_truth_matches_the_traffic():
    sc = Scenario(seed=2)
    intents = {r["intent"] for r in sc.truth if r["in_window"]}
    assert {"fast", "late", "never", "thanks", "multi", "via", "own"} <= intents
    coord = sc.coordinator.screen_name
    for r in sc.truth:
        st = sc.statuses[r["post_id"]]
        assert datetime.fromisoformat(r["created_at"]) == st.created_at
        assert r["created_at"].endswith("+08:00")
        if r["intent"] == "via":
            assert r["addressed"] == [coord] and r["forwarded_to"]
        if r["intent"] == "multi":
            assert len(r["addressed"]) >= 2 and r["forwarded_to"] in r["addressed"]
        if r["intent"] in ("multi", "via"):
            fwd = datetime.fromisoformat(r["forwarded_at"])
            assert st.created_at < fwd and r["forward_via"] in ("comment", "repost")
        if r["intent"] in ("never", "thanks", "own"):
            assert r["responded_at"] is None
        if r["intent"] in ("fast", "late"):
            assert r["responded_by"] == r["target"] and r["responded_at"]
        if r["intent"] == "late":
            responded = datetime.fromisoformat(r["responded_at"])
            assert responded.date() > add_workdays(st.created_at, 1)  # beyond one working day
            assert is_workday(responded.date())
        if r["intent"] == "fast":
            assert datetime.fromisoformat(r["responded_at"]) - st.created_at < timedelta(days=5)
        if r["closed_at"]:
            closing = [e for e in r["events"] if e.get("closing")]
            assert closing and closing[-1]["created_at"] == r["closed_at"]
        for ev in r["events"]:
            item = sc.comments.get(ev["id"]) or sc.statuses.get(ev["id"])
            assert item.created_at == datetime.fromisoformat(ev["created_at"])
            assert sc.users[item.author_uid].screen_name == ev["by"]
            if ev.get("closing"):
                assert any(w in item.text for w in ("已办结", "已处理", "已解决"))


def test_ids_grow_with_time_and_bids_round_trip():
    sc = Scenario(seed=4, **SMALL)
    items = sorted([*sc.statuses.values(), *sc.comments.values()], key=lambda x: int(x.id))
    for a, b in zip(items, items[1:]):
        assert a.created_at <= b.created_at
    assert all(len(x.id) == 16 for x in items)
    assert all(bid_to_mid(mid_to_bid(s.id)) == s.id for s in sc.statuses.values())


def test_long_text_chains_pinned_deleted_present():
    sc = Scenario(seed=1)
    assert any(len(s.text) > 140 for s in sc.statuses.values())
    assert any("//@" in s.text and s.retweeted_id for s in sc.statuses.values() if s.kind == "citizen")
    assert sc.pinned and all(s.pinned for s in sc.pinned.values())
    assert sum(1 for r in sc.truth if r["deleted_at"]) == 2
    assert any(r["followups"] for r in sc.truth)


def test_truth_at_hides_the_future():
    sc = Scenario(seed=1, **SMALL)
    now = sc.window_start + timedelta(days=1)
    for r in sc.truth_at(now):
        assert datetime.fromisoformat(r["created_at"]) <= now
        for key in ("forwarded_at", "responded_at", "closed_at"):
            assert r[key] is None or datetime.fromisoformat(r[key]) <= now


def test_cli_names_a_port_in_use(fake_weibo):
    from click.testing import CliRunner

    from matrix.cli.root import main

    result = CliRunner().invoke(main, ["fake-weibo", "--port", str(fake_weibo.port), "--accounts", "2", "--days", "1"])
    assert result.exit_code == 1
    assert f"127.0.0.1:{fake_weibo.port}" in result.output and "already in use" in result.output
    assert "Traceback" not in result.output
