"""WeiboClient over real HTTP against the fake Weibo server: paging, cursors, every refusal."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from crawler.budget import RequestBudget
from crawler.client import CookieError, WeiboClient, load_cookie
from crawler.exceptions import (
    BlockedError,
    EmptyError,
    LoginRequiredError,
    MalformedError,
    TransportError,
    WeiboError,
)

SECRET = "SUB=_2A25secret-cookie-value-9f8e7d; SUBP=0033WrSXqPxfM"


def make_client(server, **kw) -> WeiboClient:
    kw.setdefault("budget", RequestBudget(per_minute=60_000, burst=1000))
    kw.setdefault("timeout", 5.0)
    return WeiboClient(server.base_url, server.base_url, **kw)


def visible(server, statuses):
    now = server.clock.now()
    return [s for s in statuses if s.visible(now)]


def drain(gen):
    items, last = [], None
    for page in gen:
        items.extend(page.items)
        last = page
    return items, last


def busiest_member(sc):
    return max(sc.members, key=lambda m: len(sc.timelines.get(m.uid, ())))


def test_timeline_walks_every_page_and_keeps_the_raw_body(fake_weibo_factory) -> None:
    server = fake_weibo_factory(page_timeline=2)
    sc = server.scenario
    member = busiest_member(sc)
    client = make_client(server)
    pages = list(client.timeline(member.uid, {"last_created_at": sc.start.isoformat()}))
    expected = [s.id for s in visible(server, sc.timelines[member.uid]) if s.created_at >= sc.start]
    assert [p.id for page in pages for p in page.items] == expected
    assert len(pages) >= 2 and pages[-1].done and not any(p.done for p in pages[:-1])
    assert all(b'"ok": 1' in p.raw.body or b'"ok":1' in p.raw.body for p in pages)
    assert pages[0].raw.fetched_at == server.clock.now().replace(microsecond=0)  # Date header = simulated time
    assert pages[-1].cursor["last_id"] == expected[0]


def test_pinned_post_neither_stops_nor_repeats(fake_weibo_factory) -> None:
    server = fake_weibo_factory()
    sc = server.scenario
    member = sc.members[0]  # members 0, 4, 8... hold a pinned post
    assert member.uid in sc.pinned
    client = make_client(server)
    items, last = drain(client.timeline(member.uid, {"last_created_at": sc.start.isoformat()}))
    pinned_id = sc.pinned[member.uid].id
    assert pinned_id not in [p.id for p in items]  # older than the mark: skipped, yet the walk went on
    assert [p.id for p in items] == [s.id for s in visible(server, sc.timelines[member.uid]) if s.created_at >= sc.start]
    again, _ = drain(client.timeline(member.uid, last.cursor))
    assert again == []
    # a first walk with no mark takes the pinned post once, flagged
    first, cur = drain(client.timeline(member.uid, None))
    assert first[0].id == pinned_id and first[0].is_pinned
    assert drain(client.timeline(member.uid, cur.cursor))[0] == []


def test_deleted_last_seen_post_does_not_break_incremental_paging(fake_weibo_factory) -> None:
    server = fake_weibo_factory(page_timeline=2)
    sc = server.scenario
    doomed = next(s for s in sc.statuses.values() if s.deleted_at is not None and s.kind == "own")
    uid = doomed.author_uid
    server.clock.set(doomed.created_at + timedelta(seconds=30))
    client = make_client(server)
    seen, last = drain(client.timeline(uid, {"last_created_at": sc.start.isoformat()}))
    assert seen[0].id == doomed.id and last.cursor["last_id"] == doomed.id
    server.clock.set(sc.end)  # the post is gone by now; newer ones arrived
    assert not doomed.visible(server.clock.now())
    newer, last2 = drain(client.timeline(uid, last.cursor))
    expected = [s.id for s in visible(server, sc.timelines[uid]) if s.created_at > doomed.created_at]
    assert [p.id for p in newer] == expected
    assert not {p.id for p in newer} & {p.id for p in seen}
    assert drain(client.timeline(uid, last2.cursor))[0] == []


def test_mentions_search_is_incremental_without_duplicates(fake_weibo_factory) -> None:
    server = fake_weibo_factory(page_search=3)
    sc = server.scenario
    name = max(sc.mentions, key=lambda n: len(sc.mentions[n]) if n in {m.screen_name for m in sc.members} else 0)
    mid_point = sc.window_start + (sc.end - sc.window_start) / 2
    server.clock.set(mid_point)
    client = make_client(server)
    first, last = drain(client.search_mentions(name, {"last_created_at": sc.start.isoformat()}))
    server.clock.set(sc.end)
    second, last2 = drain(client.search_mentions(name, last.cursor))
    got = [p.id for p in first + second]
    expected = {s.id for s in visible(server, sc.mentions[name]) if not s.pinned and s.created_at >= sc.start}
    assert len(got) == len(set(got)) and set(got) == expected
    assert all(name in p.mentions for p in first + second)
    assert drain(client.search_mentions(name, last2.cursor))[0] == []


def test_comments_with_replies_then_only_new_ones(fake_weibo_factory) -> None:
    server = fake_weibo_factory(page_comments=2, comment_dates="mixed")
    sc = server.scenario
    post_id = max(sc.root_comments, key=lambda p: len(sc._by_post.get(p, ())))
    comments = sorted(sc._by_post[post_id], key=lambda c: c.created_at)
    cut = comments[len(comments) // 2].created_at
    server.clock.set(cut)
    client = make_client(server)
    first, last = drain(client.comments(post_id))
    server.clock.set(comments[-1].created_at + timedelta(minutes=1))
    second, _ = drain(client.comments(post_id, last.cursor))
    got = [c.id for c in first + second]
    assert len(got) == len(set(got))
    assert set(got) == {c.id for c in comments}
    by_id = {c.id: c for c in first + second}
    for c in comments:
        assert by_id[c.id].post_id == post_id
        assert abs(by_id[c.id].created_at - c.created_at) < timedelta(days=1)  # "06-05" forms drop the time
        if c.reply_to_id:
            assert by_id[c.id].reply_to_id == c.reply_to_id


def test_reposts_and_long_text(fake_weibo) -> None:
    sc = fake_weibo.scenario
    client = make_client(fake_weibo)
    target = max(sc.reposts, key=lambda k: len(visible(fake_weibo, sc.reposts[k])))
    items, _ = drain(client.reposts(target))
    assert {p.id for p in items} == {s.id for s in visible(fake_weibo, sc.reposts[target])}
    assert all(p.reposted_id for p in items)
    long_status = next(s for s in visible(fake_weibo, sc.ordered) if len(s.text) > 140 and not s.pinned)
    assert client.long_text(long_status.id).replace(" ", "") == long_status.text.replace(" ", "")


def test_long_posts_are_expanded_while_paging(fake_weibo) -> None:
    sc = fake_weibo.scenario
    name, post = next((n, s) for n, posts in sc.mentions.items() for s in posts
                      if len(s.text) > 140 and s.visible(fake_weibo.clock.now()) and not s.pinned)
    client = make_client(fake_weibo)
    pages = list(client.search_mentions(name, {"last_created_at": sc.start.isoformat()}))
    found = next(p for page in pages for p in page.items if p.id == post.id)
    assert found.is_long_text and found.text_expanded and "全文" not in found.text
    assert len(found.text) > 140
    assert any(r.url.endswith(f"extend?id={post.id}") for page in pages for r in page.extras)


def test_resolve_profile_and_login_state(fake_weibo) -> None:
    sc = fake_weibo.scenario
    client = make_client(fake_weibo)
    m = sc.members[1]
    assert client.resolve_screen_name("@" + m.screen_name) == m.uid
    assert client.profile(m.uid).screen_name == m.screen_name
    assert client.login_state().logged_in is False
    with pytest.raises(EmptyError, match="没有这个人|no Weibo user|404"):
        client.resolve_screen_name("没有这个人")
    logged = make_client(fake_weibo, cookie=SECRET)
    state = logged.login_state()
    assert state.logged_in and state.uid == sc.coordinator.uid


REFUSALS = [
    ("432", BlockedError), ("418", BlockedError), ("403", BlockedError),
    ("captcha", LoginRequiredError), ("passport", LoginRequiredError),
    ("html", MalformedError), ("broken_json", MalformedError),
    ("truncated", TransportError), ("disconnect", TransportError),
]


@pytest.mark.parametrize("kind,error", REFUSALS)
def test_every_refusal_maps_to_its_type_and_never_leaks_the_cookie(fake_weibo, caplog, kind, error) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(fake_weibo, cookie=SECRET)
    uid = fake_weibo.scenario.members[0].uid
    fake_weibo.faults.add(kind, path="containerid=107603", count=1)
    with pytest.raises(error) as info:
        list(client.timeline(uid, None))
    exc = info.value
    assert exc.url and "107603" in exc.url
    if error is BlockedError:
        assert exc.status == int(kind) and (exc.retry_after == 60 if kind == "432" else True)
    for text in (str(exc), repr(exc), repr(client), caplog.text, repr(exc.raw)):
        assert "secret-cookie-value" not in text
    # the fault was one-off: the same call now works
    assert list(client.timeline(uid, None))[-1].done


def test_empty_answers(fake_weibo) -> None:
    client = make_client(fake_weibo)
    uid = fake_weibo.scenario.members[0].uid
    fake_weibo.faults.add("empty", path="containerid=100505", count=1)
    with pytest.raises(EmptyError, match="ok:0"):
        client.profile(uid)
    fake_weibo.faults.add("empty", path="containerid=107603", count=1)
    pages = list(client.timeline(uid, {"last_created_at": "2024-06-01T00:00:00+08:00"}))
    assert len(pages) == 1 and pages[0].done and pages[0].items == []  # ok:0 ends a walk, cursor kept
    assert pages[0].cursor["last_created_at"] == "2024-06-01T00:00:00+08:00"


def test_slow_answers_time_out_as_transport_errors(fake_weibo) -> None:
    client = make_client(fake_weibo, timeout=0.3)
    fake_weibo.faults.add("slow", path="api/config", count=1, seconds=2)
    with pytest.raises(TransportError, match="timed out"):
        client.login_state()


@pytest.mark.parametrize("kind", ["disconnect", "truncated", "broken_json"])
def test_a_page_cut_mid_walk_resumes_from_the_last_good_cursor(fake_weibo_factory, kind) -> None:
    server = fake_weibo_factory(page_timeline=2)
    sc = server.scenario
    member = busiest_member(sc)
    client = make_client(server)
    server.faults.add(kind, path="since_id=", count=1)  # the second page breaks
    got, cursor = [], {"last_created_at": sc.start.isoformat()}
    with pytest.raises((TransportError, MalformedError)):
        for page in client.timeline(member.uid, cursor):
            got.extend(page.items)
            cursor = page.cursor
    assert got and "since_id" in cursor  # the first page came through, the walk is resumable
    for page in client.timeline(member.uid, cursor):
        got.extend(page.items)
    expected = [s.id for s in visible(server, sc.timelines[member.uid]) if s.created_at >= sc.start]
    assert [p.id for p in got] == expected


def test_cookie_sources(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("WZMON_WEIBO_COOKIE", raising=False)
    monkeypatch.delenv("WZMON_WEIBO_COOKIE_FILE", raising=False)
    assert load_cookie() is None
    monkeypatch.setenv("WZMON_WEIBO_COOKIE", SECRET)
    assert load_cookie() == SECRET
    raw = tmp_path / "cookie.txt"
    raw.write_text("Cookie: " + SECRET + "\n", encoding="utf-8")
    assert load_cookie(cookie_file=raw) == SECRET
    js = tmp_path / "cookies.json"
    js.write_text('[{"name":"SUB","value":"abc","domain":".weibo.cn"},{"name":"x","value":"y","domain":".other.com"}]')
    assert load_cookie(cookie_file=js) == "SUB=abc"
    (tmp_path / "empty").write_text("")
    with pytest.raises(CookieError, match="empty"):
        load_cookie(cookie_file=tmp_path / "empty")
    with pytest.raises(CookieError, match="cannot be read") as info:
        load_cookie(cookie_file=tmp_path / "missing")
    assert isinstance(info.value, WeiboError)


def test_cookie_from_env_reaches_the_server_but_not_the_repr(fake_weibo, monkeypatch) -> None:
    monkeypatch.setenv("WZMON_WEIBO_COOKIE", SECRET)
    client = WeiboClient(fake_weibo.base_url, fake_weibo.base_url, RequestBudget(6000, burst=10))
    assert client.has_cookie and client.login_state().logged_in
    assert "secret" not in repr(client) and "<set>" in repr(client)
