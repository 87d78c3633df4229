"""The weibo.com/ajax route (crawler.pc_api) over real HTTP against the fake's PC endpoints: every post, comment,
child comment and repost the scenario holds comes through, the XSRF double submit is honoured, a walk may change
route mid-way on the same cursor, and a closed PC door is a login refusal."""
from __future__ import annotations

import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from crawler.budget import RequestBudget
from crawler.client import WeiboClient
from crawler.exceptions import LoginRequiredError
from crawler.pc_api import PcRoute


def make(server, **kw) -> tuple[WeiboClient, PcRoute]:
    client = WeiboClient(server.base_url, server.base_url, RequestBudget(per_minute=60_000, burst=1000),
                         pc_base_url=server.base_url, timeout=5.0, **kw)
    return client, PcRoute(client)


def visible(server, statuses):
    now = server.clock.now()
    return [s for s in statuses if s.visible(now)]


def drain(gen):
    items, last = [], None
    for page in gen:
        items.extend(page.items)
        last = page
    return items, last


def busiest(sc):
    return max(sc.members, key=lambda m: len(sc.timelines.get(m.uid, ())))


def test_ajax_without_the_xsrf_echo_is_refused_with_a_fresh_token(fake_weibo_factory) -> None:
    server = fake_weibo_factory()
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server.url(f"/ajax/statuses/mymblog?uid={busiest(server.scenario).uid}&page=1"),
                               timeout=5)
    assert err.value.code == 403 and err.value.headers["Set-Cookie"].startswith("XSRF-TOKEN=")
    client, pc = make(server)
    assert drain(pc.timeline(busiest(server.scenario).uid, None))[0]
    assert server.stats["statuses"].get("403") == 2  # urllib's, then the client's one first try
    assert client.site_cookie("XSRF-TOKEN")


def test_pc_timeline_brings_every_visible_post(fake_weibo_factory) -> None:
    server = fake_weibo_factory(page_timeline=2)
    sc = server.scenario
    member = busiest(sc)
    _, pc = make(server)
    items, last = drain(pc.timeline(member.uid, {"last_created_at": sc.start.isoformat()}))
    expected = [s.id for s in visible(server, sc.timelines[member.uid]) if s.created_at >= sc.start]
    assert [p.id for p in items] == expected and len(expected) >= 3
    assert all("/ajax/statuses/mymblog" in p.source_url or p.bid for p in items)
    assert last.done and last.cursor["last_id"] == expected[0]


def test_a_walk_changes_route_mid_way_without_loss_or_repeat(fake_weibo_factory) -> None:
    server = fake_weibo_factory(page_timeline=2)
    sc = server.scenario
    member = busiest(sc)
    client, pc = make(server)
    start = {"last_created_at": sc.start.isoformat()}
    first_page = next(iter(client.timeline(member.uid, start)))  # mobile, one page, then the door closes
    assert not first_page.done
    server.doors.close("mobile")
    rest, _ = drain(pc.timeline(member.uid, first_page.cursor))
    got = [p.id for p in first_page.items + rest]
    assert got == [s.id for s in visible(server, sc.timelines[member.uid]) if s.created_at >= sc.start]


def test_pc_comments_bring_child_comments_beyond_the_inline_ones(fake_weibo_factory) -> None:
    server = fake_weibo_factory(page_comments=2, pc_inline_replies=1)
    sc = server.scenario
    post_id = max(sc.root_comments, key=lambda p: max((len(sc.replies.get(c.id, ())) for c in sc.root_comments[p]),
                                                     default=0))
    assert max(len(sc.replies.get(c.id, ())) for c in sc.root_comments[post_id]) > server.pc_inline_replies
    expected = {c.id: c for c in sc._by_post[post_id] if c.visible(server.clock.now())}
    _, pc = make(server)
    items, last = drain(pc.comments(post_id))
    ids = [c.id for c in items]
    assert len(ids) == len(set(ids)) and set(ids) == set(expected)
    by_id = {c.id: c for c in items}
    for c in expected.values():
        assert by_id[c.id].post_id == post_id
        assert abs(by_id[c.id].created_at - c.created_at) < timedelta(seconds=1)  # PC shows full dates
        if c.reply_to_id:
            assert by_id[c.id].reply_to_id in (c.reply_to_id, c.root_id)
    assert drain(pc.comments(post_id, last.cursor))[0] == []


def test_pc_reposts_show_and_long_text(fake_weibo_factory) -> None:
    server = fake_weibo_factory(page_reposts=2)
    sc = server.scenario
    target = max(sc.reposts, key=lambda k: len(visible(server, sc.reposts[k])))
    _, pc = make(server)
    items, _ = drain(pc.reposts(target, {"last_created_at": sc.start.isoformat()}))
    expected = [s.id for s in visible(server, sc.reposts[target]) if s.created_at >= sc.start]
    assert sorted(p.id for p in items) == sorted(expected) and expected
    assert all(p.reposted_id == target for p in items)
    long = next(s for s in sc.ordered if len(s.text) > 140 and s.visible(server.clock.now()))
    assert pc.long_text(long.id) == long.text
    shown = pc.show(long.bid)
    assert shown.id == long.id and shown.bid == long.bid


def test_closed_pc_door_is_a_login_refusal(fake_weibo_factory) -> None:
    server = fake_weibo_factory(refuse=("pc",))
    _, pc = make(server)
    with pytest.raises(LoginRequiredError, match="ok:-100"):
        drain(pc.timeline(busiest(server.scenario).uid, None))
