"""Bench: the board on 1,000,000 posts and 200,000 cases in SQLite.

    python tests/bench/bench_dashboard.py [--posts 1000000] [--cases 200000] [--db FILE] [--rebuild]

Builds (once; reused while its size matches) a SQLite file with a roster of 40 accounts, N cases over
the last 365 days (8 % still open, half of those overdue), the citizens' posts that opened them, and
comments, replies, reposts and the accounts' own posts up to the post count, plus case events, alerts
and crawler health. Then, through Streamlit's AppTest (the real page scripts, in process), times each
page's first render with an empty cache, and a filter change on each page that has filters, for the
office and for a member user. Targets: first render < 2 s, filter change < 1 s. Prints each figure
and its ratio to the target (< 1 is within it), and the query functions alone for reference.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sqlalchemy import func, insert, select  # noqa: E402

from matrix.storage import rollup  # noqa: E402
from matrix.storage.db import dispose_engines, open_db, session_scope  # noqa: E402
from matrix.timeutil import SHANGHAI  # noqa: E402
from matrix.storage.models import Account, Alert, Case, CaseEvent, CrawlerHealth, PollCursor, Post  # noqa: E402

FIRST_RENDER_S = 2.0
FILTER_CHANGE_S = 1.0
BATCH = 20_000
KINDS = ["投诉", "咨询", "求助", "建议", "表扬", "其他"]
LEVELS = ["overdue", "overdue", "催办", "通报"]
DEPTS = ["公安", "教育", "卫健", "住建", "交通", "城管", "市场监管", "人社"]
PAGES = ["overview", "overdue", "negative", "rankings", "trends", "case", "crawler", "alerts", "export"]


def build(path: Path, n_posts: int, n_cases: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    if path.exists():
        path.unlink()
    url = f"sqlite:///{path}"
    engine = open_db(url, create=True)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    span = 365 * 86400
    members = [f"60000{i:05d}" for i in range(39)]
    coord = "6000099999"
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(Account), [
            {"uid": coord, "screen_name": "问政银川", "name": "问政办", "department": "网信办", "role": "coordinator",
             "category": "", "contacts": []}
        ] + [
            {"uid": u, "screen_name": f"银川{DEPTS[i % len(DEPTS)]}{i}", "name": f"单位{i}", "department": DEPTS[i % len(DEPTS)],
             "role": "member", "category": "", "contacts": []}
            for i, u in enumerate(members)
        ])
    # cases and their opening posts
    case_rows, post_rows, event_rows = [], [], []
    pid = 4_000_000_000_000_000
    case_meta = []  # (post id, account, opened)
    for cid in range(1, n_cases + 1):
        opened = now - timedelta(seconds=int(span * (rng.random() ** 1.3)))
        acct = rng.choice(members) if rng.random() > 0.03 else coord
        negative = rng.random() < 0.22
        r = rng.random()
        if r < 0.08:
            status = "awaiting_forward" if acct == coord else ("open" if rng.random() < 0.6 else "responded")
        elif r < 0.09:
            status = "invalid"
        elif r < 0.095:
            status = "merged"
        else:
            status = "closed"
        active = status in ("awaiting_forward", "open", "responded")
        overdue = active and rng.random() < 0.5
        resp_min = rng.randint(10, 4000) if status in ("responded", "closed") else None
        fr_due = opened + timedelta(hours=24)
        first_resp = opened + timedelta(minutes=resp_min) if resp_min else None
        pid += 1
        post_rows.append({
            "id": str(pid), "item_type": "post", "mid": str(pid), "user_id": f"9{rng.randint(0, 10**8):09d}",
            "screen_name": f"市民{rng.randint(0, 99999)}", "text": f"@{acct} 反映问题 {cid}：" + "某某路段噪音扰民" * rng.randint(1, 4),
            "created_at": opened, "fetched_at": opened, "mentions": [], "topics": [],
            "sentiment_label": "negative" if negative else rng.choice(["neutral", "positive"]),
            "sentiment_score": -0.7 if negative else 0.3, "post_kind": rng.choice(KINDS),
        })
        case_rows.append({
            "id": cid, "post_id": str(pid), "citizen_uid": post_rows[-1]["user_id"], "citizen_name": post_rows[-1]["screen_name"],
            "addressed_uids": [acct], "account_uid": acct, "kind": rng.choice(KINDS), "status": status,
            "opened_at": opened, "forwarded_at": opened + timedelta(hours=1), "first_response_at": first_resp,
            "first_response_working_minutes": resp_min, "first_response_calendar_minutes": resp_min,
            "closed_at": (first_resp or opened) + timedelta(days=2) if status == "closed" else None,
            "forward_due": opened + timedelta(hours=4), "first_response_due": fr_due,
            "closure_due": opened + timedelta(days=15), "extension_working_days": 0,
            "overdue": overdue, "overdue_level": rng.choice(LEVELS) if overdue else "",
            "overdue_since": fr_due if overdue else None, "sentiment_label": "negative" if negative else "neutral",
            "merged_into": cid - 1 if status == "merged" and cid > 1 else None, "policy_version": "default-2025.1",
            "evaluated_at": now, "updated_at": now,
        })
        event_rows.append({"case_id": cid, "at": opened, "recorded_at": opened, "type": "opened", "actor": "system",
                           "account_uid": acct, "post_id": str(pid), "reason": "", "detail": {}, "calendar_minutes": 0,
                           "working_minutes": 0, "policy_version": "default-2025.1"})
        if first_resp:
            event_rows.append({"case_id": cid, "at": first_resp, "recorded_at": first_resp, "type": "first_response",
                               "actor": "system", "account_uid": acct, "post_id": None, "reason": "", "detail": {},
                               "calendar_minutes": resp_min, "working_minutes": resp_min,
                               "policy_version": "default-2025.1"})
        case_meta.append((str(pid), acct, opened))
        if len(post_rows) >= BATCH:
            _flush(engine, post_rows, case_rows, event_rows)
    _flush(engine, post_rows, case_rows, event_rows)
    # comments, replies, reposts, own posts up to n_posts
    rest = n_posts - n_cases
    for i in range(rest):
        parent, acct, opened = case_meta[rng.randrange(len(case_meta))]
        pid += 1
        r = rng.random()
        at = opened + timedelta(minutes=rng.randint(5, 5000))
        if at > now:
            at = now - timedelta(minutes=rng.randint(1, 600))
        if r < 0.45:  # citizen comment under the case post
            row = {"item_type": "comment", "parent_id": parent, "user_id": f"9{rng.randint(0, 10**8):09d}",
                   "screen_name": f"网友{rng.randint(0, 99999)}", "text": "同问，什么时候解决？",
                   "sentiment_label": "negative" if rng.random() < 0.3 else "neutral"}
        elif r < 0.7:  # the account's reply
            row = {"item_type": "comment", "parent_id": parent, "user_id": acct, "screen_name": "acct",
                   "text": "您好，已转相关部门办理。", "sentiment_label": "neutral"}
        elif r < 0.8:  # the coordinator's forwarding
            row = {"item_type": "repost", "reposted_id": parent, "user_id": coord, "screen_name": "问政银川",
                   "text": f"转 @{acct}", "sentiment_label": "neutral"}
        else:  # an account's own post
            row = {"item_type": "post", "user_id": rng.choice(members), "screen_name": "acct",
                   "text": "发布：本周办理情况通报", "sentiment_label": "positive"}
        row.update({"id": str(pid), "mid": str(pid), "created_at": at, "fetched_at": at, "mentions": [], "topics": [],
                    "sentiment_score": -0.6 if row["sentiment_label"] == "negative" else 0.2})
        post_rows.append(row)
        if len(post_rows) >= BATCH:
            _flush(engine, post_rows, [], [])
    _flush(engine, post_rows, [], [])
    with engine.begin() as conn:
        conn.execute(insert(Alert), [
            {"dedupe_key": f"overdue:{c}", "case_id": c, "account_uid": rng.choice(members), "level": "overdue",
             "channel": "email", "address": "duty@example.cn", "subject": f"案件 {c} 超期", "body": "",
             "status": rng.choice(["sent", "sent", "failed", "pending"]), "attempts": 1,
             "created_at": now - timedelta(hours=rng.randint(0, 24 * 60))}
            for c in range(1, n_cases, 10)
        ])
        conn.execute(insert(PollCursor), [
            {"source_key": f"timeline:{u}", "kind": "timeline", "target": u, "cursor": {"since_id": "1"},
             "last_polled_at": now, "items_total": 1000, "requests_total": 5000, "errors_total": 3, "last_error": ""}
            for u in members
        ])
        conn.execute(insert(CrawlerHealth), [
            {"at": now - timedelta(minutes=i), "source_key": f"timeline:{members[i % len(members)]}",
             "state": "ok" if i % 50 else "blocked", "message": "", "detail": {}}
            for i in range(5000)
        ])
        conn.exec_driver_sql("ANALYZE")
    with engine.begin() as conn:  # what `wzmon db upgrade` does to a database filled before the rollups existed
        rollup.rebuild(conn)
    dispose_engines()
    print(f"built {path} in {time.perf_counter() - t0:.0f} s: {n_posts:,} posts, {n_cases:,} cases")


def _sqlite_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value


def _bulk(conn, model, rows: list[dict]) -> None:  # noqa: ANN001
    """Driver-level executemany (the bench's data only; SQLite's own storage format for each type)."""
    table = model.__table__
    cols = [c for c in table.columns if not (c.primary_key and c.autoincrement is True and c.name not in rows[0])]
    now = datetime.now(timezone.utc)
    defaults: dict[str, object] = {}
    for c in cols:
        arg = getattr(c.default, "arg", None)
        if callable(arg):  # utcnow for times, list/dict for JSON columns
            arg = now if c.name.endswith("_at") else ({} if c.name == "detail" else [])
        defaults[c.name] = arg
    sql = f"INSERT INTO {table.name} ({', '.join(c.name for c in cols)}) VALUES ({', '.join('?' for _ in cols)})"
    names = [c.name for c in cols]
    conn.exec_driver_sql(sql, [tuple(_sqlite_value(r.get(n, defaults[n])) for n in names) for r in rows])


def _flush(engine, posts: list, cases: list, events: list) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        if posts:
            _bulk(conn, Post, posts)
        if cases:
            _bulk(conn, Case, cases)
        if events:
            _bulk(conn, CaseEvent, events)
    posts.clear(), cases.clear(), events.clear()


def mark_today(url: str) -> None:
    """Leave the newest day marked as changed, as it is on a live board between two clock ticks (new
    items keep arriving): the pages then read that day from the base tables, the others from the rollup."""
    engine = open_db(url)
    with engine.begin() as conn:
        rollup.refresh(conn)
        newest = conn.execute(select(func.max(Post.created_at))).scalar()
        if newest is not None:
            day = datetime.fromisoformat(str(newest)).replace(tzinfo=timezone.utc).astimezone(SHANGHAI).date()
            conn.execute(rollup.DIRTY.insert(), [{"day": day}])
    dispose_engines()


def counts(url: str) -> tuple[int, int]:
    engine = open_db(url, create=True)  # an older bench file is migrated (0006 fills the rollups)
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(Post)), s.scalar(select(func.count()).select_from(Case))


# ---------------------------------------------------------------------------------------------- timing


def timed(fn) -> float:  # noqa: ANN001
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def quiet_streamlit() -> None:
    import logging

    for name in ("streamlit", "streamlit.runtime", "streamlit.runtime.caching.cache_data_api",
                 "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(name).setLevel(logging.ERROR)


def bench_pages(url: str, users_file: Path, prewarm: bool) -> list[tuple[str, str, float, float]]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard import auth, data

    os.environ["WZMON_PREWARM"] = "1" if prewarm else "0"
    app = str(REPO / "dashboard" / "app.py")
    quiet_streamlit()
    config = auth.load_users(users_file)
    out = []

    def new(user: str) -> AppTest:
        at = AppTest.from_file(app, default_timeout=120)
        at.session_state["wzmon_user"] = config.user(user)
        return at

    def check(at: AppTest) -> AppTest:
        if at.exception:
            raise SystemExit(f"page failed: {at.exception[0].value}")
        return at

    # warm the interpreter (imports, engine, schema check), not the data cache
    check(new("office").run())
    with session_scope(open_db(url)) as s:
        some_case = s.scalar(select(Case.id).where(Case.overdue.is_(True)).limit(1))
        member_case = s.scalar(select(Case.id).where(Case.account_uid == "6000000001", Case.overdue.is_(True)).limit(1))
    changes = {
        "overview": lambda at: at.selectbox(key="period_choice").set_value("近90天"),
        "overdue": lambda at: at.multiselect(key="overdue_dept").set_value(["教育"]),
        "negative": lambda at: at.multiselect(key="negative_kind").set_value(["投诉"]),
        "rankings": lambda at: at.selectbox(key="period_choice").set_value("近90天"),  # dearer than 部门
        "trends": lambda at: at.selectbox(key="period_choice").set_value("近90天"),
        "alerts": lambda at: at.multiselect(key="alert_status").set_value(["failed"]),
        "export": lambda at: at.selectbox(key="exp_table").set_value("posts"),
        "case": None,
        "crawler": None,
    }
    for user in ("office", "member"):
        for page in PAGES:
            st.cache_data.clear()
            at = new(user)
            if page != "overview":
                at.switch_page(f"views/{page}.py")
            if page == "case":
                at.query_params["case"] = str(some_case if user == "office" else member_case)
            first = timed(lambda: check(at.run()))
            change = changes.get(page)
            if prewarm:
                data.wait_prewarm()  # the user's pause before the next click
            filt = float("nan")
            if change is not None:
                change(at)
                filt = timed(lambda: check(at.run()))
            out.append((user, page, first, filt))
            print(f"  {user:7s} {page:9s} first render {first:6.2f} s ({first / FIRST_RENDER_S:4.2f}x)   "
                  f"filter change {filt:6.2f} s ({filt / FILTER_CHANGE_S:4.2f}x)", flush=True)
    return out


def bench_queries(url: str) -> None:
    from matrix.reading import queries as q
    from matrix.reading.rankings import account_rankings

    engine = open_db(url)
    with session_scope(engine) as s:
        now = q.data_now(s)
        today = now.astimezone(q.SHANGHAI).date()
        for days in (7, 30, 90):
            start = today - timedelta(days=days - 1)
            lo, hi = q.local_day_bounds(start, today)
            for scope in (None, ["6000000001"]):
                who = "office" if scope is None else "member"
                figs = [
                    ("headline_figures", lambda: q.headline_figures(s, start, today, account_uids=scope)),
                    ("overdue_cases", lambda: q.overdue_cases(s, account_uids=scope, limit=2000)),
                    ("negative_posts", lambda: q.negative_posts(s, account_uids=scope, start=start, end=today, limit=2000)),
                    ("account_summary", lambda: q.account_summary(s, start, today, account_uids=scope)),
                    ("trends", lambda: q.trends(s, start, today, account_uids=scope)),
                    ("account_trends", lambda: q.account_trends(s, start, today, account_uids=scope)),
                    ("account_rankings", lambda: account_rankings(s, lo, hi, account_uids=scope, now=now)),
                ]
                line = "  ".join(f"{name} {timed(fn):.2f}" for name, fn in figs)
                print(f"  {days:3d} days {who:7s} {line}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--cases", type=int, default=200_000)
    ap.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "wzmon-bench-dashboard.db")
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    url = f"sqlite:///{args.db}"
    have = None
    if args.db.exists() and not args.rebuild:
        try:
            have = counts(url)
        except Exception:  # noqa: BLE001 - stale or foreign file: rebuild
            have = None
        dispose_engines()
    if have != (args.posts, args.cases):
        build(args.db, args.posts, args.cases)
    else:
        print(f"reusing {args.db}: {have[0]:,} posts, {have[1]:,} cases")
    os.environ["WZMON_DB"] = url
    mark_today(url)
    from dashboard import auth

    users = Path(tempfile.mkdtemp()) / "users.toml"
    auth.add_user(users, "office", role="office", password="bench-pass-1", rounds=4)
    auth.add_user(users, "member", role="member", password="bench-pass-1", accounts=["6000000001"], rounds=4)
    os.environ["WZMON_USERS"] = str(users)
    print("query functions alone (s):")
    bench_queries(url)
    for prewarm in (False, True):
        print("pages through AppTest (empty cache, then one filter change; "
              + ("other period presets warmed in the background first):" if prewarm else "no background warming):"))
        results = bench_pages(url, users, prewarm)
        worst_first = max(r[2] for r in results)
        worst_filter = max(r[3] for r in results if r[3] == r[3])
        print(f"worst first render {worst_first:.2f} s (target {FIRST_RENDER_S} s, ratio {worst_first / FIRST_RENDER_S:.2f}); "
              f"worst filter change {worst_filter:.2f} s (target {FILTER_CHANGE_S} s, ratio {worst_filter / FILTER_CHANGE_S:.2f})")


if __name__ == "__main__":
    main()
